"""Metric families, label normalization and the per-interval definitions, on recorded texts."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from unitcost.collectors import intervals, metric_store, scrape
from unitcost.collectors import metric_families as mf
from unitcost.collectors.intervals import Sample

from tests.unit.collectors.conftest import FIXTURES
from unitcost.config import Deployment, DeploymentMatch
from unitcost.store import Store

METRICS = FIXTURES / "metrics"
T0 = datetime(2025, 5, 1, 12, 0, 0, tzinfo=UTC)


def two_scrapes(name: str, factor: float = 2.0) -> list[Sample]:
    """The recorded text at T0, and again 30 s later with every value multiplied."""
    text = (METRICS / name).read_text()
    first = scrape.parse_text(text, T0)
    later = [replace(s, ts=T0 + timedelta(seconds=30), value=s.value * factor) for s in first]
    return first + later


def one(rows: list[intervals.IntervalRow], dep: str) -> intervals.IntervalRow:
    got = [r for r in rows if r.deployment_id == dep]
    assert len(got) == 1, [r.deployment_id for r in rows]
    return got[0]


def by_model(labels: dict[str, str]) -> str:
    return labels.get("model", "gpu:" + labels.get("gpu_uuid", "?"))


def test_vllm_prefers_new_names_and_counts_once() -> None:
    rows = intervals.compute(
        two_scrapes("vllm-datadog-fixture-v0-plus-v1-opt125m.txt"),
        interval_s=60,
        deployment_of=by_model,
    )
    r = one(rows, "facebook/opt-125m")
    assert r.engine == "vllm"
    assert r.values["input_tokens"] == 5.0 and r.values["output_tokens"] == 7.0
    assert r.values["requests_ok"] >= 1.0
    # ITL from inter_token_latency_seconds (144 observations), never plus the old family (6)
    samples = two_scrapes("vllm-datadog-fixture-v0-plus-v1-opt125m.txt")
    new = {
        (math.inf if s.labels["le"] == "+Inf" else float(s.labels["le"])): s.value
        for s in samples
        if s.metric == "vllm:inter_token_latency_seconds_bucket" and s.ts == T0
    }
    assert new[math.inf] == 144.0
    assert r.values["itl_p50_s"] == pytest.approx(intervals.histogram_quantile(0.5, new))
    old = {
        (math.inf if s.labels["le"] == "+Inf" else float(s.labels["le"])): s.value
        for s in samples
        if s.metric == "vllm:time_per_output_token_seconds_bucket" and s.ts == T0
    }
    assert intervals.histogram_quantile(0.5, old) != r.values["itl_p50_s"]


def test_sglang_old_names_still_understood() -> None:
    rows = intervals.compute(
        two_scrapes("sglang-docs-production_metrics-llama3.1-8b.txt"),
        interval_s=60,
        deployment_of=by_model,
    )
    r = one(rows, "meta-llama/Llama-3.1-8B-Instruct")
    assert r.engine == "sglang"
    assert r.values["input_tokens"] > 0 and r.values["itl_p90_s"] is not None
    assert r.values["ttft_p99_s"] is not None and r.values["kv_cache_usage"] is not None


def test_dcgm_units_and_sentinels() -> None:
    samples = two_scrapes("dcgm-exporter-datadog-fixture-t4-a10g.txt", factor=1.0)
    power = [s for s in samples if s.metric == "DCGM_FI_DEV_POWER_USAGE" and s.ts == T0]
    assert power and all(s.labels["gpu_uuid"].startswith("GPU-") for s in power)
    rows = intervals.compute(samples, interval_s=60, deployment_of=lambda _: "gpus")
    r = one(rows, "gpus")
    assert r.values["power_w"] == pytest.approx(sum(s.value for s in power))
    fb = [s for s in samples if s.metric == "DCGM_FI_DEV_FB_USED" and s.ts == T0]
    assert r.values["gpu_mem_used_bytes"] == pytest.approx(sum(s.value for s in fb) * 1048576)
    assert r.values["energy_j"] == 0.0  # the same counter value twice: no energy used


def test_triton_families() -> None:
    rows = intervals.compute(
        two_scrapes("triton-trtllm-backend-readme-inflight-batcher.txt"),
        interval_s=60,
        deployment_of=lambda _: "triton",
    )
    r = one(rows, "triton")
    assert r.engine == "triton" and r.values.get("requests_ok") is not None


def test_counter_reset_is_an_increase_from_zero() -> None:
    pts = [(T0 + timedelta(seconds=15 * i), v) for i, v in enumerate([10, 15, 3, 8])]
    assert [inc for _, inc in intervals.counter_increases(pts)] == [5, 3, 5]


def test_histogram_quantile_interpolates() -> None:
    buckets = {0.1: 10.0, 0.5: 30.0, 1.0: 40.0, math.inf: 40.0}
    assert intervals.histogram_quantile(0.5, buckets) == pytest.approx(0.1 + 0.4 * 10 / 20)
    assert intervals.histogram_quantile(0.99, buckets) == pytest.approx(0.5 + 0.5 * 9.6 / 10)


def test_failed_requests_by_reason() -> None:
    lab = {"model_name": "m", "finished_reason": "abort"}
    s = [
        Sample("vllm:request_success_total", "k", mf.normalize_labels("vllm:x", lab), T0, 1),
        Sample(
            "vllm:request_success_total",
            "k",
            mf.normalize_labels("vllm:x", lab),
            T0 + timedelta(seconds=10),
            4,
        ),
    ]
    (r,) = intervals.compute(s, interval_s=60, deployment_of=by_model)
    assert r.values["requests_failed"] == 3 and r.failed_by_reason == {"abort": 3}


def test_labels_normalized_additively() -> None:
    out = mf.normalize_labels("vllm:prompt_tokens_total", {"model_name": "m", "engine": "0"})
    assert out == {"model_name": "m", "model": "m", "engine": "vllm", "engine_index": "0"}


def test_samples_and_intervals_written_idempotently(cstore: Store) -> None:
    samples = two_scrapes("vllm-datadog-fixture-v0-plus-v1-opt125m.txt")
    dep = Deployment(
        id="opt",
        model="facebook/opt-125m",
        match=DeploymentMatch(metric_labels={"model": "facebook/opt-125m"}),
    )
    for _ in range(2):
        metric_store.write_samples(cstore, "http://x/metrics", samples)
        n = metric_store.refresh_intervals(
            cstore,
            "http://x/metrics",
            T0,
            T0 + timedelta(minutes=1),
            interval_s=60,
            deployments=[dep],
        )
        assert n == 1
    with cstore.read() as con:
        assert con.execute("SELECT count(*) FROM metric_samples").fetchone() == (len(samples),)
        row = con.execute(
            "SELECT deployment_id, input_tokens, output_tokens, engine FROM metric_intervals"
        ).fetchall()
    assert row == [("opt", 5.0, 7.0, "vllm")]
