"""Raw metric samples -> one engine-independent row per deployment and interval.

Definitions (written here once; metric_intervals' columns mean exactly this):
- counters (tokens, requests, energy): the increase over the interval, summed over series.
  Increase between consecutive samples of one series is v1 - v0, or v1 when v1 < v0 (a counter
  reset: the process restarted and counted from zero). An increase is assigned to the interval
  holding the later sample.
- histogram quantiles (TTFT, ITL): bucket increases over the interval summed over series, then
  linear interpolation inside the bucket, as Prometheus' histogram_quantile does.
- gauges: mean over the interval's samples per series; GPU utilization and KV-cache use are
  then averaged over series, memory and power summed over series (GPUs).
Where an engine exposes a renamed metric under both names, only the best-ranked is used.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from unitcost.collectors import metric_families as mf

SUMMED_GAUGES = {"gpu_mem_used_bytes", "power_w", "requests_running", "requests_waiting"}


@dataclass(frozen=True)
class Sample:
    """One raw sample; labels already normalized."""

    metric: str
    series_key: str
    labels: dict[str, str]
    ts: datetime
    value: float


@dataclass
class IntervalRow:
    deployment_id: str
    interval_start: datetime
    interval_s: int
    engine: str | None = None
    values: dict[str, float | None] = field(default_factory=dict)
    failed_by_reason: dict[str, float] = field(default_factory=dict)


COLUMNS = [
    "input_tokens",
    "output_tokens",
    "requests_ok",
    "requests_failed",
    "ttft_p50_s",
    "ttft_p90_s",
    "ttft_p99_s",
    "itl_p50_s",
    "itl_p90_s",
    "itl_p99_s",
    "kv_cache_usage",
    "requests_running",
    "requests_waiting",
    "gpu_util",
    "gpu_mem_used_bytes",
    "power_w",
    "energy_j",
]


def counter_increases(points: list[tuple[datetime, float]]) -> list[tuple[datetime, float]]:
    """Per-step increases of one counter series, resets handled (see module docstring)."""
    out = []
    pts = sorted(points)
    for (_, v0), (t1, v1) in itertools.pairwise(pts):
        out.append((t1, v1 - v0 if v1 >= v0 else v1))
    return out


def histogram_quantile(q: float, buckets: dict[float, float]) -> float | None:
    """Prometheus' interpolation over cumulative bucket counts {le: count}."""
    if not buckets or math.inf not in buckets:
        return None
    les = sorted(buckets)
    total = buckets[math.inf]
    if total <= 0:
        return None
    rank = q * total
    prev_le, prev_count = 0.0, 0.0
    for le in les:
        count = buckets[le]
        if count >= rank:
            if le == math.inf:
                return prev_le
            if count == prev_count:
                return le
            return prev_le + (le - prev_le) * (rank - prev_count) / (count - prev_count)
        prev_le, prev_count = le, count
    return les[-2] if len(les) > 1 else None


def _bucket_start(ts: datetime, interval_s: int) -> datetime:
    epoch = int(ts.timestamp())
    return datetime.fromtimestamp(epoch - epoch % interval_s, UTC)


