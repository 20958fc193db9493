"""A deployment's demand from its traffic metrics: the peak to size for, the hourly profile.

Definitions (sql/queries/recommend_demand.sql, sql/views/demand_hourly.sql):
  window      the last DAYS (7) days of the deployment's metric_intervals, ending at its latest
              interval (not at today, so an emulated or older week works the same).
  peak_rps    the busiest 5 minutes of the window: (ok + failed requests) / seconds covered.
  profile     per hour of day (UTC): the highest hourly mean request rate that hour reached on
              any day of the window, so a fleet scaled to it serves every day's hour.
  emulated    the deployment's telemetry is simulated: `emulate offline` labels the deployment
              it writes deployments.labels['emulated'] = 'true'.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb

from unitcost import sqlfiles
from unitcost.store import fetch_dicts

DAYS = 7


@dataclass(frozen=True)
class Demand:
    """What a deployment's metrics say about its load."""

    deployment_id: str
    window_start: datetime
    window_end: datetime
    peak_rps: float
    hourly_rps: dict[int, float]  # hour of day (UTC) -> busiest hourly mean rate that hour
    emulated: bool = False  # from emulated telemetry, not measured traffic


def deployment_demand(
    con: duckdb.DuckDBPyConnection, deployment_id: str, days: int = DAYS
) -> Demand | None:
    """The deployment's demand, or None when it has no traffic metrics at all."""
    rows = fetch_dicts(
        con,
        sqlfiles.load("queries", "recommend_demand"),
        {"deployment_id": deployment_id, "days": days},
    )
    if not rows or rows[0]["peak_rps"] is None:
        return None
    return Demand(
        deployment_id=deployment_id,
        window_start=rows[0]["window_start"],
        window_end=rows[0]["window_end"],
        peak_rps=float(rows[0]["peak_rps"]),
        hourly_rps={int(r["hour_of_day"]): float(r["rps"]) for r in rows},
        emulated=bool(rows[0]["emulated"]),
    )
