"""The fleet optimiser (analytics/tiers.py) on cases whose optimum is worked out by hand."""

from __future__ import annotations

import itertools

import pytest
from unitcost.analytics.batch import solve_batch
from unitcost.analytics.tiers import Constraints, Option, alone_cost, solve

# A: 4 req/s per replica at 2.00 USD/h; B: 3 req/s at 1.45 USD/h (both on demand only).
A = Option("A", "h100", 1, 4.0, 2.00, None)
B = Option("B", "l4", 1, 3.0, 1.45, None)


def _picks(sol: object) -> dict[str, tuple[int, int]]:
    return {p.key: (p.on_demand, p.spot) for p in sol.picks}  # type: ignore[attr-defined]


def test_one_type_rounds_up_to_whole_replicas() -> None:
    # 10 req/s on A: ceil(10 / 4) = 3 replicas x 2.00 = 6.00 USD/h.
    sol = solve([A], Constraints(demand=10))
    assert sol.status == "optimal"
    assert _picks(sol) == {"A": (3, 0)}
    assert sol.usd_per_hour == pytest.approx(6.00)
    assert sol.capacity == 12.0


def test_a_mix_of_gpu_types_beats_either_alone() -> None:
    # A alone: 3 x 2.00 = 6.00; B alone: ceil(10 / 3) = 4 x 1.45 = 5.80;
    # 1 A + 2 B = 4 + 6 = 10 req/s for 2.00 + 2.90 = 4.90 USD/h (Melange's point).
    c = Constraints(demand=10)
    sol = solve([A, B], c)
    assert _picks(sol) == {"A": (1, 0), "B": (0 + 2, 0)}
    assert sol.usd_per_hour == pytest.approx(4.90)
    assert alone_cost(A, c) == pytest.approx(6.00)
    assert alone_cost(B, c) == pytest.approx(5.80)
    # Brute force over every small fleet agrees.
    best = min(
        2.00 * a + 1.45 * b for a, b in itertools.product(range(6), range(6)) if 4 * a + 3 * b >= 10
    )
    assert sol.usd_per_hour == pytest.approx(best)


def test_spot_is_derated_by_its_interruption_rate() -> None:
    # Spot 0.60 USD/h at interruption rate 0.25: 3 req/s expected per replica.
    # All spot: ceil(10 / 3) = 4 x 0.60 = 2.40 USD/h (1 on demand + 2 spot would be 3.20).
    a = Option("A", "h100", 1, 4.0, 2.00, 0.60)
    sol = solve([a], Constraints(demand=10, interruption_rate=0.25))
    assert _picks(sol) == {"A": (0, 4)}
    assert sol.usd_per_hour == pytest.approx(2.40)


def test_the_fleet_survives_preemptions() -> None:
    a = Option("A", "h100", 1, 4.0, 2.00, 0.60)
    # Lose 1 of 4 spot replicas: 16 - 4 = 12 >= 10, still 2.40 USD/h.
    one = solve([a], Constraints(demand=10, interruption_rate=0.25, survive_preemptions=1))
    assert _picks(one) == {"A": (0, 4)} and one.usd_per_hour == pytest.approx(2.40)
    # Lose 2: 4 spot leave 8 < 10; 5 spot leave 12 (3.00 USD/h); 4 spot + 1 on demand leave
    # 12 too but cost 4.40; 3 on demand alone cost 6.00. Optimum: 5 spot, 3.00 USD/h.
    two = solve([a], Constraints(demand=10, interruption_rate=0.25, survive_preemptions=2))
    assert _picks(two) == {"A": (0, 5)} and two.usd_per_hour == pytest.approx(3.00)
    assert alone_cost(a, Constraints(demand=10, interruption_rate=0.25, survive_preemptions=2)) == (
        pytest.approx(3.00)
    )


def test_the_spot_share_is_capped() -> None:
    # At most half the peak on spot: on demand alone serves >= 5 req/s, so 2 on demand (8);
    # then 8 + 0.75 x 4 y >= 10 needs 1 spot: 4.00 + 0.60 = 4.60 USD/h (3 on demand = 6.00).
    a = Option("A", "h100", 1, 4.0, 2.00, 0.60)
    c = Constraints(demand=10, interruption_rate=0.25, max_spot_share=0.5)
    sol = solve([a], c)
    assert _picks(sol) == {"A": (2, 1)} and sol.usd_per_hour == pytest.approx(4.60)
    assert alone_cost(a, c) == pytest.approx(4.60)


def test_the_spot_share_counts_the_peak_not_the_fleets_capacity() -> None:
    # max_spot_share 0.3: on demand alone must serve 7 req/s -> 2 on demand (8). Surviving 1
    # preemption: 2 + 1 spot leave 8 < 10, 2 + 2 spot leave 12: 4.00 + 1.20 = 5.20 USD/h, half
    # of the capacity on spot, which insures the peak beyond the 70% on demand (3 on demand
    # alone would cost 6.00).
    a = Option("A", "h100", 1, 4.0, 2.00, 0.60)
    c = Constraints(demand=10, interruption_rate=0.1, max_spot_share=0.3, survive_preemptions=1)
    sol = solve([a], c)
    assert _picks(sol) == {"A": (2, 2)} and sol.usd_per_hour == pytest.approx(5.20)
    # No spot at all: on demand must carry the whole peak.
    none = solve([a], Constraints(demand=10, max_spot_share=0.0))
    assert _picks(none) == {"A": (3, 0)} and none.usd_per_hour == pytest.approx(6.00)


