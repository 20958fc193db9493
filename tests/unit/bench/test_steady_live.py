"""`--until-steady` windows built incrementally, and the live view's progress and ETA."""

from __future__ import annotations

import random
import statistics

import pytest
from unitcost.bench import metrics
from unitcost.bench.live import Live
from unitcost.bench.steady import SteadyWindows

S = 1_000_000_000


def rescan(completions: list[tuple[int, float]], now: int, w: float) -> list[tuple[float, float]]:
    """The rule as it was written before: every completion rescanned at every check."""
    start = completions[0][0]
    windows = []
    for k in range(int((now - start) / 1e9 // w)):
        lo, hi = start + int(k * w * 1e9), start + int((k + 1) * w * 1e9)
        lat = [e for t, e in completions if lo <= t < hi]
        if lat:
            windows.append((len(lat) / w, statistics.median(lat)))
    return windows[-5:]


def test_incremental_windows_equal_a_full_rescan() -> None:
    rng = random.Random(3)
    det = SteadyWindows(window_s=2.0, rel=0.05)
    done: list[tuple[int, float]] = []
    t = 5 * S
    for step in range(4000):
        t += int(rng.expovariate(200.0) * S)
        if rng.random() < 0.02:
            t += 3 * S  # now and then a gap longer than a window: empty windows are skipped
        e2e = 100.0 + rng.gauss(0, 5) + (50.0 if step < 1000 else 0.0)
        done.append((t, e2e))
        det.add(t, e2e)
        if step % 97 == 0:
            assert det.windows(t) == rescan(done, t, 2.0)
            assert len(det.lat) <= SteadyWindows.MIN_WINDOWS + 1  # old windows are let go
    assert det.steady(t) == metrics.steady_state(rescan(done, t, 2.0), rel=0.05)


def test_steady_on_a_stable_stream_not_on_a_rising_one() -> None:
    stable, rising = SteadyWindows(1.0, 0.05), SteadyWindows(1.0, 0.05)
    for i in range(1000):
        t = i * S // 100  # 100 completions per second for 10 s
        stable.add(t, 100.0 + (i % 3))
        rising.add(t, 100.0 + i)  # latency climbing all the time
    assert stable.steady(10 * S) and not rising.steady(10 * S)


def test_progress_and_eta() -> None:
    live = Live(total_requests=200)
    live.started -= 10.0  # 10 s in
    live.done = 50
    assert live.progress() == 0.25
    assert live.eta_s() == pytest.approx(30.0, rel=0.01)  # 150 left at 5 per second
    timed = Live(duration_s=60.0)
    timed.started -= 15.0
    assert timed.progress() == pytest.approx(0.25, rel=0.01)
    assert timed.eta_s() == pytest.approx(45.0, rel=0.01)
    assert Live().progress() is None and Live().eta_s() is None  # --until-steady: unknown
