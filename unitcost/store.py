"""The DuckDB store: one file, numbered forward-only migrations, views recreated at start-up.

Readers and writers together: DuckDB lets one process hold a file read-write, and while it does
no other process can open it at all. unitcost therefore never holds a connection longer than one
unit of work: every writer opens, writes one short transaction, and closes; every reader opens
read-only, runs its queries, and closes. Opening retries with jittered exponential backoff while
another process holds the lock, so a user sees at most a short wait, never a lock error, unless
the lock is held past `lock_timeout_s` (then StoreBusyError names the file); one that had to
wait goes before those that did not (unitcost.turns), so a reader in a loop cannot shut a
writer out, nor the reverse. Bench runs and collectors buffer rows in memory and flush them in
batches for this reason.
"""

from __future__ import annotations

import hashlib
import random
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import duckdb

from unitcost import sqlfiles
from unitcost.errors import MigrationError, StoreBusyError, StoreError
from unitcost.turns import Waiting, wait_turn

_T = TypeVar("_T")
_SQL_COMMENT = re.compile(r"--[^\n]*")
_LOCK_MARKERS = ("Could not set lock", "Conflicting lock", "database is locked")


@dataclass(frozen=True)
class Migration:
    """One file of sql/migrations, named NNNN_name.sql."""

    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def available_migrations() -> list[Migration]:
    """All migrations shipped with this version of unitcost, in order."""
    out: list[Migration] = []
    for name in sqlfiles.names("migrations"):
        head, _, rest = name.partition("_")
        if not head.isdigit() or not rest:
            raise StoreError(f"sql/migrations/{name}.sql: name must be NNNN_description.sql")
        out.append(Migration(int(head), name, sqlfiles.load("migrations", name)))
    versions = [m.version for m in out]
    if len(set(versions)) != len(versions):
        raise StoreError("two migrations share a version number")
    return out


@contextmanager
def _transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """BEGIN; COMMIT on success, ROLLBACK on any error (which goes on up)."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def _is_lock_error(exc: BaseException) -> bool:
    """Another process holds the file, or, in this process, a BatchWriter has it attached
    while a plain connection wants it (or the reverse): DuckDB lets one instance per process
    hold a file. Both last one unit of work, so both are waited out the same way."""
    if isinstance(exc, duckdb.ResourceInUseException):
        return "Unique file handle conflict" in str(exc)
    return isinstance(exc, duckdb.IOException) and any(m in str(exc) for m in _LOCK_MARKERS)


class _Readers:
    """The in-memory DuckDB instance Store.read attaches files to, one per process.

    One instance, and one attachment per file shared by the reads that overlap: the first
    ATTACHes the file read-only, the last DETACHes it. Never two attachments of one file in one
    process: DuckDB guards a file with POSIX (fcntl) locks, which belong to the process, and
    closing any descriptor of the file drops them all, so a second attachment's DETACH would
    let another process's writer in under a read still running (DuckDB's own instance cache
    keeps one instance per file for the same reason)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._inst: duckdb.DuckDBPyConnection | None = None
        self._held: dict[str, tuple[str, int]] = {}  # path -> (alias, reads holding it)
        self._serial = 0
        self._depth = threading.local()  # reads this thread is inside

    @contextmanager
    def attached(self, store: Store) -> Iterator[duckdb.DuckDBPyConnection]:
        path = store.path
        key = str(path.resolve())
        depth: int = getattr(self._depth, "n", 0)
        if depth == 0:
            # Someone waiting for the file goes first, even when this read could join one
            # already running (unitcost.turns); a read nested in another on this thread goes
            # ahead, or it would wait for itself.
            wait_turn(path, time.monotonic() + store.lock_timeout_s)
        with self._lock:
            if self._inst is None:
                self._inst = duckdb.connect()
            inst = self._inst
            if key in self._held:
                alias, n = self._held[key]
            else:
                self._serial += 1
                alias, n = f"uc_read_{self._serial}", 0
                literal = sqlfiles.quote_literal(key)
                # waits here while a writer holds the file: later reads of it wait too
                store._retry_lock(
                    lambda: inst.execute(f"ATTACH {literal} AS {alias} (READ_ONLY)"),
                    wait_turn_first=False,  # done above
                )
            self._held[key] = (alias, n + 1)
            con = inst.cursor()
        self._depth.n = depth + 1
        try:
            con.execute(f"USE {alias}")
            yield con
        finally:
            self._depth.n = depth
            con.close()
            with self._lock:
                alias, n = self._held[key]
                if n > 1:
                    self._held[key] = (alias, n - 1)
                else:
                    del self._held[key]
                    inst.execute(f"DETACH {alias}")


#: One per process (see _Readers).
_READERS = _Readers()


@dataclass(frozen=True)
class MigrationStatus:
    """Where a database stands against the migrations this code ships."""

    current: int
    latest: int
    pending: list[str]
    applied: list[tuple[int, str, str]]  # (version, name, applied_at)


