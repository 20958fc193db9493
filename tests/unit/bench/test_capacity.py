"""SLO capacity decisions: the run at capacity is named, so its cost is that run's.

The search logic is pure (it only reads run summaries), so these tests drive it with a server
model: a function from the offered load to the goodput fraction a run would measure.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from unitcost.bench import capacity, sweep
from unitcost.bench.client import ClientConfig
from unitcost.bench.profiles import LoadProfile
from unitcost.bench.spec import RunSpec
from unitcost.bench.workloads import WorkItem

from unitcost.store import Store

BASE = RunSpec(
    client=ClientConfig(base_url="http://127.0.0.1:1", model="m"),
    profile=LoadProfile(kind="concurrency", concurrency=8),
    items=[WorkItem("x", 1, 1)],
    max_requests=10,
    slo={"ttft": 500.0},
)


def server(threshold_rps: float, top_rps: float = 10.0):  # type: ignore[no-untyped-def]
    """Runs against a server that meets the SLO below `threshold_rps` offered (or measured,
    for closed loops) and fails it above; each run costs 100 / its measured rate."""
    runs: list[tuple[str, dict[str, Any]]] = []

    def execute(spec: RunSpec) -> tuple[str, dict[str, Any]]:
        p = spec.profile
        if p.kind == "concurrency":
            measured = 1.0 if p.concurrency == 1 else top_rps
            offered = None
        else:
            assert p.rate is not None
            measured = offered = p.rate
        load = offered if offered is not None else measured
        s = {
            "status": "completed",
            "load_profile": p.to_json(),
            "offered_rate": offered,
            "request_rate": measured,
            "goodput_fraction": 0.95 if load <= threshold_rps else 0.5,
            "usd_per_1m_output_tokens": 100.0 / measured,
        }
        rid = f"run{len(runs)}"
        runs.append((rid, s))
        return rid, s

    return execute, runs


def test_a_bisection_step_at_capacity_names_its_run_and_cost() -> None:
    """The bug: the CLI looked the capacity run up by its measured rate, so whenever a
    bisection step won, the cost at capacity was silently omitted."""
    execute, runs = server(threshold_rps=6.0)
    d = sweep.capacity(BASE, execute, attainment=0.9, steps=5, max_conc=8)
    assert d.at is not None and d.at[0] not in ("run0", "run1")  # a bisection step won
    s = d.at[1]
    assert s["offered_rate"] <= 6.0 and s["offered_rate"] > 5.5  # converged below 6 req/s
    row = d.row()
    assert row["capacity_run_id"] == d.at[0]
    assert row["capacity_offered_rate"] == s["offered_rate"]
    assert row["usd_per_1m_output_tokens"] == pytest.approx(100.0 / s["offered_rate"])
    assert row["run_ids"] == [r for r, _ in runs] and row["load_kind"] == "rate"
    assert "req/s offered" in capacity.describe(row) and "USD" in capacity.describe(row)


def test_capacity_at_the_closed_loop_ends() -> None:
    execute, _ = server(threshold_rps=100.0)
    d = sweep.capacity(BASE, execute, attainment=0.9, steps=5, max_conc=8)
    assert d.at is not None and d.at[0] == "run1"  # met at max throughput
    assert d.row()["capacity_offered_rate"] is None and d.row()["capacity_concurrency"] == 8
    execute, _ = server(threshold_rps=0.5)
    d = sweep.capacity(BASE, execute, attainment=0.9, steps=5, max_conc=8)
    assert d.at is None and not d.row()["met"]  # even one at a time misses
    assert "none met" in capacity.describe(d.row())


def test_suite_rule_and_storage(tmp_path: Path) -> None:
    runs = [
        (f"r{c}", {"status": "completed", "goodput_fraction": gf, "offered_rate": None,
                   "load_profile": {"kind": "concurrency", "concurrency": c},
                   "model": "m", "hardware": "H100", "gpu_count": 1, "emulated": True,
                   "workload": {"input_tokens": "512", "output_tokens": "128"}})
        for c, gf in ((1, 1.0), (4, 0.95), (16, 0.91), (32, 0.5))
    ]  # fmt: skip
    at = capacity.highest_meeting(runs, 0.9)
    assert at is not None and at[0] == "r16"
    # an interrupted run never counts
    runs[2][1]["status"] = "interrupted"
    assert capacity.highest_meeting(runs, 0.9)[0] == "r4"  # type: ignore[index]
    store = Store(tmp_path / "c.duckdb")
    store.migrate()
    d = capacity.Decision("suite-x", "suite", {"ttft": 500.0}, 0.9, runs, runs[1], "t", "chat")
    capacity.store_decision(store, d)
    capacity.store_decision(store, d)  # deciding again restates the row, never adds one
    rows = capacity.for_group(store, "suite-x")
    assert len(rows) == 1
    r = rows[0]
    assert (r["capacity_run_id"], r["capacity_concurrency"], r["emulated"]) == ("r4", 4, True)
    assert (r["input_tokens"], r["output_tokens"], r["hardware"]) == ("512", "128", "H100")
    assert r["slo"] == {"ttft": 500.0} and json.loads(json.dumps(r["run_ids"])) == [
        "r1", "r4", "r16", "r32"
    ]  # fmt: skip
