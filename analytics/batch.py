"""Batch work: the least-cost way to produce a volume of output tokens by a deadline.

No SLO; option i turns out t_i output tokens/s at full load (spot derated by its interruption
rate p) at c_i USD/hour. Continuous replica-hours h_i and integer replicas n_i per lane (an
option on demand, or on spot): minimise sum(c_i h_i) subject to sum(3600 t_i h_i) >= tokens,
h_i <= deadline x n_i (the work is done by the deadline), quotas on n_i, and at most a share m
of the tokens made on spot. The cheapest tokens per dollar win; the deadline decides how many
replicas run at once.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy.optimize import Bounds, LinearConstraint
from unitcost.analytics.tiers import (
    TIE,
    Constraints,
    Option,
    Pick,
    Solution,
    infeasible,
    run_milp,
)


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
        return infeasible("no candidate left to choose from (see `rejected`)")
    n = len(lanes)
    t_h = c.deadline_hours
    # Variables: h (n, replica-hours, continuous), then n (n, replicas, integer).
    obj = np.concatenate([[float(ln[2] or 0.0) for ln in lanes], np.full(n, TIE)])
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
    res = run_milp(
        obj,
        integrality,
        Bounds(np.zeros(2 * n), ub),
        LinearConstraint(np.array(rows), np.array(lo), np.array(hi)),
    )
    if res.x is None or res.status not in (0, 1):
        return infeasible(_batch_reason(lanes, c))
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
    gap = None if res.status == 0 else float(res.mip_gap)
    return Solution("optimal", per_hour, picks, None, cap, total, done, gap)


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
