"""`unitcost recommend`: which config, GPU type, price model and replica count to run each
scenario on, at least USD/hour, with what it saves against today and what would change it.

`recommend(con, settings, scenario)` returns the JSON of `unitcost recommend --format json`;
the CLI, the dashboard's /tiers page (which passes an edited Scenario object) and the review
call it. It writes only when asked (`save=True`, in a write transaction); readers use
`latest_recommendations(con)`. Figures are defined in DEFINITIONS, which the JSON carries.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import duckdb
from unitcost.analytics.batch import solve_batch
from unitcost.analytics.candidates import (
    Candidate,
    Rejection,
    catalog_configs,
    config_capacity,
    model_refusal,
    model_rule,
    models_considered,
    parameter_count,
    price_candidates,
)
from unitcost.analytics.capacity import Slo, TokenShape
from unitcost.analytics.demand import Demand, deployment_demand
from unitcost.analytics.emulated import find_model
from unitcost.analytics.evidence import ConfigKey, RunEvidence, load_evidence
from unitcost.analytics.hosted import baseline, hosted_price
from unitcost.analytics.kpi import deployment_cost_per_hour
from unitcost.analytics.period import day_range, default_period
from unitcost.analytics.tiers import (
    TIME_LIMIT_S,
    Constraints,
    Option,
    Solution,
    alone_cost,
    prune,
    solve,
)
from unitcost.analytics.whatif import HOURS_PER_MONTH, autoscaling, sensitivity

from unitcost import sqlfiles
from unitcost.config import Scenario, Settings
from unitcost.errors import ConfigError
from unitcost.store import fetch_dicts

DEFINITIONS = {
    "capacity_rps_per_replica": "requests/s one replica serves with at least slo_attainment of "
    "requests ok and within every SLO term (goodput fraction, unitcost.bench.metrics); measured "
    "from stored bench runs of the same config and token shape, fitted between measured loads, "
    "or EMULATED by the emulator's physics (basis)",
    "usd_per_hour": "the chosen fleet's list price per hour: on-demand replicas at the on-demand "
    "price, spot replicas at the HIGH end of the spot range; a config using g of an instance's "
    "G GPUs pays g/G of the instance",
    "usd_per_1m_output_tokens": "interactive: usd_per_hour / (peak_rps x output_tokens x 3600) "
    "x 1e6, the fleet fully used at the peak; batch: the job's cost / batch_tokens x 1e6",
    "current_usd_per_hour": "what the scenario's deployment costs today per paid hour "
    "(unitcost kpi, allocation basis) over the demand window",
    "savings_usd_per_month": "(current_usd_per_hour - usd_per_hour) x 730 hours",
    "spot": "spot capacity counts at (1 - spot_interruption_rate); the fleet still serves the "
    "peak after its survive_preemptions largest spot replicas go; on-demand replicas alone "
    "serve at least (1 - max_spot_share) of the peak",
    "peak_rps": "scenarios[].peak_rps, else the deployment's busiest 5 minutes in the last 7 "
    "days of its traffic metrics",
    "demand.emulated": "the deployment's traffic metrics come from `unitcost emulate offline` "
    "(its deployments.labels['emulated'] = 'true'): the peak and hourly profile derived from "
    "them are simulated, not measured",
    "models": "which models the scenario considers: allowed_models, else models of at least "
    "quality_floor parameters, else only the model its deployment serves today, else any; "
    "`considered` lists those the rule let in",
    "sensitivity.change": "none (the same fleet, or a tie with keeping it), equivalent (another "
    "fleet at today's cost within 1% and the same capacity per GPU type and price model within "
    "5%), material (the choice changes: choice_changed) or infeasible",
}


@dataclass(frozen=True)
class _Context:
    """What every scenario reads: stored runs, prices, deployments (loaded once)."""

    evidence: dict[ConfigKey, list[RunEvidence]]
    prices: list[dict[str, Any]]
    price_gpus: dict[str, int]  # GPU type -> most GPUs in one priced instance
    settings: Settings


def _load(con: duckdb.DuckDBPyConnection, settings: Settings) -> _Context:
    prices = fetch_dicts(con, sqlfiles.load("queries", "recommend_prices"))
    gpus: dict[str, int] = {}
    for p in prices:
        if p["price_model"] != "on_demand_vm_only":
            gpus[p["gpu_type"]] = max(gpus.get(p["gpu_type"], 0), int(p["gpu_count"]))
    return _Context(load_evidence(con), prices, gpus, settings)


def _scenarios(settings: Settings, scenario: str | Scenario | None) -> list[tuple[int, Scenario]]:
    if isinstance(scenario, Scenario):
        return [(-1, scenario)]
    if not settings.scenarios:
        raise ConfigError(
            "no [[scenarios]] in the config: add one (name, input_tokens, output_tokens, an SLO, "
            "peak_rps or deployment); see the README's configuration reference"
        )
    if scenario is None:
        return list(enumerate(settings.scenarios))
    for i, s in enumerate(settings.scenarios):
        if s.name == scenario:
            return [(i, s)]
    known = ", ".join(s.name for s in settings.scenarios)
    raise ConfigError(f"--scenario {scenario!r}: no such scenario (known: {known})")


def _deployment(
    con: duckdb.DuckDBPyConnection, ctx: _Context, s: Scenario, where: str
) -> dict[str, Any] | None:
    if s.deployment is None:
        return None
    rows = fetch_dicts(
        con, sqlfiles.load("queries", "recommend_deployment"), {"deployment_id": s.deployment}
    )
    if rows:
        return rows[0]
    for d in ctx.settings.deployments:
        if d.id == s.deployment:
            return d.model_dump()
    known = sorted({d.id for d in ctx.settings.deployments})
    raise ConfigError(
        f"{where}.deployment: no deployment {s.deployment!r} in the config or the store "
        f"(known: {', '.join(known) or 'none'}; [[deployments]] in the config, `unitcost collect` "
        "or `unitcost emulate offline --to-store` add one)"
    )


def _check_models(ctx: _Context, s: Scenario, where: str) -> None:
    measured = {k.model for k in ctx.evidence}
    for name in s.allowed_models:
        if name.lower() not in measured and find_model(name) is None:
            raise ConfigError(
                f"{where}.allowed_models: {name!r} has no bench runs and is not in the "
                "emulator's catalog (run `unitcost bench run --capacity` against it, or see "
                "`unitcost emulate catalog`)"
            )


def _current_cost(
    con: duckdb.DuckDBPyConnection, deployment_id: str, demand: Demand | None
) -> tuple[float | None, str | None]:
    """(USD/hour today, or None; a warning line when there is no comparable figure)."""
    if demand is not None:
        period = day_range(demand.window_start.date(), demand.window_end.date())
    else:
        period = default_period(con)
    got = deployment_cost_per_hour(con, deployment_id, period)
    if got is None:
        return None, (
            f"current cost of {deployment_id!r} unknown: no billing lines or price_ref for it "
            "(`unitcost collect billing`, or price_ref in [[deployments]])"
        )
    if got.currency != "USD":
        return None, (
            f"current cost of {deployment_id!r} is in {got.currency} and catalog prices are "
            "in USD: not compared (mixed currencies)"
        )
    return float(got.usd_per_hour), None


def _option(c: Candidate, batch: bool) -> Option:
    cap = c.capacity.output_tokens_per_s if batch else c.capacity.rps
    return Option(
        c.key, c.gpu_type, c.config.gpu_count, cap, c.od_usd_per_hour, c.spot_usd_per_hour
    )


def _constraints(s: Scenario, demand: float) -> Constraints:
    return Constraints(
        demand=demand,
        min_replicas=0 if s.is_batch else s.min_replicas,
        max_spot_share=s.max_spot_share,
        survive_preemptions=s.survive_preemptions,
        interruption_rate=s.spot_interruption_rate,
        quotas={k.lower(): v for k, v in s.quotas.items()},
        deadline_hours=s.deadline_hours,
    )


def _candidates(
    ctx: _Context, s: Scenario, slo: Slo, shape: TokenShape, dep: dict[str, Any] | None
) -> tuple[list[Candidate], list[Rejection], dict[str, Any]]:
    """Candidates, rejections, and the JSON's `models` (the model rule and what it let in)."""
    rule = model_rule(s.allowed_models, s.quality_floor, dep["model"] if dep else None)
    considered: set[str] = set()
    configs: list[tuple[ConfigKey, list[RunEvidence]]] = [
        (runs[0].config, runs) for runs in ctx.evidence.values() if runs
    ]
    configs += [(k, []) for k in catalog_configs(ctx.price_gpus, [c for c, _ in configs])]
    cands: list[Candidate] = []
    rejected: list[Rejection] = []
    for config, runs in configs:
        basis = "measured" if runs else "emulated"
        params = parameter_count(config, runs)
        refusal = model_refusal(rule, config.model, params)
        if refusal is not None:
            if runs:  # catalog entries outside the rule are not worth a line each
                rejected.append(Rejection(config, refusal, None, basis))
            continue
        considered.add(config.model)
        cap, reason = config_capacity(config, runs, slo, shape)
        if cap is None:
            rejected.append(Rejection(config, reason or "no capacity", None, basis))
            continue
        priced, why = price_candidates(config, params, cap, ctx.prices)
        if why is not None:
            rejected.append(Rejection(config, why, None, basis))
        cands.extend(priced)
    return cands, rejected, models_considered(rule, considered, dep)


