"""One benchmark run's lifecycle: the run row, the load, the summary, the final status.

    running      the row is written before any load (runrow.py), the records as they finish
    completed    the load ended by its own rule (requests, duration, steady state)
    interrupted  Ctrl-C at any moment (loop.Interrupts): requests in flight are stored as
                 `cancelled`, every finished one is kept, every process ends within seconds
    failed       the harness itself failed (an error is raised after the row is closed)

Whatever happens, the row is closed with its status and the summary of what was stored. A
process killed outright (SIGKILL) leaves its run `running`; `bench mark-interrupted` closes it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from unitcost.bench import report
from unitcost.bench.engine import Load
from unitcost.bench.live import Live
from unitcost.bench.loop import Interrupts, arun, frozen_heap
from unitcost.bench.records import finish_run, insert_run
from unitcost.bench.runrow import run_row
from unitcost.bench.spec import RunSpec

from unitcost import sqlfiles
from unitcost.errors import BenchError, UnitcostError
from unitcost.store import Store, fetch_dicts


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S-") + uuid.uuid4().hex[:8]


def run(
    store: Store, spec: RunSpec, on_tick: Callable[[Live], None] | None = None
) -> tuple[str, dict[str, Any]]:
    """Offer the load, store every request, and return (run_id, summary)."""
    if (
        spec.max_requests is None
        and spec.duration_s is None
        and not spec.steady
        and spec.profile.kind != "trace"
    ):
        raise BenchError("say when to stop: --requests N, --duration S or --until-steady")
    from unitcost.bench import workers

    workers.validate(spec)
    run_id = new_run_id()
    live = Live(total_requests=_total(spec), duration_s=spec.duration_s)
    with Interrupts() as interrupts:
        r: Load = (
            workers.MultiRun(store, spec, run_id, live)
            if spec.workers > 1
            else Load(store, spec, run_id, live)
        )
        insert_run(store, run_row(spec, run_id, r.anchor_ns))
        status = "failed"
        try:
            r.writer.start()
            if not interrupts.count:
                with frozen_heap():
                    arun(r.main(on_tick, interrupts))
            status = "interrupted" if r.interrupted or interrupts.count else "completed"
        finally:
            try:
                r.writer.close()
            except BaseException:
                status = "failed"  # records could not all be stored
                raise
            finally:
                summary = _close(store, r, run_id, status, spec)
    live.status = status
    return run_id, summary


def _total(spec: RunSpec) -> int | None:
    if spec.profile.kind == "trace":
        return min(spec.max_requests or len(spec.items), len(spec.items))
    return spec.max_requests


def _close(store: Store, r: Load, run_id: str, status: str, spec: RunSpec) -> dict[str, Any]:
    """Close the run row whatever happened: status, end time, summary, loop-lag samples."""
    ended = datetime.now(UTC)
    lag = r.lag_samples()
    summary: dict[str, Any] | None = None
    try:
        summary = report.build_summary(store, run_id, loop_lag_ns=lag)
    except UnitcostError:
        status = "failed" if status == "completed" else status
    if summary is not None:
        summary["status"] = status
        summary["ended_at"] = str(ended)
        summary.update(spec.summary_extra)
        if r.scraper is not None:
            summary["server_metrics"] = {
                "url": r.scraper.url,
                "scrapes": r.scraper.scrapes,
                "samples": r.scraper.samples,
            }
            summary["warnings"] += [f"scrape failed: {e}" for e in r.scraper.errors[:5]]
        summary["warnings"] += r.run_warnings()
    finish_run(store, run_id, status, ended, summary, lag)
    return summary or {}


def summarize_run(store: Store, run_id: str) -> dict[str, Any]:
    """The versioned summary of a stored run: metrics.py over its records, plus cost."""
    return report.build_summary(store, run_id)


def fetch_requests(store: Store, run_id: str) -> list[dict[str, Any]]:
    with store.read() as con:
        return fetch_dicts(con, sqlfiles.load("queries", "bench_run_requests"), {"run_id": run_id})
