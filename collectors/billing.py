"""Billing export files into billing_line_items, each delivery counted once.

A location (file, folder or s3://bucket/prefix) is listed, its layout and manifests are read
(billing_deliveries: which files are parts of one delivery, which delivery of a report is
current), and each delivery is loaded in ONE transaction: its files' old lines are deleted and
the new ones inserted (billing_read), the files recorded, the deliveries it replaces set aside
(billing_ledger), the daily rollup the views read rebuilt for it, and the watermark moved. All
or nothing: a kill leaves the delivery loaded or not at all, and the next run resumes.

A file whose bytes equal a file already recorded (same sha256, whatever its path or name) is one
file: it is recorded as a copy and adds nothing. A file whose size and mtime (local) or ETag and
size (S3) are unchanged since it was read is not read again.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

import duckdb
from unitcost.collectors import billing_ledger as ledger
from unitcost.collectors import billing_native as native
from unitcost.collectors import billing_read as read
from unitcost.collectors.base import collector_run, set_watermark
from unitcost.collectors.billing_deliveries import (
    Entry,
    SetAside,
    read_local_json,
)
from unitcost.collectors.billing_deliveries import plan as plan_deliveries

from unitcost import sqlfiles
from unitcost.errors import InputError, input_error
from unitcost.store import Store

__all__ = ["FileLoad", "Source", "collect", "load_delivery", "load_file"]


@dataclass(frozen=True)
class FileLoad:
    """What collecting one file did."""

    source_file: str
    source_format: str  # the detected format, or: unchanged, same content, superseded, waiting
    rows: int
    skipped: bool
    extra_columns: list[str]
    notes: tuple[str, ...] = ()  # what else happened: deliveries it set aside, why it was skipped


@dataclass(frozen=True)
class Source:
    """A billing file to read: where its bytes are now and what it is recorded as."""

    path: str  # a local file (a download for S3)
    source_file: str  # lineage: absolute path or s3:// URI
    fingerprint: str  # size+mtime or ETag+size when read

    @property
    def name(self) -> str:
        return PurePosixPath(self.source_file).name


def content_hash(path: str) -> str:
    """sha256 of the file's bytes: the identity of a billing file, whatever its name."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def local_fingerprint(path: str) -> str:
    st = Path(path).stat()
    return f"size={st.st_size};mtime_ns={st.st_mtime_ns}"


def recorded(store: Store, source_file: str) -> tuple[Any, ...] | None:
    """(fingerprint, content_hash, superseded_by, reason) as recorded, or None."""
    with store.read() as con:
        return con.execute(sqlfiles.load("queries", "billing_file_get"), [source_file]).fetchone()


def load_file(
    store: Store,
    path: str,
    *,
    source_file: str | None = None,
    fingerprint: str | None = None,
    fmt: str = "auto",
    run_id: str | None = None,
    watermark_source: str | None = None,
    force: bool = False,
    delivery_id: str | None = None,
    delivered_at: datetime | None = None,
) -> FileLoad:
    """Load one file as a delivery of its own (delivered at its modification time unless
    given); an unchanged file is skipped unless forced."""
    shown = source_file or path
    if not Path(path).is_file():
        raise input_error(shown, msg="no such file")
    fingerprint = fingerprint or local_fingerprint(path)
    if not force:
        row = recorded(store, shown)
        if row and row[0] == fingerprint:
            return FileLoad(shown, "unchanged", 0, True, [])
    when = delivered_at or datetime.fromtimestamp(Path(path).stat().st_mtime, UTC)
    loads = load_delivery(
        store,
        [Source(path, shown, fingerprint)],
        delivery_id=delivery_id or f"file:{shown}",
        delivered_at=when,
        fmt=fmt,
        run_id=run_id,
        watermark_source=watermark_source,
        force=force,
    )
    return loads[0]


