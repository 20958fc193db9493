"""What moves a recommendation: prices and interruption rates (sensitivity), and demand that
changes hour by hour (autoscaling). Both re-solve the same program (analytics/tiers.py).

Sensitivity cases: the chosen candidates' prices +20% and -20% (every other price unchanged:
does the choice hold?), spot at the low end of its range, and the spot interruption rate at
0 and doubled. Each case is solved over every candidate (one dominated at today's prices may
win at the case's), and reports the case's least USD/hour, what keeping today's fleet would
cost under it, and whether the choice changes:

  none        the same fleet, or another that costs the same as keeping today's (a tie);
  equivalent  another fleet takes over at today's cost (within 1 %) with the same capacity
              per GPU type, on demand and spot (within 5 % of the fleet's): only an
              equal-cost candidate swapped in, e.g. another model or price row alike;
  material    the cost moves more than that, or capacity moves between GPU types or between
              on demand and spot: the choice changes (`choice_changed`);
  infeasible  no fleet meets the scenario under the case.

Some cases need no solve, and skip it: at -20% today's fleet stays optimal (every fleet costs
at least 80% of what it did, and today's costs exactly 80%); with the interruption rate
doubled, a fleet that still meets the scenario stays optimal (the feasible set only shrank);
a case that changes nothing (no spot price range, no spot allowed, the rate already 0) is
today's answer.

Autoscaling: for each hour of day, the least-cost fleet of the chosen candidates only (their
replicas added or removed, nothing else changes) that serves that hour's demand (the busiest
such hour in the window), with the same constraints (minimum replicas, preemptions, spot share,
quotas); against the fixed fleet sized for the peak, running all 24 hours. Scaling is taken to
be instant: real scale-up takes minutes, so keep some headroom.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, Literal

from unitcost.analytics.tiers import (
    Constraints,
    Option,
    Pick,
    Solution,
    fleet_ok,
    fleet_usd,
    solve,
)

HOURS_PER_MONTH = 730.0  # 8760 / 12
DAYS_PER_MONTH = 365.0 / 12.0
COST_SHARE = 0.01  # a change in USD/hour below this share of today's is not material
CAPACITY_SHARE = 0.05  # nor capacity moved between GPU types / price models below this share

Change = Literal["none", "equivalent", "material", "infeasible"]


def _choice(sol: Solution) -> list[dict[str, Any]]:
    return [{"candidate": p.key, "on_demand": p.on_demand, "spot": p.spot} for p in sol.picks]


def _same(a: Sequence[Pick], b: Sequence[Pick]) -> bool:
    return {(p.key, p.on_demand, p.spot) for p in a} == {(p.key, p.on_demand, p.spot) for p in b}


def _mix(options: Sequence[Option], picks: Sequence[Pick]) -> dict[tuple[str, bool], float]:
    """Nominal capacity per (GPU type, spot?)."""
    by = {o.key: o for o in options}
    out: dict[tuple[str, bool], float] = {}
    for p in picks:
        o = by[p.key]
        for spot, n in ((False, p.on_demand), (True, p.spot)):
            if n:
                out[(o.gpu_type, spot)] = out.get((o.gpu_type, spot), 0.0) + n * o.capacity
    return out


def classify(
    options: Sequence[Option],
    base: Solution,
    case: Solution,
    kept_usd: float | None,
) -> Change:
    """How the case's answer differs from today's (module docstring). `kept_usd`: today's
    fleet under the case, None when it no longer meets the scenario."""
    if case.status != "optimal":
        return "infeasible"
    if _same(case.picks, base.picks):
        return "none"
    if kept_usd is not None and kept_usd - case.usd_per_hour <= COST_SHARE * kept_usd:
        return "none"
    a, b = _mix(options, base.picks), _mix(options, case.picks)
    total = sum(a.values()) or 1.0
    moved = max(abs(a.get(k, 0.0) - b.get(k, 0.0)) for k in a.keys() | b.keys())
    same_cost = abs(case.usd_per_hour - base.usd_per_hour) <= COST_SHARE * base.usd_per_hour
    if kept_usd is not None and same_cost and moved <= CAPACITY_SHARE * total:
        return "equivalent"
    return "material"


def sensitivity(
    options: Sequence[Option],
    low_spot: Mapping[str, float | None],
    c: Constraints,
    base: Solution,
) -> list[dict[str, Any]]:
    """Each case of the module docstring, over every candidate (`options`, not pruned)."""
    chosen = {p.key for p in base.picks}

    def scaled(f: float) -> list[Option]:
        return [
            replace(
                o,
                od_usd_per_hour=None if o.od_usd_per_hour is None else o.od_usd_per_hour * f,
                spot_usd_per_hour=None if o.spot_usd_per_hour is None else o.spot_usd_per_hour * f,
            )
            if o.key in chosen
            else o
            for o in options
        ]

    # A row with no low end of its spot range keeps its (high) spot price.
    low = [
        o if low_spot.get(o.key) is None else replace(o, spot_usd_per_hour=low_spot[o.key])
        for o in options
    ]
    spot_used = c.max_spot_share > 0 and any(o.spot_usd_per_hour is not None for o in options)
    same_low = all(
        o.spot_usd_per_hour == n.spot_usd_per_hour for o, n in zip(options, low, strict=True)
    )
    doubled = min(2 * c.interruption_rate, 0.95)
    # (name, options, constraints, whether today's fleet, if it still meets the scenario,
    # is known to stay optimal: then the case needs no solve)
    cases: list[tuple[str, Sequence[Option], Constraints, bool]] = [
        ("chosen candidates' prices +20%", scaled(1.2), c, False),
        ("chosen candidates' prices -20%", scaled(0.8), c, True),
        ("spot at the low end of its price range", low, c, not spot_used or same_low),
        (
            "no spot interruptions",
            options,
            replace(c, interruption_rate=0.0),
            not spot_used or c.interruption_rate == 0,
        ),
        (
            f"spot interruption rate doubled ({doubled:g})",
            options,
            replace(c, interruption_rate=doubled),
            True,
        ),
    ]
    out = []
    for name, opts, cons, holds in cases:
        kept = fleet_usd(opts, base.picks) if fleet_ok(opts, base.picks, cons) else None
        sol = replace(base, usd_per_hour=kept) if kept is not None and holds else solve(opts, cons)
        change = classify(opts, base, sol, kept)
        out.append(
            {
                "case": name,
                "status": sol.status,
                "usd_per_hour": round(sol.usd_per_hour, 4) if sol.status == "optimal" else None,
                "usd_per_hour_if_kept": None if kept is None else round(kept, 4),
                "change": change,
                "choice_changed": change in ("material", "infeasible"),
                "choice": _choice(sol)
                if change in ("material", "equivalent") and sol.status == "optimal"
                else None,
                "reason": sol.reason,
            }
        )
    return out


def autoscaling(
    options: Sequence[Option],
    c: Constraints,
    base: Solution,
    hourly_rps: Mapping[int, float],
    window: Mapping[str, Any],
) -> dict[str, Any]:
    """Replicas hour by hour and the saving against the fixed peak-sized fleet."""
    chosen = {p.key for p in base.picks}
    mine = [o for o in options if o.key in chosen]
    hours: list[dict[str, Any]] = []
    scaled_usd = 0.0
    for hour in range(24):
        rps = hourly_rps.get(hour)
        if rps is None:  # no data that hour: keep the fixed fleet (never assume it idle)
            hours.append({"hour": hour, "rps": None, "replicas": None, "usd_per_hour": None})
            scaled_usd += base.usd_per_hour
            continue
        sol = solve(mine, replace(c, demand=max(rps, 1e-9)))
        usd = sol.usd_per_hour if sol.status == "optimal" else base.usd_per_hour
        scaled_usd += usd
        hours.append(
            {
                "hour": hour,
                "rps": round(rps, 4),
                "replicas": sum(p.on_demand + p.spot for p in sol.picks)
                if sol.status == "optimal"
                else None,
                "choice": _choice(sol),
                "usd_per_hour": round(usd, 4),
            }
        )
    fixed = base.usd_per_hour * 24
    return {
        "window": dict(window),
        "hours": hours,
        "usd_per_day_fixed": round(fixed, 4),
        "usd_per_day_scaled": round(scaled_usd, 4),
        "savings_usd_per_month": round((fixed - scaled_usd) * DAYS_PER_MONTH, 2),
        "note": "hours of day in UTC; each hour sized for its busiest day in the window; "
        "scaling taken as instant (keep headroom for scale-up time)",
    }
