"""Metric families, label normalization and the per-interval definitions, on recorded texts,
through the real store: samples in (metric_store.write), metric_intervals rows out."""

from __future__ import annotations

import itertools
import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from unitcost.collectors import deployments, intervals, metric_store, scrape
from unitcost.collectors import metric_families as mf
from unitcost.collectors.metric_store import SampleBatch

from tests.unit.collectors.conftest import FIXTURES
from unitcost.config import Deployment, DeploymentMatch
from unitcost.store import Store

METRICS = FIXTURES / "metrics"
T0 = datetime(2025, 5, 1, 12, 0, 0, tzinfo=UTC)
VLLM = "vllm-datadog-fixture-v0-plus-v1-opt125m.txt"


def two_scrapes(name: str, factor: float = 2.0) -> SampleBatch:
    """The recorded text at T0, and again 30 s later with every value multiplied."""
    batch = scrape.parse_text((METRICS / name).read_text(), T0)
    series, ts, values = batch.arrays()
    batch.add_indexed(series, ts + 30, values * factor)
    return batch


def store_batch(
    store: Store,
    batch: SampleBatch,
    *,
    source: str = "http://x/metrics",
    kind: str = "scrape",
    **kw: Any,
) -> int:
    with store.write() as con:
        return metric_store.write(con, batch, source=source, kind=kind, **kw)


def rows(store: Store, sql: str, params: list[Any] | None = None) -> list[Any]:
    with store.read() as con:
        return con.execute(sql, params or []).fetchall()


