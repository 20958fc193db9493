"""What a run is: built from a plain typed input that the CLI, suites and Python callers share.

    RunInput  what a user asks for (the `bench run` flags, a suite's scenario x target, or a
              Python caller such as `unitcost demo`), plain values, no click.
    plan()    every check that needs no request: the store, the configuration, flags, files,
              the price row; errors name the flag (or the suite key) they come from.
    prepare() the server: GET /v1/models (what it serves; what it emulates), then the target's
              cost share, then one test request, then the token counter and the prompts.
    RunSpec   everything the runner needs.

So configuration and store errors come before any request is sent, and a wrong model or a
refused key before any load.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from unitcost.bench import cost, metrics
from unitcost.bench.client import ClientConfig
from unitcost.bench.preflight import (
    Probe,
    ServerFacts,
    calibrate_tokens_per_word,
    preflight,
    server_facts,
)
from unitcost.bench.profiles import LoadProfile
from unitcost.bench.tokens import LocalTokenizer, TokenCounter, TokenizeEndpoint
from unitcost.bench.workloads import (
    ApproxCounter,
    LengthSpec,
    SyntheticSpec,
    WorkItem,
    jsonl_conversations,
    mooncake_trace,
    synthetic,
)

from unitcost.config import Endpoint, Settings
from unitcost.errors import ConfigError, InputError
from unitcost.store import Store

#: Body fields the harness owns; --extra-body may not replace them (the flag to use instead).
_OWN_FIELDS = {
    "model": "--model",
    "messages": "--dataset or --input-tokens",
    "prompt": "--dataset or --input-tokens",
    "stream": "--no-stream",
    "stream_options": "(always include_usage)",
    "max_tokens": "--output-tokens",
    "max_completion_tokens": "--output-tokens",
}
_TARGET_KEYS = ("engine", "hardware", "gpu_count", "quantization", "parameter_count")


@dataclass
class RunSpec:
    """Everything one run needs; built by prepare() (or directly, in tests)."""

    client: ClientConfig
    profile: LoadProfile
    items: list[WorkItem]
    max_requests: int | None = None
    duration_s: float | None = None
    steady: bool = False
    steady_window_s: float = 2.0
    steady_rel: float = 0.05
    warmup_s: float = 0.0
    warmup_requests: int = 0
    cooldown_s: float = 0.0
    slo: dict[str, float] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    name: str | None = None
    target: dict[str, Any] = field(default_factory=dict)  # parameter_count, engine, price_ref...
    workload: dict[str, Any] = field(default_factory=dict)
    counter: TokenCounter | None = None
    metrics_url: str | None = None
    scrape_interval_s: float = 5.0
    group_id: str | None = None
    flush_s: float = 1.0  # records reach DuckDB at least this often (each flush attaches it)
    slo_attainment: float = 0.9  # goodput fraction that "meets the SLO" (summary: meets_slo)
    summary_extra: dict[str, Any] = field(default_factory=dict)
    workers: int = 1  # client processes (workers.py); 1 = this process
    percentiles: tuple[float, ...] = metrics.PERCENTILES
    whole_instance: bool = False  # charged the whole priced instance, not its GPU share


@dataclass(frozen=True)
class RunInput:
    """One run as asked for: the `bench run` flags as plain values (defaults are the flags')."""

    endpoint: str | None = None  # URL or configured endpoint name
    model: str | None = None
    api: str = "chat"
    stream: bool = True
    headers: tuple[str, ...] = ()  # "Name: value"
    extra_body: str | Mapping[str, Any] | None = None  # JSON object (text or mapping)
    concurrency: int | None = None
    rate: float | None = None
    arrival: str = "poisson"
    burstiness: float = 1.0
    ramp_from: float | None = None
    ramp_s: float = 0.0
    requests: int | None = None
    duration: float | None = None
    until_steady: bool = False
    warmup: float = 0.0
    warmup_requests: int = 0
    cooldown: float = 0.0
    input_tokens: str = "256"
    output_tokens: str = "128"
    prefix_tokens: int = 0
    dataset: Path | None = None
    trace: Path | None = None
    tokenizer: Path | None = None
    seed: int = 0
    ignore_eos: bool = False
    slo: str | None = None
    slo_attainment: float = 0.9
    percentiles: str | None = None  # "50,90,99,99.9"
    labels: Mapping[str, str] = field(default_factory=dict)
    name: str | None = None
    api_key_env: str | None = None
    timeout_connect: float = 10.0
    timeout_first_token: float = 60.0
    timeout_total: float = 600.0
    engine: str | None = None
    hardware: str | None = None
    gpu_count: int | None = None
    quantization: str | None = None
    parameter_count: int | None = None
    price_ref: str | None = None
    whole_instance: bool | None = None
    metrics_url: str | None = None
    scrape_interval: float = 5.0
    no_scrape: bool = False
    workers: int = 1
    group_id: str | None = None
    summary_extra: Mapping[str, Any] = field(default_factory=dict)
    #: How errors name a field, when it did not come from a flag (suites: "FILE: targets[0].x").
    names: Mapping[str, str] = field(default_factory=dict)

    def flag(self, key: str) -> str:
        return self.names.get(key, "--" + key.replace("_", "-"))


@dataclass
class Plan:
    """A checked RunInput: what prepare() turns into a RunSpec once the server is asked."""

    inp: RunInput
    client: ClientConfig
    profile: LoadProfile
    slo: dict[str, float]
    percentiles: tuple[float, ...]
    input_spec: LengthSpec
    output_spec: LengthSpec
    target: dict[str, Any]  # what the user said (None where nothing)
    whole_instance: bool
    labels: dict[str, str]
    metrics_url: str | None
    price: dict[str, Any] | None = None  # the catalog row, when price_ref is set


def parse_percentiles(text: str | None, *, flag: str = "--percentiles") -> tuple[float, ...]:
    """`50,90,99,99.9` -> the summary's percentiles (the defaults p50/p90/p95/p99 are always
    computed too, so stored figures stay comparable across runs)."""
    if not text:
        return metrics.PERCENTILES
    out: set[float] = set(metrics.PERCENTILES)
    for part in text.replace(" ", ",").split(","):
        if not part:
            continue
        try:
            p = float(part.removeprefix("p"))
        except ValueError:
            raise InputError(f"{flag} {text!r}: {part!r} is not a number") from None
        if not 0 <= p <= 100:
            raise InputError(f"{flag} {text!r}: {part!r} is not between 0 and 100")
        out.add(p)
    return tuple(sorted(out))


def _headers(values: tuple[str, ...], flag: str) -> tuple[tuple[str, str], ...]:
    out = []
    for v in values:
        name, sep, value = v.partition(":")
        if not sep or not name.strip() or any(c.isspace() for c in name.strip()):
            raise InputError(f"{flag} {v!r}: expected 'Name: value'")
        out.append((name.strip(), value.strip()))
    return tuple(out)


def _extra_body(value: str | Mapping[str, Any] | None, flag: str) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, str):
        try:
            obj = json.loads(value)
        except ValueError as exc:
            raise InputError(f"{flag} {value!r}: not JSON: {exc}") from None
    else:
        obj = dict(value)
    if not isinstance(obj, dict):
        raise InputError(f"{flag} {value!r}: must be a JSON object, e.g. '{{\"temperature\": 0}}'")
    for key in obj:
        if key in _OWN_FIELDS:
            raise InputError(f"{flag}: {key!r} is set by the harness; use {_OWN_FIELDS[key]}")
    return obj


