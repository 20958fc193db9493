"""Capacity at an SLO from stored runs (measured, fitted), the physics (emulated), and refusals.

Runs come from tests/unit/analytics/benchdata.py: closed loops whose rates are known exactly
(concurrency / (TTFT + (output - 1) x TPOT)), stored in a real DuckDB file.
"""

from __future__ import annotations

import pytest
from unitcost.analytics.capacity import (
    ConfigKey,
    Slo,
    TokenShape,
    assess,
    capacity_for,
    capacity_for_deployment,
)
from unitcost.analytics.emulated import _meets, _point, emulated_capacity
from unitcost.analytics.evidence import load_evidence
from unitcost.emulate.physics import Physics

from tests.unit.analytics.benchdata import add_run
from unitcost.store import Store

H100_8B = ConfigKey("meta-llama/Llama-3.1-8B-Instruct", "fp16", "vllm", "H100", 1)
SHAPE = TokenShape(512, 101)


def _three_loads(store: Store, *, search: bool) -> dict[int, float]:
    """Runs at concurrency 1, 2, 4 with TPOT 10, 12, 20 ms (TTFT 100 ms, 101 output tokens).
    Request rates: 1 / 1.1 s = 0.9091, 2 / 1.3 s = 1.5385, 4 / 2.1 s = 1.9048 req/s."""
    with store.write() as con:
        return {
            c: add_run(con, f"r{c}", concurrency=c, tpot_ms=t, capacity_search=search)
            for c, t in ((1, 10.0), (2, 12.0), (4, 20.0))
        }


def test_measured_capacity_is_the_fastest_run_meeting_the_slo(store: Store) -> None:
    rates = _three_loads(store, search=True)
    assert rates[2] == pytest.approx(2 / 1.3)
    with store.read() as con:
        cap = capacity_for(con, H100_8B, Slo(tpot_ms=15), SHAPE)
    assert cap is not None
    assert cap.basis == "measured" and cap.method == "bench --capacity search"
    assert cap.rps == pytest.approx(2 / 1.3)  # c=2 meets 15 ms (12), c=4 does not (20)
    assert cap.output_tokens_per_s == pytest.approx(2 / 1.3 * 101)
    assert cap.load == pytest.approx(2.0)
    assert set(cap.run_ids) == {"r1", "r2", "r4"}
    assert not cap.emulated


def test_any_slo_is_recomputed_from_the_records(store: Store) -> None:
    _three_loads(store, search=True)
    with store.read() as con:
        loose = capacity_for(con, H100_8B, Slo(tpot_ms=25), SHAPE)
        tight = capacity_for(con, H100_8B, Slo(tpot_ms=11), SHAPE)
        e2e = capacity_for(con, H100_8B, Slo(e2el_ms=1200), SHAPE)
    assert loose is not None and loose.rps == pytest.approx(4 / 2.1)
    assert tight is not None and tight.rps == pytest.approx(1 / 1.1)
    assert e2e is not None and e2e.rps == pytest.approx(1 / 1.1)  # e2e 1100, 1300, 2100 ms


def test_fitted_capacity_lies_between_the_bracketing_runs(store: Store) -> None:
    _three_loads(store, search=False)
    with store.read() as con:
        cap = capacity_for(con, H100_8B, Slo(tpot_ms=15), SHAPE)
    assert cap is not None and cap.basis == "fitted"
    # TPOT = a + b c^p through (1, 10), (2, 12), (4, 20): 2^p + 1 = 10 / 2 -> p = 2,
    # b = 2 / 3, a = 28 / 3; 28/3 + 2/3 c^2 = 15 -> c = sqrt(8.5) = 2.9155.
    assert cap.load == pytest.approx(8.5**0.5, rel=1e-3)
    assert 2 / 1.3 < cap.rps < 4 / 2.1
    assert "between the measured 2.0 and 4.0" in cap.note


def test_attainment_counts_slow_and_failed_requests(store: Store) -> None:
    with store.write() as con:
        # 1 request in 10 has TTFT 900 ms: 90% meet TTFT 500 ms.
        add_run(con, "slow", concurrency=2, ttft_ms=[100.0] * 9 + [900.0], per_stream=10)
        # 10 ok and 1 failed per stream: 10 / 11 = 91% good.
        add_run(con, "err", concurrency=1, per_stream=10, failed_per_stream=1, hardware="A10G")
    with store.read() as con:
        at90 = capacity_for(con, H100_8B, Slo(ttft_ms=500, attainment=0.9), SHAPE)
        at95 = capacity_for(con, H100_8B, Slo(ttft_ms=500, attainment=0.95), SHAPE)
        a10 = H100_8B.__class__(H100_8B.model, "fp16", "vllm", "A10G", 1)
        err90 = capacity_for(con, a10, Slo(ttft_ms=500, attainment=0.9), SHAPE)
        err95 = assess(a10, load_evidence(con, a10)[a10.norm()], Slo(ttft_ms=500, attainment=0.95),
                       SHAPE)  # fmt: skip
    assert at90 is not None and at90.basis == "measured"
    assert at95 is None
    assert err90 is not None and err90.basis == "measured"
    assert err95.capacity is None and err95.misses_slo
    assert "91% good" in (err95.reason or "")


