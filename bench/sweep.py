"""Multi-run load shapes: sweep (guidellm's) and SLO capacity search (vLLM's `serve_sla`).

sweep N        1) synchronous: one request at a time (concurrency 1) -> sync_rate;
               2) max throughput: closed loop at the sweep's concurrency -> max_rate;
               3) N open-loop Poisson runs at rates evenly spaced strictly between them.
capacity       the highest request rate whose goodput_fraction reaches the attainment target
               (default 0.9) under the SLO: after the synchronous and max-throughput runs,
               bisect the rate `steps` times between the highest rate that met the SLO and
               the lowest that did not. Never extrapolates beyond measured runs.
Every run is an ordinary stored run; runs of one invocation share a `group_id` and carry the
label `sweep` (its step name).
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from unitcost.bench.profiles import LoadProfile, sweep_rates
from unitcost.bench.runner import RunSpec

from unitcost.errors import InputError

Execute = Callable[[RunSpec], tuple[str, dict[str, Any]]]


def _variant(base: RunSpec, group: str, step: str, profile: LoadProfile) -> RunSpec:
    return dataclasses.replace(
        base,
        profile=profile.validate(),
        group_id=group,
        labels={**base.labels, "sweep": step},
        name=f"{base.name or 'sweep'}/{step}",
        summary_extra={**base.summary_extra, "sweep_step": step},
    )


def _group() -> str:
    return "sweep-" + datetime.now(UTC).strftime("%Y%m%dT%H%M%S-") + uuid.uuid4().hex[:6]


def _endpoints(
    base: RunSpec, execute: Execute, group: str, max_conc: int
) -> list[tuple[str, dict[str, Any]]]:
    seed = base.profile.seed
    sync = _variant(
        base, group, "synchronous", LoadProfile(kind="concurrency", concurrency=1, seed=seed)
    )
    top = _variant(
        base, group, "throughput", LoadProfile(kind="concurrency", concurrency=max_conc, seed=seed)
    )
    return [execute(sync), execute(top)]


def sweep(
    base: RunSpec, execute: Execute, n: int, max_conc: int
) -> list[tuple[str, dict[str, Any]]]:
    """guidellm's sweep; returns (run_id, summary) per run in order."""
    if n < 0:
        raise InputError("--sweep must be >= 0")
    group = _group()
    runs = _endpoints(base, execute, group, max_conc)
    lo, hi = (runs[0][1].get("request_rate") or 0.0), (runs[1][1].get("request_rate") or 0.0)
    for r in sweep_rates(lo, hi, n):
        prof = LoadProfile(kind="rate", rate=r, concurrency=None, seed=base.profile.seed)
        runs.append(execute(_variant(base, group, f"rate-{r:.3g}", prof)))
    return runs


def capacity(
    base: RunSpec, execute: Execute, *, attainment: float, steps: int, max_conc: int
) -> tuple[float | None, list[tuple[str, dict[str, Any]]]]:
    """Highest measured rate meeting the SLO (None if even one-at-a-time fails), and all runs."""
    if not base.slo:
        raise InputError("--capacity needs --slo")
    if not 0 < attainment <= 1:
        raise InputError("--slo-attainment must be in (0, 1]")
    group = _group()
    runs = _endpoints(base, execute, group, max_conc)

    def met(s: dict[str, Any]) -> bool:
        gf = s.get("goodput_fraction")
        return gf is not None and gf >= attainment

    sync_s, top_s = runs[0][1], runs[1][1]
    if not met(sync_s):
        return None, runs
    good = float(sync_s.get("request_rate") or 0.0)
    top_rate = float(top_s.get("request_rate") or 0.0)
    if met(top_s):
        return top_rate, runs  # the server meets the SLO at its maximum throughput
    bad = top_rate
    for i in range(steps):
        rate = (good + bad) / 2
        if rate <= 0 or bad - good < 1e-3:
            break
        prof = LoadProfile(kind="rate", rate=rate, concurrency=None, seed=base.profile.seed)
        run = execute(_variant(base, group, f"search-{i + 1}-rate-{rate:.3g}", prof))
        runs.append(run)
        if met(run[1]):
            good = rate
        else:
            bad = rate
    return good, runs
