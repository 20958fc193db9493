"""Daily and hourly rollups of telemetry, kept in step with every write (migrations 0009, 0010).

The KPIs read a quarter by deployment and day; summing a quarter of 1-minute intervals and GPU
samples on every read took seconds (tens of millions of rows for a fleet). So the writers that
store intervals (collectors.intervals.derive) and GPU samples (collectors.gpu,
collectors.metric_store) call these functions in the same transaction, and the rollup tables
(metric_daily, metric_failures_daily, metric_hist_daily, metric_kv_hourly, gpu_hourly,
gpu_daily) hold exactly the sums of what is stored, never older. The sums are defined once,
in sql/queries/rollup_*.sql; sql/checks/rollups_match.sql verifies the tables against them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import duckdb
import pyarrow as pa
from unitcost.collectors.base import registered

from unitcost import sqlfiles

_DAY = timedelta(days=1)


def _days(start: datetime, end: datetime) -> list[datetime]:
    """Midnights (UTC) of the days that [start, end) touches."""
    first = start.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    last = (end.astimezone(UTC) - timedelta(microseconds=1)).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    out, day = [], first
    while day <= last:
        out.append(day)
        day += _DAY
    return out


def refresh_metric_days(
    con: duckdb.DuckDBPyConnection, deployments: Iterable[str], start: datetime, end: datetime
) -> None:
    """Recompute the daily rollups of `deployments` for every UTC day [start, end) touches,
    from metric_intervals, in the caller's transaction."""
    deps = sorted(set(deployments))
    days = _days(start, end)
    if not deps or not days:
        return
    pairs = [(d, day) for d in deps for day in days]
    table = pa.table(
        {
            "deployment_id": pa.array([d for d, _ in pairs], pa.string()),
            "day": pa.array([day.date() for _, day in pairs], pa.date32()),
            "day_start": pa.array([day for _, day in pairs], pa.timestamp("us", tz="UTC")),
            "day_end": pa.array([day + _DAY for _, day in pairs], pa.timestamp("us", tz="UTC")),
        }
    )
    with registered(con, "rollup_days", table):
        con.execute(sqlfiles.load("queries", "rollup_metric_days"))


def store_gpu_samples(con: duckdb.DuckDBPyConnection, table: pa.Table) -> None:
    """The one way GPU samples are written: upsert them (gpu_samples_upsert) and refresh
    their hours in gpu_hourly, in the caller's transaction."""
    with registered(con, "new_gpu_samples", table):
        con.execute(sqlfiles.load("queries", "gpu_samples_upsert"))
        refresh_gpu_hours(con)


def refresh_gpu_hours(con: duckdb.DuckDBPyConnection) -> None:
    """Recompute gpu_hourly for the GPUs and hours of the registered relation new_gpu_samples
    (the caller has just written those samples, in this transaction), then gpu_daily for
    their days."""
    con.execute("SET TimeZone = 'UTC'")  # hour boundaries are UTC hours
    con.execute(sqlfiles.load("queries", "rollup_gpu_hours"))
    con.execute(sqlfiles.load("queries", "rollup_gpu_days"))


def rebuild(con: duckdb.DuckDBPyConnection) -> None:
    """Recompute every rollup from what is stored (after rows were written without the
    collectors: seeds, tests, repairs). In the caller's transaction."""
    con.execute("DELETE FROM metric_daily")
    con.execute("DELETE FROM metric_failures_daily")
    con.execute("DELETE FROM metric_hist_daily")
    con.execute("DELETE FROM metric_kv_hourly")
    con.execute("DELETE FROM gpu_hourly")
    con.execute("DELETE FROM gpu_daily")
    span = con.execute(sqlfiles.load("queries", "rollup_metric_span")).fetchall()
    for dep, first, last in span:
        refresh_metric_days(con, [dep], first, last + timedelta(seconds=1))
    gpus = con.sql("SELECT host, gpu_uuid, source, ts FROM gpu_samples").to_arrow_table()
    if gpus.num_rows:
        with registered(con, "new_gpu_samples", gpus):
            refresh_gpu_hours(con)
