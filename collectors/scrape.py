"""Direct scrapes of any Prometheus /metrics endpoint, for teams without a Prometheus server.

The text is parsed with prometheus_client's own parser (the reference implementation), so what
Prometheus would accept we accept. Each scrape is one transaction of raw samples; the interval
table is then recomputed for the window the scrapes cover.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from prometheus_client.parser import text_string_to_metric_families
from unitcost.collectors import dcgm, gpu, metric_store
from unitcost.collectors import metric_families as mf
from unitcost.collectors.base import collector_run
from unitcost.collectors.clients import make_http_session
from unitcost.collectors.intervals import Sample

from unitcost.config import Deployment
from unitcost.errors import CollectorError
from unitcost.store import Store


def parse_text(text: str, ts: datetime, *, known_only: bool = True) -> list[Sample]:
    """Pure: exposition text -> samples at `ts` (or the sample's own timestamp)."""
    out: list[Sample] = []
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
    for fam in families:
        for s in fam.samples:
            name = s.name
            if name not in exposed and name.endswith("_total") and name[:-6] in exposed:
                name = name[:-6]
            if known_only and not mf.is_known(name):
                continue
            labels = dict(s.labels)
            when = datetime.fromtimestamp(float(s.timestamp), UTC) if s.timestamp else ts
            out.append(
                Sample(
                    name,
                    mf.series_key(name, labels),
                    mf.normalize_labels(name, labels),
                    when,
                    float(s.value),
                )
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
    interval_s: int = 60,
    deployments: list[Deployment] | None = None,
    on_scrape: Callable[[int], None] | None = None,
    run_id: str | None = None,
) -> int:
    """Scrape `url` every `every_s` seconds, `count` times (None: until `until` or Ctrl-C).

    since is ignored (a scrape sees only the present). Returns samples written.
    """
    del since
    session = client or make_http_session()
    first_ts: datetime | None = None
    with collector_run(store, "scrape", url) as run:
        n = 0
        try:
            while count is None or n < count:
                now = datetime.now(UTC)
                if until is not None and now >= until:
                    break
                samples = parse_text(fetch(session, url), now)
                run.rows += metric_store.write_samples(store, url, samples, run_id)
                gpu.write_samples(store, dcgm.gpu_samples(samples))  # DCGM -> gpu_samples
                first_ts = first_ts or now
                n += 1
                if on_scrape is not None:
                    on_scrape(len(samples))
                if count is None or n < count:
                    time.sleep(every_s)
        finally:
            if first_ts is not None:
                metric_store.refresh_intervals(
                    store,
                    url,
                    first_ts,
                    datetime.now(UTC) + timedelta(seconds=1),
                    interval_s=interval_s,
                    deployments=deployments or [],
                )
        return run.rows