def _endpoint(inp: RunInput, settings: Settings) -> tuple[str, Endpoint | None]:
    """The base URL and the configured endpoint it came from (if any)."""
    ep = inp.endpoint
    if ep is None:
        if len(settings.endpoints) == 1:
            return settings.endpoints[0].base_url, settings.endpoints[0]
        raise ConfigError(
            f"{inp.flag('endpoint')} is required (a URL or a configured endpoint name)"
        )
    if "://" not in ep:
        for cfg in settings.endpoints:
            if cfg.name == ep:
                return cfg.base_url, cfg
        known = ", ".join(e.name for e in settings.endpoints) or "none configured"
        raise ConfigError(
            f"{inp.flag('endpoint')} {ep!r}: neither a URL (http://host:port) nor a configured "
            f"endpoint name (known: {known})"
        )
    parts = urlsplit(ep)
    if parts.scheme not in ("http", "https"):
        raise ConfigError(
            f"{inp.flag('endpoint')} {ep!r}: unsupported URL scheme {parts.scheme!r} "
            "(use http:// or https://)"
        )
    if not parts.hostname:
        raise ConfigError(f"{inp.flag('endpoint')} {ep!r}: no host in the URL")
    return ep, None


def _given(ep: Endpoint | None, key: str) -> Any:
    """A configured endpoint's value only when the user set it (defaults such as gpu_count = 1
    or engine = "unknown" are not claims about the target)."""
    if ep is None or key not in ep.model_fields_set:
        return None
    v = getattr(ep, key)
    return None if v == "unknown" else v


