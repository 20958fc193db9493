"""Migrations: ordered, recorded, idempotent, atomic, forward-only; start-up needs."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import duckdb
import pytest

from unitcost.errors import MigrationError, StoreError
from unitcost.store import Migration, Store, available_migrations


def _dump(path: Path) -> dict[str, list[tuple[object, ...]]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = [
            r[0]
            for r in con.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall()
        ]
        out = {
            t: sorted(map(tuple, con.execute(f'SELECT * FROM "{t}"').fetchall()), key=repr)
            for t in tables
        }
        out["__views__"] = sorted(
            con.execute("SELECT view_name, sql FROM duckdb_views() WHERE NOT internal").fetchall()
        )
        return out
    finally:
        con.close()


def test_migrations_are_numbered_in_order() -> None:
    migs = available_migrations()
    assert migs and [m.version for m in migs] == sorted(m.version for m in migs)
    assert migs[0].name == "0001_data_model"


def test_migrate_twice_changes_nothing(tmp_path: Path) -> None:
    store = Store(tmp_path / "a.duckdb")
    first = store.migrate()
    assert first == [m.name for m in available_migrations()]
    before = _dump(store.path)
    assert store.migrate() == []
    assert _dump(store.path) == before
    st = store.status()
    assert st.current == st.latest and not st.pending


def test_failed_migration_leaves_previous_version(tmp_path: Path) -> None:
    store = Store(tmp_path / "b.duckdb")
    good = available_migrations()
    store.migrate(good)
    before = _dump(store.path)
    nxt = good[-1].version + 1
    bad = Migration(
        nxt,
        f"{nxt:04d}_broken",
        "CREATE TABLE half_done (x INTEGER);\n"
        "ALTER TABLE bench_runs ADD COLUMN extra INTEGER;\n"
        "SELECT * FROM no_such_table;",
    )
    with pytest.raises(MigrationError, match=f"{nxt:04d}_broken.sql failed"):
        store.migrate([*good, bad])
    assert _dump(store.path) == before  # no half_done table, no extra column, no record
    assert store.status().current == good[-1].version


def test_edited_migration_is_refused(tmp_path: Path) -> None:
    store = Store(tmp_path / "c.duckdb")
    good = available_migrations()
    store.migrate(good)
    edited = [Migration(good[0].version, good[0].name, good[0].sql + "\n-- edited\n"), *good[1:]]
    with pytest.raises(MigrationError, match="forward-only"):
        store.migrate(edited)


def test_missing_and_outdated_databases_say_what_to_run(tmp_path: Path) -> None:
    missing = Store(tmp_path / "none.duckdb")
    with pytest.raises(StoreError, match="unitcost db init"), missing.read():
        pass
    behind = Store(tmp_path / "behind.duckdb")
    behind.migrate([])  # only the bookkeeping table
    with pytest.raises(StoreError, match="unitcost db migrate"), behind.write():
        pass


def test_write_rolls_back_on_error(store: Store) -> None:
    with pytest.raises(RuntimeError), store.write() as con:
        con.execute("INSERT INTO watermarks VALUES ('c', 's', now(), now())")
        raise RuntimeError("boom")
    with store.read() as con:
        assert con.execute("SELECT count(*) FROM watermarks").fetchone() == (0,)


def test_batch_writer_commits_rolls_back_and_frees_the_file_between_writes(
    store: Store,
) -> None:
    db = store.batch_writer()
    try:
        with db.write() as con:
            con.execute("INSERT INTO watermarks VALUES ('c', 'kept', now(), now())")
        with pytest.raises(RuntimeError), db.write() as con:
            con.execute("INSERT INTO watermarks VALUES ('c', 'lost', now(), now())")
            raise RuntimeError("boom")
        # between writes the file is not held: a plain read-write connection opens it
        other = duckdb.connect(str(store.path))
        rows = other.execute("SELECT source FROM watermarks").fetchall()
        other.close()
        assert rows == [("kept",)]
        with db.write() as con:  # and the next write attaches it again
            con.execute("INSERT INTO watermarks VALUES ('c', 'again', now(), now())")
    finally:
        db.close()
    with store.read() as con:
        assert con.execute("SELECT count(*) FROM watermarks").fetchone() == (2,)


def test_batch_writer_and_plain_connections_in_one_process_wait_for_each_other(
    store: Store,
) -> None:
    """DuckDB lets one instance per process hold a file: while a batch writer has it attached
    (the bench record thread), a read on another thread waits instead of failing; and the
    other way round."""
    db = store.batch_writer()
    out: list[object] = []

    def read() -> None:
        with store.read() as con:
            out.append(con.execute("SELECT count(*) FROM watermarks").fetchone())

    def write() -> None:
        with db.write() as con:
            con.execute("INSERT INTO watermarks VALUES ('c', 'w2', now(), now())")
        out.append("written")

    try:
        with db.write() as con:
            con.execute("INSERT INTO watermarks VALUES ('c', 'w1', now(), now())")
            reader = threading.Thread(target=read)
            reader.start()
            reader.join(0.3)
            assert reader.is_alive() and out == []  # waiting for the file
        reader.join(10)
        assert out == [(1,)]
        with store.read():
            writer = threading.Thread(target=write)
            writer.start()
            writer.join(0.3)
            assert writer.is_alive() and out == [(1,)]
        writer.join(10)
        assert out == [(1,), "written"]
    finally:
        db.close()


def test_reads_share_instances_but_nothing_else(store: Store) -> None:
    """Store.read attaches the file to a pooled in-memory instance: a read's settings and
    temporary objects end with it, the file is free for a writer between reads, and reads on
    several threads at once each get their own instance."""
    with store.read() as con:
        con.execute("SET TimeZone = 'Asia/Tokyo'")
        con.execute("CREATE TEMP TABLE scratch AS SELECT 1 AS x")
        with pytest.raises(duckdb.Error):  # read-only: nothing lands in the file
            con.execute("INSERT INTO watermarks VALUES ('c', 'no', now(), now())")
    with store.read() as con:
        assert con.execute("SELECT current_setting('TimeZone')").fetchone() != ("Asia/Tokyo",)
        with pytest.raises(duckdb.CatalogException):
            con.execute("SELECT * FROM scratch")
    other = duckdb.connect(str(store.path))  # another instance takes the file read-write
    other.execute("INSERT INTO watermarks VALUES ('c', 'between', now(), now())")
    other.close()
    counts: list[object] = []
    barrier = threading.Barrier(4)

    def read() -> None:
        with store.read() as con:
            barrier.wait(10)  # all four hold a read at once
            counts.append(con.execute("SELECT count(*) FROM watermarks").fetchone())

    threads = [threading.Thread(target=read) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert counts == [(1,)] * 4


_WRITE_ELSEWHERE = """
import sys
from pathlib import Path
from unitcost.errors import StoreBusyError
from unitcost.store import Store
try:
    with Store(Path(sys.argv[1]), lock_timeout_s=0.5).write() as con:
        con.execute("INSERT INTO watermarks VALUES ('c', 'other process', now(), now())")
