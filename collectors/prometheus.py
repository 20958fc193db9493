"""Range pulls from a Prometheus-compatible API (Prometheus, Thanos, Mimir, VictoriaMetrics).

Raw mode (default): one range query per known metric prefix (vLLM, SGLang, TGI, llama.cpp,
Triton/TensorRT-LLM, LiteLLM, DCGM, unitcost), every series kept. Aggregated mode
(`aggregate_by`): Prometheus sums the inference families by those labels before sending them,
which is how a fleet too large for one store is served; counters and histogram buckets are
asked as `sum by (...) (increase(m[step]))`, so a reset in one replica is counted by
Prometheus before the sum instead of being hidden by it. Such a series (label
unitcost_aggregation="sum_increase") holds one increase per step, counted as is by the
interval derivation. DCGM and unitcost series stay raw (gpu_samples is per GPU).

A window is pulled in chunks, each one transaction holding its samples, its GPU rows, its
metric_intervals and the watermark, so a pull that fails after any chunk resumes exactly where
it stopped and no token is lost or counted twice. Chunks hold at most MAX_POINTS steps
(Prometheus refuses more than 11,000 points per series) and about `max_chunk_samples` samples,
sized from the series the previous chunk returned, so memory is bounded by the chunk whatever
the span. Connection errors, timeouts, 429 and 5xx are retried with jittered exponential
backoff (Retry-After honoured); any other answer (a bad PromQL: 400, 422) fails at once with the
server's message, the URL and the query.
"""

from __future__ import annotations

import math
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import numpy as np
import requests
from unitcost.collectors import deployments as deployment_rules
from unitcost.collectors import metric_families as mf
from unitcost.collectors import metric_store
from unitcost.collectors.base import collector_run, get_watermark, parse_duration, set_watermark
from unitcost.collectors.clients import PrometheusHttpError, make_prometheus_client
from unitcost.collectors.intervals import DEFAULT_INTERVAL_S, interval_for_step
from unitcost.collectors.metric_store import SampleBatch

from unitcost.config import Deployment
from unitcost.errors import CollectorError, InputError
from unitcost.store import Store

MAX_POINTS = 10_000  # steps per query; Prometheus' hard limit is 11,000 points per series
MAX_CHUNK_SAMPLES = 500_000  # peak RSS ~130 MB + ~500 B a sample: ~390 MB (see tests/perf)
FIRST_CHUNK_STEPS = 120  # until the first chunk shows how many series there are
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
RETRY_ERRORS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
)
AGGREGATION_LABEL = "unitcost_aggregation"  # on series Prometheus aggregated: how
# Kept in every aggregation, so emulated series stay emulated and keep their deployment.
ALWAYS_BY = (mf.EMULATED_LABEL, mf.DEPLOYMENT_LABEL)
_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


@dataclass(frozen=True)
class Query:
    """One range query and how to store its result."""

    promql: str
    metric: str | None = None  # the series' name where PromQL drops it (aggregations)
    labels: dict[str, str] = field(default_factory=dict)  # added to every result series


@dataclass(frozen=True)
class Chunk:
    """Progress of a pull: one chunk written."""

    samples: int
    start: datetime
    end: datetime
    since: datetime
    until: datetime


def raw_queries() -> list[Query]:
    return [Query(f'{{__name__=~"{p}.*"}}') for p in mf.KNOWN_PREFIXES]


