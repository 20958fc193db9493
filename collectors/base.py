"""What every collector shares: run bookkeeping, watermarks, UTC sessions and time parsing.

A collector is a plain function `collect(store, *, since, until, client=None, ...) -> int` (rows
written). It fetches, parses with pure functions, and writes each batch in one short transaction
(`store.write()`), so a kill between batches loses at most the batch in flight, never half of one.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import duckdb

from unitcost import sqlfiles
from unitcost.errors import InputError
from unitcost.store import Store

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$")
_UNIT_S = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def utc_session(con: duckdb.DuckDBPyConnection) -> None:
    """Naive timestamps in sources are UTC (FOCUS, CUR, Prometheus); never the host's zone."""
    con.execute("SET TimeZone = 'UTC'")


@contextmanager
def registered(con: duckdb.DuckDBPyConnection, name: str, table: object) -> Iterator[None]:
    """`table` (Arrow, pandas) readable as `name` in SQL for the block. Unregistered only when
    the block succeeds: after an error the transaction is aborted, DuckDB refuses even an
    unregister, and the connection is closed anyway; the block's own error must surface."""
    con.register(name, table)
    yield
    con.unregister(name)


def parse_duration(text: str, *, flag: str = "--every") -> timedelta:
    """`30s`, `5m`, `1h`, `1d` -> timedelta; the error names the flag."""
    m = _DURATION.match(text.strip())
    if not m:
        raise InputError(f"{flag} {text!r}: expected a duration like 30s, 5m, 1h or 1d")
    return timedelta(seconds=float(m.group(1)) * _UNIT_S[m.group(2)])


def parse_time(text: str, *, flag: str = "--since", now: datetime | None = None) -> datetime:
    """An ISO timestamp (naive = UTC), `now`, or a duration ago (`2h` = two hours ago)."""
    now = now or datetime.now(UTC)
    t = text.strip()
    if t == "now":
        return now
    if _DURATION.match(t):
        return now - parse_duration(t, flag=flag)
    try:
        dt = datetime.fromisoformat(t.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InputError(
            f"{flag} {text!r}: expected an ISO time (2025-01-31T12:00Z), 'now' or a duration ago "
            "(2h)"
        ) from exc
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def get_watermark(store: Store, collector: str, source: str) -> datetime | None:
    """The time up to which this source was collected, or None before its first run."""
    with store.read() as con:
        row = con.execute(
            sqlfiles.load("queries", "collect_watermark_get"), [collector, source]
        ).fetchone()
    if not row or row[0] is None:
        return None
    wm: datetime = row[0]
    return wm.astimezone(UTC)


def set_watermark(
    con: duckdb.DuckDBPyConnection, collector: str, source: str, watermark: datetime
) -> None:
    """Advance the watermark inside the caller's transaction, so data and mark commit together."""
    con.execute(sqlfiles.load("queries", "collect_watermark_set"), [collector, source, watermark])


@dataclass
class RunRecord:
    """One collector invocation: its id goes onto every row it writes."""

    collector: str
    source: str
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    rows: int = 0


@contextmanager
def collector_run(
    store: Store,
    collector: str,
    source: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Iterator[RunRecord]:
    """Record a run in collector_runs: 'running' at start, then 'ok', 'failed' or 'interrupted'.

    The start row is its own transaction so a killed collector leaves a visible 'running' row
    (an audit trail), while its data batches commit or vanish whole.
    """
    rec = RunRecord(collector, source)
    with store.write() as con:
        con.execute(
            sqlfiles.load("queries", "collect_run_start"),
            [rec.run_id, collector, source, since, until],
        )
    status, error = "ok", None
    try:
        yield rec
    except KeyboardInterrupt:
        status, error = "interrupted", "interrupted by the user"
        raise
    except BaseException as exc:
        status, error = "failed", str(exc)[:2000]
        raise
    finally:
        with store.write() as con:
            con.execute(
                sqlfiles.load("queries", "collect_run_finish"),
                [status, rec.rows, error, rec.run_id],
            )
