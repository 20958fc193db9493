"""Which replica lanes the fleet program can drop before solving: those another lane dominates.

A lane is one way to buy a replica: an option on demand, or the same option on spot. Lane v
dominates lane u when swapping every replica of u for one of v, one for one, keeps every fleet
feasible and costs no more (analytics/tiers.py states the constraints):

  price     v's USD/hour <= u's;
  capacity  v's req/s per replica >= u's (ties: the earlier lane wins, so one of them stays);
  kind      an on-demand v may replace either kind (it counts fully in the expected capacity,
            survives preemptions and adds to the on-demand floor); a spot v only replaces a
            spot u (spot is derated, and never counts toward the on-demand floor);
  quota     v's GPU type has no quota, or it is u's type with no more GPUs per replica.

Preemptions need no condition: the fleet left after losing its k largest spot replicas never
shrinks when a spot replica is swapped for a larger one (or for an on-demand one). Whole
replicas are compared, so nothing here assumes that a lower USD per req/s wins: a smaller
replica that costs more per req/s can still round up better (A: 4 req/s for 2.00 and B: 3 req/s
for 1.55 are both kept, and 1 A + 2 B beats 3 A at 10 req/s), and dropping it would lose exact
optima.

Each test is one sweep over lanes sorted by (price, -capacity, index): O(n log n) in numpy,
not a comparison of every lane with every other.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Bools = NDArray[np.bool_]
Floats = NDArray[np.float64]
Ints = NDArray[np.int64]


def _dominated(pool: Bools, targets: Bools, price: Floats, cap: Floats) -> Bools:
    """Targets that some pool lane dominates on (price, capacity), ties broken by index."""
    out = np.zeros(len(price), dtype=np.bool_)
    ti, pi = np.flatnonzero(targets), np.flatnonzero(pool)
    if not len(ti) or not len(pi):
        return out
    lane = np.concatenate([ti, pi])
    is_pool = np.concatenate([np.zeros(len(ti), np.int64), np.ones(len(pi), np.int64)])
    # Everything sorted before a target is no dearer, and at its price no smaller; at an
    # exact tie (the same lane as target and pool) the target copy sorts first, so a lane
    # never dominates itself. A target is dominated when a pool lane before it is as large.
    order = np.lexsort((is_pool, lane, -cap[lane], price[lane]))
    value = np.where(is_pool[order] == 1, cap[lane[order]], -np.inf)
    before = np.concatenate([[-np.inf], np.maximum.accumulate(value)[:-1]])
    hit = (is_pool[order] == 0) & (before >= cap[lane[order]])
    out[lane[order][hit]] = True
    return out


def undominated(
    price: Floats, cap: Floats, spot: Bools, group: Ints, gpus: Ints, quota_groups: set[int]
) -> Bools:
    """Lanes worth keeping (see the module docstring); every dropped lane has a kept dominator."""
    n = len(price)
    limited = np.isin(group, sorted(quota_groups)) if quota_groups else np.zeros(n, np.bool_)
    od = ~spot
    gone = _dominated(od & ~limited, np.ones(n, dtype=np.bool_), price, cap)
    gone |= _dominated(spot & ~limited, spot, price, cap)
    for g in quota_groups:
        mine = group == g
        for d in np.unique(gpus[mine]):
            targets = mine & (gpus == d)
            fits = mine & (gpus <= d)
            gone |= _dominated(od & fits, targets, price, cap)
            gone |= _dominated(spot & fits, targets & spot, price, cap)
    keep: Bools = ~gone
    return keep