class Store:
    """A handle on one DuckDB file; holds no connection between units of work."""

    def __init__(self, path: Path, *, lock_timeout_s: float = 30.0) -> None:
        self.path = Path(path)
        self.lock_timeout_s = lock_timeout_s
        self._checked = False  # schema verified current once per process: it cannot regress

    # ------------------------------------------------------------------ connections
    @contextmanager
    def _connect(self, *, read_only: bool) -> Iterator[duckdb.DuckDBPyConnection]:
        con = self._retry_lock(lambda: duckdb.connect(str(self.path), read_only=read_only))
        try:
            yield con
        finally:
            con.close()

    def _retry_lock(self, open_it: Callable[[], _T], *, wait_turn_first: bool = True) -> _T:
        """open_it() (a connect or an ATTACH of this file), retried while another process
        holds the lock, with jittered exponential backoff, until lock_timeout_s. Turns
        (unitcost.turns): first, it lets in anyone already waiting; once its own try has
        failed, it says that it waits, and tries more often, as the file is about to fall free
        for it."""
        deadline = time.monotonic() + self.lock_timeout_s
        if wait_turn_first:
            wait_turn(self.path, deadline)
        delay = 0.005
        waiting = Waiting(self.path)
        try:
            while True:
                try:
                    return open_it()
                except duckdb.Error as exc:
                    if not _is_lock_error(exc):
                        raise StoreError(f"{self.path}: cannot open database: {exc}") from exc
                    if time.monotonic() >= deadline:
                        raise StoreBusyError(
                            f"{self.path}: another process held the database lock for more "
                            f"than {self.lock_timeout_s:g}s (raise lock_timeout_s, or stop "
                            "that process)"
                        ) from exc
                    waiting.say()
                    time.sleep(delay * (0.5 + random.random()))
                    delay = min(delay * 2, 0.05 if waiting.said else 0.2)
        finally:
            waiting.withdraw()

    @contextmanager
    def read(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-only connection for one unit of work; the file must exist and be migrated."""
        self.require_current()
        with self._attached() as con:
            yield con

    @contextmanager
    def _attached(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The file ATTACHed read-only to the process's in-memory DuckDB instance (a few ms,
        where opening a new instance took ~25 ms, most of a small dashboard query), DETACHed
        when the last overlapping read ends, so the file is held no longer than before. Each
        read gets a fresh connection (cursor): its settings and temporary objects end with it."""
        with _READERS.attached(self) as con:
            yield con

    @contextmanager
    def write(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """One short write transaction: committed on success, rolled back on any error."""
        self.require_current()
        with self._connect(read_only=False) as con, _transaction(con):
            yield con

    def batch_writer(self) -> BatchWriter:
        """Write transactions for a writer that flushes several times a second (close it)."""
        return BatchWriter(self)

    # ------------------------------------------------------------------ schema
    def exists(self) -> bool:
        return self.path.is_file()

    def status(self) -> MigrationStatus:
        """Current and latest schema versions; does not create the file."""
        shipped = available_migrations()
        latest = shipped[-1].version if shipped else 0
        if not self.exists():
            return MigrationStatus(0, latest, [m.name for m in shipped], [])
        with self._attached() as con:
            applied = self._applied(con)
        done = {v for v, _, _ in applied}
        pending = [m.name for m in shipped if m.version not in done]
        current = max(done, default=0)
        return MigrationStatus(current, latest, pending, applied)

    @staticmethod
    def _applied(con: duckdb.DuckDBPyConnection) -> list[tuple[int, str, str]]:
        has_table = con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = '_migrations' "
            "AND database_name = current_database()"
        ).fetchone()
        if not has_table or not has_table[0]:
            return []
        rows = con.execute(
            "SELECT version, name, CAST(applied_at AS VARCHAR) FROM _migrations ORDER BY version"
        ).fetchall()
        return [(int(v), str(n), str(a)) for v, n, a in rows]

    def require_current(self) -> None:
        """Fail with what to run when the database is missing or behind this code."""
        if self._checked:
            return
        if not self.exists():
            raise StoreError(f"{self.path}: no database here; run `unitcost db init` first")
        st = self.status()
        if st.current > st.latest:
            raise StoreError(
                f"{self.path}: database is at schema version {st.current}, newer than this "
                f"unitcost ({st.latest}); upgrade unitcost"
            )
        if st.pending:
            raise StoreError(
                f"{self.path}: database is at schema version {st.current}, this unitcost "
                f"needs {st.latest}; run `unitcost db migrate`"
            )
        self._checked = True

    def migrate(self, migrations: list[Migration] | None = None) -> list[str]:
        """Apply pending migrations in order, each in its own transaction; return their names.

        A migration that fails is rolled back whole, so the database stays at the version
        before it, and the error names the migration file.
        """
        migrations = available_migrations() if migrations is None else migrations
        applied_now: list[str] = []
        with self._connect(read_only=False) as con:
            con.execute(sqlfiles.load("queries", "migrations_table"))
            done = {
                v: (n, c)
                for v, n, c in con.execute(
                    "SELECT version, name, checksum FROM _migrations"
                ).fetchall()
            }
            for mig in migrations:
                if mig.version in done:
                    _, checksum = done[mig.version]
                    if checksum != mig.checksum:
                        raise MigrationError(
                            f"sql/migrations/{mig.name}.sql was edited after it was applied to "
                            f"{self.path}; migrations are forward-only: add a new one instead"
                        )
                    continue
                con.execute("BEGIN TRANSACTION")
                try:
                    con.execute(mig.sql)
                    con.execute(
                        "INSERT INTO _migrations (version, name, checksum, applied_at) "
                        "VALUES (?, ?, ?, now())",
                        [mig.version, mig.name, mig.checksum],
                    )
                    con.execute("COMMIT")
                except duckdb.Error as exc:
                    con.execute("ROLLBACK")
                    raise MigrationError(
                        f"sql/migrations/{mig.name}.sql failed, database left at the version "
                        f"before it: {exc}"
                    ) from exc
                applied_now.append(mig.name)
            shipped = {m.version for m in available_migrations()}
            if shipped <= {m.version for m in migrations} | set(done):
                # Views may use any table, so only a fully migrated database gets them.
                self._recreate_views(con)
        return applied_now

    @staticmethod
    def _recreate_views(con: duckdb.DuckDBPyConnection) -> None:
        """Create every view in dependency order, in one transaction.

        Views build on each other, and DuckDB binds a view when it is created, so a view can
        only be created after the views it reads. Rather than a hand-kept order, this
        orders them by the names their SQL mentions (view_order).
        """
        con.execute("BEGIN TRANSACTION")
        try:
            for name in view_order(sqlfiles.names("views")):
                con.execute(sqlfiles.load("views", name))
            con.execute("COMMIT")
        except (duckdb.Error, StoreError) as exc:
            con.execute("ROLLBACK")
            raise StoreError(f"recreating views failed: {exc}") from exc

    def recreate_views(self) -> None:
        """Views are code, not data: recreate them at each writer's start-up."""
        with self._connect(read_only=False) as con:
            self._recreate_views(con)

    def table_counts(self) -> dict[str, int]:
        """Row count per base table, for `db status`."""
        with self.read() as con:
            tables = [r[0] for r in con.execute(sqlfiles.load("queries", "base_tables")).fetchall()]
            out: dict[str, int] = {}
            for t in tables:
                row = con.execute(f"SELECT count(*) FROM {sqlfiles.quote_ident(t)}").fetchone()
                out[t] = int(row[0]) if row else 0
            return out


def view_order(names: list[str]) -> list[str]:
    """The views in an order where each comes after every view its SQL reads.

    A view's upstream views are the other view names its SQL mentions outside comments (view
    names are distinctive snake_case words); ties keep name order. A cycle is an error.
    """
    texts = {n: _SQL_COMMENT.sub("", sqlfiles.load("views", n)) for n in names}
    deps = {
        n: {m for m in names if m != n and re.search(rf"\b{re.escape(m)}\b", texts[n])}
        for n in names
    }
    order: list[str] = []
    done: set[str] = set()
    while len(order) < len(names):
        ready = [n for n in names if n not in done and deps[n] <= done]
        if not ready:
            stuck = sorted(n for n in names if n not in done)
            raise StoreError(f"sql/views: the views {', '.join(stuck)} read each other in a cycle")
        order.extend(ready)
        done.update(ready)
    return order


def fetch_dicts(
    con: duckdb.DuckDBPyConnection, sql: str, params: Any = None
) -> list[dict[str, Any]]:
    """Run a query and return rows as dicts keyed by column name."""
    cur = con.execute(sql, params) if params is not None else con.execute(sql)
    cols = [d[0] for d in cur.description or []]
    return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]


