"""Sensitivity (analytics/whatif.py) on hand-worked cases: when the choice changes, when only
an equal-cost candidate swaps in, which cases need no solve, and a price row dominated today
that wins when the chosen one's price rises."""

from __future__ import annotations

from typing import Any

import pytest
from unitcost.analytics import whatif
from unitcost.analytics.tiers import Constraints, Option, Pick, Solution, solve
from unitcost.analytics.whatif import classify, sensitivity

# A: 4 req/s for 2.00 USD/h; A2: another model on the same GPU, same capacity and price.
A = Option("A", "h100", 1, 4.0, 2.00, None)
A2 = Option("A2", "h100", 1, 4.0, 2.00, None)
B = Option("B", "l4", 1, 3.0, 1.45, None)


def _case(out: list[dict[str, Any]], suffix: str) -> dict[str, Any]:
    return next(c for c in out if c["case"].endswith(suffix) or suffix in c["case"])


def test_an_equal_cost_swap_is_not_a_change() -> None:
    # 10 req/s: 3 replicas of A or of A2, 6.00 USD/h either way. A +20% on the chosen one
    # makes the other take over at the same 6.00 and the same capacity on the same GPU type.
    c = Constraints(demand=10)
    base = solve([A, A2], c)
    assert base.usd_per_hour == pytest.approx(6.00)
    plus = _case(sensitivity([A, A2], {}, c, base), "+20%")
    assert plus["change"] == "equivalent" and plus["choice_changed"] is False
    assert plus["usd_per_hour"] == pytest.approx(6.00)
    assert plus["usd_per_hour_if_kept"] == pytest.approx(7.20)
    (other,) = {"A", "A2"} - {p.key for p in base.picks}
    assert plus["choice"] == [{"candidate": other, "on_demand": 3, "spot": 0}]


def test_a_cheaper_type_taking_over_is_a_change() -> None:
    # 8 req/s: 2 A = 4.00 (3 B = 4.35, 1 A + 2 B = 4.90). A at +20% (2.40): 2 A = 4.80 > 4.35,
    # so 3 B take over: the cost moves 9% and the capacity to another GPU type.
    c = Constraints(demand=8)
    base = solve([A, B], c)
    assert {p.key: p.on_demand for p in base.picks} == {"A": 2}
    plus = _case(sensitivity([A, B], {}, c, base), "+20%")
    assert plus["change"] == "material" and plus["choice_changed"] is True
    assert plus["usd_per_hour"] == pytest.approx(4.35)
    assert plus["usd_per_hour_if_kept"] == pytest.approx(4.80)
    assert plus["choice"] == [{"candidate": "B", "on_demand": 3, "spot": 0}]


def test_a_price_row_dominated_today_can_win_under_a_case() -> None:
    # The same config at two price rows, 2.00 and 2.10: today 3 x 2.00 = 6.00. At +20% on the
    # chosen row (2.40), the other row wins: 3 x 2.10 = 6.30, not 7.20 (it must be considered
    # even though it was dominated at today's prices).
    r1 = Option("A @ r1", "h100", 1, 4.0, 2.00, None)
    r2 = Option("A @ r2", "h100", 1, 4.0, 2.10, None)
    c = Constraints(demand=10)
    base = solve([r1, r2], c)
    plus = _case(sensitivity([r1, r2], {}, c, base), "+20%")
    assert plus["usd_per_hour"] == pytest.approx(6.30)
    assert plus["change"] == "material"  # 5% dearer than today: buy from the other row


def test_cases_that_cannot_change_the_choice_are_not_solved(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[Constraints] = []

    def counting(options: Any, c: Constraints) -> Solution:
        calls.append(c)
        return solve(options, c)

    monkeypatch.setattr(whatif, "solve", counting)
    # On demand only: -20% (today's fleet stays optimal), spot low and no interruptions
    # (no spot anywhere) and the rate doubled (the fleet still serves) need no solve.
    c = Constraints(demand=10)
    base = solve([A, B], c)
    out = sensitivity([A, B], {}, c, base)
    assert len(calls) == 1  # +20% only
    minus = _case(out, "-20%")
    assert minus["usd_per_hour"] == pytest.approx(0.8 * base.usd_per_hour)
    assert minus["change"] == "none"
    assert all(case["change"] == "none" for case in out if case is not _case(out, "+20%"))


def test_the_rate_doubled_breaks_an_all_spot_fleet() -> None:
    # Spot 0.60 at interruption 0.25: 4 spot replicas = 4 x 4 x 0.75 = 12 >= 10 for 2.40.
    # Doubled (0.5): 4 x 4 x 0.5 = 8 < 10, so 5 spot (10, 3.00 USD/h) are needed.
    a = Option("A", "h100", 1, 4.0, 2.00, 0.60)
    c = Constraints(demand=10, interruption_rate=0.25)
    base = solve([a], c)
    assert base.usd_per_hour == pytest.approx(2.40)
    out = sensitivity([a], {"A": 0.45}, c, base)
    doubled = _case(out, "doubled")
    assert doubled["usd_per_hour_if_kept"] is None  # today's fleet no longer serves the peak
    assert doubled["change"] == "material" and doubled["usd_per_hour"] == pytest.approx(3.00)
    low = _case(out, "low end")  # 4 spot at 0.45 = 1.80, the same fleet
    assert low["change"] == "none" and low["usd_per_hour"] == pytest.approx(1.80)
    # No low end known: spot keeps its price (it is not taken away).
    same = _case(sensitivity([a], {"A": None}, c, base), "low end")
    assert same["change"] == "none" and same["usd_per_hour"] == pytest.approx(2.40)


def test_classify_a_tie_with_todays_fleet_is_no_change() -> None:
    # The case's solver returned another fleet, but keeping today's costs the same: no change.
    base = Solution("optimal", 6.0, (Pick("A", 3, 0),))
    other = Solution("optimal", 6.0, (Pick("A2", 3, 0),))
    assert classify([A, A2], base, other, kept_usd=6.0) == "none"
    # Keeping today's would cost 7.20: the other fleet takes over, same cost and capacity.
    assert classify([A, A2], base, other, kept_usd=7.2) == "equivalent"
    # Same cost, but the capacity moves to another GPU type: a change.
    b = Option("B4", "l4", 1, 4.0, 2.00, None)
    moved = Solution("optimal", 6.0, (Pick("B4", 3, 0),))
    assert classify([A, b], base, moved, kept_usd=7.2) == "material"
    assert classify([A], base, Solution("infeasible", 0.0), kept_usd=None) == "infeasible"
