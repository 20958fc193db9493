"""The SLO-load fits of analytics/fit.py, on a published sweep and on curves with known answers."""

from __future__ import annotations

import csv
import itertools
from pathlib import Path

import pytest
from unitcost.analytics.fit import SweepPoint, fit_throughput, slo_load

NIM = Path(__file__).parents[2] / "fixtures" / "analytics"
NIM_FILE = NIM / "nim_llama33_70b_fp8_tp2_2xh100_5000in_500out.csv"


def _published() -> list[dict[str, float]]:
    with NIM_FILE.open() as fh:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(fh)]


def _points(rows: list[dict[str, float]]) -> list[SweepPoint]:
    return [
        SweepPoint(r["concurrency"], r["throughput_tokens_per_s"],
                   {"ttft": r["ttft_ms"], "tpot": r["itl_ms"]})
        for r in rows
    ]  # fmt: skip


def _interpolated_slo_concurrency(rows: list[dict[str, float]], key: str, limit: float) -> float:
    """Where the published table crosses `limit`, read off between its bracketing points."""
    for a, b in itertools.pairwise(rows):
        if a[key] <= limit < b[key]:
            share = (limit - a[key]) / (b[key] - a[key])
            return a["concurrency"] + share * (b["concurrency"] - a["concurrency"])
    raise AssertionError("limit not crossed")


def test_published_sweep_tpot_slo_concurrency_from_a_held_out_fit() -> None:
    # The full published table crosses TPOT (AIPerf ITL) 50 ms between concurrency 25
    # (38.75 ms) and 50 (59.73 ms): 25 + (50 - 38.75) / (59.73 - 38.75) * 25 = 38.41.
    rows = _published()
    truth = _interpolated_slo_concurrency(rows, "itl_ms", 50.0)
    assert truth == pytest.approx(38.41, abs=0.01)
    # Fit without the concurrency-50 point: the power law through 1, 5, 25 and 100 must
    # predict the crossing the held-out point shows, within 10%.
    held_out = [r for r in rows if r["concurrency"] != 50]
    fit = slo_load(_points(held_out), {"tpot": 50.0})
    assert fit is not None
    assert fit.binding == "tpot"
    assert fit.bracket == (25.0, 100.0)
    assert "tpot: power-law fit" in fit.method
    assert abs(fit.load - truth) / truth < 0.10, fit
    # Throughput there, from the saturating fit over all the held-out points, against the
    # published throughput read off at the same concurrency.
    published_x = 623.4 + (fit.load - 25) / 25 * (814.37 - 623.4)
    assert "saturating throughput fit" in fit.method
    assert abs(fit.throughput - published_x) / published_x < 0.10, fit


def test_published_sweep_ttft_slo_concurrency_within_10_percent() -> None:
    # TTFT 800 ms: published 688.69 at 25 and 834.51 at 50 -> 25 + 111.31 / 145.82 * 25 = 44.08.
    rows = _published()
    truth = _interpolated_slo_concurrency(rows, "ttft_ms", 800.0)
    fit = slo_load(_points(rows), {"ttft": 800.0, "tpot": 200.0})
    assert fit is not None and fit.binding == "ttft"
    assert abs(fit.load - truth) / truth < 0.10, fit
    # Never above the highest throughput measured, never below the last passing point's.
    assert 623.4 <= fit.throughput <= 920.9


def test_every_point_passing_returns_the_highest_measured_point_as_measured() -> None:
    rows = _published()
    fit = slo_load(_points(rows), {"tpot": 500.0})
    assert fit is not None
    assert fit.load == 250.0 and fit.throughput == 920.12  # no extrapolation, no smoothing
    assert fit.bracket is None and fit.binding is None


def test_missing_at_the_lowest_load_means_no_capacity() -> None:
    assert slo_load(_points(_published()), {"tpot": 10.0}) is None


def test_two_points_fall_back_to_linear_interpolation() -> None:
    pts = [SweepPoint(1, 10.0, {"ttft": 100.0}), SweepPoint(3, 24.0, {"ttft": 300.0})]
    fit = slo_load(pts, {"ttft": 200.0})
    assert fit is not None
    # 1 + (200 - 100) / (300 - 100) * 2 = 2.0
    assert fit.load == pytest.approx(2.0)
    assert "linear interpolation" in fit.method


def test_falling_throughput_is_fitted_with_the_usl() -> None:
    # A USL curve with lambda 10, sigma 0.05, kappa 0.002: it peaks and falls.
    def usl(c: float) -> float:
        return 10 * c / (1 + 0.05 * (c - 1) + 0.002 * c * (c - 1))

    loads = [1, 4, 8, 16, 32, 64, 128]
    model, curve, params = fit_throughput(loads, [usl(c) for c in loads])
    assert model == "usl"
    assert params == pytest.approx([10, 0.05, 0.002], rel=1e-3)
    assert curve(20) == pytest.approx(usl(20), rel=1e-4)


def test_rising_throughput_is_fitted_with_the_saturating_curve() -> None:
    loads = [1, 2, 4, 8, 16, 32]
    model, _curve, params = fit_throughput(loads, [500 * c / (c + 6) for c in loads])
    assert model == "saturating"
    assert params == pytest.approx([500, 6], rel=1e-4)
