"""The fleet choice: a mixed-integer program (scipy.optimize.milp, HiGHS) over candidate configs.

Interactive work (`solve`). Each option i (a config at a price) offers replicas of capacity r_i
requests/s at the SLO, at c_i USD/hour on demand and s_i USD/hour spot (either may be missing).
Integer x_i on-demand and y_i spot replicas; minimise sum(c_i x_i + s_i y_i) subject to

  expected capacity   sum(r_i x_i) + (1 - p) sum(r_i y_i) >= D      (spot derated by its
                                                                     interruption rate p)
  preemptions         the fleet still serves D after k spot replicas go: the k lost are taken
                      to be of the largest spot replica the fleet uses (R >= r_i when y_i > 0),
                      so sum(r x) + sum(r y) - k R >= D, or else on demand alone covers D
                      (sum(r x) >= D; a binary picks which). Conservative when the fleet holds
                      fewer than k spot replicas of its largest type.
  spot share          sum(r_i y_i) <= m * (sum(r_i x_i) + sum(r_i y_i))
  replicas            sum(x_i + y_i) >= min_replicas
  quotas              sum(gpus_i (x_i + y_i)) <= Q_g for each GPU type g with a quota.
A mix of GPU types can win: replicas come in whole units, and two sizes round up less than one.
Ties go to fewer replicas.

Batch work (`solve_batch`): no SLO; option i turns out t_i output tokens/s at full load
(spot derated by p) at c_i USD/hour. Continuous replica-hours h_i and integer replicas n_i:
minimise sum(c_i h_i) subject to sum(3600 t_i h_i) >= tokens, h_i <= deadline x n_i (the work
is done by the deadline), quotas on n_i and the spot share of tokens. The cheapest tokens per
dollar win; the deadline decides how many replicas run at once.

When no fleet satisfies everything, `reason` says what binds: the constraint whose removal
makes it feasible, with the figures.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

Status = Literal["optimal", "infeasible"]
_TIE = 1e-6  # USD/hour per replica: among equal-cost fleets, the one with fewer replicas
_TIME_LIMIT_S = 10.0


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


def _infeasible(reason: str) -> Solution:
    return Solution("infeasible", 0.0, (), reason)


def _ub(o: Option, c: Constraints, price: float | None) -> float:
    """Upper bound on one option's replicas: enough alone for everything, plus slack."""
    if price is None or o.capacity <= 0:
        return 0.0
    alone = math.ceil(c.demand / (o.capacity * (1.0 - c.interruption_rate)))
    return float(alone + c.min_replicas + c.survive_preemptions + 1)


def solve(options: Sequence[Option], c: Constraints) -> Solution:
    """Least USD/hour fleet of on-demand and spot replicas meeting `c` (interactive)."""
    if not options:
        return _infeasible("no candidate left to choose from (see `rejected`)")
    sol = _solve(options, c)
    return sol if sol.status == "optimal" else _infeasible(_explain(options, c))