def load_delivery(
    store: Store,
    sources: Sequence[Source],
    *,
    delivery_id: str,
    delivered_at: datetime,
    fmt: str = "auto",
    run_id: str | None = None,
    watermark_source: str | None = None,
    set_aside: Sequence[SetAside] = (),
    force: bool = False,
    keep: Sequence[str] = (),
) -> list[FileLoad]:
    """Load the given files of one delivery, and set aside what its layout replaces, in one
    transaction. Files are hashed and checked before the transaction (no lock held); a file
    whose bytes were already recorded, under its own name (unless forced) or another, is not
    read. `keep`: the delivery's files that did not change (recorded under this delivery)."""
    prepared: list[_Prepared] = []
    with ThreadPoolExecutor(max_workers=1) as hasher:
        for src in sources:
            # hashing (sha256, the GIL released) runs while DuckDB checks the file: both read
            # it, and the check is wasted only for a file that turns out to be a copy
            pending = hasher.submit(content_hash, src.path)
            prep: read.Prepared | None = read.prepare(src.path, src.source_file, fmt)
            digest = pending.result()
            mine = recorded(store, src.source_file)
            if not force and mine is not None and mine[1] == digest and mine[2] is None:
                prepared.append(_Prepared(src, digest, None, unchanged=True))
                continue
            with store.read() as con:
                copy = con.execute(
                    sqlfiles.load("queries", "billing_file_same_content"),
                    [digest, src.source_file],
                ).fetchone()
            prepared.append(_Prepared(src, digest, None if copy else prep))
    duckdb_reader: set[str] = set()
    while True:
        try:
            with store.write() as con:
                for f in keep:
                    _retag(con, f, delivery_id, delivered_at)
                return _load_delivery(
                    con,
                    prepared,
                    delivery_id,
                    delivered_at,
                    run_id,
                    watermark_source,
                    set_aside,
                    duckdb_reader,
                    fmt,
                )
        except read.UseDuckDBReader as retry:
            if retry.shown in duckdb_reader:
                raise
            duckdb_reader.add(retry.shown)  # rolled back; read that file with DuckDB's reader


@dataclass
class _Prepared:
    src: Source
    digest: str
    prep: read.Prepared | None  # None: a copy of a recorded file (not read)
    unchanged: bool = False  # the same bytes as when this file was last read


def _load_delivery(
    con: duckdb.DuckDBPyConnection,
    prepared: list[_Prepared],
    delivery_id: str,
    delivered_at: datetime,
    run_id: str | None,
    watermark_source: str | None,
    set_aside: Sequence[SetAside],
    duckdb_reader: set[str],
    fmt: str,
) -> list[FileLoad]:
    loads: list[FileLoad] = []
    loaded: list[str] = []
    for p in prepared:
        if p.unchanged:
            con.execute(
                sqlfiles.load("queries", "billing_file_touch"),
                [p.src.fingerprint, p.src.source_file],
            )
            _retag(con, p.src.source_file, delivery_id, delivered_at)
            loads.append(FileLoad(p.src.source_file, "unchanged", 0, True, []))
            continue
        load = _load_one(con, p, delivery_id, delivered_at, run_id, duckdb_reader, fmt)
        loads.append(load)
        if not load.skipped:
            loaded.append(p.src.source_file)
    for s in set_aside:
        events = ledger.supersede_file(con, s.entry.uri, s.by, s.reason)
        notes = tuple(e.describe() for e in events) or (f"{s.entry.uri}: {s.reason}",)
        loads.append(FileLoad(s.entry.uri, "superseded", 0, True, [], notes))
    notes = tuple(e.describe() for e in ledger.finish(con, delivery_id, loaded))
    if watermark_source is not None:
        _move_watermark(con, loaded, watermark_source)
    if notes and loads:
        first = loads[0]
        loads[0] = FileLoad(
            first.source_file,
            first.source_format,
            first.rows,
            first.skipped,
            first.extra_columns,
            (*first.notes, *notes),
        )
    return loads


