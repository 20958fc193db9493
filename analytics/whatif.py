"""What moves a recommendation: prices and interruption rates (sensitivity), and demand that
changes hour by hour (autoscaling). Both re-solve the same program (analytics/tiers.py).

Sensitivity cases: the chosen candidates' prices +20% and -20% (every other price unchanged:
does the choice hold?), spot at the low end of its range, and the spot interruption rate at
0 and doubled. Each case reports the new least USD/hour and the choice if it changed.

Autoscaling: for each hour of day, the least-cost fleet of the chosen candidates only (their
replicas added or removed, nothing else changes) that serves that hour's demand (the busiest
such hour in the window), with the same constraints (minimum replicas, preemptions, spot share,
quotas); against the fixed fleet sized for the peak, running all 24 hours. Scaling is taken to
be instant: real scale-up takes minutes, so keep some headroom.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from unitcost.analytics.tiers import Constraints, Option, Solution, solve

HOURS_PER_MONTH = 730.0  # 8760 / 12
DAYS_PER_MONTH = 365.0 / 12.0


def _choice(sol: Solution) -> list[dict[str, Any]]:
    return [{"candidate": p.key, "on_demand": p.on_demand, "spot": p.spot} for p in sol.picks]


def _same(a: Solution, b: Solution) -> bool:
    return {(p.key, p.on_demand, p.spot) for p in a.picks} == {
        (p.key, p.on_demand, p.spot) for p in b.picks
    }


def sensitivity(
    options: Sequence[Option],
    low_spot: Mapping[str, float | None],
    c: Constraints,
    base: Solution,
) -> list[dict[str, Any]]:
    """Re-solve under each case of the module docstring."""
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

    cases: list[tuple[str, Sequence[Option], Constraints]] = [
        ("chosen candidates' prices +20%", scaled(1.2), c),
        ("chosen candidates' prices -20%", scaled(0.8), c),
        (
            "spot at the low end of its price range",
            [
                replace(o, spot_usd_per_hour=low_spot.get(o.key, o.spot_usd_per_hour))
                for o in options
            ],
            c,
        ),
        ("no spot interruptions", options, replace(c, interruption_rate=0.0)),
        (
            f"spot interruption rate doubled ({min(2 * c.interruption_rate, 0.95):g})",
            options,
            replace(c, interruption_rate=min(2 * c.interruption_rate, 0.95)),
        ),
    ]
    out = []
    for name, opts, cons in cases:
        sol = solve(opts, cons)
        changed = sol.status != "optimal" or not _same(sol, base)
        out.append(
            {
                "case": name,
                "status": sol.status,
                "usd_per_hour": round(sol.usd_per_hour, 4) if sol.status == "optimal" else None,
                "choice_changed": changed,
                "choice": _choice(sol) if changed and sol.status == "optimal" else None,
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
