"""Arrival schedules: seeded, with the right mean rate and burstiness."""

from __future__ import annotations

import itertools
import statistics

import pytest
from unitcost.bench.profiles import LoadProfile, arrivals, sweep_rates

from unitcost.errors import InputError


def take(p: LoadProfile, n: int) -> list[float]:
    return list(itertools.islice(arrivals(p), n))


def gaps(ts: list[float]) -> list[float]:
    return [b - a for a, b in itertools.pairwise(ts)]


def test_poisson_rate_and_seed() -> None:
    p = LoadProfile(kind="rate", rate=50.0, seed=1)
    ts = take(p, 20001)
    assert ts == take(p, 20001)
    g = gaps(ts)
    assert statistics.fmean(g) == pytest.approx(1 / 50, rel=0.03)
    assert statistics.pstdev(g) / statistics.fmean(g) == pytest.approx(1.0, rel=0.05)


def test_gamma_burstiness() -> None:
    g = gaps(take(LoadProfile(kind="rate", rate=10.0, arrival="gamma", burstiness=4.0), 20001))
    assert statistics.fmean(g) == pytest.approx(0.1, rel=0.03)
    assert statistics.pstdev(g) / statistics.fmean(g) == pytest.approx(0.5, rel=0.05)  # 1/sqrt(k)


def test_constant() -> None:
    ts = take(LoadProfile(kind="rate", rate=4.0, arrival="constant"), 5)
    assert ts == [0.0, 0.25, 0.5, 0.75, 1.0]


def test_ramp_counts() -> None:
    p = LoadProfile(kind="ramp", rate=100.0, rate_start=0.0, ramp_s=10.0, arrival="constant")
    ts = take(p, 1000)
    in_ramp = sum(1 for t in ts if t <= 10.0)
    assert in_ramp == pytest.approx(500, abs=2)  # integral of a 0 -> 100 req/s ramp over 10 s
    after = [t for t in ts if t > 10.0][:101]
    assert gaps(after)[0] == pytest.approx(0.01)


@pytest.mark.parametrize(
    ("kw", "flag"),
    [
        ({"kind": "rate"}, "--rate"),
        ({"kind": "concurrency", "concurrency": 0}, "--concurrency"),
        ({"kind": "rate", "rate": 1.0, "burstiness": 0.0}, "--burstiness"),
        ({"kind": "rate", "rate": 1.0, "arrival": "weibull"}, "--arrival"),
    ],
)
def test_validation_names_flag(kw: dict[str, object], flag: str) -> None:
    with pytest.raises(InputError, match=flag):
        LoadProfile(**kw).validate()  # type: ignore[arg-type]


def test_sweep_rates() -> None:
    assert sweep_rates(1.0, 5.0, 3) == [2.0, 3.0, 4.0]
    assert sweep_rates(5.0, 5.0, 3) == []
