"""`unitcost bench ...`: thin commands over runner, report and suites."""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.live import Live as RichLive
from rich.table import Table
from unitcost.bench import report, runner, scrape, workers
from unitcost.bench.client import ClientConfig
from unitcost.bench.metrics import parse_slo
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

from unitcost.errors import ConfigError, InputError

if TYPE_CHECKING:
    from unitcost.cli import App

# ctx.obj is unitcost.cli's App; importing unitcost.cli here would be circular.
pass_app = click.pass_obj

out = Console()
err = Console(stderr=True)


@click.group("bench")
def bench() -> None:
    """Load-test OpenAI-compatible endpoints; results go to the DuckDB store."""


def _labels(values: tuple[str, ...]) -> dict[str, str]:
    labels: dict[str, str] = {}
    for v in values:
        k, sep, val = v.partition("=")
        if not sep or not k:
            raise InputError(f"--label {v!r}: expected KEY=VALUE")
        labels[k] = val
    return labels


def choose_counter(cfg: ClientConfig, tokenizer: Path | None) -> TokenCounter:
    """Local tokenizer.json if given, else the server's /tokenize, else approximate words."""
    if tokenizer is not None:
        return LocalTokenizer(tokenizer)
    ep = TokenizeEndpoint(cfg.root, cfg.model, cfg.api_key_env)
    if ep.available():
        return ep
    ratio = runner.calibrate_tokens_per_word(cfg)  # from the server's usage counts
    return ApproxCounter(ratio if ratio is not None else 1.0)


def build_items(
    *,
    counter: TokenCounter,
    n: int,
    input_tokens: str,
    output_tokens: str,
    prefix_tokens: int,
    dataset: Path | None,
    trace: Path | None,
    seed: int,
) -> tuple[list[WorkItem], dict[str, Any]]:
    out_spec = LengthSpec.parse(output_tokens, flag="--output-tokens")
    if trace is not None:
        items = mooncake_trace(trace, counter, seed)
        return items, {
            "kind": "mooncake_trace",
            "file": str(trace),
            "seed": seed,
            "token_counter": counter.source,
        }
    if dataset is not None:
        items = jsonl_conversations(dataset, out_spec, seed)
        return items, {"kind": "jsonl", "file": str(dataset), "seed": seed}
    in_spec = LengthSpec.parse(input_tokens, flag="--input-tokens")
    spec = SyntheticSpec(in_spec, out_spec, prefix_tokens, seed)
    items = synthetic(spec, n, counter)
    return items, {
        "kind": "synthetic",
        "input_tokens": in_spec.describe(),
        "output_tokens": out_spec.describe(),
        "prefix_tokens": prefix_tokens,
        "seed": seed,
        "token_counter": counter.source,
        "exact_lengths": counter.source != "calibrated",
        "tokens_per_word": counter.tokens_per_word if isinstance(counter, ApproxCounter) else None,
    }


def _live_table(live: runner.Live) -> Table:
    t = Table(
        "elapsed s",
        "sent",
        "done",
        "ok",
        "errors",
        "cancelled",
        "req/s",
        "TTFT p50 ms",
        "out tok/s",
    )
    el = max(live.elapsed(), 1e-9)
    ttft = f"{statistics.median(live.ttft_ms):.1f}" if live.ttft_ms else ""
    t.add_row(
        f"{el:.1f}",
        str(live.sent),
        str(live.done),
        str(live.ok),
        str(live.failed),
        str(live.cancelled),
        f"{live.done / el:.2f}",
        ttft,
        f"{live.output_tokens / el:.1f}",
    )
    if live.errors:
        t.caption = "errors: " + ", ".join(f"{k} {v}" for k, v in sorted(live.errors.items()))
    return t