def _choice_json(
    c: Candidate, on_demand: int, spot: int, batch: bool, hours: float | None
) -> dict[str, Any]:
    usd = (c.od_usd_per_hour or 0.0) * on_demand + (c.spot_usd_per_hour or 0.0) * spot
    out = {
        "candidate": c.to_json(),
        "replicas_on_demand": on_demand,
        "replicas_spot": spot,
        "capacity_rps_per_replica": round(c.capacity.rps, 6),
        "output_tokens_per_s_per_replica": round(c.capacity.output_tokens_per_s, 3),
        "concurrency_per_replica": None if c.capacity.load is None else round(c.capacity.load, 2),
        "usd_per_hour": round(usd, 6),
        "on_demand_usd_per_hour_per_replica": c.od_usd_per_hour,
        "spot_usd_per_hour_per_replica": c.spot_usd_per_hour,
    }
    if batch:
        out["hours"] = None if hours is None else round(hours, 4)
    return out


def _rejected_by_cost(
    cands: Sequence[Candidate],
    options: Sequence[Option],
    cons: Constraints,
    sol: Solution,
    dominated: dict[str, str],
) -> list[dict[str, Any]]:
    chosen = {p.key for p in sol.picks}
    out = []
    for c, o in zip(cands, options, strict=True):
        if c.key in chosen:
            continue
        if c.key in dominated:
            reason = f"costs more than the same config at {dominated[c.key].split(' @ ')[1]}"
        elif cons.deadline_hours is not None:  # batch: compare tokens per dollar
            reason = _batch_cost_reason(o, cons, sol)
        elif sol.status != "optimal":
            reason = "no feasible fleet (see the scenario's reason)"
        else:
            alone = alone_cost(o, cons)
            reason = (
                "cannot meet the scenario on its own (quota, price model or spot limits)"
                if alone is None
                else f"costs more by {alone - sol.usd_per_hour:.2f} USD/hour "
                f"(alone: {alone:.2f} USD/hour)"
            )
        out.append({"candidate": c.to_json(), "reason": reason})
    return out