def _solve(options: Sequence[Option], c: Constraints) -> Solution:
    n = len(options)
    k = c.survive_preemptions
    r = np.array([o.capacity for o in options])
    ub_x = np.array([_ub(o, c, o.od_usd_per_hour) for o in options])
    ub_y = np.array([_ub(o, c, o.spot_usd_per_hour) for o in options])
    if c.max_spot_share <= 0:
        ub_y[:] = 0
    cost = [o.od_usd_per_hour or 0.0 for o in options] + [
        o.spot_usd_per_hour or 0.0 for o in options
    ]
    # Variables: x (n), y (n), then with preemptions: s (n binaries), R, z.
    nv = 2 * n + (n + 2 if k else 0)
    obj = np.zeros(nv)
    obj[: 2 * n] = np.array(cost) + _TIE
    lb, ub = np.zeros(nv), np.zeros(nv)
    ub[:n], ub[n : 2 * n] = ub_x, ub_y
    integrality = np.ones(nv, dtype=np.int64)
    rows: list[np.ndarray] = []
    lo: list[float] = []
    hi: list[float] = []

    def add(row: np.ndarray, low: float, high: float) -> None:
        rows.append(row)
        lo.append(low)
        hi.append(high)

    row = np.zeros(nv)
    row[:n], row[n : 2 * n] = r, (1.0 - c.interruption_rate) * r
    add(row, c.demand, np.inf)
    row = np.zeros(nv)
    row[: 2 * n] = 1.0
    add(row, float(c.min_replicas), np.inf)
    if c.max_spot_share < 1.0:
        row = np.zeros(nv)
        row[:n], row[n : 2 * n] = -c.max_spot_share * r, (1.0 - c.max_spot_share) * r
        add(row, -np.inf, 0.0)
    quota_rows = {g: q for g, q in c.quotas.items() if any(o.gpu_type == g for o in options)}
    for g, q in quota_rows.items():
        row = np.zeros(nv)
        for i, o in enumerate(options):
            if o.gpu_type == g:
                row[i] = row[n + i] = o.gpus
        add(row, -np.inf, float(q))
    if k:
        s0, big_r, z = 2 * n, 3 * n, 3 * n + 1
        ub[s0 : s0 + n] = 1.0
        ub[big_r] = float(r.max())
        integrality[big_r] = 0
        ub[z] = 1.0
        # Tight big-Ms (a weak one slows branch and bound): z = 0 relaxes the first row by
        # at most D + k R (capacity is never negative), z = 1 the second by D.
        m_lose, m_od = c.demand + k * float(r.max()), c.demand
        for i in range(n):  # y_i > 0 -> s_i = 1 -> R >= r_i
            row = np.zeros(nv)
            row[n + i], row[s0 + i] = 1.0, -max(ub_y[i], 1.0)
            add(row, -np.inf, 0.0)
            row = np.zeros(nv)
            row[s0 + i], row[big_r] = r[i], -1.0
            add(row, -np.inf, 0.0)
        row = np.zeros(nv)  # z = 0: sum(r x) + sum(r y) - k R >= D
        row[:n], row[n : 2 * n], row[big_r], row[z] = r, r, -k, m_lose
        add(row, c.demand, np.inf)
        row = np.zeros(nv)  # z = 1: sum(r x) >= D
        row[:n], row[z] = r, -m_od
        add(row, c.demand - m_od, np.inf)
    res = milp(
        obj,
        integrality=integrality,
        bounds=Bounds(lb, ub),
        constraints=LinearConstraint(np.array(rows), np.array(lo), np.array(hi)),
        options={"time_limit": _TIME_LIMIT_S},
    )
    if res.x is None or res.status not in (0, 1):
        return _infeasible("")
    x = np.rint(res.x[:n]).astype(int)
    y = np.rint(res.x[n : 2 * n]).astype(int)
    picks = tuple(Pick(o.key, int(x[i]), int(y[i])) for i, o in enumerate(options) if x[i] or y[i])
    usd = sum((o.od_usd_per_hour or 0.0) * x[i] + (o.spot_usd_per_hour or 0.0) * y[i]
              for i, o in enumerate(options))  # fmt: skip
    return Solution("optimal", float(usd), picks, None, float(r @ (x + y)))


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
                f"max_spot_share = {c.max_spot_share:g} leaves too little on-demand capacity: "
                "the candidates that would carry the rest have no on-demand price or hit quotas"
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
    """Least USD/hour of a fleet of this option only (None: it cannot meet `c` alone)."""
    if o.capacity <= 0:
        return None
    p, k, m, r = c.interruption_rate, c.survive_preemptions, c.max_spot_share, o.capacity
    max_y = 0 if o.spot_usd_per_hour is None or m <= 0 else int(_ub(o, c, 0.0))
    quota = c.quotas.get(o.gpu_type)
    best: float | None = None
    for y in range(max_y + 1):
        need = [
            (c.demand - (1 - p) * r * y) / r,
            (c.demand + r * min(k, y)) / r - y,
            c.min_replicas - y,
            y * (1 - m) / m if m < 1 else 0.0,
        ]
        x = max(0, math.ceil(max(need) - 1e-9))
        if x and o.od_usd_per_hour is None:
            continue
        if quota is not None and o.gpus * (x + y) > quota:
            continue
        usd = (o.od_usd_per_hour or 0.0) * x + (o.spot_usd_per_hour or 0.0) * y
        if best is None or usd < best:
            best = usd
    return best