def aggregated_queries(by: list[str], step_s: float) -> list[Query]:
    """Per family, Prometheus' sum (or mean) by `by`; DCGM and unitcost series raw."""
    for name in by:
        if not _LABEL_NAME.match(name):
            raise InputError(f"aggregate_by: {name!r} is not a Prometheus label name")
    keep = [*by, *(x for x in ALWAYS_BY if x not in by)]
    window = f"{max(1, round(step_s * 1000))}ms"
    out: list[Query] = []
    for f in mf.FAMILIES:
        if f.engine == "dcgm":
            continue
        if f.kind in ("counter", "histogram"):
            group = [*keep, *([f.reason_label] if f.reason_label else [])]
            name = f.metric + ("_bucket" if f.kind == "histogram" else "")
            if f.kind == "histogram":
                group.append("le")
            out.append(
                Query(
                    f'sum by ({", ".join(group)}) (increase({{__name__="{name}"}}[{window}]))',
                    name,
                    labels={AGGREGATION_LABEL: "sum_increase"},
                )
            )
        else:
            op = "sum" if f.quantity in mf.SUMMED_GAUGES else "avg"
            out.append(
                Query(
                    f'{op} by ({", ".join(keep)}) ({{__name__="{f.metric}"}})',
                    f.metric,
                    labels={AGGREGATION_LABEL: op},
                )
            )
    out += [Query(f'{{__name__=~"{p}.*"}}') for p in ("DCGM_FI_", "unitcost_")]
    return out


class _Series(msgspec.Struct):
    metric: dict[str, str]
    values: msgspec.Raw = msgspec.Raw(b"[]")


class _Data(msgspec.Struct):
    result: list[_Series]
    resultType: str = "matrix"


class _Response(msgspec.Struct):
    status: str
    data: _Data | None = None
    error: str | None = None


_RESPONSE = msgspec.json.Decoder(_Response)
_POINTS = msgspec.json.Decoder(list[tuple[float, float]], strict=False)
_POINTS_TEXT = msgspec.json.Decoder(list[tuple[float, str]])


def _points(raw: msgspec.Raw) -> np.ndarray:
    """[[ts, "value"], ...] -> an (n, 2) float array; "+Inf" is the one spelling the fast
    decoder refuses, so it falls back to float() per value."""
    try:
        return np.array(_POINTS.decode(raw), dtype=np.float64).reshape(-1, 2)
    except msgspec.ValidationError:
        pts = _POINTS_TEXT.decode(raw)
        return np.array([(t, float(v)) for t, v in pts], dtype=np.float64).reshape(-1, 2)


def parse_matrix(
    body: bytes,
    batch: SampleBatch,
    *,
    lo: float,
    hi: float,
    query: Query | None = None,
) -> int:
    """Pure: a range query's JSON body -> samples in [lo, hi) appended to `batch`; returns the
    number added."""
    q = query or Query("")
    try:
        resp = _RESPONSE.decode(body)
    except msgspec.DecodeError as exc:
        raise CollectorError(f"not a Prometheus API answer: {exc}: {body[:200]!r}") from exc
    if resp.status != "success" or resp.data is None:
        raise CollectorError(f"Prometheus answered {resp.status}: {resp.error}")
    if resp.data.resultType != "matrix":
        raise CollectorError(f"expected a range result (matrix), got {resp.data.resultType}")
    added = 0
    for series in resp.data.result:
        labels = dict(series.metric)
        name = labels.pop("__name__", None) or q.metric
        if name is None:
            continue
        labels.update(q.labels)
        pts = _points(series.values)
        pts = pts[(pts[:, 0] >= lo) & (pts[:, 0] < hi) & ~np.isnan(pts[:, 1])]
        if not len(pts):
            continue
        batch.add(name, labels, pts[:, 0], pts[:, 1])
        added += len(pts)
    return added


def fetch(
    client: Any,
    url: str,
    query: str,
    start: datetime,
    end: datetime,
    step_s: float,
    *,
    attempts: int = 4,
    backoff_s: float = 0.5,
    sleep: Callable[[float], None] = time.sleep,
) -> bytes:
    """One range query. Retries what can succeed (connection errors, timeouts, 429, 5xx) with
    full-jitter exponential backoff, at least Retry-After; fails at once on anything else."""
    where = (
        f"Prometheus {url}: query {query!r} [{start:%Y-%m-%dT%H:%M:%SZ}, {end:%Y-%m-%dT%H:%M:%SZ}]"
    )
    last: Exception | None = None
    for attempt in range(attempts):
        wait: float | None = None
        try:
            body: bytes = client.query_range(query, start.timestamp(), end.timestamp(), step_s)
            return body
        except PrometheusHttpError as exc:
            if exc.status not in RETRY_STATUS:
                raise CollectorError(f"{where} refused: {exc}") from exc
            last, wait = exc, exc.retry_after_s
        except RETRY_ERRORS as exc:
            last = exc
        if attempt + 1 < attempts:
            delay = random.uniform(0, backoff_s * 2**attempt)
            sleep(max(delay, min(wait or 0.0, 60.0)))
    raise CollectorError(f"{where} failed after {attempts} attempts: {last}")


