"""Request records and the batched writer that stores them while a run goes on.

DuckDB allows one writing process and unitcost never holds a connection open (store.py), so
records are buffered in memory and a background thread flushes them every `flush_s` seconds (or
when `batch_rows` are waiting) in one short transaction each, through a Store.batch_writer()
(the file is attached per flush; a new DuckDB instance per flush would cost more CPU than the
records themselves). A crash or Ctrl-C
loses at most the requests still in flight, which the runner records as `cancelled` before the
final flush.
"""

from __future__ import annotations

import json
import operator
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pyarrow as pa

from unitcost import sqlfiles
from unitcost.store import BatchWriter, Store

COLUMNS = (
    "run_id",
    "request_id",
    "phase",
    "scheduled_ns",
    "dequeued_ns",
    "sent_ns",
    "first_chunk_ns",
    "last_chunk_ns",
    "end_ns",
    "chunk_gaps_ns",
    "content_chunks",
    "prompt_tokens",
    "output_tokens",
    "token_source",
    "http_status",
    "status",
    "error_class",
    "error_message",
    "finish_reason",
    "first_chunk_late_ns",
)


@dataclass(slots=True)
class RequestRecord:
    """One request: raw perf_counter_ns stamps and counts only; metrics are derived later."""

    run_id: str
    request_id: int
    phase: str = "measure"
    scheduled_ns: int | None = None
    dequeued_ns: int | None = None
    sent_ns: int | None = None
    first_chunk_ns: int | None = None
    last_chunk_ns: int | None = None
    end_ns: int | None = None
    chunk_gaps_ns: list[int] = field(default_factory=list)
    content_chunks: int = 0
    prompt_tokens: int | None = None
    output_tokens: int | None = None
    token_source: str | None = None
    http_status: int | None = None
    status: str = "cancelled"  # until the request says otherwise
    error_class: str | None = None
    error_message: str | None = None
    finish_reason: str | None = None
    first_chunk_late_ns: int | None = None  # bound on how late first_chunk_ns was stamped

    def row(self) -> tuple[Any, ...]:
        return _row(self)


# One C call per record (a getattr loop in Python costs ~5x more, on the writer thread, with
# the GIL that the event loop needs).
_row = operator.attrgetter(*COLUMNS)


_STR = pa.string()
_INT = pa.int64()
_TYPES = {
    "run_id": _STR,
    "phase": _STR,
    "chunk_gaps_ns": pa.list_(_INT),
    "token_source": _STR,
    "status": _STR,
    "error_class": _STR,
    "error_message": _STR,
    "finish_reason": _STR,
}
_SCHEMA = pa.schema([(c, _TYPES.get(c, _INT)) for c in COLUMNS])


def to_arrow(records: list[RequestRecord]) -> pa.Table:
    """Typed Arrow columns (nullable BIGINT, VARCHAR, BIGINT[] gaps) built by pyarrow in C from
    the records' values (rows read by one attrgetter call each); DuckDB scans Arrow without
    the GIL. On the writer thread this holds the GIL ~4 µs per record (the pandas frame with
    string-joined gaps it replaced: ~30 µs), time the event loop gets back."""
    cols = list(zip(*map(_row, records), strict=True)) or [()] * len(COLUMNS)
    return pa.Table.from_arrays(
        [pa.array(col, type=t) for col, t in zip(cols, _SCHEMA.types, strict=True)],
        schema=_SCHEMA,
    )


