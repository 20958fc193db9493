"""Suites: standard scenarios (token shape + SLO + load levels) run across declared targets.

A suite file is TOML: `[suite]` (name, seed, slo_attainment, warmup_requests), `[[scenarios]]`
and optional `[[targets]]` (without targets, the command line's --endpoint/--model/... is the
one target). Every (target, scenario, load level) is one run; all runs of one invocation share
a `group_id`. A scenario's SLO capacity on a target is the highest load level whose run meets
the SLO (goodput_fraction >= `slo_attainment`); its cost per token is that run's, and the
decision is stored in bench_capacity (capacity.py).
`unitcost bench run --suite standard` runs the shipped `suite_files/standard.toml`.

Python callers (`unitcost demo`) call run_suite() with their own targets, a store and a progress
callback; nothing here needs click. Runs are built by spec.py, as for `bench run`.
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from unitcost.bench import capacity, metrics, runner, spec
from unitcost.bench.live import Live
from unitcost.bench.preflight import Probe, ServerFacts, preflight, server_facts
from unitcost.bench.sweep import new_group

from unitcost.config import Settings
from unitcost.errors import InputError
from unitcost.store import Store


class _M(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SuiteMeta(_M):
    name: str = Field(min_length=1)
    seed: int = 0
    slo_attainment: float = Field(default=0.9, gt=0, le=1)
    warmup_requests: int = Field(default=0, ge=0)


class Scenario(_M):
    name: str = Field(min_length=1)
    api: Literal["chat", "completions"] = "chat"
    input_tokens: str | int = "256"
    output_tokens: str | int = "128"
    prefix_tokens: int = Field(default=0, ge=0)
    slo: str | None = None
    concurrency: list[int] | None = None
    rate: list[float] | None = None
    requests: int | None = Field(default=None, gt=0)
    duration_s: float | None = Field(default=None, gt=0)
    ignore_eos: bool | None = None

    @model_validator(mode="after")
    def _one_load_axis(self) -> Scenario:
        if (self.concurrency is None) == (self.rate is None):
            raise ValueError("give exactly one of concurrency = [...] or rate = [...]")
        if self.requests is None and self.duration_s is None:
            raise ValueError("give requests or duration_s")
        return self


class Target(_M):
    name: str = Field(min_length=1)
    endpoint: str
    model: str
    parameter_count: int | None = Field(default=None, gt=0)
    quantization: str | None = None
    engine: str | None = None
    hardware: str | None = None
    gpu_count: int | None = Field(default=None, ge=0)
    price_ref: str | None = None
    whole_instance: bool | None = None
    api_key_env: str | None = None
    tokenizer: str | None = None
    metrics_url: str | None = None
    ignore_eos: bool | None = None


class SuiteFile(_M):
    suite: SuiteMeta
    scenarios: list[Scenario] = Field(min_length=1)
    targets: list[Target] = Field(default_factory=list)


def _loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for p in loc:
        out += f"[{p}]" if isinstance(p, int) else (("." if out else "") + p)
    return out


def load_suite(path: Path) -> tuple[SuiteFile, str]:
    """Parse and validate a suite file; `standard` means the shipped one. Errors name the key."""
    if not path.exists() and path.suffix == "" and str(path) == path.name:
        shipped = files("unitcost.bench").joinpath("suite_files", f"{path.name}.toml")
        if not shipped.is_file():
            raise InputError(f"--suite {path}: no such file and no shipped suite of that name")
        text, where = shipped.read_text(encoding="utf-8"), f"shipped suite {path.name}"
    else:
        try:
            text, where = path.read_text(encoding="utf-8"), str(path)
        except OSError as exc:
            raise InputError(f"--suite {path}: {exc.strerror}") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{where}: not valid TOML: {exc}") from exc
    try:
        return SuiteFile.model_validate(data), where
    except ValidationError as exc:
        lines = [f"{where}: {_loc(e['loc']) or '(top level)'}: {e['msg']}" for e in exc.errors()]
        raise InputError("invalid suite file:\n  " + "\n  ".join(lines)) from exc


_TARGET_FIELDS = (
    "endpoint",
    "model",
    "parameter_count",
    "quantization",
    "engine",
    "hardware",
    "gpu_count",
    "price_ref",
    "whole_instance",
    "api_key_env",
    "metrics_url",
)


@dataclass(frozen=True)
class Planned:
    """One (target, scenario, level) of a suite, checked (spec.plan) and not yet run."""

    target: str
    scenario: Scenario
    level: float
    plan: spec.Plan


@dataclass(frozen=True)
class SuiteProgress:
    """What a progress callback hears: before each run (run_id None) and after it."""

    index: int  # 1-based
    total: int
    name: str
    target: str
    scenario: str
    level: float
    run_id: str | None = None
    summary: dict[str, Any] | None = None


@dataclass
class SuiteResult:
    """Every run of the suite (in order) and the SLO capacity decisions made from them."""

    group_id: str
    runs: list[tuple[str, str, float, str, dict[str, Any]]] = field(default_factory=list)
    decisions: list[capacity.Decision] = field(default_factory=list)
    interrupted: bool = False  # Ctrl-C: the suite stopped at that run

    @property
    def run_ids(self) -> list[str]:
        return [r[3] for r in self.runs]


def plan_suite(
    suite: SuiteFile,
    where: str,
    *,
    settings: Settings,
    store: Store,
    base: spec.RunInput | None = None,
    targets: Sequence[Target] | None = None,
) -> list[Planned]:
    """Every run of the suite, checked before any request: errors name the suite key."""
    base = base or spec.RunInput()
    for i, sc in enumerate(suite.scenarios):
        metrics.parse_slo(sc.slo, flag=f"{where}: scenarios[{i}].slo")
    chosen: list[Target | None] = list(targets if targets is not None else suite.targets)
    if not chosen:
        if not base.endpoint and len(settings.endpoints) != 1:
            raise InputError(f"{where} declares no [[targets]]: give --endpoint and --model")
        chosen = [None]
    out: list[Planned] = []
    for j, t in enumerate(chosen):
        tname = t.name if t else (base.endpoint or settings.endpoints[0].name)
        tkw: dict[str, Any] = {}
        names = dict(base.names)
        if t is not None:
            tkw = {k: getattr(t, k) for k in _TARGET_FIELDS if getattr(t, k) is not None}
            if t.tokenizer is not None:
                tkw["tokenizer"] = Path(t.tokenizer)
            if targets is None:  # from the file: errors name its keys
                names.update({k: f"{where}: targets[{j}].{k}" for k in (*tkw, "endpoint")})
        for i, sc in enumerate(suite.scenarios):
            levels = sc.concurrency if sc.concurrency is not None else sc.rate or []
            ie = t.ignore_eos if t and t.ignore_eos is not None else sc.ignore_eos
            for lv in levels:
                inp = dataclasses.replace(
                    base,
                    **tkw,
                    api=sc.api,
                    input_tokens=str(sc.input_tokens),
                    output_tokens=str(sc.output_tokens),
                    prefix_tokens=sc.prefix_tokens,
                    slo=sc.slo,
                    slo_attainment=suite.suite.slo_attainment,
                    requests=sc.requests,
                    duration=sc.duration_s,
                    seed=suite.suite.seed,
                    warmup_requests=suite.suite.warmup_requests,
                    concurrency=int(lv) if sc.concurrency is not None else None,
                    rate=float(lv) if sc.rate is not None else None,
                    ignore_eos=base.ignore_eos if ie is None else ie,
                    labels={
                        **base.labels,
                        "suite": suite.suite.name,
                        "scenario": sc.name,
                        "target": tname,
                    },
                    name=f"{suite.suite.name}/{sc.name}/{tname}/{lv:g}",
                    summary_extra={
                        "suite": {
                            "name": suite.suite.name,
                            "scenario": sc.name,
                            "target": tname,
                            "level": lv,
                        }
                    },
                    names={
                        **names,
                        "slo": f"{where}: scenarios[{i}].slo",
                        "input_tokens": f"{where}: scenarios[{i}].input_tokens",
                        "output_tokens": f"{where}: scenarios[{i}].output_tokens",
                    },
                )
                out.append(Planned(tname, sc, lv, spec.plan(inp, settings=settings, store=store)))
    return out


def run_suite(
    store: Store,
    suite: SuiteFile | Path,
    *,
    settings: Settings | None = None,
    base: spec.RunInput | None = None,
    targets: Sequence[Target] | None = None,
    progress: Callable[[SuiteProgress], None] | None = None,
    on_tick: Callable[[Live], None] | None = None,
    log: Callable[[str], None] = lambda _msg: None,
) -> SuiteResult:
    """Run every (target, scenario, level) in order; decide and store each scenario's SLO
    capacity on each target; return every run. All runs are checked, and every target reached,
    before any load. A Ctrl-C ends the suite at that run (result.interrupted)."""
    settings = settings or Settings()
    where = "suite"
    if isinstance(suite, Path):
        suite, where = load_suite(suite)
    planned = plan_suite(suite, where, settings=settings, store=store, base=base, targets=targets)
    facts: dict[tuple[str, str], ServerFacts] = {}
    for p in planned:  # GET /v1/models of every target, and every price share, before any load
        key = (p.plan.client.root, p.plan.client.model)
        if key not in facts:
            facts[key] = server_facts(p.plan.client)
        spec.resolve_target(p.plan, facts[key])
    probes: dict[tuple[str, str], Probe] = {}
    specs = []
    for p in planned:
        key = (p.plan.client.root, p.plan.client.model)
        if key not in probes:
            log(f"preflight {p.plan.client.url} model {p.plan.client.model!r} ...")
            probes[key] = preflight(p.plan.client, facts[key])
        specs.append((p, spec.prepare(p.plan, probe=probes[key], log=log)))
    result = SuiteResult(group_id=new_group("suite"))
    for i, (p, sp) in enumerate(specs, start=1):
        sp.group_id = result.group_id
        event = SuiteProgress(i, len(specs), sp.name or "", p.target, p.scenario.name, p.level)
        if progress is not None:
            progress(event)
        run_id, summary = runner.run(store, sp, on_tick)
        result.runs.append((p.target, p.scenario.name, p.level, run_id, summary))
        if progress is not None:
            progress(dataclasses.replace(event, run_id=run_id, summary=summary))
        if summary.get("status") != "completed":
            result.interrupted = True
            break
    if not result.interrupted:
        result.decisions = decide(result, suite)
        for d in result.decisions:
            capacity.store_decision(store, d)
    return result


def decide(result: SuiteResult, suite: SuiteFile) -> list[capacity.Decision]:
    """Per target and scenario: the highest level whose run meets the scenario's SLO."""
    out = []
    keys = list(dict.fromkeys((r[0], r[1]) for r in result.runs))
    by_name = {sc.name: sc for sc in suite.scenarios}
    for tname, sname in keys:
        runs = [(r[3], r[4]) for r in result.runs if (r[0], r[1]) == (tname, sname)]
        slo = metrics.parse_slo(by_name[sname].slo)
        if not slo:
            continue  # no SLO, no capacity to decide
        att = suite.suite.slo_attainment
        at = capacity.highest_meeting(runs, att)
        out.append(capacity.Decision(result.group_id, "suite", slo, att, runs, at, tname, sname))
    return out
