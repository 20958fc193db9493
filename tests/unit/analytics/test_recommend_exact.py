"""The fleet program's optimum equals brute force on small random instances, preemptions and
quotas included; the dominance sweep drops exactly what a pairwise check drops.

The brute force knows nothing of the program: it lists every fleet up to a generous replica
bound per lane and checks each constraint as the docs state it (analytics/tiers.py): expected
capacity with spot derated, the fleet left after its k largest spot replicas go, on demand
alone serving (1 - max_spot_share) of the peak, minimum replicas, GPU quotas.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, replace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from unitcost.analytics.dominance import undominated
from unitcost.analytics.tiers import Constraints, Option, alone_cost, fleet_ok, solve


@dataclass(frozen=True)
class Lane:
    option: Option
    spot: bool

    @property
    def price(self) -> float:
        usd = self.option.spot_usd_per_hour if self.spot else self.option.od_usd_per_hour
        assert usd is not None
        return usd


def _lanes(options: list[Option], c: Constraints) -> list[Lane]:
    out = []
    for o in options:
        if o.od_usd_per_hour is not None:
            out.append(Lane(o, False))
        if o.spot_usd_per_hour is not None and c.max_spot_share > 0:
            out.append(Lane(o, True))
    return out


def _feasible(lanes: list[Lane], counts: np.ndarray, c: Constraints) -> np.ndarray:
    """Each row of `counts` (replicas per lane) against every constraint, by direct count."""
    r = np.array([ln.option.capacity for ln in lanes])
    spot = np.array([ln.spot for ln in lanes])
    od_cap = counts[:, ~spot] @ r[~spot]
    spot_cap = counts[:, spot] @ r[spot]
    # The k largest spot replicas: take them lane by lane, largest capacity first.
    lost = np.zeros(len(counts))
    left = np.full(len(counts), c.survive_preemptions)
    for j in sorted(np.flatnonzero(spot), key=lambda j: -r[j]):
        take = np.minimum(left, counts[:, j])
        lost += take * r[j]
        left -= take
    ok = od_cap + (1 - c.interruption_rate) * spot_cap >= c.demand - 1e-9
    ok &= od_cap + spot_cap - lost >= c.demand - 1e-9
    ok &= od_cap >= (1 - c.max_spot_share) * c.demand - 1e-9
    ok &= counts.sum(axis=1) >= c.min_replicas
    for g, q in c.quotas.items():
        gpus = np.array([ln.option.gpus if ln.option.gpu_type == g else 0 for ln in lanes])
        ok &= counts @ gpus <= q
    return ok


def _brute(options: list[Option], c: Constraints) -> float | None:
    lanes = _lanes(options, c)
    if not lanes:
        return None
    smallest = min(ln.option.capacity for ln in lanes)
    # More than the program's own bound per lane, so a bound too tight there would show here.
    bound = math.ceil(c.demand / ((1 - c.interruption_rate) * smallest))
    bound += c.min_replicas + c.survive_preemptions + 3
    counts = np.array(list(itertools.product(range(bound + 1), repeat=len(lanes))))
    ok = _feasible(lanes, counts, c)
    if not ok.any():
        return None
    return float((counts[ok] @ np.array([ln.price for ln in lanes])).min())


prices = st.integers(min_value=10, max_value=300).map(lambda v: v / 100)
option = st.builds(
    lambda cap, od, spot, gpu, gpus: (cap, od, spot, gpu, gpus),
    st.sampled_from([1.5, 2.0, 2.5, 3.0, 4.0, 5.0]),
    st.one_of(st.none(), prices),
    st.one_of(st.none(), prices),
    st.sampled_from(["a", "b"]),
    st.sampled_from([1, 2]),
)


@settings(max_examples=150, deadline=None)
@given(
    raw=st.lists(option, min_size=1, max_size=3),
    demand=st.sampled_from([1.0, 2.5, 4.0, 6.0, 7.5]),
    k=st.integers(min_value=0, max_value=2),
    share=st.sampled_from([0.0, 0.3, 0.5, 1.0]),
    rate=st.sampled_from([0.0, 0.1, 0.25]),
    min_replicas=st.integers(min_value=0, max_value=3),
    quota=st.one_of(st.none(), st.integers(min_value=0, max_value=6)),
)
def test_the_program_finds_the_brute_force_optimum(
    raw: list[tuple[float, float | None, float | None, str, int]],
    demand: float,
    k: int,
    share: float,
    rate: float,
    min_replicas: int,
    quota: int | None,
) -> None:
    options = [
        Option(f"o{i}", gpu, gpus, cap, od, spot)
        for i, (cap, od, spot, gpu, gpus) in enumerate(raw)
    ]
    c = Constraints(
        demand=demand,
        min_replicas=min_replicas,
        max_spot_share=share,
        survive_preemptions=k,
        interruption_rate=rate,
        quotas={} if quota is None else {"a": quota},
    )
    for i in reversed(range(len(options))):  # keep the brute force small: at most 4 lanes
        if len(_lanes(options, c)) > 4:
            options[i] = replace(options[i], spot_usd_per_hour=None)
    best = _brute(options, c)
    sol = solve(options, c)
    if best is None:
        assert sol.status == "infeasible" and sol.reason
        assert all(alone_cost(o, c) is None for o in options)
        return
    assert sol.status == "optimal", sol.reason
    assert abs(sol.usd_per_hour - best) < 1e-6 * max(1.0, best)
    assert fleet_ok(options, sol.picks, c)
    for o in options:  # each option's own cheapest fleet (the "costs more by" reasons)
        alone = _brute([o], c)
        got = alone_cost(o, c)
        assert (got is None) == (alone is None)
        assert got is None or alone is None or abs(got - alone) < 1e-9


def _naive_keep(price, cap, spot, group, gpus, quota_groups):  # type: ignore[no-untyped-def]
    """Pairwise: u is dropped when some v dominates it (module docstring of dominance.py)."""
    n = len(price)
    keep = np.ones(n, dtype=bool)
    for u in range(n):
        for v in range(n):
            if u == v:
                continue
            better = (price[v], -cap[v], v) < (price[u], -cap[u], u)
            kind = not spot[v] or spot[u]
            quota = group[v] not in quota_groups or (group[v] == group[u] and gpus[v] <= gpus[u])
            if better and price[v] <= price[u] and cap[v] >= cap[u] and kind and quota:
                keep[u] = False
    return keep


@settings(max_examples=300, deadline=None)
@given(
    lanes=st.lists(
        st.tuples(
            st.sampled_from([1.0, 1.5, 2.0]),
            st.sampled_from([2.0, 3.0, 4.0]),
            st.booleans(),
            st.sampled_from([0, 1, 2]),
            st.sampled_from([1, 2]),
        ),
        min_size=1,
        max_size=12,
    ),
    quota_groups=st.sets(st.sampled_from([0, 1, 2])),
)
def test_the_dominance_sweep_matches_a_pairwise_check(
    lanes: list[tuple[float, float, bool, int, int]], quota_groups: set[int]
) -> None:
    price, cap, spot, group, gpus = (np.array(col) for col in zip(*lanes, strict=True))
    got = undominated(
        price.astype(np.float64), cap.astype(np.float64), spot.astype(np.bool_),
        group.astype(np.int64), gpus.astype(np.int64), quota_groups,
    )  # fmt: skip
    assert got.tolist() == _naive_keep(price, cap, spot, group, gpus, quota_groups).tolist()