def plan(inp: RunInput, *, settings: Settings, store: Store) -> Plan:
    """Check everything that needs no request; errors name the flag or key."""
    store.require_current()
    base_url, ep = _endpoint(inp, settings)
    model = inp.model or (ep.model if ep else None)
    if not model:
        raise ConfigError(f"{inp.flag('model')} is required")
    for key in ("requests", "duration", "timeout_connect", "timeout_first_token", "timeout_total"):
        v = getattr(inp, key)
        if v is not None and v <= 0:
            raise InputError(f"{inp.flag(key)} must be > 0")
    if not 0 < inp.slo_attainment <= 1:
        raise InputError(f"{inp.flag('slo_attainment')} must be in (0, 1]")
    if inp.scrape_interval <= 0:
        raise InputError(f"{inp.flag('scrape_interval')} must be > 0")
    cfg = ClientConfig(
        base_url=base_url,
        model=model,
        api=inp.api,
        api_key_env=inp.api_key_env or (ep.api_key_env if ep else None),
        ignore_eos=inp.ignore_eos,
        connect_timeout_s=inp.timeout_connect,
        first_token_timeout_s=inp.timeout_first_token,
        total_timeout_s=inp.timeout_total,
        extra_body=_extra_body(inp.extra_body, inp.flag("extra_body")),
        stream=inp.stream,
        extra_headers=_headers(inp.headers, inp.flag("header")),
    )
    cfg.headers()  # an unset --api-key-env variable is an error now, not at the first request
    kind = "concurrency"
    if inp.trace is not None:
        kind = "trace"
    elif inp.ramp_from is not None:
        kind = "ramp"
    elif inp.rate is not None:
        kind = "rate"
    if kind == "trace" and (inp.rate is not None or inp.ramp_from is not None):
        raise InputError("--trace replays the trace's own timestamps: drop --rate/--ramp-from")
    profile = LoadProfile(
        kind=kind,
        concurrency=1 if kind == "concurrency" and inp.concurrency is None else inp.concurrency,
        rate=inp.rate,
        arrival=inp.arrival,
        burstiness=inp.burstiness,
        rate_start=inp.ramp_from or 0.0,
        ramp_s=inp.ramp_s,
        seed=inp.seed,
    ).validate()
    if inp.requests is None and inp.duration is None and not inp.until_steady and kind != "trace":
        raise InputError("say when to stop: --requests N, --duration S or --until-steady")
    slo = metrics.parse_slo(inp.slo, flag=inp.flag("slo"))
    if not inp.stream and set(slo) - {"e2el"}:
        raise InputError(
            f"{inp.flag('slo')} {inp.slo!r}: with --no-stream there is no first token, so only "
            "e2el can be an SLO term"
        )
    for path, key in ((inp.dataset, "dataset"), (inp.trace, "trace"), (inp.tokenizer, "tokenizer")):
        if path is not None and not Path(path).exists():
            raise InputError(f"{inp.flag(key)} {path}: no such file")
    target: dict[str, Any] = {
        "engine": inp.engine or _given(ep, "engine"),
        "hardware": inp.hardware or _given(ep, "hardware"),
        "gpu_count": inp.gpu_count if inp.gpu_count is not None else _given(ep, "gpu_count"),
        "quantization": inp.quantization or _given(ep, "quantization"),
        "parameter_count": inp.parameter_count or _given(ep, "parameter_count"),
        "price_ref": inp.price_ref or (ep.price_ref if ep else None),
        "emulated": False,
    }
    if target["gpu_count"] is None and ep is not None:
        target["gpu_count"] = ep.gpu_count  # the endpoint's default of 1, unless the server says
        target["_gpu_count_default"] = True
    whole = (
        inp.whole_instance
        if inp.whole_instance is not None
        else bool(ep.whole_instance if ep else False)
    )
    out = Plan(
        inp=inp,
        client=cfg,
        profile=profile,
        slo=slo,
        percentiles=parse_percentiles(inp.percentiles, flag=inp.flag("percentiles")),
        input_spec=LengthSpec.parse(inp.input_tokens, flag=inp.flag("input_tokens")),
        output_spec=LengthSpec.parse(inp.output_tokens, flag=inp.flag("output_tokens")),
        target=target,
        whole_instance=whole,
        labels=dict(inp.labels),
        metrics_url=inp.metrics_url or (ep.metrics_url if ep else None),
    )
    if inp.workers < 1:
        raise InputError(f"{inp.flag('workers')} must be >= 1")
    if inp.workers > 1 and profile.concurrency is not None and profile.concurrency < inp.workers:
        raise InputError(
            f"{inp.flag('workers')} {inp.workers} needs --concurrency >= {inp.workers} "
            "(each worker takes a share)"
        )
    if inp.workers > 1 and inp.until_steady:
        raise InputError("--until-steady needs --workers 1 (the stability rule sees one stream)")
    ref = target["price_ref"]
    if ref:
        with store.read() as con:
            from unitcost import prices

            out.price = prices.price_for_ref(con, ref, where=inp.flag("price_ref"))
            if target["gpu_count"] is not None or whole:  # else the server may say (emulate)
                cost.share_of(
                    int(out.price["gpu_count"]),
                    target["gpu_count"],
                    whole,
                    where=f"{inp.flag('price_ref')} {ref}",
                )
    return out


