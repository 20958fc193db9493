"""The fleet choice: a mixed-integer program (scipy.optimize.milp, HiGHS) over candidate configs.

Interactive work (`solve`). Each option i (a config at a price) offers replicas of capacity r_i
requests/s at the SLO, at c_i USD/hour on demand and s_i USD/hour spot (either may be missing).
Integer x_i on-demand and y_i spot replicas; minimise sum(c_i x_i + s_i y_i) subject to

  expected capacity   sum(r_i x_i) + (1 - p) sum(r_i y_i) >= D      (spot derated by its
                                                                     interruption rate p)
  preemptions         the fleet still serves D after its k largest spot replicas go (all of
                      its spot replicas when it holds fewer than k): exact, see below
  spot share          on demand alone serves (1 - m) D: sum(r_i x_i) >= (1 - m) D, so at
                      most a share m of the peak rests on spot (if every spot replica went at
                      once, the rest would still serve (1 - m) of the peak)
  replicas            sum(x_i + y_i) >= min_replicas
  quotas              sum(gpus_i (x_i + y_i)) <= Q_g for each GPU type g with a quota.
A mix of GPU types can win: replicas come in whole units, and two sizes round up less than one.
Ties go to fewer replicas.

Preemptions, exactly: the capacity left after the k largest of a multiset of spot replicas go
is max over t >= 0 of sum(r x) + sum(min(r_i, t) y_i) - k t (the sum of the k largest values
is min over t of k t + sum((v - t)+), its LP dual), and the maximum is at t = 0 (on demand
alone) or at a spot capacity. So the fleet survives iff one of these finitely many linear rows
holds; a binary per t (at least one set) makes the disjunction. Every constraint is monotone
in a replica's capacity, which is what lets analytics/dominance.py drop, exactly, every lane
(an option on demand, or on spot) that another no dearer and no smaller lane can replace:
after that, a few lanes are left and HiGHS proves the optimum in milliseconds.

When no fleet satisfies everything, `reason` says what binds: the constraint whose removal
makes it feasible, with the figures. Batch work has its own program (analytics/batch.py).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, cast

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import Bounds, LinearConstraint, OptimizeResult, milp
from unitcost.analytics.dominance import undominated

Status = Literal["optimal", "infeasible"]
TIE = 1e-6  # USD/hour per replica: among equal-cost fleets, the one with fewer replicas
TIME_LIMIT_S = 10.0
_GAP = 1e-9  # relative MIP gap: the optimum, not one within HiGHS's default 0.01 %
# HiGHS's feasibility-jump heuristic (HiGHS 1.10+) takes most of the time on programs this
# small (ERGO-Code/HiGHS#2477: it loops on a tiny MIP); branch and bound alone proves the
# optimum three times sooner here. scipy hands options it does not know to HiGHS verbatim.
_HIGHS_OPTIONS = {"mip_heuristic_run_feasibility_jump": False}


@dataclass(frozen=True)
class Option:
    """One candidate the optimiser may buy replicas of."""

    key: str
    gpu_type: str  # quota group, lower case
    gpus: int  # per replica
    capacity: float  # per replica: requests/s at the SLO (interactive) or output tokens/s (batch)
    od_usd_per_hour: float | None  # per replica; None = no on-demand price
    spot_usd_per_hour: float | None  # per replica; None = no spot price


@dataclass(frozen=True)
class Constraints:
    """What a fleet must satisfy."""

    demand: float  # requests/s at peak (interactive) or output tokens (batch)
    min_replicas: int = 1
    max_spot_share: float = 1.0
    survive_preemptions: int = 0
    interruption_rate: float = 0.1
    quotas: Mapping[str, int] = field(default_factory=dict)  # gpu_type (lower) -> GPUs
    deadline_hours: float | None = None  # batch only


@dataclass(frozen=True)
class Pick:
    key: str
    on_demand: int
    spot: int
    hours: float | None = None  # batch: how long these replicas run


@dataclass(frozen=True)
class Solution:
    status: Status
    usd_per_hour: float  # the fleet's cost while it runs
    picks: tuple[Pick, ...] = ()
    reason: str | None = None
    capacity: float = 0.0  # nominal, every replica up (req/s or tokens/s)
    usd_total: float | None = None  # batch: the job's cost
    hours: float | None = None  # batch: when the job is done
    gap: float | None = None  # relative gap left at the time limit; None: proven optimal


def infeasible(reason: str) -> Solution:
    return Solution("infeasible", 0.0, (), reason)


def _ub(capacity: float, c: Constraints) -> float:
    """Most replicas of one lane an optimal fleet can hold: with one fewer, that lane alone
    would still serve the demand (derated as spot, after losing k of them), so the last one
    only adds cost."""
    alone = math.ceil(c.demand / (capacity * (1.0 - c.interruption_rate)))
    return float(alone + c.min_replicas + c.survive_preemptions + 1)


def solve(options: Sequence[Option], c: Constraints) -> Solution:
    """Least USD/hour fleet of on-demand and spot replicas meeting `c` (interactive)."""
    if not options:
        return infeasible("no candidate left to choose from (see `rejected`)")
    sol = _solve(options, c)
    if sol.status == "optimal" or sol.reason:
        return sol
    return infeasible(_explain(options, c))


@dataclass(frozen=True)
class _Lanes:
    """The ways to buy a replica (an option on demand or on spot), dominated ones dropped."""

    option: NDArray[np.int64]  # index into the options
    spot: NDArray[np.bool_]
    price: NDArray[np.float64]  # USD/hour per replica
    cap: NDArray[np.float64]  # req/s per replica
    gpus: NDArray[np.int64]
    group: NDArray[np.int64]  # GPU type, as an index into groups
    groups: list[str]

    def only(self, keep: NDArray[np.bool_]) -> _Lanes:
        return _Lanes(
            self.option[keep], self.spot[keep], self.price[keep], self.cap[keep],
            self.gpus[keep], self.group[keep], self.groups,
        )  # fmt: skip


def _lanes(options: Sequence[Option], c: Constraints) -> _Lanes:
    groups: dict[str, int] = {}
    group = np.array([groups.setdefault(o.gpu_type, len(groups)) for o in options], np.int64)
    cap = np.array([o.capacity for o in options], np.float64)
    gpus = np.array([o.gpus for o in options], np.int64)
    # One on-demand lane then one spot lane per option; a missing price is no lane.
    od = np.array([np.nan if o.od_usd_per_hour is None else o.od_usd_per_hour for o in options])
    sp = np.array([np.nan if o.spot_usd_per_hour is None else o.spot_usd_per_hour for o in options])
    if c.max_spot_share <= 0:
        sp[:] = np.nan
    price = np.stack([od, sp], axis=1).ravel()
    idx = np.repeat(np.arange(len(options), dtype=np.int64), 2)
    ln = _Lanes(
        idx,
        np.tile(np.array([False, True]), len(options)),
        price,
        cap[idx],
        gpus[idx],
        group[idx],
        list(groups),
    ).only(~np.isnan(price) & (cap[idx] > 0))
    quota = {groups[g] for g in c.quotas if g in groups}
    return ln.only(undominated(ln.price, ln.cap, ln.spot, ln.group, ln.gpus, quota))


def _solve(options: Sequence[Option], c: Constraints) -> Solution:
    """The program over the undominated lanes; infeasible with no reason when nothing fits."""
    ln = _lanes(options, c)
    n, k = len(ln.price), c.survive_preemptions
    if n == 0:
        return infeasible("")
    od, sp = ~ln.spot, ln.spot
    r_od, r_sp = np.where(od, ln.cap, 0.0), np.where(sp, ln.cap, 0.0)
    # Variables: a replica count per lane, then a binary w_t per preemption row (module
    # docstring): t = 0 and each spot capacity, only when preemptions are asked for.
    ts = np.unique(np.concatenate([[0.0], ln.cap[sp]])) if k and sp.any() else np.zeros(0)
    nt = len(ts)
    rows: list[NDArray[np.float64]] = []
    lo: list[float] = []
    hi: list[float] = []

    def add(lanes_part: NDArray[np.float64], low: float, high: float) -> None:
        rows.append(np.concatenate([lanes_part, np.zeros(nt)]))
        lo.append(low)
        hi.append(high)

    add(r_od + (1.0 - c.interruption_rate) * r_sp, c.demand, np.inf)
    add(np.ones(n), float(c.min_replicas), np.inf)
    if c.max_spot_share < 1.0:
        add(r_od, (1.0 - c.max_spot_share) * c.demand, np.inf)
    for name, q in c.quotas.items():
        if name in ln.groups:
            mine = ln.group == ln.groups.index(name)
            if mine.any():
                add(np.where(mine, ln.gpus, 0).astype(np.float64), -np.inf, float(q))
    for j, t in enumerate(ts):
        # w_t = 1: sum(r x) + sum(min(r, t) y) >= D + k t; w_t = 0 leaves it trivially true.
        add(r_od + np.minimum(r_sp, t), 0.0, np.inf)
        rows[-1][n + j] = -(c.demand + k * t)
    if nt:
        rows.append(np.concatenate([np.zeros(n), np.ones(nt)]))
        lo.append(1.0)
        hi.append(np.inf)
    res = run_milp(
        np.concatenate([ln.price + TIE, np.zeros(nt)]),
        np.ones(n + nt, dtype=np.int64),
        Bounds(np.zeros(n + nt), np.concatenate([[_ub(r, c) for r in ln.cap], np.ones(nt)])),
        LinearConstraint(np.array(rows), np.array(lo), np.array(hi)),
    )
    if res.x is None:
        if res.status == 1:
            return infeasible(
                f"the solver found no fleet within its {TIME_LIMIT_S:g} s limit (not proven "
                "infeasible: narrow the candidates with allowed_models or quality_floor)"
            )
        return infeasible("")
    count = np.rint(res.x[:n]).astype(np.int64)
    x = np.zeros(len(options), dtype=np.int64)
    y = np.zeros(len(options), dtype=np.int64)
    np.add.at(x, ln.option[od], count[od])
    np.add.at(y, ln.option[sp], count[sp])
    picks = tuple(Pick(o.key, int(x[i]), int(y[i])) for i, o in enumerate(options) if x[i] or y[i])
    gap = None if res.status == 0 else float(res.mip_gap)
    return Solution(
        "optimal", fleet_usd(options, picks), picks, None, fleet_capacity(options, picks),
        gap=gap,
    )  # fmt: skip


def run_milp(
    cost: NDArray[np.float64],
    integrality: NDArray[np.int64],
    bounds: Bounds,
    constraints: LinearConstraint,
) -> OptimizeResult:
    """scipy.optimize.milp with the time limit, the gap and the HiGHS options above; without
    the HiGHS options where this HiGHS does not have them."""
    options: dict[str, Any] = {"time_limit": TIME_LIMIT_S, "mip_rel_gap": _GAP}
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Unrecognized options", RuntimeWarning)
        try:
            return milp(
                cost, integrality=integrality, bounds=bounds, constraints=constraints,
                options=cast(Any, {**options, **_HIGHS_OPTIONS}),  # beyond scipy's keys
            )  # fmt: skip
        except AttributeError:  # an older HiGHS, without feasibility jump
            return milp(
                cost, integrality=integrality, bounds=bounds, constraints=constraints,
                options=cast(Any, options),
            )  # fmt: skip


def fleet_usd(options: Sequence[Option], picks: Sequence[Pick]) -> float:
    """USD/hour of these picks at these options' prices (None prices count as unavailable:
    infinite)."""
    by = {o.key: o for o in options}
    total = 0.0
    for p in picks:
        o = by[p.key]
        for n, usd in ((p.on_demand, o.od_usd_per_hour), (p.spot, o.spot_usd_per_hour)):
            if n:
                total += math.inf if usd is None else n * usd
    return total


def fleet_capacity(options: Sequence[Option], picks: Sequence[Pick]) -> float:
    """Nominal capacity of these picks, every replica up."""
    by = {o.key: o for o in options}
    return sum(by[p.key].capacity * (p.on_demand + p.spot) for p in picks)


def fleet_ok(options: Sequence[Option], picks: Sequence[Pick], c: Constraints) -> bool:
    """Whether a given fleet meets `c` (the constraints of the module docstring, checked
    directly: used to tell whether a fleet still holds when a scenario's figures move)."""
    by = {o.key: o for o in options}
    od = sum(by[p.key].capacity * p.on_demand for p in picks)
    spot = sorted((by[p.key].capacity for p in picks for _ in range(p.spot)), reverse=True)
    gpus: dict[str, int] = {}
    for p in picks:
        o = by[p.key]
        gpus[o.gpu_type] = gpus.get(o.gpu_type, 0) + o.gpus * (p.on_demand + p.spot)
        if (p.on_demand and o.od_usd_per_hour is None) or (
            p.spot and (o.spot_usd_per_hour is None or c.max_spot_share <= 0)
        ):
            return False
    eps = 1e-9 * max(1.0, c.demand)
    return (
        od + (1 - c.interruption_rate) * sum(spot) >= c.demand - eps
        and od + sum(spot[c.survive_preemptions :]) >= c.demand - eps
        and od >= (1 - c.max_spot_share) * c.demand - eps
        and sum(p.on_demand + p.spot for p in picks) >= c.min_replicas
        and all(gpus.get(g, 0) <= q for g, q in c.quotas.items())
    )


def _explain(options: Sequence[Option], c: Constraints) -> str:
    """Name what binds: the first constraint whose removal makes a fleet possible."""
    relax: list[tuple[str, Constraints]] = []
    if c.quotas:
        relax.append(("quotas", replace(c, quotas={})))
    if c.survive_preemptions:
        relax.append(("survive_preemptions", replace(c, survive_preemptions=0)))
    if c.max_spot_share < 1.0:
        relax.append(("max_spot_share", replace(c, max_spot_share=1.0)))
    for name, relaxed in relax:
        if _solve(options, relaxed).status == "optimal":
            if name == "quotas":
                return _quota_reason(options, c)
            if name == "survive_preemptions":
                return (
                    f"survive_preemptions = {c.survive_preemptions} cannot be met with the "
                    "quotas and spot limits given: too few replicas may be bought to lose "
                    f"{c.survive_preemptions} spot replicas and still serve {c.demand:g} req/s"
                )
            return (
                f"max_spot_share = {c.max_spot_share:g} needs on-demand replicas that alone "
                f"serve {(1 - c.max_spot_share) * c.demand:g} req/s, and the candidates with "
                "an on-demand price cannot within the quotas"
            )
    od = [o for o in options if o.od_usd_per_hour is not None]
    if not od and c.max_spot_share < 1.0:
        return "no candidate has an on-demand price, and max_spot_share < 1 needs on-demand"
    return f"no fleet of the candidates meets {c.demand:g} req/s under these constraints"


def _quota_reason(options: Sequence[Option], c: Constraints) -> str:
    best: dict[str, Option] = {}
    for o in options:
        if o.gpu_type in c.quotas and (
            o.gpu_type not in best
            or o.capacity / o.gpus > best[o.gpu_type].capacity / best[o.gpu_type].gpus
        ):
            best[o.gpu_type] = o
    parts, total = [], 0.0
    for g, o in sorted(best.items()):
        n = c.quotas[g] // o.gpus
        total += n * o.capacity
        parts.append(f"{g} quota {c.quotas[g]} GPUs = {n} x {o.capacity:.3g} req/s")
    unquoted = sorted({o.gpu_type for o in options} - set(c.quotas))
    more = "; no other GPU type qualifies" if not unquoted else ""
    return (
        f"the GPU quotas bind: at most {total:.3g} req/s from quota-limited types "
        f"({'; '.join(parts)}){more}, against a peak of {c.demand:g} req/s"
    )


def prune(options: Sequence[Option]) -> tuple[list[Option], dict[str, str]]:
    """Options worth solving over, and each dominated one -> the option that dominates it.

    Among options with the same GPU type, GPUs and capacity (one config at several prices),
    one whose on-demand and spot prices are both no lower than another's can never be needed:
    any fleet using it costs no less with the other (missing prices count as infinite). Ties
    keep the first. Options that differ in capacity are never pruned, because a smaller
    replica can round up better (the point of mixing).
    """
    inf = math.inf
    groups: dict[tuple[str, int, float], list[Option]] = {}
    for o in options:
        groups.setdefault((o.gpu_type, o.gpus, o.capacity), []).append(o)
    kept: list[Option] = []
    dominated: dict[str, str] = {}
    for group in groups.values():
        front: list[Option] = []
        for o in sorted(
            group, key=lambda o: (o.od_usd_per_hour or inf, o.spot_usd_per_hour or inf)
        ):
            od, spot = o.od_usd_per_hour or inf, o.spot_usd_per_hour or inf
            by = next(
                (f for f in front
                 if (f.od_usd_per_hour or inf) <= od and (f.spot_usd_per_hour or inf) <= spot),
                None,
            )  # fmt: skip
            if by is None:
                front.append(o)
            else:
                dominated[o.key] = by.key
        kept.extend(front)
    order = {o.key: i for i, o in enumerate(options)}
    return sorted(kept, key=lambda o: order[o.key]), dominated


def alone_cost(o: Option, c: Constraints) -> float | None:
    """Least USD/hour of a fleet of this option only (None: it cannot meet `c` alone): for
    each number of spot replicas y, the fewest on-demand replicas x that meet every
    constraint, counted directly."""
    if o.capacity <= 0:
        return None
    p, k, m, r = c.interruption_rate, c.survive_preemptions, c.max_spot_share, o.capacity
    max_y = 0 if o.spot_usd_per_hour is None or m <= 0 else int(_ub(r, c))
    y = np.arange(max_y + 1, dtype=np.float64)
    need = np.maximum.reduce(
        [
            (c.demand - (1 - p) * r * y) / r,  # expected capacity
            (c.demand + r * np.minimum(k, y)) / r - y,  # after losing min(k, y) spot replicas
            c.min_replicas - y,
            np.full_like(y, (1 - m) * c.demand / r),  # on demand alone: (1 - m) of the peak
        ]
    )
    x = np.maximum(0.0, np.ceil(need - 1e-9))
    ok = np.ones(len(y), dtype=np.bool_)
    if o.od_usd_per_hour is None:
        ok &= x == 0
    quota = c.quotas.get(o.gpu_type)
    if quota is not None:
        ok &= o.gpus * (x + y) <= quota
    if not ok.any():
        return None
    usd = (o.od_usd_per_hour or 0.0) * x + (o.spot_usd_per_hour or 0.0) * y
    return float(usd[ok].min())