def test_preemptions_count_the_largest_spot_replicas_lost() -> None:
    # Spot only, no derating, peak 10, survive 2 preemptions. B: 6 req/s at 0.10 (quota: one);
    # S: 2 req/s at 0.25. 1 B + 6 S = 18 req/s loses its two largest, 6 + 2, and keeps 10 for
    # 0.10 + 1.50 = 1.60 USD/h; 1 B + 5 S keeps 8; 7 S keep 14 - 4 = 10 for 1.75. Counting
    # 2 x the largest (12) instead would refuse 1 B + 6 S and answer 1.75.
    b = Option("B", "h100", 1, 6.0, None, 0.10)
    s = Option("S", "l4", 1, 2.0, None, 0.25)
    c = Constraints(demand=10, interruption_rate=0.0, survive_preemptions=2, quotas={"h100": 1})
    sol = solve([b, s], c)
    assert _picks(sol) == {"B": (0, 1), "S": (0, 6)} and sol.usd_per_hour == pytest.approx(1.60)
    assert alone_cost(s, c) == pytest.approx(1.75)


def test_minimum_replicas() -> None:
    # 1 req/s needs one A replica; min_replicas 2 makes it 2 x 2.00 = 4.00 USD/h.
    assert solve([A], Constraints(demand=1)).usd_per_hour == pytest.approx(2.00)
    assert solve([A], Constraints(demand=1, min_replicas=2)).usd_per_hour == pytest.approx(4.00)


def test_a_quota_pushes_the_rest_onto_another_type() -> None:
    # A2 is the cheaper per req/s (4 req/s for 1.20) but capped at 1 replica (quota 2 GPUs,
    # 2 GPUs each): 1 x A2 + ceil((10 - 4) / 3) = 2 x B -> 1.20 + 2.90 = 4.10 USD/h.
    a2 = Option("A2", "h100", 2, 4.0, 1.20, None)
    sol = solve([a2, B], Constraints(demand=10, quotas={"h100": 2}))
    assert _picks(sol) == {"A2": (1, 0), "B": (2, 0)}
    assert sol.usd_per_hour == pytest.approx(4.10)


def test_infeasible_names_the_binding_quota() -> None:
    # Quota 2 GPUs of H100 -> at most 2 x 4 = 8 req/s, below the 10 req/s peak.
    sol = solve([A], Constraints(demand=10, quotas={"h100": 2}))
    assert sol.status == "infeasible" and not sol.picks
    assert sol.reason is not None
    assert "the GPU quotas bind: at most 8 req/s" in sol.reason
    assert "against a peak of 10 req/s" in sol.reason


def test_no_candidates_is_infeasible_with_a_reason() -> None:
    sol = solve([], Constraints(demand=10))
    assert sol.status == "infeasible" and "no candidate" in (sol.reason or "")


def test_batch_buys_the_cheapest_tokens_and_enough_replicas_for_the_deadline() -> None:
    # A: 1000 tokens/s; on demand 2.00 USD/h (3.6 M tokens per replica-hour, 0.556 USD/M),
    # spot 0.80 USD/h at interruption 0.2 (800 tokens/s: 2.88 M per replica-hour, 0.278 USD/M).
    # 36 M tokens in 2 h on spot: 36 / 2.88 = 12.5 replica-hours -> 12.5 x 0.80 = 10.00 USD,
    # and 12.5 / 2 = 6.25 -> 7 replicas at once (7 x 0.80 = 5.60 USD/h while it runs).
    a = Option("A", "h100", 1, 1000.0, 2.00, 0.80)
    sol = solve_batch([a], Constraints(demand=36e6, interruption_rate=0.2, deadline_hours=2))
    assert sol.status == "optimal"
    assert sol.usd_total == pytest.approx(10.00)
    assert _picks(sol) == {"A": (0, 7)}
    assert sol.usd_per_hour == pytest.approx(5.60)
    assert sol.hours == pytest.approx(12.5 / 7)


def test_batch_under_a_quota_mixes_types_and_can_be_infeasible() -> None:
    a = Option("A", "h100", 1, 1000.0, 2.00, 0.80)
    b = Option("B", "l4", 1, 500.0, 1.20, None)  # 1.8 M tokens per replica-hour, 0.667 USD/M
    c = Constraints(demand=36e6, interruption_rate=0.2, deadline_hours=2, quotas={"h100": 4})
    # 4 A spot for 2 h = 8 replica-hours = 23.04 M tokens for 6.40 USD; the other 12.96 M on
    # B: 7.2 replica-hours = 8.64 USD (4 replicas). Total 15.04 USD.
    sol = solve_batch([a, b], c)
    assert sol.usd_total == pytest.approx(15.04)
    assert _picks(sol) == {"A": (0, 4), "B": (4, 0)}
    only_a = solve_batch([a], c)
    assert only_a.status == "infeasible"
    assert "at most 4,000 output tokens/s" in (only_a.reason or "")
    assert "need 5,000 tokens/s" in (only_a.reason or "")


def test_a_replica_dearer_per_request_can_still_be_chosen() -> None:
    # B2 costs more per req/s than A (1.55 / 3 = 0.517 vs 2.00 / 4 = 0.500) and has no spot
    # price, yet at 10 req/s 1 A + 2 B2 = 5.10 USD/h beats 3 A = 6.00 and 4 B2 = 6.20: pruning
    # by USD per req/s would lose this optimum, so dominance needs price AND capacity.
    b2 = Option("B2", "l4", 1, 3.0, 1.55, None)
    sol = solve([A, b2], Constraints(demand=10))
    assert _picks(sol) == {"A": (1, 0), "B2": (2, 0)} and sol.usd_per_hour == pytest.approx(5.10)
