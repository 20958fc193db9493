"""Live counters of a run in progress, for the live view and progress callbacks.

Updated on the event loop (or, for a multi-worker run, from the workers' Arrow batches); never
used for a stored figure: every figure comes from the stored records (metrics.py).
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc


@dataclass
class Live:
    """Counters for the live view, updated on the event loop."""

    started: float = field(default_factory=time.monotonic)
    sent: int = 0
    done: int = 0
    ok: int = 0
    failed: int = 0
    cancelled: int = 0
    output_tokens: int = 0
    ttft_ms: deque[float] = field(default_factory=lambda: deque(maxlen=500))
    errors: dict[str, int] = field(default_factory=dict)
    status: str = "running"
    total_requests: int | None = None  # the run's request limit, when it has one
    duration_s: float | None = None  # the run's --duration, when it has one

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def progress(self) -> float | None:
        """Share of the run done (0-1): requests finished of the limit, or time of the
        duration, whichever is further along; None when the run stops on another rule."""
        parts = []
        if self.total_requests:
            parts.append(self.done / self.total_requests)
        if self.duration_s:
            parts.append(self.elapsed() / self.duration_s)
        return min(1.0, max(parts)) if parts else None

    def eta_s(self) -> float | None:
        """Seconds left at the pace so far (None when unknown)."""
        el = self.elapsed()
        left = []
        if self.total_requests and self.done:
            left.append((self.total_requests - self.done) * el / self.done)
        if self.duration_s:
            left.append(self.duration_s - el)
        return max(0.0, min(left)) if left else None

    def add_batch(self, table: pa.Table) -> None:
        """Count finished records that arrive as an Arrow batch (records.to_arrow: a worker's),
        by the rules engine.Load._finished applies to one record, vectorized: the parent of a
        multi-worker run does no per-record Python work. Tests hold the two in agreement."""
        status = table.column("status")
        ok = pc.equal(status, "ok")
        n_ok = int(pc.sum(ok).as_py() or 0)
        n_cancelled = int(pc.sum(pc.equal(status, "cancelled")).as_py() or 0)
        self.done += table.num_rows
        self.ok += n_ok
        self.cancelled += n_cancelled
        self.failed += table.num_rows - n_ok - n_cancelled
        self.output_tokens += int(pc.sum(table.column("output_tokens").filter(ok)).as_py() or 0)
        ttft = pc.divide(
            pc.subtract(table.column("first_chunk_ns"), table.column("sent_ns")).filter(ok), 1e6
        )
        self.ttft_ms.extend(ttft.drop_null().to_pylist())  # the deque keeps the latest
        if n_ok + n_cancelled < table.num_rows:
            failed = pc.invert(pc.is_in(status, pa.array(["ok", "cancelled"])))
            cls = table.column("error_class")
            key = pc.if_else(pc.fill_null(pc.not_equal(cls, ""), False), cls, status)
            for row in pc.value_counts(key.filter(failed)).to_pylist():
                self.errors[row["values"]] = self.errors.get(row["values"], 0) + row["counts"]
