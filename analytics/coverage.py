"""What the figures of a period stand on: measured, estimated, emulated, demo or missing.

Every page of the dashboard and the review say this beside the figures (a cost per token built
on estimates or on emulated telemetry must never pass for a measured one).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import duckdb
from unitcost.analytics.period import Period

from unitcost import sqlfiles
from unitcost.store import fetch_dicts


def coverage_daily(con: duckdb.DuckDBPyConnection, period: Period) -> list[dict[str, Any]]:
    """One row per day of the period: deployments billed / estimated / without cost / with
    telemetry / emulated / demo, and a one-word status (missing, emulated, estimated,
    partial, measured)."""
    found = {
        r["day"]: r
        for r in fetch_dicts(
            con,
            sqlfiles.load("queries", "kpi_coverage"),
            {"start": period.start, "end": period.end},
        )
    }
    out = []
    for i in range(period.days):
        day = period.start + timedelta(days=i)
        r = found.get(day)
        if r is None:
            out.append(
                {
                    "day": day,
                    "billed": 0,
                    "estimated": 0,
                    "cost_missing": 0,
                    "telemetry": 0,
                    "emulated": 0,
                    "demo": 0,
                    "unmapped_spend": False,
                    "status": "missing",
                }
            )
            continue
        row = dict(r)
        row["unmapped_spend"] = bool(row["unmapped_spend"])
        row["status"] = _status(row)
        out.append(row)
    return out


def _status(r: dict[str, Any]) -> str:
    if r["emulated"]:
        return "emulated"
    if r["cost_missing"] or not r["telemetry"]:
        return "partial"
    if r["estimated"]:
        return "estimated"
    return "measured"


def data_labels(con: duckdb.DuckDBPyConnection, period: Period) -> dict[str, Any]:
    """Flags for a banner: is any of the period's data demo, emulated or estimated, with the
    sentence to show for each."""
    row = fetch_dicts(
        con,
        sqlfiles.load("queries", "kpi_data_labels"),
        {"start": period.start, "end": period.end},
    )[0]
    flags = {k: bool(v) for k, v in row.items()}
    notes = []
    if flags["demo"]:
        notes.append(
            "Demo data: made by `unitcost demo` (emulated servers, simulated telemetry and a "
            "generated bill), not your fleet."
        )
    if flags["emulated_telemetry"] or flags["emulated_benchmarks"]:
        notes.append(
            "Emulated: some telemetry or benchmarks come from `unitcost emulate` (modelled by "
            "roofline physics, not measured on real GPUs)."
        )
    if flags["estimated"]:
        notes.append(
            "Estimated: some costs are GPU-hours x catalog price, for deployments without "
            "billing lines mapped to them."
        )
    if flags["cost_missing"]:
        notes.append(
            "Missing: some deployments served tokens with no billing line and no price to "
            "estimate from (see `unitcost kpi` warnings)."
        )
    flags_out: dict[str, Any] = dict(flags)
    flags_out["emulated"] = flags["emulated_telemetry"] or flags["emulated_benchmarks"]
    flags_out["notes"] = notes
    return flags_out