def _load_one(
    con: duckdb.DuckDBPyConnection,
    p: _Prepared,
    delivery_id: str,
    delivered_at: datetime,
    run_id: str | None,
    duckdb_reader: set[str],
    fmt: str,
) -> FileLoad:
    shown = p.src.source_file
    same = con.execute(
        sqlfiles.load("queries", "billing_file_same_content"), [p.digest, shown]
    ).fetchone()
    ledger.forget_file(con, shown)
    notes: tuple[str, ...] = ()
    if same is not None and same[1] is not None and same[1] < delivered_at:
        # The same bytes in a later delivery: they count there (the earlier delivery may be
        # replaced by this one), and the earlier path becomes the copy.
        _make_copy(con, str(same[0]), shown, p.digest)
        notes = (f"{same[0]}: same content as {shown}, a later delivery: counted once, there",)
        same = None
    if same is not None:
        original = str(same[0])
        reason = f"same content as {original} (sha256 {p.digest[:12]}): one file, counted once"
        con.execute(
            sqlfiles.load("queries", "billing_file_upsert"),
            [
                shown,
                p.prep.fmt if p.prep else None,
                p.src.fingerprint,
                0,
                [],
                run_id,
                p.digest,
                delivery_id,
                delivered_at,
                original,
                reason,
            ],
        )
        return FileLoad(shown, "same content", 0, True, [], (f"{shown}: {reason}",))
    prep = p.prep or read.prepare(p.src.path, shown, fmt)  # its twin changed meanwhile
    n, extras = read.insert(con, prep, run_id=run_id, duckdb_reader=shown in duckdb_reader)
    read.refuse_undated(con, prep)
    if prep.fmt in native.AZURE_FORMATS:
        _refuse_double_count(con, shown, prep.fmt)
    con.execute(
        sqlfiles.load("queries", "billing_file_upsert"),
        [
            shown,
            prep.fmt,
            p.src.fingerprint,
            n,
            extras,
            run_id,
            p.digest,
            delivery_id,
            delivered_at,
            None,
            None,
        ],
    )
    con.execute(sqlfiles.load("queries", "billing_file_reopen_copies"), [shown, p.digest])
    ledger.index_file(con, shown, delivery_id, p.src.name)
    return FileLoad(shown, prep.fmt, n, False, extras, notes)


def _retag(
    con: duckdb.DuckDBPyConnection, source_file: str, delivery_id: str, delivered_at: datetime
) -> None:
    """An unchanged file joins the delivery being loaded (see billing_file_retag.sql)."""
    con.execute(
        sqlfiles.load("queries", "billing_file_retag"),
        {"delivery_id": delivery_id, "delivered_at": delivered_at, "source_file": source_file},
    )
    con.execute(
        sqlfiles.load("queries", "billing_file_periods_retag"),
        {"delivery_id": delivery_id, "source_file": source_file},
    )


def _make_copy(con: duckdb.DuckDBPyConnection, copy: str, original: str, digest: str) -> None:
    """Record `copy` as the same file as `original`: its lines, slices and rollup go."""
    ledger.forget_file(con, copy)
    con.execute(
        sqlfiles.load("queries", "billing_file_mark_copy"),
        [
            original,
            f"same content as {original} (sha256 {digest[:12]}): one file, counted once",
            copy,
        ],
    )


def _move_watermark(con: duckdb.DuckDBPyConnection, files: list[str], source: str) -> None:
    ends = []
    for f in files:
        wm = con.execute(sqlfiles.load("queries", "billing_file_max_period"), [f]).fetchone()
        if wm and wm[0] is not None:
            ends.append(wm[0])
    if ends:
        set_watermark(con, "billing", source, max(ends))


def _refuse_double_count(con: duckdb.DuckDBPyConnection, shown: str, detected: str) -> None:
    """Azure's actual-cost and amortized-cost exports list the same usage: loading both for the
    same account and days would double every unit cost. Refused (the transaction rolls back)."""
    others = con.execute(sqlfiles.load("queries", "billing_azure_overlap"), [shown]).fetchall()
    if not others:
        return
    names = ", ".join(f"{f} ({fmt})" for f, fmt, _ in others)
    raise input_error(
        shown,
        msg=(
            f"this {detected} export covers the same billing account and days as {names}: "
            "Azure's actual and amortized exports list the same usage, so both would count it "
            "twice. Collect one kind per store (point the billing source at that export's "
            "folder or prefix; amortized gives EffectiveCost, the basis of unit costs); "
            "nothing from this file was written"
        ),
    )


def record_set_aside(store: Store, items: Sequence[SetAside], run_id: str | None) -> None:
    """Files a manifest says are not current and that were never read: recorded (not read)."""
    with store.write() as con:
        for s in items:
            con.execute(
                sqlfiles.load("queries", "billing_file_upsert"),
                [
                    s.entry.uri,
                    None,
                    s.entry.fingerprint,
                    0,
                    [],
                    run_id,
                    None,
                    None,
                    s.entry.modified,
                    s.by,
                    s.reason,
                ],
            )