class RecordWriter:
    """Buffers finished records and flushes them from a background thread."""

    def __init__(self, store: Store, *, flush_s: float = 0.5, batch_rows: int = 20_000) -> None:
        """flush_s decides how much a hard kill can lose; batch_rows only bounds the buffer.
        Each flush has a fixed cost (attach, commit, checkpoint at detach: ~25 ms), so fewer,
        larger flushes cost less per record (measured 28 us per record at 2,000 per flush,
        20 us at 5,000+), CPU taken from the core the load and the server share."""
        self.store = store
        self.flush_s = flush_s
        self.batch_rows = batch_rows
        self._buf: list[RequestRecord] = []
        self._tables: list[pa.Table] = []  # batches that arrived as Arrow (add_table)
        self._table_rows = 0
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.written = 0
        self.error: BaseException | None = None
        self._db: BatchWriter | None = None  # opened by start() (or a first flush); close()

    def start(self) -> None:
        to_arrow([])  # pyarrow's lazy set-up (~0.5 s) happens now, not in the first flush
        if self.store is not None:
            self._batch_db()  # its DuckDB instance too (~30 ms, GIL held)
        self._thread = threading.Thread(target=self._loop, name="unitcost-records", daemon=True)
        self._thread.start()

    def add(self, rec: RequestRecord) -> None:
        with self._lock:
            self._buf.append(rec)
            n = len(self._buf)
        if n >= self.batch_rows:
            self._wake.set()

    def add_table(self, table: pa.Table) -> None:
        """Records already in Arrow form (`to_arrow`'s schema): a worker process's batch."""
        if not table.num_rows:
            return
        with self._lock:
            self._tables.append(table)
            self._table_rows += table.num_rows
            n = len(self._buf) + self._table_rows
        if n >= self.batch_rows:
            self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.flush_s)
            self._wake.clear()
            try:
                self.flush()
            except BaseException as exc:  # kept and re-raised by close()
                self.error = exc

    def flush(self) -> int:
        """Write whatever is buffered in one transaction; return rows written."""
        with self._lock:
            batch, self._buf = self._buf, []
            tables, self._tables, self._table_rows = self._tables, [], 0
        if not batch and not tables:
            return 0
        table = pa.concat_tables([*tables, to_arrow(batch)] if batch else tables)
        try:
            with self._batch_db().write() as con:
                con.register("bench_requests_batch", table)
                con.execute(sqlfiles.load("queries", "bench_insert_requests"))
                con.unregister("bench_requests_batch")
        except BaseException:
            with self._lock:  # keep them for the next try / the final flush
                self._buf[:0] = batch
                self._tables[:0] = tables
                self._table_rows += sum(t.num_rows for t in tables)
            raise
        self.written += table.num_rows
        return int(table.num_rows)

    def _batch_db(self) -> BatchWriter:
        if self._db is None:
            self._db = self.store.batch_writer()
        return self._db

    def close(self) -> None:
        """Stop the thread and flush the rest; raise the thread's last error if any remain."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
        try:
            self.flush()
        finally:
            if self._db is not None:
                self._db.close()
                self._db = None


def insert_run(store: Store, run: dict[str, Any]) -> None:
    """Insert the bench_runs row (status 'running') before any load starts."""
    row = dict(run)
    for key in ("load_profile", "workload", "slo"):
        row[key] = json.dumps(row.get(key)) if row.get(key) is not None else None
    labels = row.pop("labels", None) or {}
    row["label_keys"] = list(labels.keys())
    row["label_values"] = list(labels.values())
    for key in (
        "slo_attainment",
        "whole_instance",
        "percentiles",
        "client_pid",
        "client_host",
        "client_start_ticks",
    ):
        row.setdefault(key, None)
    with store.write() as con:
        con.execute(sqlfiles.load("queries", "bench_insert_run"), row)


def finish_run(
    store: Store,
    run_id: str,
    status: str,
    ended_at: datetime,
    summary: dict[str, Any] | None,
    loop_lag_ns: list[int] | None = None,
) -> None:
    """Set the final status, end time, the summary computed by metrics.py and the client's
    event-loop lag samples."""
    with store.write() as con:
        con.execute(
            sqlfiles.load("queries", "bench_finish_run"),
            {
                "run_id": run_id,
                "status": status,
                "ended_at": ended_at,
                "summary": json.dumps(summary, default=str) if summary is not None else None,
                "loop_lag_ns": loop_lag_ns,
            },
        )