def _batch_cost_reason(o: Option, c: Constraints, sol: Solution) -> str:
    per_m = []
    if o.od_usd_per_hour:
        per_m.append(o.od_usd_per_hour / (o.capacity * 3600) * 1e6)
    if o.spot_usd_per_hour and c.max_spot_share > 0:
        per_m.append(o.spot_usd_per_hour / (o.capacity * (1 - c.interruption_rate) * 3600) * 1e6)
    mine = min(per_m) if per_m else None
    best = (sol.usd_total or 0.0) / c.demand * 1e6 if sol.status == "optimal" else None
    if mine is None or best is None:
        return "no feasible fleet (see the scenario's reason)"
    return f"costs more: {mine:.4f} USD per 1M output tokens at full load vs {best:.4f}"


def _one(con: duckdb.DuckDBPyConnection, ctx: _Context, s: Scenario, index: int) -> dict[str, Any]:
    where = f"scenarios[{index}]" if index >= 0 else f"scenario {s.name!r}"
    dep = _deployment(con, ctx, s, where)
    _check_models(ctx, s, where)
    hosted = [hosted_price(m, where=f"{where}.hosted_models") for m in s.hosted_models]
    warnings: list[str] = []
    demand = deployment_demand(con, s.deployment) if s.deployment else None
    slo = Slo(s.slo_ttft_ms, s.slo_tpot_ms, s.slo_e2el_ms, s.slo_attainment)
    if s.is_batch:
        slo = Slo(attainment=s.slo_attainment)
        if s.slo_ttft_ms or s.slo_tpot_ms or s.slo_e2el_ms:
            warnings.append("batch work has no latency SLO: the scenario's SLO terms are ignored")
    shape = TokenShape(s.input_tokens, s.output_tokens)
    peak = s.peak_rps
    if not s.is_batch and peak is None:
        if demand is None:
            raise ConfigError(
                f"{where}: no peak_rps, and "
                + (
                    f"deployment {s.deployment!r} has no traffic metrics (`unitcost collect "
                    "prometheus|scrape` or `unitcost emulate offline --to-store` store them)"
                    if s.deployment
                    else "no deployment to derive it from"
                )
                + f"; set {where}.peak_rps"
            )
        peak = demand.peak_rps
    if demand is not None and demand.emulated:
        used = "its peak and hourly profile" if s.peak_rps is None else "its hourly profile"
        warnings.append(
            f"the demand of deployment {s.deployment!r} comes from EMULATED telemetry "
            f"(`unitcost emulate offline`): {used} are simulated, not measured traffic"
        )
    if not ctx.evidence:
        warnings.append(
            "no benchmark runs stored: every candidate is EMULATED (measure with "
            "`unitcost bench run --capacity`)"
        )
    cands, rejected, models = _candidates(ctx, s, slo, shape, dep)
    options = [_option(c, s.is_batch) for c in cands]
    kept, dominated = prune(options)
    demand_value = float(s.batch_tokens) if s.is_batch and s.batch_tokens else float(peak or 0)
    cons = _constraints(s, demand_value)
    sol = solve_batch(kept, cons) if s.is_batch else solve(kept, cons)
    if not cands and sol.status == "infeasible":
        sol = Solution("infeasible", 0.0, (), _no_candidate_reason(rejected, slo))
    if sol.gap is not None:
        warnings.append(
            f"the solver stopped at its {TIME_LIMIT_S:g} s limit: this fleet is within "
            f"{sol.gap:.2%} of the least cost, not proven the least (narrow the candidates "
            "with allowed_models or quality_floor)"
        )
    by_key = {c.key: c for c in cands}
    choice = [
        _choice_json(by_key[p.key], p.on_demand, p.spot, s.is_batch, p.hours) for p in sol.picks
    ]
    for p in sol.picks:
        c = by_key[p.key]
        if c.capacity.emulated:
            warnings.append(
                f"the choice rests on EMULATED capacity for {c.config.label()}: verify with "
                "`unitcost bench run --capacity`"
            )
        warnings.extend(c.capacity.warnings)
        if c.caveat:
            warnings.append(f"{c.price_ref}: {c.caveat}")
    usd = sol.usd_per_hour if sol.status == "optimal" else None
    per_1m: float | None = None
    if usd is not None and s.is_batch and sol.usd_total is not None:
        per_1m = sol.usd_total / demand_value * 1e6
    elif usd is not None and peak:
        per_1m = usd / (peak * s.output_tokens * 3600) * 1e6
    current: float | None = None
    if s.deployment:
        current, warn = _current_cost(con, s.deployment, demand)
        if warn:
            warnings.append(warn)
    savings = (
        round((current - usd) * HOURS_PER_MONTH, 2)
        if current is not None and usd is not None and not s.is_batch
        else None
    )
    window = (
        {"start": demand.window_start.isoformat(), "end": demand.window_end.isoformat()}
        if demand
        else None
    )
    low_spot = {c.key: c.spot_usd_per_hour_low for c in cands}
    return {
        "scenario": s.name,
        "kind": "batch" if s.is_batch else "interactive",
        "status": sol.status,
        "reason": sol.reason,
        "slo": {**slo.terms(), "attainment": slo.attainment},
        "token_shape": {
            "input_tokens": s.input_tokens,
            "output_tokens": s.output_tokens,
            "tolerance": shape.tolerance,
        },
        "demand": {
            "peak_rps": peak,
            "peak_basis": "config" if s.peak_rps is not None else "metrics",
            "batch_tokens": s.batch_tokens,
            "deadline_hours": s.deadline_hours,
            "window": window,
            "emulated": bool(demand and demand.emulated),
        },
        "models": models,
        "choice": choice,
        "usd_per_hour": None if usd is None else round(usd, 6),
        "usd_per_1m_output_tokens": None if per_1m is None else round(per_1m, 6),
        "usd_total": None if sol.usd_total is None else round(sol.usd_total, 4),
        "hours": None if sol.hours is None else round(sol.hours, 4),
        "current_usd_per_hour": current,
        "savings_usd_per_month": savings,
        "sensitivity": sensitivity(options, low_spot, cons, sol)
        if sol.status == "optimal" and not s.is_batch
        else [],
        "autoscaling": autoscaling(kept, cons, sol, demand.hourly_rps, window or {})
        if demand is not None and sol.status == "optimal" and not s.is_batch
        else None,
        "hosted_baseline": [baseline(h, s.input_tokens, s.output_tokens, peak) for h in hosted],
        "rejected": [r.to_json() for r in rejected]
        + _rejected_by_cost(cands, options, cons, sol, dominated),
        "candidates_considered": len(cands),
        "warnings": list(dict.fromkeys(warnings)),
    }