# ------------------------------------------------------------------ locations
def local_entries(location: str) -> list[Entry]:
    """A file, or every file under a folder (billing files and manifests), sorted."""
    p = Path(location)
    if p.is_file():
        files, root = [p], p.parent
    elif p.is_dir():
        files, root = sorted(f for f in p.rglob("*") if f.is_file()), p
    else:
        raise InputError(f"{location}: no such file or folder")
    out = []
    for f in files:
        st = f.stat()
        out.append(
            Entry(
                str(f.resolve()),
                f.relative_to(root).as_posix(),
                st.st_size,
                datetime.fromtimestamp(st.st_mtime_ns / 1e9, UTC),
                f"size={st.st_size};mtime_ns={st.st_mtime_ns}",
            )
        )
    return out


Fetch = Callable[[list[Entry], str], list[Source]]


def collect(
    store: Store,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    client: Any = None,
    location: str,
    fmt: str = "auto",
    force: bool = False,
    on_file: Callable[[FileLoad], None] | None = None,
) -> int:
    """Load every delivery at `location` (path, folder or s3://bucket/prefix), oldest first.

    since/until do not filter billing files: a file is the unit of truth and is loaded whole
    (its charge periods are whatever the provider put in it). Returns rows written.
    """
    del since, until
    if location.startswith("s3://"):
        from unitcost.collectors import s3files

        entries, read_json, fetch = s3files.source(location, client)
    else:
        entries, read_json, fetch = local_entries(location), read_local_json, _local_fetch
    with collector_run(store, "billing", location) as run:
        for load in load_location(
            store,
            entries,
            read_json,
            fetch,
            location=location,
            fmt=fmt,
            run_id=run.run_id,
            force=force,
        ):
            run.rows += load.rows
            if on_file is not None:
                on_file(load)
        return run.rows


def _local_fetch(entries: list[Entry], tmp: str) -> list[Source]:
    del tmp
    return [Source(e.uri, e.uri, e.fingerprint) for e in entries]


def load_location(
    store: Store,
    entries: Iterable[Entry],
    read_json: Callable[[Entry], Any],
    fetch: Fetch,
    *,
    location: str,
    fmt: str,
    run_id: str,
    force: bool,
) -> Iterable[FileLoad]:
    """Plan the deliveries at a location and load each one that changed, oldest first."""
    plan = plan_deliveries(entries, read_json)
    for w in plan.waiting:
        yield FileLoad(w.entry.uri, "waiting", 0, True, [], (f"{w.entry.uri}: {w.reason}",))
    with store.read() as con:
        known = {
            str(r[0]): tuple(r[1:])
            for r in con.execute(sqlfiles.load("queries", "billing_files_state")).fetchall()
        }
    states = {e.uri: known.get(e.uri) for d in plan.deliveries for e in d.files}
    states.update({s.entry.uri: known.get(s.entry.uri) for s in plan.superseded})
    unread = [s for s in plan.superseded if states[s.entry.uri] is None]
    if unread:
        record_set_aside(store, unread, run_id)
    for s in unread:
        yield FileLoad(s.entry.uri, "superseded", 0, True, [], (f"{s.entry.uri}: {s.reason}",))
    to_supersede = [
        s for s in plan.superseded if (st := states[s.entry.uri]) is not None and st[2] is None
    ]
    for d in plan.deliveries:
        # read: new or changed files, and files recorded without being read (set aside by a
        # manifest then, part of the current delivery now)
        changed = [
            e
            for e in d.files
            if force or (st := states[e.uri]) is None or st[0] != e.fingerprint or st[1] is None
        ]
        aside = [s for s in to_supersede if s.by == d.by]
        kept = [e for e in d.files if e not in changed]
        for e in kept:
            yield FileLoad(e.uri, "unchanged", 0, True, [])
        moved = [
            e.uri
            for e in kept
            if (st := states[e.uri]) and st[2] is None and st[4] != d.delivery_id
        ]
        if not changed and not aside and not moved:
            continue
        with tempfile.TemporaryDirectory(prefix="unitcost-billing-") as tmp:
            yield from load_delivery(
                store,
                fetch(changed, tmp),
                delivery_id=d.delivery_id,
                delivered_at=d.delivered_at,
                fmt=fmt,
                run_id=run_id,
                watermark_source=location,
                set_aside=aside,
                force=force,
                keep=moved,
            )
        to_supersede = [s for s in to_supersede if s not in aside]
    if to_supersede:  # replaced by a delivery that did not change in this run
        yield from load_delivery(
            store,
            [],
            delivery_id="",
            delivered_at=datetime.now(UTC),
            run_id=run_id,
            set_aside=to_supersede,
        )
