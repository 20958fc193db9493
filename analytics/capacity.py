"""Capacity at an SLO: the highest request rate a config serves while meeting it.

Definition. A config (model x quantization x engine x GPU type x GPUs) serves a load *at an SLO*
when at least `attainment` (default 90%) of its requests are good: ok and within every SLO term
(TTFT, TPOT, E2E), i.e. its goodput fraction, as `unitcost.bench.metrics` defines it. Its
capacity is the highest such load, in ok requests per second (and the output tokens per second
that carries at the scenario's token shape). Three bases, never mixed:

  measured  stored `bench run` records of the same config and token shape, recomputed at this
            SLO (any SLO, not only the one a run was made with): the highest request rate of a
            run whose goodput fraction reaches the attainment. Exact at the measured points,
            a lower bound between them. Runs of a `bench run --capacity` search make it so.
  fitted    without a capacity search, when at least three load levels were measured and one
            misses the SLO above the last that meets it: the curves of analytics/fit.py put the
            SLO load between those two points (never beyond what was measured).
  emulated  nothing measured at this token shape: the emulator's physics (analytics/emulated.py),
            flagged.

Token shape: runs count when their mean prompt and output tokens per ok request are each within
`TokenShape.tolerance` (default 10%) of the scenario's; runs at other shapes are never mixed in
(the note says they exist). A measured run faster than the physics' roofline for its config
(peak bandwidth and FLOPS, no overhead) is flagged: its labels (GPU, count, quantization) are
probably wrong.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import duckdb
from unitcost.analytics.emulated import NoSetup, emulated_capacity, roofline_ceiling_tok_s
from unitcost.analytics.evidence import ConfigKey, RunEvidence, load_evidence, mean_shape
from unitcost.analytics.fit import SweepPoint, slo_load
from unitcost.emulate.physics import DoesNotFitError

from unitcost import sqlfiles
from unitcost.store import fetch_dicts

__all__ = [
    "Capacity",
    "CapacityAssessment",
    "ConfigKey",
    "Slo",
    "TokenShape",
    "assess",
    "capacity_for",
    "capacity_for_deployment",
]

DEFAULT_ATTAINMENT = 0.9  # as `bench run --slo-attainment`
DEFAULT_SHAPE_TOLERANCE = 0.10
Basis = Literal["measured", "fitted", "emulated"]


@dataclass(frozen=True)
class Slo:
    """Latency objectives in ms (None = no objective) and the share of requests that must meet
    them. No terms at all = throughput only (batch work)."""

    ttft_ms: float | None = None
    tpot_ms: float | None = None
    e2el_ms: float | None = None
    attainment: float = DEFAULT_ATTAINMENT

    def terms(self) -> dict[str, float]:
        """In unitcost.bench.metrics' syntax: {"ttft": ms, "tpot": ms, "e2el": ms}."""
        out = {"ttft": self.ttft_ms, "tpot": self.tpot_ms, "e2el": self.e2el_ms}
        return {k: float(v) for k, v in out.items() if v is not None}

    def describe(self) -> str:
        terms = " ".join(f"{k}:{v:g}" for k, v in self.terms().items()) or "none"
        return f"{terms} ms for {self.attainment:.0%} of requests"


@dataclass(frozen=True)
class TokenShape:
    """Mean prompt and output tokens per request, and how far a run's may differ (a share)."""

    input_tokens: float
    output_tokens: float
    tolerance: float = DEFAULT_SHAPE_TOLERANCE

    def matches(self, input_tokens: float, output_tokens: float) -> bool:
        return (
            abs(input_tokens - self.input_tokens) <= self.tolerance * self.input_tokens
            and abs(output_tokens - self.output_tokens) <= self.tolerance * self.output_tokens
        )


@dataclass(frozen=True)
class Capacity:
    """A config's capacity at an SLO. `emulated` is true for physics figures and for runs
    against `unitcost emulate`; `method` says how the figure was reached."""

    rps: float
    output_tokens_per_s: float
    basis: Basis
    run_ids: tuple[str, ...]
    note: str
    emulated: bool = False
    method: str = ""
    warnings: tuple[str, ...] = ()
    load: float | None = None  # mean requests in flight at that rate (the concurrency to run)


@dataclass(frozen=True)
class CapacityAssessment:
    """A capacity, or why there is none (`reason`: one line naming what is missing)."""

    capacity: Capacity | None
    reason: str | None = None
    does_not_fit: bool = False
    misses_slo: bool = False


def _roofline_warnings(config: ConfigKey, runs: Sequence[RunEvidence]) -> tuple[str, ...]:
    out = []
    for r in runs:
        ceiling = roofline_ceiling_tok_s(config, r.load, r.mean_input_tokens, r.mean_output_tokens)
        if ceiling is not None and r.output_tokens_per_s > ceiling:
            out.append(
                f"run {r.run_id} served {r.output_tokens_per_s:,.0f} output tokens/s at "
                f"{r.load:.1f} in flight, above the roofline of {config.label()} "
                f"({ceiling:,.0f}): check the run's GPU, GPU count and quantization labels"
            )
    return tuple(out)


