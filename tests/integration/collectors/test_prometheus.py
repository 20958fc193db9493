"""A real Prometheus scraping the recorded vLLM, SGLang, DCGM and Triton texts (and a live,
resetting counter), pulled back with prometheus-api-client into metric_samples and
metric_intervals."""

from __future__ import annotations

import itertools
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from unitcost.collectors import prometheus

from tests.integration.collectors.conftest import (
    METRIC_TEXTS,
    MetricsServer,
    start_prometheus,
)
from unitcost.config import Deployment, DeploymentMatch
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
    assert wm == (until,)
    prometheus.collect(
        cstore, since=since, until=until, url=prom, step="1s", interval_s=3600, deployments=deps
    )
    with cstore.read() as con:
        assert con.execute("SELECT * FROM metric_samples ORDER BY ALL").fetchall() == first
        assert con.execute("SELECT * FROM metric_intervals ORDER BY ALL").fetchall() == first_iv