def execute(app: App, spec: runner.RunSpec, *, show_live: bool) -> tuple[str, dict[str, Any]]:
    """Run with the live view on stderr; return (run_id, summary)."""
    if not show_live:
        return runner.run(app.store, spec)
    with RichLive(
        _live_table(runner.Live()), console=err, auto_refresh=False, transient=False
    ) as view:
        return runner.run(
            app.store, spec, on_tick=lambda lv: view.update(_live_table(lv), refresh=True)
        )


@bench.command("run")
@click.option(
    "--endpoint", help="Base URL, e.g. http://127.0.0.1:8080 (or a configured endpoint name)."
)
@click.option("--model", help="Model name to send (default: the configured endpoint's).")
@click.option(
    "--api", type=click.Choice(["chat", "completions"]), default="chat", show_default=True
)
@click.option("--concurrency", type=int, help="Closed loop of N in flight; with --rate, a cap.")
@click.option("--rate", type=float, help="Open loop: requests per second.")
@click.option(
    "--arrival",
    type=click.Choice(["poisson", "gamma", "constant"]),
    default="poisson",
    show_default=True,
)
@click.option(
    "--burstiness", type=float, default=1.0, show_default=True, help="Gamma shape (1 = Poisson)."
)
@click.option(
    "--ramp-from", type=float, help="Ramp: start rate (req/s), rising to --rate over --ramp-s."
)
@click.option("--ramp-s", type=float, default=0.0, help="Ramp duration in seconds.")
@click.option(
    "--requests", "n_requests", type=int, help="Stop after N requests (warm-up included)."
)
@click.option("--duration", type=float, help="Stop scheduling after S seconds.")
@click.option(
    "--until-steady",
    is_flag=True,
    help="Stop when throughput and median latency are stable (95% CI within 5%).",
)
@click.option(
    "--warmup", type=float, default=0.0, help="Seconds at the start excluded from metrics."
)
@click.option(
    "--warmup-requests", type=int, default=0, help="First N requests excluded from metrics."
)
@click.option(
    "--cooldown", type=float, default=0.0, help="Last S seconds of a --duration run excluded."
)
@click.option(
    "--input-tokens", default="256", show_default=True, help="N, uniform:LO-HI or normal:MEAN,STD."
)
@click.option(
    "--output-tokens", default="128", show_default=True, help="N, uniform:LO-HI or normal:MEAN,STD."
)
@click.option("--prefix-tokens", type=int, default=0, help="Shared prefix length in tokens.")
@click.option(
    "--dataset",
    type=click.Path(path_type=Path),
    help="JSONL conversations instead of synthetic prompts.",
)
@click.option("--trace", type=click.Path(path_type=Path), help="Mooncake trace JSONL to replay.")
@click.option(
    "--tokenizer", type=click.Path(path_type=Path), help="Local tokenizer.json (or its folder)."
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--ignore-eos", is_flag=True, help="Ask the server to ignore EOS (exact output lengths)."
)
@click.option("--slo", help='Goodput SLO, vLLM syntax: "ttft:500 tpot:50 e2el:5000" (ms).')
@click.option(
    "--label", "labels", multiple=True, help="KEY=VALUE stored with the run (repeatable)."
)
@click.option("--name", help="A name for the run.")
@click.option("--api-key-env", help="Environment variable holding the API key (never stored).")
@click.option("--timeout-connect", type=float, default=10.0, show_default=True)
@click.option("--timeout-first-token", type=float, default=60.0, show_default=True)
@click.option("--timeout-total", type=float, default=600.0, show_default=True)
@click.option("--engine", help="Engine label (vllm, llama.cpp, ...).")
@click.option("--hardware", help="GPU model, e.g. H100.")
@click.option("--gpu-count", type=int)
@click.option("--quantization")
@click.option("--parameter-count", type=int)
@click.option("--price-ref", help="provider/region/instance_type in the price catalog.")
@click.option("--metrics-url", help="Prometheus /metrics of the server to scrape during the run.")
@click.option("--scrape-interval", type=float, default=5.0, show_default=True)
@click.option("--no-scrape", is_flag=True, help="Do not look for the server's /metrics.")
@click.option(
    "--suite", type=click.Path(path_type=Path), help="Run a suite file instead (see docs/bench.md)."
)
@click.option("--sweep", "sweep_n", type=int, help="Synchronous, max throughput, then N rates.")
@click.option("--capacity", is_flag=True, help="Search the highest rate meeting --slo.")
@click.option(
    "--slo-attainment",
    type=float,
    default=0.9,
    show_default=True,
    help="Share of requests that must meet the SLO (--capacity).",
)
@click.option("--search-steps", type=int, default=5, show_default=True, help="--capacity steps.")
@click.option(
    "--workers",
    type=int,
    default=1,
    show_default=True,
    help="Client processes sharing the load (one writer: this process).",
)
@click.option("--no-live", is_flag=True, help="No live view.")
@pass_app
def bench_run(app: App, /, **kw: Any) -> None:
    """Offer load to an endpoint and store every request; prints the run id last."""
    if kw["suite"] is not None:
        from unitcost.bench import suites

        ids = suites.run_suite(app, kw["suite"], kw, show_live=not kw["no_live"], out=out)
        click.echo(" ".join(ids))  # one line: every run id of the suite
        return
    spec = spec_from_flags(app, kw)
    workers.validate(spec)
    _metrics_and_counter(spec, kw)
    if kw["sweep_n"] is not None or kw["capacity"]:
        _multi(app, spec, kw)
        return
    run_id, summary = execute(app, spec, show_live=not kw["no_live"])
    for t in report.summary_tables(summary):
        out.print(t)
    for w in summary.get("warnings", []):
        err.print(f"[yellow]warning:[/] {w}")
    click.echo(run_id)