def _check_rules_survive(by: list[str], deployments: list[Deployment]) -> None:
    """A rule on a label the aggregation sums away would send that deployment's tokens to
    `model:...` or `unmapped`: refuse, naming the rule and the label."""
    for d in deployments:
        for name in d.match.metric_labels:
            if not mf.kept_by(name, [*by, *ALWAYS_BY]):
                raise InputError(
                    f"deployments[{d.id}].match.metric_labels uses {name!r}, which aggregate_by "
                    f"({', '.join(by)}) sums away: add it to aggregate_by"
                )


def _align(t: datetime, step_s: float) -> datetime:
    """Down to the step grid (multiples of the step since the epoch), so every pull of a
    window asks for the same timestamps and a re-pull replaces samples exactly."""
    return datetime.fromtimestamp(math.floor(t.timestamp() / step_s) * step_s, UTC)


def collect(
    store: Store,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    client: Any = None,
    url: str,
    step: str = "30s",
    interval_s: int = DEFAULT_INTERVAL_S,
    deployments: list[Deployment] | None = None,
    bearer_token_env: str | None = None,
    on_chunk: Callable[[Chunk], None] | None = None,
    attempts: int = 4,
    backoff_s: float = 0.5,
    aggregate_by: list[str] | None = None,
    max_chunk_samples: int = MAX_CHUNK_SAMPLES,
) -> int:
    """Pull [since, until) (default: from the watermark, else the last hour), both aligned down
    to the step grid. `deployments`, when given, are synced to the store first (their rules map
    series to deployments). Returns samples written."""
    step_s = parse_duration(step, flag="step").total_seconds()
    if step_s <= 0:
        raise InputError(f"step {step!r}: must be above zero")
    interval_s = interval_for_step(step_s, interval_s)
    until = _align(until or datetime.now(UTC), step_s)
    since = _align(
        since or get_watermark(store, "prometheus", url) or until - timedelta(hours=1), step_s
    )
    queries = raw_queries()
    if aggregate_by:
        queries = aggregated_queries(aggregate_by, step_s)
        _check_rules_survive(aggregate_by, deployments or [])
    if deployments:
        deployment_rules.sync(store, deployments)
    client = client or make_prometheus_client(url, bearer_token_env=bearer_token_env)
    with collector_run(store, "prometheus", url, since=since, until=until) as run:
        steps, start = FIRST_CHUNK_STEPS, since
        while start < until:
            end = min(start + timedelta(seconds=step_s * steps), until)
            batch = SampleBatch()
            for q in queries:
                body = fetch(
                    client, url, q.promql, start, end, step_s, attempts=attempts,
                    backoff_s=backoff_s,
                )  # fmt: skip
                parse_matrix(body, batch, lo=start.timestamp(), hi=end.timestamp(), query=q)
                del body
            with store.write() as con:
                run.rows += metric_store.write(
                    con, batch, source=url, kind="prometheus", replace=(start, end),
                    interval_s=interval_s,
                )  # fmt: skip
                set_watermark(con, "prometheus", url, end)
            if on_chunk is not None:
                on_chunk(Chunk(len(batch), start, end, since, until))
            steps = max(1, min(MAX_POINTS, max_chunk_samples // max(1, len(batch.metrics))))
            start = end
        return run.rows