def resolve_target(p: Plan, facts: ServerFacts) -> dict[str, Any]:
    """The target as stored: what the user said, completed (and, for an emulated server,
    checked) by what the server says about itself; then the run's share of its priced
    instance is checked. Errors name the flag or key."""
    target = {k: v for k, v in p.target.items() if not k.startswith("_")}
    said = dict(facts.target())
    if facts.emulated:
        for key in _TARGET_KEYS:
            mine, theirs = p.target.get(key), said.get(key)
            if key == "gpu_count" and p.target.get("_gpu_count_default"):
                mine = None
            if mine is None or theirs is None:
                continue
            if str(mine).lower() != str(theirs).lower():
                raise ConfigError(
                    f"{p.inp.flag(key)} {mine}: the server at {p.client.root} says it emulates "
                    f"{key} {theirs} (GET /v1/models); drop the flag or point at another server"
                )
        target["emulated"] = True
        for key in _TARGET_KEYS:
            if said.get(key) is not None:
                target[key] = said[key]
    elif target.get("engine") is None and facts.engine:
        target["engine"] = facts.engine
    if p.price is not None:
        cost.share_of(
            int(p.price["gpu_count"]),
            target["gpu_count"],
            p.whole_instance,
            where=f"{p.inp.flag('price_ref')} {target['price_ref']}",
        )
    return target


def choose_counter(cfg: ClientConfig, tokenizer: Path | None) -> TokenCounter:
    """Local tokenizer.json if given, else the server's /tokenize, else approximate words."""
    if tokenizer is not None:
        return LocalTokenizer(tokenizer)
    ep = TokenizeEndpoint(cfg.root, cfg.model, cfg.api_key_env)
    if ep.available():
        return ep
    ratio = calibrate_tokens_per_word(cfg)  # from the server's usage counts
    return ApproxCounter(ratio if ratio is not None else 1.0)


