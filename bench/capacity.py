"""SLO capacity decisions: which run was the highest load that met an SLO, stored for readers.

A decision is made by a `--capacity` search (sweep.capacity: bisection of the offered rate) or
per target and scenario of a suite (the highest load level whose run meets the SLO). It is
stored in `bench_capacity` (one row per group, target and scenario) with the run at capacity,
the load it was offered (`capacity_offered_rate`, None for a closed loop, plus the concurrency),
what it measured there, and every run the decision looked at, so the analytics layer never has
to guess which run a capacity figure came from (and can recompute goodput at other SLOs from
those runs' bench_requests).

"Meets the SLO": goodput_fraction >= slo_attainment (metrics.py: meets_slo).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from unitcost import sqlfiles
from unitcost.store import Store, fetch_dicts

RunResult = tuple[str, dict[str, Any]]  # (run_id, summary)


def meets(summary: dict[str, Any], attainment: float) -> bool:
    """The run reached the attainment target (goodput fraction, answered requests)."""
    gf = summary.get("goodput_fraction")
    return gf is not None and gf >= attainment


def level(summary: dict[str, Any]) -> float:
    """The load a run offered, for ordering: its offered rate, else its concurrency."""
    lp = summary.get("load_profile") or {}
    rate = summary.get("offered_rate")
    if rate is not None:
        return float(rate)
    return float(lp.get("concurrency") or 0)


@dataclass(frozen=True)
class Decision:
    """One SLO capacity decision (a bench_capacity row)."""

    group_id: str
    kind: str  # search | suite
    slo: dict[str, float]
    slo_attainment: float
    runs: list[RunResult]
    at: RunResult | None  # the run at capacity; None when even the lightest load missed
    target: str = ""
    scenario: str = ""
    decided_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def met(self) -> bool:
        return self.at is not None

    def row(self) -> dict[str, Any]:
        s = self.at[1] if self.at else {}
        first = (self.at or self.runs[0])[1] if (self.at or self.runs) else {}
        lp = s.get("load_profile") or {}
        wl = first.get("workload") or {}
        return {
            "group_id": self.group_id,
            "kind": self.kind,
            "target": self.target,
            "scenario": self.scenario,
            "slo": json.dumps(self.slo),
            "slo_attainment": self.slo_attainment,
            "met": self.met,
            "capacity_run_id": self.at[0] if self.at else None,
            "load_kind": lp.get("kind"),
            "capacity_offered_rate": s.get("offered_rate"),
            "capacity_concurrency": lp.get("concurrency"),
            "capacity_request_rate": s.get("request_rate"),
            "capacity_goodput": s.get("goodput"),
            "capacity_output_tokens_per_s": s.get("output_tokens_per_s"),
            "usd_per_1m_output_tokens": s.get("usd_per_1m_output_tokens"),
            "model": first.get("model"),
            "hardware": first.get("hardware"),
            "quantization": first.get("quantization"),
            "engine": first.get("engine"),
            "gpu_count": first.get("gpu_count"),
            "parameter_count": first.get("parameter_count"),
            "price_ref": first.get("price_ref"),
            "emulated": bool(first.get("emulated")),
            "endpoint_url": first.get("endpoint_url"),
            "api": first.get("api"),
            "input_tokens": wl.get("input_tokens"),
            "output_tokens": wl.get("output_tokens"),
            "run_ids": [r for r, _ in self.runs],
            "decided_at": self.decided_at,
        }


def highest_meeting(runs: Sequence[RunResult], attainment: float) -> RunResult | None:
    """A suite's rule: of runs at several load levels, the highest level that met the SLO."""
    ok = [r for r in runs if r[1].get("status") == "completed" and meets(r[1], attainment)]
    return max(ok, key=lambda r: level(r[1])) if ok else None


def store_decision(store: Store, d: Decision) -> None:
    with store.write() as con:
        con.execute(sqlfiles.load("queries", "bench_capacity_upsert"), d.row())


def for_group(store: Store, group_id: str | None) -> list[dict[str, Any]]:
    """The stored decisions of a group of runs (none for a run outside any)."""
    if not group_id:
        return []
    with store.read() as con:
        rows = fetch_dicts(
            con, sqlfiles.load("queries", "bench_capacity_for_group"), {"group_id": group_id}
        )
    for r in rows:
        r["slo"] = json.loads(r["slo"]) if r["slo"] else None
    return rows


def describe(d: dict[str, Any]) -> str:
    """One line: a stored decision (a bench_capacity row as for_group returns it)."""
    raw = d.get("slo") or {}
    slo_map = json.loads(raw) if isinstance(raw, str) else raw
    slo = " ".join(f"{k}:{v:g}" for k, v in slo_map.items())
    where = f"{d['scenario']} on {d['target']}: " if d.get("scenario") else ""
    head = f"SLO capacity ({where}{slo}, goodput fraction >= {d['slo_attainment']:.0%})"
    if not d["met"]:
        return f"{head}: none met (even the lightest load missed the SLO)"
    if d.get("capacity_offered_rate") is not None:
        load = f"{d['capacity_offered_rate']:.3f} req/s offered"
    else:
        load = f"concurrency {d['capacity_concurrency']}"
    measured = f"{d['capacity_request_rate'] or 0:.3f} req/s measured"
    usd = d.get("usd_per_1m_output_tokens")
    cost = f", USD {usd:.4f} per 1M output tokens there" if usd is not None else ""
    return f"{head}: {load} ({measured}), run {d['capacity_run_id']}{cost}"
