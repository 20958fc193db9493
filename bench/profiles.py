"""Load shapes: when each request is due. Pure and seeded, so schedules are testable exactly.

One module rather than a package per shape: the shapes are a few lines each, and the installed
layout (pyproject `packages`) maps `bench/` as one flat package.

  concurrency  closed loop: N requests always in flight; a request is due when a slot frees.
  rate         open loop: arrivals at `rate` req/s; gaps exponential (Poisson) or gamma with
               shape = burstiness (vLLM: burstiness 1 = Poisson, < 1 burstier, > 1 smoother),
               or constant; optionally capped by `concurrency` (then requests queue in the
               client and that queue time is recorded).
  ramp         open loop, rate rising linearly from rate_start to rate over ramp_s seconds
               (Poisson arrivals in the time-changed clock), then steady at `rate`.
  trace        open loop at the trace's own timestamps (Mooncake replay).
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

from unitcost.errors import InputError


@dataclass(frozen=True)
class LoadProfile:
    """How load is offered; `to_json()` is stored as bench_runs.load_profile."""

    kind: str = "concurrency"  # concurrency | rate | ramp | trace
    concurrency: int | None = 1  # closed-loop size, or the cap of an open loop
    rate: float | None = None  # req/s (the final rate of a ramp)
    arrival: str = "poisson"  # poisson | gamma | constant
    burstiness: float = 1.0
    rate_start: float = 0.0
    ramp_s: float = 0.0
    seed: int = 0

    def validate(self) -> LoadProfile:
        if self.kind not in ("concurrency", "rate", "ramp", "trace"):
            raise InputError(
                f"load profile kind {self.kind!r}: use concurrency, rate, ramp or trace"
            )
        if self.kind == "concurrency" and (self.concurrency is None or self.concurrency < 1):
            raise InputError("--concurrency must be >= 1")
        if self.concurrency is not None and self.concurrency < 1:
            raise InputError("--concurrency must be >= 1")
        if self.kind in ("rate", "ramp") and (self.rate is None or self.rate <= 0):
            raise InputError("--rate must be > 0 requests per second")
        if self.arrival not in ("poisson", "gamma", "constant"):
            raise InputError(f"--arrival {self.arrival!r}: use poisson, gamma or constant")
        if self.burstiness <= 0:
            raise InputError("--burstiness must be > 0")
        if self.kind == "ramp" and (self.ramp_s <= 0 or self.rate_start < 0):
            raise InputError("--ramp needs a duration > 0 s and a start rate >= 0")
        return self

    @property
    def open_loop(self) -> bool:
        return self.kind != "concurrency"

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        return {k: v for k, v in d.items() if v is not None}


def _gap(p: LoadProfile, rng: random.Random, rate: float) -> float:
    if p.arrival == "constant":
        return 1.0 / rate
    if p.arrival == "gamma" and p.burstiness != 1.0:
        # mean 1/rate; shape k = burstiness, scale theta = 1 / (rate * k)  (vLLM's choice)
        return rng.gammavariate(p.burstiness, 1.0 / (rate * p.burstiness))
    return rng.expovariate(rate)


def arrivals(p: LoadProfile) -> Iterator[float]:
    """Seconds after the start at which each request is due (open-loop kinds, endless)."""
    rng = random.Random(p.seed)
    assert p.rate is not None
    if p.kind == "rate":
        t = 0.0
        while True:
            yield t
            t += _gap(p, rng, p.rate)
    elif p.kind == "ramp":
        # Cumulative intensity L(t) = r0 t + (r1 - r0) t^2 / (2T) for t <= T, then linear.
        # Draw unit-rate gaps in L-space and map back: t = L^-1(u).
        r0, r1, T = p.rate_start, p.rate, p.ramp_s
        l_ramp = (r0 + r1) * T / 2
        u = 0.0
        while True:
            if u <= l_ramp:
                a = (r1 - r0) / (2 * T)
                t = u / r0 if a == 0 else (-r0 + math.sqrt(r0 * r0 + 4 * a * u)) / (2 * a)
            else:
                t = T + (u - l_ramp) / r1
            yield t
            u += _gap(p, rng, 1.0)
    else:
        raise InputError(f"profile {p.kind!r} has no generated arrivals")


def sweep_rates(sync_rate: float, max_rate: float, n: int) -> list[float]:
    """guidellm's sweep: after the synchronous and max-throughput runs, n rates evenly between."""
    if n <= 0 or max_rate <= sync_rate:
        return []
    step = (max_rate - sync_rate) / (n + 1)
    return [sync_rate + step * (i + 1) for i in range(n)]
