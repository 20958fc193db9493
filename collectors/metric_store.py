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
    """One transaction; returns samples written (re-written ones count once each time)."""
    rows = list(samples)
    if not rows:
        return 0
    df = pd.DataFrame(
        {
            "source": source,
            "metric": [s.metric for s in rows],
            "series_key": [s.series_key for s in rows],
            "label_keys": [list(s.labels) for s in rows],
            "label_values": [list(s.labels.values()) for s in rows],
            "ts": pd.to_datetime([s.ts for s in rows], utc=True),
            "value": [s.value for s in rows],
            "run_id": run_id,
        }
    )
    with store.write() as con:
        utc_session(con)
        con.register("new_samples", df)
        con.execute(sqlfiles.load("queries", "metrics_samples_upsert"))
        con.unregister("new_samples")
    return len(rows)


def read_samples(store: Store, source: str, start: datetime, end: datetime) -> list[Any]:
    with store.read() as con:
        utc_session(con)
        rows = con.execute(
            sqlfiles.load("queries", "metrics_samples_window"), [source, start, end]
        ).fetchall()
    return [
        intervals.Sample(m, k, dict(zip(lk, lv, strict=True)), ts, float(v))
        for m, k, lk, lv, ts, v in rows
    ]


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
