"""Direct scrapes of any Prometheus /metrics endpoint, for teams without a Prometheus server.

The text is parsed with prometheus_client's own parser (the reference implementation), so what
Prometheus would accept we accept; bench's scrapes use the same parser and store, so one server
scraped by both is one set of series. Each scrape is one transaction: its samples, and the
metric_intervals rows they change.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import numpy as np
from prometheus_client.parser import text_string_to_metric_families
from unitcost.collectors import deployments as deployment_rules
from unitcost.collectors import metric_families as mf
from unitcost.collectors import metric_store
from unitcost.collectors.base import collector_run
from unitcost.collectors.clients import make_http_session
from unitcost.collectors.intervals import DEFAULT_INTERVAL_S
from unitcost.collectors.metric_store import SampleBatch

from unitcost.config import Deployment
from unitcost.errors import CollectorError
from unitcost.store import Store


def parse_text(
    text: str, ts: datetime, *, known_only: bool = True, batch: SampleBatch | None = None
) -> SampleBatch:
    """Pure: exposition text -> samples at `ts` (or the sample's own timestamp), appended to
    `batch` when given. The one parser of Prometheus text in unitcost (bench uses it too)."""
    out = batch if batch is not None else SampleBatch()
    try:
        families = list(text_string_to_metric_families(text))
    except ValueError as exc:
        raise CollectorError(f"not Prometheus text exposition: {exc}") from exc
    # prometheus_client appends `_total` to counters that lack it (Triton, TGI, DCGM do);
    # Prometheus itself keeps the exposed name, so we do too.
    exposed = {
        line.split("{", 1)[0].split(" ", 1)[0]
        for line in text.splitlines()
        if line and not line.startswith("#")
    }
    default_ts = ts.timestamp()
    idx: list[int] = []
    times: list[float] = []
    values: list[float] = []
    for fam in families:
        for s in fam.samples:
            name = s.name
            if name not in exposed and name.endswith("_total") and name[:-6] in exposed:
                name = name[:-6]
            if known_only and not mf.is_known(name):
                continue
            idx.append(out.series_index(name, dict(s.labels)))
            times.append(float(s.timestamp) if s.timestamp else default_ts)
            values.append(float(s.value))
    out.add_indexed(
        np.array(idx, np.int64), np.array(times, np.float64), np.array(values, np.float64)
    )
    return out


def fetch(session: Any, url: str, timeout_s: float = 10.0) -> str:
    try:
        r = session.get(url, timeout=timeout_s)
        r.raise_for_status()
    except Exception as exc:
        raise CollectorError(f"{url}: scrape failed: {exc}") from exc
    text: str = r.text
    return text


def collect(
    store: Store,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    client: Any = None,
    url: str,
    every_s: float = 15.0,
    count: int | None = 1,
    interval_s: int = DEFAULT_INTERVAL_S,
    deployments: list[Deployment] | None = None,
    on_scrape: Callable[[int], None] | None = None,
    run_id: str | None = None,
) -> int:
    """Scrape `url` every `every_s` seconds, `count` times (None: until `until` or Ctrl-C).

    Each scrape is one transaction: its samples, the GPU rows of its DCGM series and the
    metric_intervals it changes. `deployments`, when given, are synced to the store first (their
    rules decide which deployment each series counts for). since is ignored (a scrape sees only
    the present). Returns samples written.
    """
    del since
    if deployments:
        deployment_rules.sync(store, deployments)
    session = client or make_http_session()
    with collector_run(store, "scrape", url) as run:
        n = 0
        while count is None or n < count:
            now = datetime.now(UTC)
            if until is not None and now >= until:
                break
            batch = parse_text(fetch(session, url), now)
            with store.write() as con:
                run.rows += metric_store.write(
                    con, batch, source=url, kind="scrape", run_id=run_id, interval_s=interval_s
                )
            n += 1
            if on_scrape is not None:
                on_scrape(len(batch))
            if count is None or n < count:
                time.sleep(every_s)
        return run.rows
