"""Metric definitions on hand-made timestamp sequences, with exact expected values."""

from __future__ import annotations

from typing import Any

import pytest
from unitcost.bench import metrics

from unitcost.errors import InputError

MS = 1_000_000


def rec(**kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "phase": "measure",
        "scheduled_ns": None,
        "dequeued_ns": None,
        "sent_ns": None,
        "first_chunk_ns": None,
        "last_chunk_ns": None,
        "end_ns": None,
        "chunk_gaps_ns": [],
        "content_chunks": 0,
        "prompt_tokens": None,
        "output_tokens": None,
        "token_source": None,
        "status": "ok",
        "error_class": None,
    }
    base.update(kw)
    return base


ROWS = [
    # ok: ttft 100 ms; chunks at 101, 111, 131 ms (gaps 10, 20); 4 tokens in 3 chunks
    rec(
        scheduled_ns=0,
        dequeued_ns=0,
        sent_ns=1 * MS,
        first_chunk_ns=101 * MS,
        last_chunk_ns=131 * MS,
        end_ns=140 * MS,
        chunk_gaps_ns=[10 * MS, 20 * MS],
        content_chunks=3,
        prompt_tokens=10,
        output_tokens=4,
        token_source="usage",
    ),
    # ok: one chunk, one token; waited 10 ms for a slot, sent 20 ms late
    rec(
        scheduled_ns=10 * MS,
        dequeued_ns=20 * MS,
        sent_ns=30 * MS,
        first_chunk_ns=80 * MS,
        last_chunk_ns=80 * MS,
        end_ns=90 * MS,
        content_chunks=1,
        prompt_tokens=5,
        output_tokens=1,
        token_source="usage",
    ),
    rec(
        scheduled_ns=40 * MS,
        dequeued_ns=40 * MS,
        sent_ns=40 * MS,
        end_ns=45 * MS,
        status="error",
        error_class="HTTP500",
    ),
    rec(
        scheduled_ns=50 * MS,
        dequeued_ns=50 * MS,
        sent_ns=50 * MS,
        end_ns=1001 * MS,
        status="cancelled",
    ),
    rec(
        scheduled_ns=60 * MS,
        dequeued_ns=60 * MS,
        sent_ns=60 * MS,
        end_ns=560 * MS,
        status="timeout",
        error_class="FirstTokenTimeout",
    ),
    # warm-up: excluded from everything
    rec(
        phase="warmup",
        sent_ns=0,
        first_chunk_ns=1 * MS,
        last_chunk_ns=2 * MS,
        end_ns=3 * MS,
        content_chunks=2,
        output_tokens=100,
        prompt_tokens=100,
    ),
]