def _no_candidate_reason(rejected: Sequence[Rejection], slo: Slo) -> str:
    misses = [r for r in rejected if r.reason.startswith("misses the SLO")]
    if misses and len(misses) == len(rejected):
        return f"no candidate meets the SLO ({slo.describe()}): every config misses it"
    if misses:
        return (
            f"no candidate left: {len(misses)} miss the SLO ({slo.describe()}), the others "
            "are refused for the reasons in `rejected`"
        )
    return "no candidate left: see `rejected` for why each was refused"


def recommend(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    scenario: str | Scenario | None = None,
    *,
    save: bool = False,
    run_at: datetime | None = None,
) -> dict[str, Any]:
    """The JSON of `unitcost recommend` for one scenario (a name, or a Scenario object edited
    in place, e.g. by the dashboard) or all configured ones; stored only with save=True (then
    `con` must be a write connection)."""
    picked = _scenarios(settings, scenario)
    ctx = _load(con, settings)
    at = run_at or datetime.now(UTC)
    out = {
        "run_id": at.strftime("%Y%m%dT%H%M%S-") + uuid.uuid4().hex[:8],
        "run_at": at.isoformat(),
        "definitions": DEFINITIONS,
        "scenarios": [_one(con, ctx, s, i) for i, s in picked],
    }
    if save:
        save_recommendations(con, out)
    return out