def interval(store: Store, dep: str) -> dict[str, Any]:
    with store.read() as con:
        cur = con.execute("SELECT * FROM metric_intervals WHERE deployment_id = ?", [dep])
        cols = [d[0] for d in cur.description or []]
        got = [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
    assert len(got) == 1, got
    return got[0]


def quantile(q: float, buckets: dict[float, float]) -> float | None:
    """Reference: Prometheus' histogram_quantile over cumulative counts {le: count}."""
    les = sorted(buckets)
    total = buckets[math.inf]
    rank, prev_le, prev_n = q * total, 0.0, 0.0
    for le in les:
        n = buckets[le]
        if n >= rank:
            if le == math.inf:
                return prev_le
            return le if n == prev_n else prev_le + (le - prev_le) * (rank - prev_n) / (n - prev_n)
        prev_le, prev_n = le, n
    return None


def fixture_buckets(name: str, metric: str) -> dict[float, float]:
    batch = scrape.parse_text((METRICS / name).read_text(), T0)
    series, _, values = batch.arrays()
    out = {}
    for i, v in zip(series, values, strict=True):
        if batch.metrics[i] == metric:
            le = batch.labels[i]["le"]
            out[math.inf if le == "+Inf" else float(le)] = float(v)
    return out


def test_vllm_prefers_new_names_and_counts_once(cstore: Store) -> None:
    store_batch(cstore, two_scrapes(VLLM))
    r = interval(cstore, "model:facebook/opt-125m")
    assert r["engine"] == "vllm" and r["interval_s"] == 60
    assert r["input_tokens"] == 5.0 and r["output_tokens"] == 7.0
    assert r["requests_ok"] >= 1.0
    # ITL from inter_token_latency_seconds (144 observations), never plus the old family (6)
    new = fixture_buckets(VLLM, "vllm:inter_token_latency_seconds_bucket")
    old = fixture_buckets(VLLM, "vllm:time_per_output_token_seconds_bucket")
    assert new[math.inf] == 144.0 and old[math.inf] != 144.0
    assert r["itl_hist"] == new  # the increase of each bucket (value doubled: + the value)
    assert r["itl_p50_s"] == pytest.approx(quantile(0.5, new))
    assert r["itl_p99_s"] == pytest.approx(quantile(0.99, new))
    assert quantile(0.5, old) != r["itl_p50_s"]
    assert r["ttft_hist"] == fixture_buckets(VLLM, "vllm:time_to_first_token_seconds_bucket")
    assert r["e2e_hist"] == fixture_buckets(VLLM, "vllm:e2e_request_latency_seconds_bucket")
    assert r["emulated"] is False and r["source"] == "http://x/metrics"


def test_sglang_old_names_still_understood(cstore: Store) -> None:
    store_batch(cstore, two_scrapes("sglang-docs-production_metrics-llama3.1-8b.txt"))
    r = interval(cstore, "model:meta-llama/Llama-3.1-8B-Instruct")
    assert r["engine"] == "sglang"
    assert r["input_tokens"] > 0 and r["itl_p90_s"] is not None
    assert r["ttft_p99_s"] is not None and r["kv_cache_usage"] is not None


def test_dcgm_units_and_sentinels(cstore: Store) -> None:
    batch = two_scrapes("dcgm-exporter-datadog-fixture-t4-a10g.txt", factor=1.0)
    store_batch(cstore, batch)
    series, ts, values = batch.arrays()
    at_t0 = [
        (batch.metrics[i], mf.normalize_labels(batch.metrics[i], batch.labels[i]), v)
        for i, t, v in zip(series, ts, values, strict=True)
        if t == T0.timestamp()
    ]
    power = [(lab, v) for m, lab, v in at_t0 if m == "DCGM_FI_DEV_POWER_USAGE"]
    assert power and all(lab["gpu_uuid"].startswith("GPU-") for lab, _ in power)
    r = interval(cstore, "unmapped")
    assert r["engine"] == "dcgm"
    assert r["power_w"] == pytest.approx(sum(v for _, v in power))
    fb = [v for m, _, v in at_t0 if m == "DCGM_FI_DEV_FB_USED"]
    assert r["gpu_mem_used_bytes"] == pytest.approx(sum(fb) * 1048576)
    assert r["energy_j"] == 0.0  # the same counter value twice: no energy used
    # and per GPU in gpu_samples, in its units; unsupported (>= 1e18) values are NULL
    got = rows(
        cstore,
        "SELECT gpu_uuid, power_w, util_gpu, mem_used_bytes FROM gpu_samples "
        "WHERE source = 'dcgm' AND ts = ? ORDER BY gpu_uuid",
        [T0],
    )
    gpus = {lab["gpu_uuid"] for m, lab, _ in at_t0 if m.startswith("DCGM_") and "gpu_uuid" in lab}
    assert len(gpus) >= 2 and [r[0] for r in got] == sorted(gpus)  # one row per GPU and time
    watts = {lab["gpu_uuid"]: v for lab, v in power}
    assert {u: p for u, p, _, _ in got} == {u: watts.get(u) for u in gpus}
    util = {
        lab["gpu_uuid"]: v / 100 if v < mf.DCGM_SENTINEL else None
        for m, lab, v in at_t0
        if m == "DCGM_FI_DEV_GPU_UTIL"
    }
    assert {u: x for u, _, x, _ in got} == {u: util.get(u) for u in gpus}
    fb_mib = {lab["gpu_uuid"]: v for m, lab, v in at_t0 if m == "DCGM_FI_DEV_FB_USED"}
    assert {u: b for u, _, _, b in got} == {
        u: int(fb_mib[u] * 1048576) if u in fb_mib else None for u in gpus
    }


def test_triton_families(cstore: Store) -> None:
    store_batch(cstore, two_scrapes("triton-trtllm-backend-readme-inflight-batcher.txt"))
    (dep,) = {r[0] for r in rows(cstore, "SELECT deployment_id FROM metric_intervals")}
    r = interval(cstore, dep)
    assert r["engine"] == "triton" and r["requests_ok"] is not None


def counter(store: Store, values: list[float], *, step_s: float = 15, start: datetime = T0) -> None:
    batch = SampleBatch()
    batch.add(
        "llamacpp:tokens_predicted_total",
        {"job": "j"},
        [start.timestamp() + step_s * i for i in range(len(values))],
        values,
    )
    store_batch(store, batch)


def test_counter_reset_is_an_increase_from_zero(cstore: Store) -> None:
    counter(cstore, [10, 15, 3, 8])
    assert interval(cstore, "unmapped")["output_tokens"] == 5 + 3 + 5


def test_histogram_quantile_interpolates(cstore: Store) -> None:
    batch = SampleBatch()
    buckets = {"0.1": 10.0, "0.5": 30.0, "1.0": 40.0, "+Inf": 40.0}
    for le, n in buckets.items():
        batch.add(
            "vllm:time_to_first_token_seconds_bucket",
            {"model_name": "m", "le": le},
            [T0.timestamp(), T0.timestamp() + 10],
            [0.0, n],
        )
    store_batch(cstore, batch)
    r = interval(cstore, "model:m")
    assert r["ttft_p50_s"] == pytest.approx(0.1 + 0.4 * 10 / 20)
    assert r["ttft_p90_s"] == pytest.approx(0.5 + 0.5 * 6 / 10)
    assert r["ttft_p99_s"] == pytest.approx(0.5 + 0.5 * 9.6 / 10)
    assert r["ttft_hist"] == {0.1: 10.0, 0.5: 30.0, 1.0: 40.0, math.inf: 40.0}


def test_failed_requests_by_reason(cstore: Store) -> None:
    batch = SampleBatch()
    for reason, a, b in (("abort", 1, 4), ("stop", 5, 9)):
        batch.add(
            "vllm:request_success_total",
            {"model_name": "m", "finished_reason": reason},
            [T0.timestamp(), T0.timestamp() + 10],
            [a, b],
        )
    store_batch(cstore, batch)
    r = interval(cstore, "model:m")
    assert r["requests_failed"] == 3 and r["failed_by_reason"] == {"abort": 3}
    assert r["requests_ok"] == 4


def test_labels_normalized_additively() -> None:
    out = mf.normalize_labels("vllm:prompt_tokens_total", {"model_name": "m", "engine": "0"})
    assert out == {"model_name": "m", "model": "m", "engine": "vllm", "engine_index": "0"}
    assert mf.normalize_labels("vllm:prompt_tokens_total", out) == out  # idempotent


def test_one_canonical_escaped_key() -> None:
    key = mf.series_key("m", {"b": 'x"y\\z\n', "a": "1"})
    assert key == 'm{a="1",b="x\\"y\\\\z\\n"}'
    assert mf.series_key("n", {}) == "n{}"


def test_samples_and_intervals_written_idempotently(cstore: Store) -> None:
    dep = Deployment(
        id="opt",
        model="facebook/opt-125m",
        match=DeploymentMatch(metric_labels={"model": "facebook/opt-125m"}),
    )
    deployments.sync(cstore, [dep])
    for _ in range(2):
        store_batch(cstore, two_scrapes(VLLM))
    n = len(two_scrapes(VLLM))
    assert rows(cstore, "SELECT count(*) FROM metric_samples") == [(n,)]
    assert rows(
        cstore, "SELECT deployment_id, input_tokens, output_tokens, engine FROM metric_intervals"
    ) == [("opt", 5.0, 7.0, "vllm")]
    with cstore.read() as con:
        for name in ("metric_points_natural_key_unique", "metric_intervals_natural_key_unique"):
            assert con.execute(load_check(name)).fetchall() == []


def load_check(name: str) -> str:
    from unitcost import sqlfiles

    return sqlfiles.load("checks", name)


def test_rules_most_specific_first_and_changes_rederive(cstore: Store) -> None:
    """A rule with more labels wins; when rules change, `sync` moves the tokens with them."""
    batch = SampleBatch()
    for model, pod in (("m", "a"), ("m", "b")):
        batch.add(
            "vllm:generation_tokens_total",
            {"model_name": model, "pod": pod},
            [T0.timestamp(), T0.timestamp() + 10],
            [0.0, 100.0],
        )
    store_batch(cstore, batch)
    assert rows(cstore, "SELECT deployment_id, output_tokens FROM metric_intervals") == [
        ("model:m", 200.0)
    ]
    broad = Deployment(id="all-m", model="m", match=DeploymentMatch(metric_labels={"model": "m"}))
    pod_a = Deployment(
        id="pod-a", model="m", match=DeploymentMatch(metric_labels={"model": "m", "pod": "a"})
    )
    seen: list[tuple[int, int]] = []
    deployments.sync(cstore, [broad, pod_a], on_rederive=lambda d, n: seen.append((d, n)))
    got = rows(cstore, "SELECT deployment_id, output_tokens FROM metric_intervals ORDER BY 1")
    assert got == [("all-m", 100.0), ("pod-a", 100.0)]  # model:m is gone, nothing doubled
    assert seen == [(3, 2)]
    # the same rules again: nothing moves, nothing is re-derived
    deployments.sync(cstore, [broad, pod_a], on_rederive=lambda d, n: seen.append((d, n)))
    assert seen[-1] == (0, 0)


def test_emulated_series_keep_their_deployment(cstore: Store) -> None:
    """emulated="true" + unitcost_deployment: counted for that deployment, marked emulated,
    and the info gauge registers the deployment (a configured one is left as it is)."""
    batch = SampleBatch()
    lab = {"model_name": "meta-llama/Llama-3.1-8B", "emulated": "true",
           "unitcost_deployment": "chat-emu"}  # fmt: skip
    batch.add("vllm:generation_tokens_total", lab, [T0.timestamp(), T0.timestamp() + 10], [0, 9])
    batch.add(
        mf.EMULATED_INFO,
        {**lab, "model": "meta-llama/Llama-3.1-8B", "gpu": "h100", "gpu_count": "2",
         "quantization": "fp8", "serving_engine": "vllm", "parameter_count": "8030000000"},
        [T0.timestamp()],
        [1.0],
    )  # fmt: skip
    store_batch(cstore, batch, source="http://prom", kind="prometheus")
    assert rows(cstore, "SELECT deployment_id, output_tokens, emulated FROM metric_intervals") == [
        ("chat-emu", 9.0, True)
    ]
    assert rows(
        cstore,
        "SELECT deployment_id, model, hardware, gpu_count, quantization, parameter_count, "
        "labels['emulated'] FROM deployments",
    ) == [("chat-emu", "meta-llama/Llama-3.1-8B", "H100", 2, "fp8", 8_030_000_000, "true")]


def test_derived_in_pieces_equals_derived_at_once(tmp_path: Any) -> None:
    """The same samples, written in one batch or cut anywhere into several (a pull resumed
    after each chunk), give exactly the same metric_intervals: every increase at a piece's
    edge is paired with the sample before it."""
    import random

    rng = random.Random(7)
    values: list[float] = []
    v = 0.0
    for _ in range(400):
        v = 0.0 if rng.random() < 0.03 else v + rng.randint(0, 50)  # resets now and then
        values.append(v)
    times = [T0.timestamp() + 7.5 * i + (600 if i > 200 else 0) for i in range(400)]  # a gap
    results = []
    for cuts in ([], [1, 57, 58, 199, 201, 300], sorted(rng.sample(range(1, 400), 25))):
        store = Store(tmp_path / f"p{len(cuts)}.duckdb")
        store.migrate()
        edges = [0, *cuts, 400]
        for a, b in itertools.pairwise(edges):
            batch = SampleBatch()
            batch.add("vllm:prompt_tokens_total", {"model_name": "m"}, times[a:b], values[a:b])
            batch.add("vllm:num_requests_running", {"model_name": "m"}, times[a:b], values[a:b])
            store_batch(store, batch)
        results.append(
            rows(store, "SELECT * EXCLUDE (source) FROM metric_intervals ORDER BY interval_start")
        )
    assert results[0] == results[1] == results[2]
    want = sum(b - a if b >= a else b for a, b in itertools.pairwise(values))
    assert sum(r[4] for r in results[0]) == want  # input_tokens: every increase, once


def test_interval_bounds() -> None:
    lo, hi = intervals.bounds(T0 + timedelta(seconds=7), T0 + timedelta(seconds=60), 60)
    assert (lo, hi) == (T0, T0 + timedelta(seconds=120))


def test_aggregated_queries_sum_increases_and_keep_what_rules_need(cstore: Store) -> None:
    from unitcost.collectors import prometheus

    from unitcost.errors import InputError

    qs = {q.metric: q for q in prometheus.aggregated_queries(["model_name"], 30)}
    keep = "model_name, emulated, unitcost_deployment"
    assert qs["vllm:generation_tokens_total"].promql == (
        f'sum by ({keep}) (increase({{__name__="vllm:generation_tokens_total"}}[30000ms]))'
    )
    assert qs["vllm:request_success_total"].promql.startswith(f"sum by ({keep}, finished_reason)")
    assert qs["vllm:time_to_first_token_seconds_bucket"].promql.startswith(f"sum by ({keep}, le)")
    assert qs["vllm:kv_cache_usage_perc"].promql.startswith(f"avg by ({keep})")
    assert qs["vllm:num_requests_running"].promql.startswith(f"sum by ({keep})")
    assert qs["vllm:generation_tokens_total"].labels == {"unitcost_aggregation": "sum_increase"}
    assert qs[None].promql == '{__name__=~"unitcost_.*"}'  # raw: DCGM and unitcost series
    assert not any(m and m.startswith("DCGM_") for m in qs)
    with pytest.raises(InputError, match="not a Prometheus label name"):
        prometheus.aggregated_queries(["model name"], 30)
    # a rule on a label the sum drops would misattribute tokens: refused before any query
    by_pod = Deployment(id="a", model="m", match=DeploymentMatch(metric_labels={"pod": "p0"}))
    by_model = Deployment(id="b", model="m", match=DeploymentMatch(metric_labels={"model": "m"}))
    with pytest.raises(InputError, match=r"deployments\[a\].*'pod'.*add it to aggregate_by"):
        prometheus.collect(
            cstore, url="http://127.0.0.1:9", aggregate_by=["model_name"], deployments=[by_pod]
        )
    prometheus._check_rules_survive(["model_name"], [by_model])  # model comes from model_name


def test_one_server_seen_two_ways_counts_once(cstore: Store) -> None:
    """A server pulled through Prometheus and also scraped directly (or by bench): for each
    deployment, interval and quantity one source kind counts (Prometheus first), never both;
    a quantity only one of them has still counts."""
    dep = Deployment(id="d", model="m", match=DeploymentMatch(metric_labels={"model": "m"}))
    deployments.sync(cstore, [dep])
    t = [T0.timestamp() + 15 * i for i in range(4)]
    pulled, scraped = SampleBatch(), SampleBatch()
    pulled.add(
        "vllm:generation_tokens_total", {"model_name": "m", "job": "vllm"}, t, [0, 10, 20, 30]
    )
    # the same counter, scraped a moment later each time than Prometheus saw it
    scraped.add("vllm:generation_tokens_total", {"model_name": "m"}, t, [0, 12, 21, 33])
    scraped.add("vllm:prompt_tokens_total", {"model_name": "m"}, t, [0, 5, 10, 15])
    store_batch(cstore, scraped)
    store_batch(cstore, pulled, source="http://prom:9090", kind="prometheus")
    r = interval(cstore, "d")
    assert r["output_tokens"] == 30.0  # Prometheus' count: not 33, not the two added (63)
    assert r["input_tokens"] == 15.0  # only the scrape has it
    assert r["source"] == "http://prom:9090, http://x/metrics"


def test_interval_length_holds_a_whole_sampling_step() -> None:
    from unitcost.collectors.intervals import interval_for_step

    assert [interval_for_step(s) for s in (15, 30, 60, 61, 300, 900)] == [
        60,
        60,
        60,
        120,
        300,
        900,
    ]