class BatchWriter:
    """Store.write() transactions without a new DuckDB instance for each one.

    Opening a database builds a DuckDB instance, system catalog included: ~30 ms of CPU with
    DuckDB 2.0, most of what a bench run's 0.5-second flush of a few thousand records costs.
    This keeps one in-memory instance for its whole life and ATTACHes the store's file for each
    transaction (~4 ms), then DETACHes it, so the file is locked only while a transaction runs
    and other processes open it in between, as with Store.write(). One thread at a time.

    Fairness: an ATTACH right after a DETACH leaves other processes almost no window, so
    back-to-back writes here would shut readers out but for turns (unitcost.turns): a read
    that had to wait says so, and this writer's next write lets it in first.
    """

    ALIAS = "uc_store"

    def __init__(self, store: Store) -> None:
        self.store = store
        # In-memory: holds no file. One thread: a batch of a few thousand rows gains nothing
        # from parallelism, and a second DuckDB thread would compete with the event loop.
        self._con = duckdb.connect(config={"threads": 1})

    @contextmanager
    def write(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """As Store.write(): one transaction on the store's file, committed or rolled back."""
        self.store.require_current()
        con = self._con
        path = sqlfiles.quote_literal(str(self.store.path))
        self.store._retry_lock(lambda: con.execute(f"ATTACH {path} AS {self.ALIAS}"))
        try:
            con.execute(f"USE {self.ALIAS}")
            with _transaction(con):
                yield con
        finally:
            con.execute("USE memory")
            con.execute(f"DETACH {self.ALIAS}")  # checkpoints and releases the file lock

    def close(self) -> None:
        self._con.close()