def _multi(app: App, spec: runner.RunSpec, kw: dict[str, Any]) -> None:
    """--sweep / --capacity: several stored runs, a comparison table, all ids on the last line."""
    from unitcost.bench import sweep

    def run_one(sp: runner.RunSpec) -> tuple[str, dict[str, Any]]:
        err.print(f"[bold]{sp.name}[/]")
        return execute(app, sp, show_live=not kw["no_live"])

    max_conc = kw["concurrency"] if kw["concurrency"] and kw["concurrency"] > 1 else 64
    if kw["capacity"]:
        spec.slo_attainment = kw["slo_attainment"]
        cap, runs = sweep.capacity(
            spec,
            run_one,
            attainment=kw["slo_attainment"],
            steps=kw["search_steps"],
            max_conc=max_conc,
        )
    else:
        cap, runs = None, sweep.sweep(spec, run_one, kw["sweep_n"], max_conc)
        if len(runs) < 2 + kw["sweep_n"]:
            err.print(
                "[yellow]warning:[/] the max-throughput run was not faster than the "
                "synchronous one, so there are no rates in between to sweep"
            )
    out.print(report.compare_table([s for _, s in runs]))
    if kw["capacity"]:
        best = [s for _, s in runs if s.get("request_rate") == cap]
        cost = report._num(best[0].get("usd_per_1m_output_tokens"), 4) if best else ""
        where = "none (one request at a time misses it)" if cap is None else f"{cap:.3f} req/s"
        there = f", USD per 1M output tokens there: {cost}" if cost else ""
        out.print(f"SLO capacity: {where}{there}")
    click.echo(" ".join(r for r, _ in runs))


def _metrics_and_counter(
    spec: runner.RunSpec, kw: dict[str, Any], probe: runner.Probe | None = None
) -> None:
    """Preflight (clear errors before load), then find /metrics and a token counter."""
    if probe is None:
        err.print(f"preflight {spec.client.url} model {spec.client.model!r} ...")
        probe = runner.preflight(spec.client)
    if spec.metrics_url is None and not kw["no_scrape"]:
        guess = spec.client.root + "/metrics"
        if scrape.looks_like_metrics(guess):
            spec.metrics_url = guess
            err.print(f"scraping server metrics from {guess} every {spec.scrape_interval_s:g}s")
    if not probe.has_usage and spec.counter is None:
        spec.counter = choose_counter(spec.client, kw["tokenizer"])


