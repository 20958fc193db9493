"""Suites: standard scenarios (token shape + SLO + load levels) run across declared targets.

A suite file is TOML: `[suite]` (name, seed, slo_attainment, warmup_requests), `[[scenarios]]`
and optional `[[targets]]` (without targets, the command line's --endpoint/--model/... is the
one target). Every (target, scenario, load level) is one run; all runs of one invocation share
a `group_id`. A scenario's SLO capacity on a target is the highest load level whose
goodput_fraction reaches `slo_attainment`; its cost per token is that run's.
`unitcost bench run --suite standard` runs the shipped `suite_files/standard.toml`.
"""

from __future__ import annotations

import tomllib
import uuid
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from rich.console import Console
from rich.table import Table

from unitcost.errors import InputError

if TYPE_CHECKING:
    from unitcost.cli import App


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


def _target_kw(t: Target) -> dict[str, Any]:
    kw: dict[str, Any] = {"endpoint": t.endpoint, "model": t.model}
    for key in (
        "parameter_count",
        "quantization",
        "engine",
        "hardware",
        "gpu_count",
        "price_ref",
        "api_key_env",
        "metrics_url",
    ):
        if getattr(t, key) is not None:
            kw[key] = getattr(t, key)
    if t.tokenizer is not None:
        kw["tokenizer"] = Path(t.tokenizer)
    return kw


def run_suite(
    app: App, path: Path, flags: dict[str, Any], *, show_live: bool, out: Console
) -> list[str]:
    """Run every (target, scenario, level); print the SLO-capacity table; return run ids."""
    from unitcost.bench import cli as bench_cli
    from unitcost.bench import metrics, runner

    suite, where = load_suite(path)
    for i, sc in enumerate(suite.scenarios):
        try:
            metrics.parse_slo(sc.slo, flag=f"{where}: scenarios[{i}].slo")
        except InputError as exc:
            raise InputError(str(exc)) from None
    targets: list[Target | None] = list(suite.targets) or [None]
    if targets == [None] and not flags.get("endpoint"):
        raise InputError(f"{where} declares no [[targets]]: give --endpoint and --model")
    group = "suite-" + datetime.now(UTC).strftime("%Y%m%dT%H%M%S-") + uuid.uuid4().hex[:6]
    plans: list[tuple[str, Scenario, float, Any]] = []
    for t in targets:
        tname = t.name if t else (flags.get("endpoint") or "target")
        base = {**flags, **(_target_kw(t) if t else {})}
        for sc in suite.scenarios:
            levels = sc.concurrency if sc.concurrency is not None else sc.rate or []
            for level in levels:
                kw = dict(base)
                kw.update(
                    {
                        "api": sc.api,
                        "input_tokens": str(sc.input_tokens),
                        "output_tokens": str(sc.output_tokens),
                        "prefix_tokens": sc.prefix_tokens,
                        "slo": sc.slo,
                        "n_requests": sc.requests,
                        "duration": sc.duration_s,
                        "seed": suite.suite.seed,
                        "warmup_requests": suite.suite.warmup_requests,
                        "concurrency": int(level) if sc.concurrency is not None else None,
                        "rate": float(level) if sc.rate is not None else None,
                        "labels": (
                            *flags.get("labels", ()),
                            f"suite={suite.suite.name}",
                            f"scenario={sc.name}",
                            f"target={tname}",
                        ),
                        "name": f"{suite.suite.name}/{sc.name}/{tname}/{level:g}",
                    }
                )
                ie = t.ignore_eos if t and t.ignore_eos is not None else sc.ignore_eos
                if ie is not None:
                    kw["ignore_eos"] = ie
                plans.append((tname, sc, level, kw))
    # validate everything and reach every target before any load
    specs = []
    probed: dict[tuple[str, str], Any] = {}
    for tname, sc, level, kw in plans:
        spec = bench_cli.spec_from_flags(app, kw)
        spec.group_id = group
        spec.slo_attainment = suite.suite.slo_attainment
        spec.summary_extra = {
            "suite": {
                "name": suite.suite.name,
                "scenario": sc.name,
                "target": tname,
                "level": level,
            }
        }
        key = (spec.client.root, spec.client.model)
        if key not in probed:
            probed[key] = runner.preflight(spec.client)
        bench_cli._metrics_and_counter(spec, kw, probed[key])
        specs.append((tname, sc, level, spec))
    ids: list[str] = []
    results: list[tuple[str, Scenario, float, dict[str, Any]]] = []
    for tname, sc, level, spec in specs:
        out.print(f"[bold]{spec.name}[/]")
        run_id, summary = bench_cli.execute(app, spec, show_live=show_live)
        ids.append(run_id)
        results.append((tname, sc, level, summary))
    out.print(capacity_table(results, suite.suite.slo_attainment))
    return ids


def capacity_table(
    results: list[tuple[str, Scenario, float, dict[str, Any]]], attainment: float
) -> Table:
    """Per target and scenario: the SLO capacity level and its throughput and cost."""
    t = Table(
        "target",
        "scenario",
        "SLO",
        "capacity",
        "good %",
        "out tok/s",
        "USD/1M out",
        "USD/1M out spot",
        title=f"SLO capacity (goodput fraction >= {attainment:.0%})",
    )
    keys = list(dict.fromkeys((r[0], r[1].name) for r in results))
    for tname, sname in keys:
        rows = [r for r in results if r[0] == tname and r[1].name == sname]
        ok = [r for r in rows if (r[3].get("goodput_fraction") or 0) >= attainment]
        best = max(ok, key=lambda r: r[2]) if ok else None
        s = best[3] if best else {}

        def money(v: Any) -> str:
            return "" if v is None else f"{v:.4f}"

        spot = ""
        if s.get("usd_per_1m_output_tokens_spot_low") is not None:
            spot = (
                f"{s['usd_per_1m_output_tokens_spot_low']:.4f}-"
                f"{s['usd_per_1m_output_tokens_spot_high']:.4f}"
            )
        t.add_row(
            tname,
            sname,
            rows[0][1].slo or "",
            f"{best[2]:g}" if best else "none met",
            "" if not s else f"{(s.get('goodput_fraction') or 0):.0%}",
            "" if not s else f"{s.get('output_tokens_per_s') or 0:.1f}",
            money(s.get("usd_per_1m_output_tokens")),
            spot,
        )
    return t
