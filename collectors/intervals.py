"""Stored samples -> one engine-independent row per deployment and interval (metric_intervals).

The derivation is one SQL file (sql/queries/metrics_intervals_derive.sql), run by every writer in
the transaction that stores the samples, for the deployments and intervals those samples touch;
so metric_intervals is derived from stored samples whatever wrote them, and never lags behind
them. Definitions (metric_intervals' columns mean exactly this):
- counters (tokens, requests, energy, prefix cache) and histogram buckets: the increase over the
  interval, summed over series. Between consecutive samples of one series it is v1 - v0, or v1
  when v1 < v0 (a counter reset: the process restarted and counted from zero), and it counts in
  the interval holding the later sample. Samples more than MAX_GAP_S apart are not paired (the
  later one starts the series afresh), which is what lets a window be derived in pieces with
  exactly the result of deriving it at once: each piece reads every series' last sample before
  it, at most MAX_GAP_S back.
- histograms: those bucket increases per bound (`ttft_hist`, `itl_hist`, `e2e_hist`: {le: count},
  +Inf as 'inf'), and p50/p90/p99 by linear interpolation inside the bucket, as Prometheus'
  histogram_quantile does.
- gauges: the mean of each series' samples in the interval; then GPU utilization and KV-cache use
  are averaged over series, memory, power and running/waiting requests summed.
- per deployment, interval and quantity, one family: the best source kind (a Prometheus pull,
  then a direct or bench scrape, then emulate offline: one server seen two ways is not added
  twice), then the best rank (where an engine renamed a metric, only the new name counts).
- `emulated` is true when any of the interval's series is emulated; `source` lists the sources.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from functools import cache

import duckdb
import pyarrow as pa
from unitcost.collectors import metric_families as mf
from unitcost.collectors import rollups
from unitcost.collectors.base import registered

from unitcost import sqlfiles

DEFAULT_INTERVAL_S = 60
MAX_GAP_S = 86_400  # a day: a counter silent for longer starts afresh


@cache
def _family_table() -> pa.Table:
    return pa.Table.from_pylist(mf.sample_families())


def interval_for_step(step_s: float, interval_s: int = DEFAULT_INTERVAL_S) -> int:
    """The interval length for samples `step_s` apart: the smallest multiple of `interval_s`
    that holds a whole step. Shorter intervals would leave most of them without a sample, and
    the time a deployment was up (hours with telemetry, the basis of estimated costs and idle
    time) would be undercounted by step / interval."""
    return max(1, math.ceil(step_s / interval_s - 1e-9)) * interval_s


def bounds(lo: datetime, hi: datetime, interval_s: int) -> tuple[datetime, datetime]:
    """The intervals samples in [lo, hi] can change: from the one holding lo up to and
    including the one holding hi (whose first increase pairs with a sample before it)."""
    a = math.floor(lo.timestamp() / interval_s) * interval_s
    b = math.floor(hi.timestamp() / interval_s) * interval_s + interval_s
    return datetime.fromtimestamp(a, UTC), datetime.fromtimestamp(b, UTC)


def derive(
    con: duckdb.DuckDBPyConnection,
    deployments: list[str],
    lo: datetime,
    hi: datetime,
    *,
    interval_s: int = DEFAULT_INTERVAL_S,
) -> int:
    """Recompute metric_intervals of `deployments` for the intervals in bounds(lo, hi), in the
    caller's transaction. Returns the rows written."""
    if not deployments:
        return 0
    start, end = bounds(lo, hi, interval_s)
    params = {"deps": sorted(deployments), "lo": start, "hi": end, "interval_s": interval_s}
    con.execute(sqlfiles.load("queries", "metrics_intervals_delete"), params)
    with registered(con, "metric_family_map", _family_table()):
        row = con.execute(
            sqlfiles.load("queries", "metrics_intervals_derive"),
            {**params, "max_gap_s": float(MAX_GAP_S)},
        ).fetchone()
    rollups.refresh_metric_days(con, deployments, start, end)  # same transaction
    return int(row[0]) if row else 0


def derive_all(
    con: duckdb.DuckDBPyConnection,
    deployments: list[str],
    *,
    interval_s: int = DEFAULT_INTERVAL_S,
    piece: timedelta = timedelta(days=1),
) -> int:
    """Recompute every interval of `deployments` (after their series were re-mapped), a day at
    a time so memory stays bounded by a day's samples; deriving in pieces is exact (above)."""
    if not deployments:
        return 0
    row = con.execute(
        sqlfiles.load("queries", "metrics_deployments_span"),
        {"deps": sorted(deployments), "interval_s": interval_s},
    ).fetchone()
    if row is None or row[0] is None:
        return 0
    first: datetime = row[0]
    last: datetime = row[1]
    n = 0
    start, _ = bounds(first, first, interval_s)
    while start <= last:
        end = min(start + piece, last)
        n += derive(con, deployments, start, end, interval_s=interval_s)
        start = bounds(end, end, interval_s)[1]
    return n