def spec_from_flags(app: App, kw: dict[str, Any]) -> runner.RunSpec:
    """Validate flags (errors name the flag) and build a RunSpec with its workload."""
    settings = app.loaded.settings
    ep_cfg = None
    endpoint = kw["endpoint"]
    if endpoint and "://" not in endpoint:
        ep_cfg = settings.endpoint(endpoint)
    elif endpoint is None and len(settings.endpoints) == 1:
        ep_cfg = settings.endpoints[0]
    if endpoint is None and ep_cfg is None:
        raise ConfigError("--endpoint is required (a URL or a configured endpoint name)")
    base_url = ep_cfg.base_url if ep_cfg else endpoint
    model = kw["model"] or (ep_cfg.model if ep_cfg else None)
    if not model:
        raise ConfigError("--model is required")
    for flag in ("requests", "duration", "timeout_connect", "timeout_first_token", "timeout_total"):
        key = "n_requests" if flag == "requests" else flag
        if kw.get(key) is not None and kw[key] <= 0:
            raise InputError(f"--{flag.replace('_', '-')} must be > 0")
    cfg = ClientConfig(
        base_url=base_url,
        model=model,
        api=kw["api"],
        api_key_env=kw["api_key_env"] or (ep_cfg.api_key_env if ep_cfg else None),
        ignore_eos=kw["ignore_eos"],
        connect_timeout_s=kw["timeout_connect"],
        first_token_timeout_s=kw["timeout_first_token"],
        total_timeout_s=kw["timeout_total"],
    )
    kind = "concurrency"
    if kw["trace"] is not None:
        kind = "trace"
    elif kw["ramp_from"] is not None:
        kind = "ramp"
    elif kw["rate"] is not None:
        kind = "rate"
    if kind == "trace" and (kw["rate"] is not None or kw["ramp_from"] is not None):
        raise InputError("--trace replays the trace's own timestamps: drop --rate/--ramp-from")
    if kind == "concurrency" and kw["concurrency"] is None:
        kw["concurrency"] = 1  # the default load: one request at a time
    profile = LoadProfile(
        kind=kind,
        concurrency=kw["concurrency"],
        rate=kw["rate"],
        arrival=kw["arrival"],
        burstiness=kw["burstiness"],
        rate_start=kw["ramp_from"] or 0.0,
        ramp_s=kw["ramp_s"],
        seed=kw["seed"],
    ).validate()
    slo = parse_slo(kw["slo"])
    counter: TokenCounter = choose_counter(cfg, kw["tokenizer"])
    n_items = kw["n_requests"] or 512
    items, workload = build_items(
        counter=counter,
        n=min(n_items, 4096),
        input_tokens=kw["input_tokens"],
        output_tokens=kw["output_tokens"],
        prefix_tokens=kw["prefix_tokens"],
        dataset=kw["dataset"],
        trace=kw["trace"],
        seed=kw["seed"],
    )
    target = {
        "engine": kw["engine"] or (ep_cfg.engine if ep_cfg else None),
        "hardware": kw["hardware"] or (ep_cfg.hardware if ep_cfg else None),
        "gpu_count": kw["gpu_count"] or (ep_cfg.gpu_count if ep_cfg else None),
        "quantization": kw["quantization"] or (ep_cfg.quantization if ep_cfg else None),
        "parameter_count": kw["parameter_count"] or (ep_cfg.parameter_count if ep_cfg else None),
        "price_ref": kw["price_ref"] or (ep_cfg.price_ref if ep_cfg else None),
    }
    return runner.RunSpec(
        client=cfg,
        profile=profile,
        items=items,
        max_requests=kw["n_requests"],
        duration_s=kw["duration"],
        steady=kw["until_steady"],
        warmup_s=kw["warmup"],
        warmup_requests=kw["warmup_requests"],
        cooldown_s=kw["cooldown"],
        slo=slo,
        labels=_labels(kw["labels"]),
        name=kw["name"],
        target=target,
        workload=workload,
        counter=counter if counter.source != "calibrated" else None,
        metrics_url=kw["metrics_url"] or (ep_cfg.metrics_url if ep_cfg else None),
        scrape_interval_s=kw["scrape_interval"],
        workers=kw["workers"],
    )