def build_items(p: Plan, counter: TokenCounter, n: int) -> tuple[list[WorkItem], dict[str, Any]]:
    """The requests' contents (seeded) and the workload description stored with the run."""
    inp = p.inp
    if inp.trace is not None:
        items = mooncake_trace(inp.trace, counter, inp.seed)
        workload: dict[str, Any] = {
            "kind": "mooncake_trace",
            "file": str(inp.trace),
            "seed": inp.seed,
            "token_counter": counter.source,
        }
    elif inp.dataset is not None:
        items = jsonl_conversations(inp.dataset, p.output_spec, inp.seed)
        workload = {"kind": "jsonl", "file": str(inp.dataset), "seed": inp.seed}
    else:
        spec = SyntheticSpec(p.input_spec, p.output_spec, inp.prefix_tokens, inp.seed)
        items = synthetic(spec, n, counter)
        workload = {
            "kind": "synthetic",
            "input_tokens": p.input_spec.describe(),
            "output_tokens": p.output_spec.describe(),
            "prefix_tokens": inp.prefix_tokens,
            "seed": inp.seed,
            "token_counter": counter.source,
            "exact_lengths": counter.source != "calibrated",
            "tokens_per_word": counter.tokens_per_word
            if isinstance(counter, ApproxCounter)
            else None,
        }
    workload["stream"] = p.client.stream
    if p.client.extra_body:
        workload["extra_body"] = p.client.extra_body
    if p.client.extra_headers:  # names only: a header's value may be a secret
        workload["header_names"] = [h for h, _ in p.client.extra_headers]
    return items, workload


def prepare(
    p: Plan,
    *,
    facts: ServerFacts | None = None,
    probe: Probe | None = None,
    log: Callable[[str], None] = lambda _msg: None,
) -> RunSpec:
    """Ask the server (facts, then one test request), then build the prompts: the RunSpec."""
    from unitcost.bench import scrape

    cfg = p.client
    if facts is None:
        facts = probe.facts if probe is not None else server_facts(cfg)
    target = resolve_target(p, facts)
    whole = p.whole_instance
    if probe is None:
        log(f"preflight {cfg.url} model {cfg.model!r} ...")
        probe = preflight(cfg, facts)
    metrics_url = p.metrics_url
    if metrics_url is None and not p.inp.no_scrape:
        guess = cfg.root + "/metrics"
        if scrape.looks_like_metrics(guess):
            metrics_url = guess
            log(f"scraping server metrics from {guess} every {p.inp.scrape_interval:g}s")
    counter = choose_counter(cfg, p.inp.tokenizer)
    n_items = p.inp.requests or 512
    items, workload = build_items(p, counter, min(n_items, 4096))
    return RunSpec(
        client=cfg,
        profile=p.profile,
        items=items,
        max_requests=p.inp.requests,
        duration_s=p.inp.duration,
        steady=p.inp.until_steady,
        warmup_s=p.inp.warmup,
        warmup_requests=p.inp.warmup_requests,
        cooldown_s=p.inp.cooldown,
        slo=p.slo,
        labels=p.labels,
        name=p.inp.name,
        target=target,
        workload=workload,
        counter=counter if counter.source != "calibrated" else None,
        metrics_url=metrics_url,
        scrape_interval_s=p.inp.scrape_interval,
        group_id=p.inp.group_id,
        slo_attainment=p.inp.slo_attainment,
        summary_extra=dict(p.inp.summary_extra),
        workers=p.inp.workers,
        percentiles=p.percentiles,
        whole_instance=whole,
    )


def with_profile(spec: RunSpec, profile: LoadProfile, **changes: Any) -> RunSpec:
    """A copy of a prepared spec with another load profile (sweep and capacity steps)."""
    return replace(spec, profile=profile.validate(), **changes)