def test_runs_at_another_token_shape_are_never_mixed_in(store: Store) -> None:
    with store.write() as con:
        add_run(con, "short", concurrency=2, input_tokens=128)
        add_run(con, "odd", model="my-org/custom-9b", concurrency=2, input_tokens=128)
    with store.read() as con:
        cap = capacity_for(con, H100_8B, Slo(tpot_ms=50), SHAPE)
        runs = load_evidence(con)
    # llama-3.1-8b on H100 is in the emulator's catalog: physics, flagged, says why.
    assert cap is not None and cap.basis == "emulated" and cap.emulated
    assert "other token shapes (input/output 128/101" in cap.note
    odd = ConfigKey("my-org/custom-9b", "fp16", "vllm", "H100", 1)
    got = assess(odd, runs[odd.norm()], Slo(tpot_ms=50), SHAPE)
    assert got.capacity is None
    assert "other token shapes" in (got.reason or "")
    assert "not in the emulator's catalog" in (got.reason or "")


def test_within_the_tolerance_runs_count(store: Store) -> None:
    with store.write() as con:
        add_run(con, "near", concurrency=2, input_tokens=540, output_tokens=96)
    with store.read() as con:
        cap = capacity_for(con, H100_8B, Slo(tpot_ms=50), SHAPE)
        strict = capacity_for(con, H100_8B, Slo(tpot_ms=50), TokenShape(512, 101, 0.02))
    assert cap is not None and cap.basis == "measured"
    assert strict is not None and strict.basis == "emulated"


def test_missing_the_slo_at_the_lowest_load_is_a_reason_not_a_capacity(store: Store) -> None:
    _three_loads(store, search=False)
    with store.read() as con:
        runs = load_evidence(con)[H100_8B.norm()]
    got = assess(H100_8B, runs, Slo(tpot_ms=5), SHAPE)
    assert got.capacity is None and got.misses_slo
    assert got.reason is not None and got.reason.startswith("misses the SLO (tpot:5 ms")


def test_only_completed_runs_count(store: Store) -> None:
    with store.write() as con:
        add_run(con, "broken", concurrency=2, status="failed", model="my-org/custom-9b")
        add_run(con, "cut", concurrency=2, status="interrupted", model="my-org/custom-9b")
    with store.read() as con:
        assert load_evidence(con) == {}


def test_runs_against_the_emulator_are_flagged(store: Store) -> None:
    with store.write() as con:
        add_run(con, "emu", concurrency=2, emulated=True)
    with store.read() as con:
        cap = capacity_for(con, H100_8B, Slo(tpot_ms=50), SHAPE)
    assert cap is not None and cap.basis == "measured" and cap.emulated


def test_a_run_faster_than_the_roofline_is_flagged(store: Store) -> None:
    # Llama-3.2-3B fp16 on a T4: 320 GB/s / 6.42 GB of weights = 49.8 tokens/s at most for
    # one stream; a run claiming 100 (TPOT 10 ms) is mislabelled.
    t4 = ConfigKey("meta-llama/Llama-3.2-3B-Instruct", "fp16", "vllm", "T4", 1)
    with store.write() as con:
        add_run(con, "fast", model=t4.model, hardware="T4", concurrency=1, tpot_ms=10.0)
    with store.read() as con:
        cap = capacity_for(con, t4, Slo(tpot_ms=50), SHAPE)
    assert cap is not None
    assert len(cap.warnings) == 1 and "above the roofline" in cap.warnings[0]


def test_emulated_capacity_is_the_largest_batch_meeting_the_slo() -> None:
    from unitcost.analytics.emulated import setup_for

    slo = {"tpot": 30.0, "ttft": 1000.0}
    e = emulated_capacity(H100_8B, slo, 512, 101)
    phys = Physics(setup_for(H100_8B))
    assert 1 <= e.batch < e.max_batch
    assert _meets(_point(phys, e.batch, 512, 101), slo)
    assert not _meets(_point(phys, e.batch + 1, 512, 101), slo)
    rps, _, tpot, _ = _point(phys, e.batch, 512, 101)
    assert e.rps == rps and e.tpot_ms == tpot <= 30.0
    assert e.output_tokens_per_s == pytest.approx(rps * 101)


def test_a_model_that_does_not_fit_is_said_so() -> None:
    big = ConfigKey("meta-llama/Llama-2-70b-chat-hf", "fp16", "vllm", "T4", 1)
    got = assess(big, [], Slo(tpot_ms=50), SHAPE)
    assert got.capacity is None and got.does_not_fit
    assert got.reason is not None and got.reason.startswith("does not fit in memory")


def test_capacity_for_a_deployment_uses_its_config(store: Store) -> None:
    _three_loads(store, search=True)
    with store.write() as con:
        con.execute(
            "INSERT INTO deployments (deployment_id, model, quantization, engine, hardware, "
            "gpu_count) VALUES ('chat', 'meta-llama/Llama-3.1-8B-Instruct', 'FP16', 'vLLM', "
            "'h100', 1)"
        )
    with store.read() as con:
        cap = capacity_for_deployment(con, "chat", Slo(tpot_ms=15), SHAPE)
        none = capacity_for_deployment(con, "nope", Slo(tpot_ms=15), SHAPE)
    assert cap is not None and cap.rps == pytest.approx(2 / 1.3)
    assert none is None