def _measured(
    config: ConfigKey, runs: Sequence[RunEvidence], slo: Slo, shape: TokenShape
) -> CapacityAssessment:
    terms = slo.terms()
    fit_runs = sorted(runs, key=lambda r: r.load)
    passing = [r for r in fit_runs if r.attains(terms, slo.attainment)]
    emulated = any(r.emulated for r in runs)
    warn = _roofline_warnings(config, runs)
    _, out_mean = mean_shape(runs)
    if not passing:
        low = fit_runs[0]
        return CapacityAssessment(
            None,
            f"misses the SLO ({slo.describe()}) even at its lowest measured load "
            f"({low.load:.1f} in flight: {low.goodput_fraction(terms):.0%} good, run "
            f"{low.run_id})",
            misses_slo=True,
        )
    best = max(passing, key=lambda r: r.request_rate)
    ids = tuple(r.run_id for r in fit_runs)
    searched = any(r.from_capacity_search for r in runs)
    failing_above = [r for r in fit_runs if r.load > best.load and r not in passing]
    if not searched and len({round(r.load, 1) for r in fit_runs}) >= 3 and failing_above:
        points = [
            SweepPoint(
                r.load,
                r.request_rate,
                {
                    t: (q if (q := r.quantile(t, slo.attainment)) is not None else math.inf)
                    for t in terms
                },
            )
            for r in fit_runs
        ]
        fit = slo_load(points, terms)
        if fit is not None and fit.bracket is not None and fit.throughput > best.request_rate:
            return CapacityAssessment(
                Capacity(
                    rps=fit.throughput,
                    output_tokens_per_s=fit.throughput * out_mean,
                    basis="fitted",
                    run_ids=ids,
                    note=(
                        f"fitted over {len(fit_runs)} runs: {fit.binding} reaches its limit at "
                        f"{fit.load:.1f} in flight, between the measured {fit.bracket[0]:.1f} "
                        f"and {fit.bracket[1]:.1f} ({fit.method})"
                    ),
                    emulated=emulated,
                    method="fitted",
                    warnings=warn,
                    load=fit.load,
                )
            )
    how = "bench --capacity search" if searched else "highest measured load meeting the SLO"
    return CapacityAssessment(
        Capacity(
            rps=best.request_rate,
            output_tokens_per_s=best.output_tokens_per_s,
            basis="measured",
            run_ids=ids,
            note=(
                f"run {best.run_id}: {best.request_rate:.3f} req/s at {best.load:.1f} in flight, "
                f"{best.goodput_fraction(terms):.0%} of requests within the SLO ({how}; "
                f"{len(fit_runs)} runs at this token shape)"
            ),
            emulated=emulated,
            method=how,
            warnings=warn,
            load=best.load,
        )
    )


def _physics(config: ConfigKey, slo: Slo, shape: TokenShape, why: str) -> CapacityAssessment:
    prompt, out = round(shape.input_tokens), round(shape.output_tokens)
    try:
        e = emulated_capacity(config, slo.terms(), prompt, out)
    except NoSetup as exc:
        todo = "at this token shape " if why.startswith("its ") else ""
        return CapacityAssessment(
            None, f"{why}, and {exc} (measure it {todo}with `unitcost bench run --capacity`)"
        )
    except DoesNotFitError as exc:
        return CapacityAssessment(None, f"does not fit in memory: {exc}", does_not_fit=True)
    if e.rps <= 0:
        return CapacityAssessment(
            None,
            f"misses the SLO ({slo.describe()}) even with one request in flight, by the "
            f"emulator's physics (TTFT {e.ttft_ms:.0f} ms, TPOT {e.tpot_ms:.1f} ms, "
            f"E2E {e.e2e_ms:.0f} ms)",
            misses_slo=True,
        )
    return CapacityAssessment(
        Capacity(
            rps=e.rps,
            output_tokens_per_s=e.output_tokens_per_s,
            basis="emulated",
            run_ids=(),
            note=(
                f"EMULATED by the emulator's physics ({why}): {e.batch} sequences in flight "
                f"(limit {e.max_batch}), TTFT {e.ttft_ms:.0f} ms, TPOT {e.tpot_ms:.1f} ms; "
                "typical latencies, not the tail: verify with `unitcost bench run --capacity`"
            ),
            emulated=True,
            method="physics",
            load=float(e.batch),
        )
    )


def assess(
    config: ConfigKey, runs: Sequence[RunEvidence], slo: Slo, shape: TokenShape
) -> CapacityAssessment:
    """Capacity of one config from its runs (all shapes; filtered here), else physics."""
    same = [r for r in runs if shape.matches(r.mean_input_tokens, r.mean_output_tokens)]
    if same:
        return _measured(config, same, slo, shape)
    if runs:
        shapes = sorted({(round(r.mean_input_tokens), round(r.mean_output_tokens)) for r in runs})
        listed = ", ".join(f"{i}/{o}" for i, o in shapes[:4])
        why = (
            f"its {len(runs)} bench runs are at other token shapes (input/output {listed}; "
            f"wanted {shape.input_tokens:g}/{shape.output_tokens:g} within "
            f"{shape.tolerance:.0%})"
        )
    else:
        why = "no bench runs of this config"
    return _physics(config, slo, shape, why)


def capacity_for(
    con: duckdb.DuckDBPyConnection, config: ConfigKey, slo: Slo, shape: TokenShape
) -> Capacity | None:
    """The config's capacity at `slo` and `shape` (see the module docstring), or None."""
    runs = load_evidence(con, config).get(config.norm(), [])
    return assess(config, runs, slo, shape).capacity


def capacity_for_deployment(
    con: duckdb.DuckDBPyConnection, deployment_id: str, slo: Slo, shape: TokenShape
) -> Capacity | None:
    """capacity_for the config a deployment runs (its row in `deployments`); None when the
    deployment is unknown or nothing measures or emulates its config."""
    rows = fetch_dicts(
        con,
        sqlfiles.load("queries", "capacity_deployment_config"),
        {"deployment_id": deployment_id},
    )
    if not rows:
        return None
    r = rows[0]
    key = ConfigKey(r["model"], r["quantization"], r["engine"], r["hardware"], r["gpu_count"])
    return capacity_for(con, key, slo, shape)