except StoreBusyError:
    sys.exit(3)
"""


def test_a_read_holds_the_file_until_it_ends_while_other_reads_come_and_go(store: Store) -> None:
    """DuckDB guards the file with POSIX locks, which belong to the process: a second read's
    end must not unlock the file under a read still running (another process's writer would
    change the file beneath it: "Could not read enough bytes")."""
    holding, release = threading.Event(), threading.Event()

    def long_read() -> None:
        with store.read() as con:
            con.execute("SELECT count(*) FROM watermarks").fetchall()
            holding.set()
            release.wait(30)

    def write_elsewhere() -> int:
        cmd = [sys.executable, "-c", _WRITE_ELSEWHERE, str(store.path)]
        return subprocess.run(cmd, capture_output=True, timeout=60).returncode

    reader = threading.Thread(target=long_read)
    reader.start()
    try:
        assert holding.wait(10)
        for _ in range(3):  # other reads come and go meanwhile
            with store.read() as con:
                con.execute("SELECT count(*) FROM watermarks").fetchall()
        assert write_elsewhere() == 3  # still held: the other process waits, then gives up
    finally:
        release.set()
        reader.join(10)
    assert write_elsewhere() == 0  # free once the long read ended
    with store.read() as con:
        assert con.execute("SELECT source FROM watermarks").fetchall() == [("other process",)]


def test_money_columns_are_decimal(store: Store) -> None:
    with store.read() as con:
        types = dict(
            con.execute(
                "SELECT column_name, data_type FROM duckdb_columns() "
                "WHERE table_name = 'billing_line_items'"
            ).fetchall()
        )
    for col in ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost"):
        assert types[col].startswith("DECIMAL"), col


def test_0004_rebuilds_billing_line_items_keeping_rows(tmp_path: Path) -> None:
    """A database with billed rows under 0001's indexed table keeps every row, column and
    constraint but the index after 0004 (the natural key is then kept by the loader)."""
    store = Store(tmp_path / "old.duckdb")
    before = [m for m in available_migrations() if m.version < 4]
    store.migrate(before)
    con = duckdb.connect(str(store.path))  # the Store refuses an outdated schema, by design
    try:
        con.execute(
            "INSERT INTO billing_line_items (source_file, source_row, source_format, BilledCost,"
            " Tags) VALUES ('f.csv', 1, 'focus-1.0', 1.2345678901, '{\"a\": \"b\"}'),"
            " ('f.csv', 2, 'focus-1.0', NULL, NULL)"
        )
        old = con.execute("SELECT * FROM billing_line_items ORDER BY source_row").fetchall()
        old_cols = con.execute("DESCRIBE billing_line_items").fetchall()
    finally:
        con.close()
    store.migrate()
    with store.write() as con:
        assert con.execute("SELECT * FROM billing_line_items ORDER BY source_row").fetchall() == old
        assert con.execute("DESCRIBE billing_line_items").fetchall() == [
            (*c[:3], None, *c[4:])
            for c in old_cols  # no PRI key column any more
        ]
        with pytest.raises(duckdb.ConstraintException):  # NOT NULL survives the rebuild
            con.execute("INSERT INTO billing_line_items (source_file) VALUES ('x')")


def test_views_are_created_after_the_views_they_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """A view named before its upstream in name order is still created after it."""
    from unitcost import sqlfiles
    from unitcost.store import view_order

    texts = {
        "a_top": "-- reads b_middle and c_base\nCREATE VIEW a_top AS SELECT * FROM b_middle",
        "b_middle": "CREATE VIEW b_middle AS SELECT * FROM c_base -- not a_top",
        "c_base": "CREATE VIEW c_base AS SELECT 1 AS x",
        "d_alone": "CREATE VIEW d_alone AS SELECT 2 AS y",
    }
    monkeypatch.setattr(sqlfiles, "load", lambda kind, name: texts[name])
    order = view_order(sorted(texts))
    assert order.index("c_base") < order.index("b_middle") < order.index("a_top")
    assert set(order) == set(texts)
    con = duckdb.connect()
    for name in order:
        con.execute(texts[name])
    assert con.execute("SELECT x FROM a_top").fetchall() == [(1,)]


def test_views_that_read_each_other_in_a_cycle_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    from unitcost import sqlfiles
    from unitcost.errors import StoreError
    from unitcost.store import view_order

    texts = {"v1": "SELECT * FROM v2", "v2": "SELECT * FROM v1", "v3": "SELECT 1"}
    monkeypatch.setattr(sqlfiles, "load", lambda kind, name: texts[name])
    with pytest.raises(StoreError, match="v1, v2 read each other in a cycle"):
        view_order(sorted(texts))
