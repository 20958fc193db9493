"""Multi-run load shapes: sweep (guidellm's) and SLO capacity search (vLLM's `serve_sla`).

sweep N        1) synchronous: one request at a time (concurrency 1) -> sync_rate;
               2) max throughput: closed loop at the sweep's concurrency -> max_rate;
               3) N open-loop Poisson runs at rates evenly spaced strictly between them.
capacity       the highest request rate whose goodput_fraction reaches the attainment target
               (default 0.9) under the SLO: after the synchronous and max-throughput runs,
               bisect the rate `steps` times between the highest rate that met the SLO and
               the lowest that did not. Never extrapolates beyond measured runs. The result
               names the run at capacity (capacity.Decision), so its cost is that run's, and
               is stored in bench_capacity.
Every run is an ordinary stored run; runs of one invocation share a `group_id` and carry the
label `sweep` (its step name). An interrupted run ends the whole sequence.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from unitcost.bench.capacity import Decision, meets
from unitcost.bench.profiles import LoadProfile, sweep_rates
from unitcost.bench.spec import RunSpec

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


def new_group(kind: str) -> str:
    return f"{kind}-" + datetime.now(UTC).strftime("%Y%m%dT%H%M%S-") + uuid.uuid4().hex[:6]


def _stopped(runs: list[tuple[str, dict[str, Any]]]) -> bool:
    return bool(runs) and runs[-1][1].get("status") != "completed"


def _endpoints(
    base: RunSpec, execute: Execute, group: str, max_conc: int
) -> list[tuple[str, dict[str, Any]]]:
    seed = base.profile.seed
    sync = _variant(
        base, group, "synchronous", LoadProfile(kind="concurrency", concurrency=1, seed=seed)
    )
    runs = [execute(sync)]
    if _stopped(runs):
        return runs
    top = _variant(
        base, group, "throughput", LoadProfile(kind="concurrency", concurrency=max_conc, seed=seed)
    )
    runs.append(execute(top))
    return runs


def sweep(
    base: RunSpec, execute: Execute, n: int, max_conc: int
) -> list[tuple[str, dict[str, Any]]]:
    """guidellm's sweep; returns (run_id, summary) per run in order."""
    if n < 0:
        raise InputError("--sweep must be >= 0")
    group = new_group("sweep")
    runs = _endpoints(base, execute, group, max_conc)
    if _stopped(runs) or len(runs) < 2:
        return runs
    lo, hi = (runs[0][1].get("request_rate") or 0.0), (runs[1][1].get("request_rate") or 0.0)
    for r in sweep_rates(lo, hi, n):
        prof = LoadProfile(kind="rate", rate=r, concurrency=None, seed=base.profile.seed)
        runs.append(execute(_variant(base, group, f"rate-{r:.3g}", prof)))
        if _stopped(runs):
            break
    return runs


def capacity(
    base: RunSpec, execute: Execute, *, attainment: float, steps: int, max_conc: int
) -> Decision:
    """The highest measured load meeting the SLO (decision.at None if even one-at-a-time
    fails), with every run it took. Interrupted: the decision so far (the caller says so)."""
    if not base.slo:
        raise InputError("--capacity needs --slo")
    if not 0 < attainment <= 1:
        raise InputError("--slo-attainment must be in (0, 1]")
    group = new_group("capacity")
    base = dataclasses.replace(base, slo_attainment=attainment)
    runs = _endpoints(base, execute, group, max_conc)

    def decision(at: tuple[str, dict[str, Any]] | None) -> Decision:
        return Decision(group, "search", dict(base.slo), attainment, runs, at)

    if not meets(runs[0][1], attainment):
        return decision(None)
    best = runs[0]
    if len(runs) < 2:  # interrupted after the synchronous run
        return decision(best)
    if meets(runs[1][1], attainment):
        return decision(runs[1])  # the server meets the SLO at its maximum throughput
    if _stopped(runs):
        return decision(best)
    good = float(runs[0][1].get("request_rate") or 0.0)
    bad = float(runs[1][1].get("request_rate") or 0.0)
    for i in range(steps):
        rate = (good + bad) / 2
        if rate <= 0 or bad - good < 1e-3:
            break
        prof = LoadProfile(kind="rate", rate=rate, concurrency=None, seed=base.profile.seed)
        run = execute(_variant(base, group, f"search-{i + 1}-rate-{rate:.3g}", prof))
        runs.append(run)
        if _stopped(runs):
            break
        if meets(run[1], attainment):
            good, best = rate, run
        else:
            bad = rate
    return decision(best)
