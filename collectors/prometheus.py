"""Range pulls from a Prometheus-compatible API (prometheus-api-client) into the store.

One range query per known metric prefix (vLLM, SGLang, TGI, llama.cpp, Triton/TensorRT-LLM,
LiteLLM, DCGM). Prometheus refuses more than 11,000 points per series, so a window is pulled in
chunks of at most 10,000 steps; each chunk is written in its own transaction and the watermark
moves with it, so an interrupted pull resumes at the last chunk written. Transient failures are
retried with exponential backoff, then reported with the URL and the PromQL.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from unitcost.collectors import dcgm, gpu, metric_store
from unitcost.collectors import metric_families as mf
from unitcost.collectors.base import collector_run, get_watermark, parse_duration, set_watermark
from unitcost.collectors.clients import make_prometheus_client
from unitcost.collectors.intervals import Sample

from unitcost.config import Deployment
from unitcost.errors import CollectorError
from unitcost.store import Store

MAX_POINTS = 10_000  # per series per query; Prometheus' hard limit is 11,000
QUERIES = [f'{{__name__=~"{p}.*"}}' for p in mf.KNOWN_PREFIXES]


def chunks(since: datetime, until: datetime, step_s: float) -> Iterator[tuple[datetime, datetime]]:
    """[since, until) cut so that no piece asks for more than MAX_POINTS steps."""
    span = timedelta(seconds=step_s * MAX_POINTS)
    start = since
    while start < until:
        end = min(start + span, until)
        yield start, end
        start = end


def parse_matrix(result: list[dict[str, Any]]) -> list[Sample]:
    """Pure: a range query's matrix -> samples (labels normalized, series keys canonical)."""
    out: list[Sample] = []
    for series in result:
        labels = {k: str(v) for k, v in series.get("metric", {}).items()}
        name = labels.pop("__name__", "")
        key = mf.series_key(name, labels)
        norm = mf.normalize_labels(name, labels)
        for ts, value in series.get("values", []):
            out.append(
                Sample(name, key, norm, datetime.fromtimestamp(float(ts), UTC), float(value))
            )
    return out


def query_range(
    client: Any,
    url: str,
    promql: str,
    start: datetime,
    end: datetime,
    step: str,
    *,
    attempts: int = 4,
    backoff_s: float = 0.5,
) -> list[dict[str, Any]]:
    """One range query, retried with exponential backoff; the error names URL and PromQL."""
    last: Exception | None = None
    for attempt in range(attempts):
        try:
            result: list[dict[str, Any]] = client.custom_query_range(
                promql, start_time=start, end_time=end, step=step
            )
            return result
        except Exception as exc:
            last = exc
            if attempt + 1 < attempts:
                time.sleep(backoff_s * 2**attempt)
    raise CollectorError(
        f"Prometheus {url}: query {promql!r} [{start:%Y-%m-%dT%H:%M:%SZ}, "
        f"{end:%Y-%m-%dT%H:%M:%SZ}) failed after {attempts} attempts: {last}"
    )


def collect(
    store: Store,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    client: Any = None,
    url: str,
    step: str = "30s",
    interval_s: int = 60,
    deployments: list[Deployment] | None = None,
    bearer_token_env: str | None = None,
    on_chunk: Callable[[int], None] | None = None,
    attempts: int = 4,
    backoff_s: float = 0.5,
) -> int:
    """Pull [since, until) (default: from the watermark, else the last hour). Samples written."""
    until = until or datetime.now(UTC)
    since = since or get_watermark(store, "prometheus", url) or until - timedelta(hours=1)
    step_s = parse_duration(step, flag="step").total_seconds()
    client = client or make_prometheus_client(url, bearer_token_env=bearer_token_env)
    with collector_run(store, "prometheus", url, since=since, until=until) as run:
        for start, end in chunks(since, until, step_s):
            samples: list[Sample] = []
            for promql in QUERIES:
                result = query_range(
                    client, url, promql, start, end, step, attempts=attempts, backoff_s=backoff_s
                )
                # [since, until) is half-open like the interval refresh below; the point at
                # `until` belongs to the next pull (it starts at the watermark, `until`).
                samples.extend(x for x in parse_matrix(result) if x.ts < until)
            run.rows += metric_store.write_samples(store, url, samples, None)
            gpu.write_samples(store, dcgm.gpu_samples(samples))  # DCGM -> gpu_samples
            with store.write() as con:
                set_watermark(con, "prometheus", url, end)
            if on_chunk is not None:
                on_chunk(len(samples))
        metric_store.refresh_intervals(
            store, url, since, until, interval_s=interval_s, deployments=deployments or []
        )
        return run.rows