def _money(v: Any, places: str) -> Decimal | None:
    return None if v is None else Decimal(repr(float(v))).quantize(Decimal(places))


def save_recommendations(con: duckdb.DuckDBPyConnection, result: dict[str, Any]) -> None:
    """Store each scenario's answer with the run's time (the caller's transaction)."""
    for s in result["scenarios"]:
        con.execute(
            sqlfiles.load("queries", "recommend_insert"),
            {
                "run_id": result["run_id"],
                "run_at": datetime.fromisoformat(result["run_at"]),
                "scenario": s["scenario"],
                "status": s["status"],
                "usd_per_hour": _money(s["usd_per_hour"], "0.000001"),
                "current_usd_per_hour": _money(s["current_usd_per_hour"], "0.000001"),
                "savings_usd_per_month": _money(s["savings_usd_per_month"], "0.01"),
                "result": json.dumps(s),
            },
        )


def latest_recommendations(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """The newest stored answer per scenario: {"definitions", "scenarios": [... + run_at]}."""
    rows = fetch_dicts(con, sqlfiles.load("queries", "recommend_latest"))
    scenarios = []
    for r in rows:
        s = json.loads(r["result"])
        s["run_id"] = r["run_id"]
        s["run_at"] = r["run_at"].isoformat()
        scenarios.append(s)
    return {"definitions": DEFINITIONS, "scenarios": scenarios}