def compute(
    samples: Iterable[Sample],
    *,
    interval_s: int,
    deployment_of: Callable[[dict[str, str]], str],
) -> list[IntervalRow]:
    """Pure: samples -> interval rows (see the definitions above)."""
    # (deployment, quantity) -> rank -> data
    by_series: dict[tuple[str, str], list[Sample]] = defaultdict(list)
    for s in samples:
        if s.value >= mf.DCGM_SENTINEL:
            continue
        by_series[(s.metric, s.series_key)].append(s)
    # acc[(dep, start)][quantity][rank] -> list of contributions
    counters: dict[tuple[str, datetime, str, int], float] = defaultdict(float)
    reasons: dict[tuple[str, datetime, int], dict[str, float]] = defaultdict(
        lambda: defaultdict(float)
    )
    gauges: dict[tuple[str, datetime, str, int], dict[str, list[float]]] = defaultdict(
        lambda: defaultdict(list)
    )
    hist: dict[tuple[str, datetime, str, int], dict[float, float]] = defaultdict(
        lambda: defaultdict(float)
    )
    engines: dict[tuple[str, datetime], str] = {}
    for (metric, _key), series in by_series.items():
        found = mf.family_of(metric)
        if found is None:
            continue
        fam, part = found
        labels = series[0].labels
        dep = deployment_of(labels)
        if fam.kind == "histogram":
            if part != "_bucket" or "le" not in labels:
                continue
            le = math.inf if labels["le"] in ("+Inf", "inf", "Inf") else float(labels["le"])
            for t, inc in counter_increases([(s.ts, s.value) for s in series]):
                start = _bucket_start(t, interval_s)
                hist[(dep, start, fam.quantity, fam.rank)][le] += inc
                engines.setdefault((dep, start), fam.engine)
        elif fam.kind == "counter":
            for t, inc in counter_increases([(s.ts, s.value) for s in series]):
                start = _bucket_start(t, interval_s)
                engines.setdefault((dep, start), fam.engine)
                qty = fam.quantity
                if qty == "requests" or fam.reason_label:
                    reason = labels.get(fam.reason_label, "") if fam.reason_label else ""
                    ok = qty == "requests" and reason in fam.ok_values
                    if ok:
                        counters[(dep, start, "requests_ok", fam.rank)] += inc
                    else:
                        counters[(dep, start, "requests_failed", fam.rank)] += inc
                        reasons[(dep, start, fam.rank)][reason or "unknown"] += inc
                else:
                    counters[(dep, start, qty, fam.rank)] += inc * fam.scale
        else:
            for s in series:
                start = _bucket_start(s.ts, interval_s)
                engines.setdefault((dep, start), fam.engine)
                gauges[(dep, start, fam.quantity, fam.rank)][s.series_key].append(
                    s.value * fam.scale
                )
    rows: dict[tuple[str, datetime], IntervalRow] = {}

    def row(dep: str, start: datetime) -> IntervalRow:
        r = rows.get((dep, start))
        if r is None:
            r = rows[(dep, start)] = IntervalRow(dep, start, interval_s, engines.get((dep, start)))
        return r

    best: dict[tuple[str, datetime, str], int] = {}
    for store in (counters, gauges, hist):
        for dep, start, qty, rank in store:
            k = (dep, start, qty)
            best[k] = min(rank, best.get(k, rank))
    for (dep, start, qty, rank), total in counters.items():
        if best[(dep, start, qty)] == rank:
            row(dep, start).values[qty] = total
    for (dep, start, rank), by_reason in reasons.items():
        if best.get((dep, start, "requests_failed")) == rank:
            row(dep, start).failed_by_reason = dict(by_reason)
    for (dep, start, qty, rank), per_series in gauges.items():
        if best[(dep, start, qty)] != rank:
            continue
        means = [sum(v) / len(v) for v in per_series.values() if v]
        agg = sum(means) if qty in SUMMED_GAUGES else sum(means) / len(means)
        row(dep, start).values[qty] = agg
    for (dep, start, qty, rank), buckets in hist.items():
        if best[(dep, start, qty)] != rank:
            continue
        for q, name in ((0.5, "p50"), (0.9, "p90"), (0.99, "p99")):
            row(dep, start).values[f"{qty}_{name}_s"] = histogram_quantile(q, dict(buckets))
    return sorted(rows.values(), key=lambda r: (r.deployment_id, r.interval_start))


def to_record(r: IntervalRow, source: str) -> list[Any]:
    """Parameters for metric_intervals_upsert, in its column order."""
    reasons = r.failed_by_reason or None
    return [
        r.deployment_id,
        r.interval_start,
        r.interval_s,
        r.engine,
        *[r.values.get(c) for c in COLUMNS[:4]],
        list(reasons) if reasons else None,
        list(reasons.values()) if reasons else None,
        *[r.values.get(c) for c in COLUMNS[4:]],
        source,
    ]
