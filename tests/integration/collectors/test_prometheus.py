"""A real Prometheus scraping the recorded vLLM, SGLang, DCGM and Triton texts (and a live,
resetting counter), or serving promtool-backfilled data, pulled back into the metric store and
metric_intervals: every token once, a failed pull resumed exactly, retries only where they can
succeed, and Prometheus-side aggregation that still counts across restarts."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from unitcost.collectors import prometheus
from unitcost.collectors.clients import make_prometheus_client

from tests.integration.collectors.conftest import (
    METRIC_TEXTS,
    FaultyProxy,
    MetricsServer,
    backfill,
    start_prometheus,
)
from unitcost import sqlfiles
from unitcost.config import Deployment, DeploymentMatch
from unitcost.errors import CollectorError
from unitcost.store import Store

pytestmark = pytest.mark.integration


def wait_scraped(url: str, jobs: int, *, min_live: int, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        r = requests.get(f"{url}/api/v1/query", params={"query": "sum(up)"}, timeout=2).json()
        res = r["data"]["result"]
        live = requests.get(
            f"{url}/api/v1/query",
            params={"query": "count_over_time(llamacpp:tokens_predicted_total[1m])"},
            timeout=2,
        ).json()["data"]["result"]
        if (
            res
            and float(res[0]["value"][1]) == jobs
            and live
            and float(live[0]["value"][1]) >= min_live
        ):
            return
        time.sleep(0.5)
    pytest.fail("prometheus did not scrape every target in time")


@pytest.fixture
def prom(tmp_path: Path, metrics_server: MetricsServer):  # type: ignore[no-untyped-def]
    targets = {name: f"{metrics_server.url}/{name}" for name in [*METRIC_TEXTS, "live"]}
    proc, url, log = start_prometheus(tmp_path, targets)
    try:
        wait_scraped(url, len(targets), min_live=12)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


def test_pull_recorded_families_into_samples_and_intervals(cstore: Store, prom: str) -> None:
    until = datetime.now(UTC)
    since = until - timedelta(seconds=60)
    deps = [
        Deployment(
            id="opt",
            model="facebook/opt-125m",
            engine="vllm",
            match=DeploymentMatch(metric_labels={"model": "facebook/opt-125m"}),
        ),
        Deployment(
            id="tiny-llamacpp",
            model="tiny",
            engine="llamacpp",
            match=DeploymentMatch(metric_labels={"job": "live"}),
        ),
    ]
    n = prometheus.collect(
        cstore, since=since, until=until, url=prom, step="1s", interval_s=3600, deployments=deps
    )
    assert n > 0
    with cstore.read() as con:
        metrics = {
            r[0] for r in con.execute("SELECT DISTINCT metric FROM metric_samples").fetchall()
        }
        intervals_rows = con.execute(
            "SELECT deployment_id, engine, input_tokens, output_tokens, itl_p50_s, power_w "
            "FROM metric_intervals ORDER BY 1"
        ).fetchall()
        live = con.execute(
            "SELECT series_key, epoch(ts), value FROM metric_samples "
            "WHERE metric = 'llamacpp:tokens_predicted_total' ORDER BY series_key, ts"
        ).fetchall()
        labels = con.execute(
            "SELECT labels FROM metric_samples WHERE metric = 'DCGM_FI_DEV_POWER_USAGE' LIMIT 1"
        ).fetchone()
        runs = con.execute("SELECT status, rows_written FROM collector_runs").fetchall()
        dcgm_rows = con.execute(
            "SELECT count(DISTINCT gpu_uuid), max(power_w) FROM gpu_samples WHERE source = 'dcgm'"
        ).fetchone()
    assert {
        "vllm:prompt_tokens_total",
        "sglang:num_running_reqs",
        "DCGM_FI_DEV_POWER_USAGE",
        "nv_inference_request_success",
        "vllm:inter_token_latency_seconds_bucket",
    } <= metrics
    assert labels is not None and labels[0]["gpu_uuid"].startswith("GPU-")
    assert labels[0]["engine"] == "dcgm" and labels[0]["host"]
    deps_seen = {r[0] for r in intervals_rows}
    assert {"opt", "tiny-llamacpp", "model:meta-llama/Llama-3.1-8B-Instruct"} <= deps_seen
    opt = next(r for r in intervals_rows if r[0] == "opt")
    assert opt[1] == "vllm" and opt[2] == 0.0 and opt[4] is None  # a still counter: no increase
    # the live counter reset every fifth scrape: the stored increase counts across resets
    # (the reference is computed per series: a scrape hiccup can start a second series)
    by_series: dict[str, list[float]] = {}
    for key, _, v in live:
        by_series.setdefault(key, []).append(v)
    want = sum(
        b - a if b >= a else b
        for values in by_series.values()
        for a, b in itertools.pairwise(values)
    )
    assert any(b < a for values in by_series.values() for a, b in itertools.pairwise(values)), (
        "no reset was seen"
    )
    naive = sum(values[-1] - values[0] for values in by_series.values())
    tiny = sum(r[3] for r in intervals_rows if r[0] == "tiny-llamacpp")  # 1-2 hour rows
    assert tiny == pytest.approx(want) and want > naive  # beats the naive delta
    assert runs == [("ok", n)]
    assert dcgm_rows is not None and dcgm_rows[0] >= 2 and dcgm_rows[1] == 8.969  # T4 fixture
    # the watermark marks where the next run resumes; a second pull of the window changes nothing
    with cstore.read() as con:
        wm = con.execute(
            "SELECT watermark FROM watermarks WHERE collector = 'prometheus'"
        ).fetchone()
        first = con.execute("SELECT * FROM metric_samples ORDER BY ALL").fetchall()
        first_iv = con.execute("SELECT * FROM metric_intervals ORDER BY ALL").fetchall()
    assert wm == (until.replace(microsecond=0),)  # aligned down to the 1 s step
    prometheus.collect(
        cstore, since=since, until=until, url=prom, step="1s", interval_s=3600, deployments=deps
    )
    with cstore.read() as con:
        assert con.execute("SELECT * FROM metric_samples ORDER BY ALL").fetchall() == first
        assert con.execute("SELECT * FROM metric_intervals ORDER BY ALL").fetchall() == first_iv


@contextmanager
def serving(tmp: Path, tsdb: Path) -> Iterator[str]:
    proc, url, log = start_prometheus(tmp, {}, tsdb=tsdb)
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


def one_week_counter(tmp: Path) -> tuple[Path, datetime, datetime]:
    """A vLLM token counter rising 60 per minute for a week: 604,800 tokens in 10,081 samples."""
    end = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=3)
    start = end - timedelta(days=7)
    lines = ["# TYPE vllm:generation_tokens counter"]
    for i in range(7 * 1440 + 1):
        ts = start.timestamp() + 60 * i
        lines.append(f'vllm:generation_tokens_total{{model_name="m"}} {60 * i} {ts:.0f}')
    return backfill(tmp, lines), start, end


def intervals_of(store: Store) -> list[tuple[Any, ...]]:
    with store.read() as con:
        return con.execute(
            "SELECT * EXCLUDE (source) FROM metric_intervals ORDER BY ALL"
        ).fetchall()


def tokens(store: Store) -> float:
    with store.read() as con:
        row = con.execute("SELECT sum(output_tokens) FROM metric_intervals").fetchone()
    return float(row[0] or 0) if row else 0.0


def test_pull_failing_after_first_chunk_resumes_with_every_token(tmp_path: Path) -> None:
    """The watermark, the samples and the intervals of a chunk commit together: a pull that
    fails after its first chunk and is resumed from the watermark gives all 604,800 tokens,
    the same rows as a pull that never failed."""
    tsdb, start, end = one_week_counter(tmp_path)
    until = end + timedelta(minutes=1)
    broken = Store(tmp_path / "broken.duckdb")
    whole = Store(tmp_path / "whole.duckdb")
    for s in (broken, whole):
        s.migrate()
    with serving(tmp_path, tsdb) as url, FaultyProxy(url) as proxy:
        proxy.fail_after = len(prometheus.raw_queries())  # the first chunk, then 400s
        with pytest.raises(CollectorError, match="injected failure after the first chunk"):
            prometheus.collect(broken, since=start, until=until, url=proxy.url, step="60s")
        with broken.read() as con:
            (wm,) = con.execute("SELECT watermark FROM watermarks").fetchone() or (None,)
            status = con.execute("SELECT status FROM collector_runs").fetchall()
        first_chunk_end = start + timedelta(minutes=prometheus.FIRST_CHUNK_STEPS)
        assert wm == first_chunk_end and status == [("failed",)]
        assert tokens(broken) == 60 * prometheus.FIRST_CHUNK_STEPS - 60  # all of chunk 1, so far
        proxy.fail_after = None
        prometheus.collect(broken, until=until, url=proxy.url, step="60s")  # from the watermark
        prometheus.collect(whole, since=start, until=until, url=url, step="60s")
    assert tokens(broken) == 604_800  # every increase between the 10,081 samples
    assert intervals_of(broken) == intervals_of(whole)  # (their sources differ: the proxy)
    with broken.read() as con:
        for check in ("metric_points_natural_key_unique", "metric_intervals_natural_key_unique"):
            assert con.execute(sqlfiles.load("checks", check)).fetchall() == []


def test_retries_only_what_can_succeed(tmp_path: Path) -> None:
    tsdb, _start, end = one_week_counter(tmp_path)
    since, until = end - timedelta(hours=1), end + timedelta(minutes=1)
    store = Store(tmp_path / "r.duckdb")
    store.migrate()
    slept: list[float] = []
    with serving(tmp_path, tsdb) as url, FaultyProxy(url) as proxy:
        client = make_prometheus_client(proxy.url)
        # 503, 429 and 502 are passing troubles: retried (Retry-After: 0), then it succeeds
        proxy.inject = [503, 429, 502]
        body = prometheus.fetch(
            client, proxy.url, "vllm:generation_tokens_total", since, until, 60,
            sleep=slept.append,
        )  # fmt: skip
        assert b'"success"' in body and proxy.requests == 4 and len(slept) == 3
        assert all(0 <= s <= 0.5 * 2**i for i, s in enumerate(slept))  # jittered, exponential
        # a bad PromQL can never succeed: one request, no sleep, the server's own message
        slept.clear()
        before = proxy.requests
        with pytest.raises(CollectorError) as err:
            prometheus.fetch(client, proxy.url, "sum(rate(", since, until, 60, sleep=slept.append)
        msg = str(err.value)
        assert proxy.requests == before + 1 and slept == []
        assert proxy.url in msg and "'sum(rate('" in msg and "HTTP 400" in msg
        assert "parse error" in msg  # Prometheus' words, not ours
        # a server that keeps failing: the attempts run out, and the error says so
        proxy.inject = [503] * 3
        with pytest.raises(CollectorError, match=r"failed after 3 attempts: HTTP 503: injected"):
            prometheus.fetch(
                client, proxy.url, "up", since, until, 60, attempts=3, sleep=slept.append
            )
        # and a collect through the flaky proxy still stores everything
        proxy.inject = [503, 503]
        prometheus.collect(store, since=since, until=until, url=proxy.url, step="60s",
                           backoff_s=0.01)  # fmt: skip
    assert tokens(store) == 60 * 60


def test_aggregated_pull_counts_every_token_across_restarts(tmp_path: Path) -> None:
    """Two replicas of one model for an hour, scraped every 15 s; replica 0 restarts every
    fourth scrape (40, 80, 120, 0, ...), replica 1 grows by 130 a scrape, enough to hide those
    resets in a sum. Summed at the source as `sum by (model_name) (increase(...[step]))`, the
    tokens match the raw pull's exact count (within Prometheus' extrapolation; an aggregated
    sample at t holds (t - step, t]); summing the raw counters instead loses replica 0's."""
    end = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=3)
    start = end - timedelta(hours=1)
    lines = ["# TYPE vllm:generation_tokens counter"]
    for pod, value in (("p0", lambda i: 40 * (i % 4)), ("p1", lambda i: 130 * i)):
        for i in range(-8, 241):  # two minutes before the window, so its first step is whole
            ts = start.timestamp() + 15 * i
            lines.append(
                f'vllm:generation_tokens_total{{model_name="tiny",pod="{pod}"}} {value(i)} {ts:.0f}'
            )
    tsdb = backfill(tmp_path, lines)
    raw, agg = Store(tmp_path / "raw.duckdb"), Store(tmp_path / "agg.duckdb")
    for s in (raw, agg):
        s.migrate()
    with serving(tmp_path, tsdb) as url:
        prometheus.collect(raw, since=start, until=end, url=url, step="15s")
        prometheus.collect(agg, since=start, until=end, url=url, step="60s",
                           aggregate_by=["model_name"])  # fmt: skip
        naive_series = requests.get(
            f"{url}/api/v1/query_range",
            params={"query": "sum by (model_name) (vllm:generation_tokens_total)",
                    "start": start.timestamp(), "end": end.timestamp(), "step": "15"},
            timeout=10,
        ).json()["data"]["result"]  # fmt: skip
    values = [float(v) for _, v in naive_series[0]["values"]][:-1]  # [start, end)
    naive = sum(b - a if b >= a else b for a, b in itertools.pairwise(values))
    exact, aggregated = tokens(raw), tokens(agg)
    with agg.read() as con:
        series = con.execute(
            "SELECT metric, labels['unitcost_aggregation'], deployment_id FROM metric_series "
            "WHERE metric LIKE 'vllm:%'"
        ).fetchall()
    print(f"\nexact {exact:.0f}, aggregated {aggregated:.0f}, summed counters {naive:.0f}")
    assert series == [("vllm:generation_tokens_total", "sum_increase", "model:tiny")]
    # every pair with its later sample in [start, end): 239 steps of replica 1, and replica 0's
    # steps but the 59 that land on a reset (which count the 0 it restarted from)
    assert exact == 239 * 130 + (239 - 59) * 40
    assert naive < 0.85 * exact  # replica 0's tokens before each restart, hidden in the sum
    assert aggregated == pytest.approx(exact, rel=0.01)