@bench.command("list")
@click.option("--limit", type=int, default=50, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@pass_app
def bench_list(app: App, limit: int, fmt: str) -> None:
    """Recent runs, newest first."""
    from unitcost import sqlfiles
    from unitcost.store import fetch_dicts

    with app.store.read() as con:
        rows = fetch_dicts(con, sqlfiles.load("queries", "bench_run_list"), {"limit": limit})
    if fmt == "json":
        for r in rows:  # nested JSON as objects, not as strings
            for k in ("summary", "load_profile"):
                r[k] = json.loads(r[k]) if r[k] else None
        click.echo(json.dumps(rows, indent=2, default=str))
        return
    t = Table(
        "run_id",
        "started",
        "status",
        "source",
        "model",
        "profile",
        "ok/total",
        "out tok/s",
        "TTFT p50 ms",
    )
    for r in rows:
        s = json.loads(r["summary"]) if r["summary"] else {}
        lp = json.loads(r["load_profile"]) if r["load_profile"] else {}
        prof = f"{lp.get('kind', '')} {lp.get('concurrency') or lp.get('rate') or ''}".strip()
        t.add_row(
            r["run_id"],
            (r["started_at"] or "")[:19],
            r["status"],
            r["source"],
            r["model"] or "",
            prof,
            f"{s.get('requests_ok', '')}/{s.get('requests_total', '')}" if s else "",
            report._num(s.get("output_tokens_per_s"), 1),
            report._ms((s.get("ttft_ms") or {}).get("p50")),
        )
    out.print(t)


@bench.command("show")
@click.argument("run")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@pass_app
def bench_show(app: App, run: str, fmt: str) -> None:
    """One run's summary (JSON schema `unitcost.bench.summary` v1, see docs/bench.md)."""
    s = report.stored_or_fresh(app.store, run)
    if fmt == "json":
        click.echo(json.dumps(s, indent=2, default=str))
        return
    for t in report.summary_tables(s):
        out.print(t)
    for w in s.get("warnings", []):
        out.print(f"[yellow]warning:[/] {w}")


@bench.command("compare")
@click.argument("runs", nargs=-1, required=True)
@pass_app
def bench_compare(app: App, runs: tuple[str, ...]) -> None:
    """Headline figures of several runs side by side."""
    out.print(report.compare_table([report.stored_or_fresh(app.store, r) for r in runs]))


@bench.command("export")
@click.argument("run")
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default="json")
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="File (default stdout)."
)
@pass_app
def bench_export(app: App, run: str, fmt: str, output: Path | None) -> None:
    """Summary and every request (JSON), or one CSV row per request."""
    text = report.export(app.store, run, fmt)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")


@bench.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--price-ref", help="provider/region/instance_type to price the imported run.")
@click.option("--label", "labels", multiple=True, help="KEY=VALUE stored with the run.")
@pass_app
def bench_import(app: App, file: Path, price_ref: str | None, labels: tuple[str, ...]) -> None:
    """Import vLLM (--save-result), guidellm or AIPerf result JSON; prints the run ids."""
    from unitcost.bench import importers

    ids = importers.import_file(app.store, file, price_ref=price_ref, labels=_labels(labels))
    for rid in ids:
        s = report.stored_or_fresh(app.store, rid)
        err.print(f"imported {s['source']} run {rid}: {s['definitions_note']}")
    click.echo(" ".join(ids))