def test_per_request_definitions() -> None:
    m = metrics.request_metrics(ROWS[0])
    assert m == {
        "ttft_ms": 100.0,
        "e2e_ms": 130.0,
        "tpot_ms": 10.0,
        "itl_ms": 15.0,
        "queue_ms": 0.0,
        "dispatch_lag_ms": 1.0,
        "ttft_error_bound_ms": None,  # no bound recorded
    }
    bounded = metrics.request_metrics({**ROWS[0], "first_chunk_late_ns": 3 * MS // 2})
    assert bounded["ttft_error_bound_ms"] == 1.5 and bounded["ttft_ms"] == 100.0
    m2 = metrics.request_metrics(ROWS[1])
    assert m2 == {
        "ttft_ms": 50.0,
        "e2e_ms": 50.0,
        "tpot_ms": None,
        "itl_ms": None,
        "queue_ms": 10.0,
        "dispatch_lag_ms": 20.0,
        "ttft_error_bound_ms": None,
    }
    failed = metrics.request_metrics(ROWS[2])
    assert failed["ttft_ms"] is None and failed["dispatch_lag_ms"] == 0.0


def test_run_summary_exact() -> None:
    s = metrics.summarize(ROWS, {"ttft": 60.0})
    assert (
        s["requests_total"],
        s["requests_ok"],
        s["requests_failed"],
        s["requests_cancelled"],
    ) == (5, 2, 2, 1)
    assert s["requests_total"] == s["requests_ok"] + s["requests_failed"] + s["requests_cancelled"]
    assert s["requests_excluded"] == {"warmup": 1, "cooldown": 0}
    assert s["duration_s"] == 1.0  # 1001 ms (last end) - 1 ms (first send)
    assert s["request_rate"] == 2.0
    assert s["output_tokens_per_s"] == 5.0
    assert s["total_tokens_per_s"] == 20.0
    assert s["success_rate"] == 0.5
    assert s["errors"] == {"HTTP500": 1, "FirstTokenTimeout": 1}
    assert s["ttft_ms"] == {
        "count": 2,
        "mean": 75.0,
        "std": 25.0,
        "min": 50.0,
        "max": 100.0,
        "p50": 75.0,
        "p90": 95.0,
        "p95": 97.5,
        "p99": 99.5,
    }
    assert s["itl_pooled_ms"]["count"] == 2 and s["itl_pooled_ms"]["mean"] == 15.0
    assert s["itl_ms"]["count"] == 1 and s["itl_ms"]["p50"] == 15.0
    assert s["tpot_ms"]["count"] == 1 and s["tpot_ms"]["mean"] == 10.0
    assert s["e2e_ms"]["p50"] == 90.0
    assert s["queue_ms"]["max"] == 10.0
    # good: only the 50 ms TTFT request
    assert s["requests_good"] == 1 and s["goodput"] == 1.0 and s["goodput_fraction"] == 0.25
    assert s["good_output_tokens_per_s"] == 1.0


def test_goodput_tpot_term_and_lag_warning() -> None:
    s = metrics.summarize(ROWS, metrics.parse_slo("tpot:5"))
    assert s["requests_good"] == 1  # 1-token request has no TPOT and meets the term
    # lag p99 over [1, 20, 0, 0, 0] ms = 19.24 ms > 10% of TTFT p50 75 ms
    assert s["dispatch_lag_ms"]["p99"] == pytest.approx(19.24)
    assert any("dispatch lag" in w for w in s["warnings"])
    calm = [dict(r, scheduled_ns=r["sent_ns"]) for r in ROWS]
    assert not any("dispatch lag" in w for w in metrics.summarize(calm)["warnings"])


def test_empty_run() -> None:
    s = metrics.summarize([])
    assert s["requests_total"] == 0 and s["request_rate"] is None
    assert s["ttft_ms"]["p99"] is None and s["success_rate"] is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ttft:500 tpot:50 e2el:5000", {"ttft": 500.0, "tpot": 50.0, "e2el": 5000.0}),
        ("ttft:250", {"ttft": 250.0}),
        ("", {}),
    ],
)
def test_parse_slo(text: str, expected: dict[str, float]) -> None:
    assert metrics.parse_slo(text) == expected


@pytest.mark.parametrize("bad", ["ttft=500", "itl:5", "ttft:x", "ttft:-1"])
def test_parse_slo_errors_name_flag(bad: str) -> None:
    with pytest.raises(InputError, match="--slo"):
        metrics.parse_slo(bad)


def test_percentile_matches_numpy_linear() -> None:
    vals = [1.0, 2.0, 3.0, 4.0, 10.0]
    assert metrics.percentile(vals, 50) == 3.0
    assert metrics.percentile(vals, 90) == pytest.approx(7.6)
    assert metrics.percentile([5.0], 99) == 5.0


def test_steady_state_rule() -> None:
    stable = [(10.0, 100.0), (10.1, 101.0), (9.9, 99.0), (10.0, 100.5), (10.05, 100.0)]
    assert metrics.steady_state(stable)
    rising = [(2.0, 50.0), (4.0, 80.0), (6.0, 120.0), (8.0, 150.0), (10.0, 200.0)]
    assert not metrics.steady_state(rising)
    assert not metrics.steady_state(stable[:4])  # too few windows


def test_loop_lag_offered_rate_meets_slo_and_percentiles() -> None:
    lag = [0, 1 * MS, 2 * MS, 3 * MS, 40 * MS]  # ns samples
    s = metrics.summarize(
        ROWS,
        {"ttft": 60.0},
        percentiles=(50, 99.9),
        slo_attainment=0.3,
        profile={"kind": "rate", "rate": 4.0},
        loop_lag_ns=lag,
    )
    assert s["loop_lag_ms"]["count"] == 5 and s["loop_lag_ms"]["p50"] == 2.0
    assert s["loop_lag_ms"]["p99.9"] == pytest.approx(39.852)  # linear, as numpy
    assert s["percentiles"] == [50, 90, 95, 99, 99.9]  # the defaults are always there
    assert s["offered_rate"] == 4.0
    assert s["meets_slo"] is (s["goodput_fraction"] >= 0.3)
    # lag p99 (~38.5 ms) is far above 10% of TTFT p50 and of ITL p50: both are warned about
    assert sum("client event-loop lag" in w for w in s["warnings"]) == 2
    closed = metrics.summarize(ROWS, None, profile={"kind": "concurrency", "concurrency": 2})
    assert closed["offered_rate"] is None and closed["meets_slo"] is None
    assert closed["loop_lag_ms"]["count"] == 0 and not any(
        "loop lag" in w for w in closed["warnings"]
    )