def solve_batch(options: Sequence[Option], c: Constraints) -> Solution:
    """Least-cost way to produce `c.demand` output tokens by `c.deadline_hours` (batch)."""
    if c.deadline_hours is None:
        raise ValueError("batch work needs a deadline")
    # Each option splits into an on-demand and a spot variant: (option, spot?, USD/h, tok/s).
    lanes = [(o, False, o.od_usd_per_hour, o.capacity) for o in options if o.od_usd_per_hour]
    if c.max_spot_share > 0:
        lanes += [
            (o, True, o.spot_usd_per_hour, o.capacity * (1 - c.interruption_rate))
            for o in options
            if o.spot_usd_per_hour
        ]
    lanes = [ln for ln in lanes if ln[3] > 0]
    if not lanes:
        return _infeasible("no candidate left to choose from (see `rejected`)")
    n = len(lanes)
    t_h = c.deadline_hours
    # Variables: h (n, replica-hours, continuous), then n (n, replicas, integer).
    obj = np.concatenate([[float(ln[2] or 0.0) for ln in lanes], np.full(n, _TIE)])
    integrality = np.concatenate([np.zeros(n, dtype=np.int64), np.ones(n, dtype=np.int64)])
    ub = np.concatenate(
        [np.full(n, np.inf), [math.ceil(c.demand / (3600 * ln[3] * t_h)) + 1.0 for ln in lanes]]
    )
    rows, lo, hi = [], [], []
    rows.append(np.concatenate([[3600.0 * ln[3] for ln in lanes], np.zeros(n)]))
    lo.append(c.demand)
    hi.append(np.inf)
    for i in range(n):
        row = np.zeros(2 * n)
        row[i], row[n + i] = 1.0, -t_h
        rows.append(row)
        lo.append(-np.inf)
        hi.append(0.0)
    if c.max_spot_share < 1.0:
        row = np.zeros(2 * n)
        for i, ln in enumerate(lanes):
            row[i] = 3600.0 * ln[3] * ((1 - c.max_spot_share) if ln[1] else -c.max_spot_share)
        rows.append(row)
        lo.append(-np.inf)
        hi.append(0.0)
    for g, q in c.quotas.items():
        row = np.zeros(2 * n)
        for i, ln in enumerate(lanes):
            if ln[0].gpu_type == g:
                row[n + i] = ln[0].gpus
        if row.any():
            rows.append(row)
            lo.append(-np.inf)
            hi.append(float(q))
    res = milp(
        obj,
        integrality=integrality,
        bounds=Bounds(np.zeros(2 * n), ub),
        constraints=LinearConstraint(np.array(rows), np.array(lo), np.array(hi)),
        options={"time_limit": _TIME_LIMIT_S},
    )
    if res.x is None or res.status not in (0, 1):
        return _infeasible(_batch_reason(lanes, c))
    hours = res.x[:n]
    reps = np.rint(res.x[n:]).astype(int)
    by_key: dict[str, list[float]] = {}
    order: list[str] = []
    for i, (o, spot, _, _) in enumerate(lanes):
        if reps[i] <= 0 or hours[i] <= 1e-9:
            continue
        if o.key not in by_key:
            by_key[o.key] = [0, 0, 0.0]
            order.append(o.key)
        by_key[o.key][1 if spot else 0] += int(reps[i])
        by_key[o.key][2] = max(by_key[o.key][2], float(hours[i] / reps[i]))
    picks = tuple(Pick(k, int(v[0]), int(v[1]), v[2]) for k, v in ((k, by_key[k]) for k in order))
    total = float(sum(float(ln[2] or 0.0) * hours[i] for i, ln in enumerate(lanes)))
    per_hour = float(
        sum(float(ln[2] or 0.0) * reps[i] for i, ln in enumerate(lanes) if hours[i] > 1e-9)
    )
    done = max((p.hours or 0.0) for p in picks) if picks else 0.0
    cap = float(sum(ln[3] * reps[i] for i, ln in enumerate(lanes) if hours[i] > 1e-9))
    return Solution("optimal", per_hour, picks, None, cap, total, done)


def _batch_reason(lanes: Sequence[tuple[Option, bool, float | None, float]], c: Constraints) -> str:
    fastest = 0.0
    for g in {ln[0].gpu_type for ln in lanes}:
        group = [ln for ln in lanes if ln[0].gpu_type == g]
        best = max(group, key=lambda ln: ln[3] / ln[0].gpus)
        q = c.quotas.get(g)
        fastest += best[3] * (q // best[0].gpus) if q is not None else math.inf
    if math.isinf(fastest):
        return "no fleet of the candidates produces the tokens by the deadline"
    need = c.demand / (3600 * (c.deadline_hours or 1))
    return (
        f"the GPU quotas bind: at most {fastest:,.0f} output tokens/s within them, and "
        f"{c.demand:,.0f} tokens in {c.deadline_hours:g} hours need {need:,.0f} tokens/s"
    )
