"""Writing raw metric samples and the per-interval table; matching series to deployments."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
from unitcost.collectors import intervals
from unitcost.collectors.base import utc_session

from unitcost import sqlfiles
from unitcost.config import Deployment
from unitcost.store import Store

UNMAPPED = "unmapped"


def deployment_matcher(deployments: list[Deployment]) -> Callable[[dict[str, str]], str]:
    """Series -> deployment id: the first deployment whose metric_labels all match.

    A series no rule claims goes to `model:<model>` when it names a model (so two unrelated
    models never add up), else to `unmapped`; it is never dropped.
    """
    rules = [(d.id, dict(d.match.metric_labels)) for d in deployments if d.match.metric_labels]

    def match(labels: dict[str, str]) -> str:
        for dep_id, want in rules:
            if all(labels.get(k) == v for k, v in want.items()):
                return dep_id
        model = labels.get("model")
        return f"model:{model}" if model else UNMAPPED

    return match


def write_samples(
    store: Store, source: str, samples: Iterable[intervals.Sample], run_id: str | None = None
) -> int:
    """One transaction; returns samples written (re-written ones count once each time).

    Labels travel once per series (a small relation joined in SQL), values as plain columns:
    building a MAP per sample in Python is what made the first version slow.
    """
    rows = list(samples)
    if not rows:
        return 0
    series: dict[tuple[str, str], dict[str, str]] = {}
    for smp in rows:
        series.setdefault((smp.metric, smp.series_key), smp.labels)
    series_df = pd.DataFrame(
        {
            "metric": [m for m, _ in series],
            "series_key": [k for _, k in series],
            "label_keys": [list(v) for v in series.values()],
            "label_values": [list(v.values()) for v in series.values()],
        }
    )
    samples_df = pd.DataFrame(
        {
            "metric": [smp.metric for smp in rows],
            "series_key": [smp.series_key for smp in rows],
            "ts": pd.to_datetime([smp.ts.timestamp() for smp in rows], unit="s", utc=True),
            "value": [smp.value for smp in rows],
        }
    )
    with store.write() as con:
        utc_session(con)
        con.register("new_series", series_df)
        con.register("new_samples", samples_df)
        con.execute(sqlfiles.load("queries", "metrics_samples_upsert"), [source, run_id])
        con.unregister("new_samples")
        con.unregister("new_series")
    return len(rows)


def read_samples(store: Store, source: str, start: datetime, end: datetime) -> list[Any]:
    """Samples of one source in [start, end); each series' label dict is built once."""
    with store.read() as con:
        utc_session(con)
        labels = {
            (m, k): dict(zip(lk, lv, strict=True))
            for m, k, lk, lv in con.execute(
                sqlfiles.load("queries", "metrics_series_window"), [source, start, end]
            ).fetchall()
        }
        rows = con.execute(
            sqlfiles.load("queries", "metrics_samples_window"), [source, start, end]
        ).fetchall()
    return [intervals.Sample(m, k, labels[(m, k)], ts, v) for m, k, ts, v in rows]


def refresh_intervals(
    store: Store,
    source: str,
    start: datetime,
    end: datetime,
    *,
    interval_s: int,
    deployments: list[Deployment],
) -> int:
    """Recompute metric_intervals for [start, end) from stored samples; one transaction.

    Reads one interval before `start` so the first interval's counter increases are whole.
    """
    lookback = start - timedelta(seconds=interval_s)
    samples = read_samples(store, source, lookback, end)
    rows = intervals.compute(
        samples, interval_s=interval_s, deployment_of=deployment_matcher(deployments)
    )
    epoch0 = int(start.timestamp())
    first = epoch0 - epoch0 % interval_s
    rows = [r for r in rows if int(r.interval_start.timestamp()) >= first]
    if not rows:
        return 0
    with store.write() as con:
        utc_session(con)
        con.executemany(
            sqlfiles.load("queries", "metrics_intervals_upsert"),
            [intervals.to_record(r, source) for r in rows],
        )
    return len(rows)
