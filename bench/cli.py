"""`unitcost bench ...`: parse flags, call spec/runner/report/suites, print, set the exit status.

Exit status of `bench run` (also with --sweep, --capacity, --suite):
  0    every run completed within its failure threshold (--max-error-rate)
  1    an error before any load (the message names the flag, key, file or server); or a run
       failed its threshold (every measured request failed, or the failed share exceeded
       --max-error-rate), measured no request, or the harness itself failed
  130  interrupted (Ctrl-C), at whatever moment; what finished is stored, the run `interrupted`
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.live import Live as RichLive
from rich.table import Table
from unitcost.bench import capacity, cost, report, runner, spec, suites
from unitcost.bench.live import Live
from unitcost.bench.records import finish_run
from unitcost.bench.runrow import process_start_ticks

from unitcost import prices, sqlfiles
from unitcost.display import new_console
from unitcost.errors import BenchError, InputError
from unitcost.store import fetch_dicts

if TYPE_CHECKING:
    from unitcost.cli import App

# ctx.obj is unitcost.cli's App; importing unitcost.cli here would be circular.
pass_app = click.pass_obj


def _console(stderr: bool) -> Console:
    """Piped output is not squeezed into 80 columns (tables stay readable in files and CI
    logs; run ids are never cut), unless COLUMNS says how wide to be."""
    stream = sys.stderr if stderr else sys.stdout
    wide = stream.isatty() or "COLUMNS" in os.environ
    return new_console(stderr=stderr, width=None if wide else 200)


out = _console(stderr=False)
err = _console(stderr=True)
EXIT_INTERRUPTED = 130


def _say(msg: str) -> None:
    err.print(msg, soft_wrap=True, markup=False, highlight=False)


def _warn(msg: str) -> None:
    err.print(f"[yellow]warning:[/] {msg}", soft_wrap=True, highlight=False)


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


def _fmt_s(seconds: float | None) -> str:
    if seconds is None:
        return ""
    m, s = divmod(int(seconds), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def _live_table(live: Live) -> Table:
    t = Table(
        "elapsed",
        "progress",
        "ETA",
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
    prog = live.progress()
    of = f"/{live.total_requests}" if live.total_requests else ""
    t.add_row(
        _fmt_s(el),
        "" if prog is None else f"{live.done}{of} {prog:.0%}",
        _fmt_s(live.eta_s()),
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


def execute(app: App, sp: spec.RunSpec, *, show_live: bool) -> tuple[str, dict[str, Any]]:
    """Run with the live view on stderr; return (run_id, summary)."""
    if not show_live:
        return runner.run(app.store, sp)
    with RichLive(
        _live_table(Live(total_requests=sp.max_requests, duration_s=sp.duration_s)),
        console=err,
        auto_refresh=False,
        transient=False,
    ) as view:
        return runner.run(
            app.store, sp, on_tick=lambda lv: view.update(_live_table(lv), refresh=True)
        )


def verdict(
    summaries: list[dict[str, Any]], max_error_rate: float | None
) -> tuple[int, list[str], list[str]]:
    """(exit status, errors, warnings) of the runs of one invocation (see the module doc)."""
    errors: list[str] = []
    warnings: list[str] = []
    if any(s.get("status") == "interrupted" for s in summaries):
        return EXIT_INTERRUPTED, [], ["interrupted: what finished is stored"]
    for s in summaries:
        rid = s.get("run_id", "?")
        ok, failed = s.get("requests_ok") or 0, s.get("requests_failed") or 0
        answered = ok + failed
        if s.get("status") != "completed":
            errors.append(f"run {rid} {s.get('status')}")
        elif not s.get("requests_total"):
            errors.append(f"run {rid} measured no request (all warm-up or cool-down?)")
        elif failed:
            share = failed / answered
            what = f"run {rid}: {failed} of {answered} measured requests failed ({share:.1%})"
            if max_error_rate is not None and share > max_error_rate:
                errors.append(f"{what}, above --max-error-rate {max_error_rate:g}")
            elif max_error_rate is None and ok == 0:
                errors.append(f"{what}: every measured request failed")
            elif max_error_rate is None:
                warnings.append(f"{what}; --max-error-rate makes that an error")
    return (1 if errors else 0), errors, warnings


def _finish(summaries: list[dict[str, Any]], ids: list[str], max_error_rate: float | None) -> None:
    """Print the run ids (the last stdout line), then exit by the verdict."""
    click.echo(" ".join(ids))
    code, errors, warnings = verdict(summaries, max_error_rate)
    for w in warnings:
        _warn(w)
    if code == EXIT_INTERRUPTED:
        raise SystemExit(EXIT_INTERRUPTED)
    if errors:
        raise BenchError("; ".join(errors))


def _print_run(summary: dict[str, Any]) -> None:
    for t in report.summary_tables(summary):
        out.print(t)
    for w in summary.get("warnings", []):
        _warn(w)


@bench.command("run")
@click.option(
    "--endpoint", help="Base URL, e.g. http://127.0.0.1:8080 (or a configured endpoint name)."
)
@click.option("--model", help="Model name to send (default: the configured endpoint's).")
@click.option(
    "--api", type=click.Choice(["chat", "completions"]), default="chat", show_default=True
)
@click.option(
    "--no-stream",
    is_flag=True,
    help="Ask for whole responses instead of streams (no TTFT, TPOT or ITL; e2e only).",
)
@click.option(
    "--header",
    "headers",
    multiple=True,
    help="'Name: value' sent with every request (repeatable; values are never stored).",
)
@click.option(
    "--extra-body", help="JSON object merged into every request, e.g. '{\"temperature\": 0}'."
)
@click.option(
    "--concurrency",
    type=int,
    help="Closed loop: N requests in flight (default: 1 when there is no --rate). "
    "With --rate: a cap on requests in flight.",
)
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
    help="Stop when throughput and median E2E latency are stable (95% CI within 5%).",
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
    "--slo-attainment",
    type=float,
    default=0.9,
    show_default=True,
    help="Share of answered requests that must meet the SLO for the run to meet it.",
)
@click.option(
    "--percentiles",
    help="Latency percentiles to report, e.g. 50,90,99,99.9 (p50/p90/p95/p99 always).",
)
@click.option(
    "--max-error-rate",
    type=click.FloatRange(0, 1),
    help="Exit 1 when more than this share of measured requests failed "
    "(default: any failure warns; all failing exits 1).",
)
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
@click.option("--gpu-count", type=int, help="GPUs serving the endpoint (its share of the price).")
@click.option("--quantization")
@click.option("--parameter-count", type=int)
@click.option("--price-ref", help="provider/region/instance_type in the price catalog.")
@click.option(
    "--whole-instance",
    is_flag=True,
    default=None,
    help="The endpoint holds its whole priced instance: charge all of it, not its GPUs' share.",
)
@click.option("--metrics-url", help="Prometheus /metrics of the server to scrape during the run.")
@click.option("--scrape-interval", type=float, default=5.0, show_default=True)
@click.option("--no-scrape", is_flag=True, help="Do not look for the server's /metrics.")
@click.option(
    "--suite", type=click.Path(path_type=Path), help="Run a suite file instead (see docs/bench.md)."
)
@click.option("--sweep", "sweep_n", type=int, help="Synchronous, max throughput, then N rates.")
@click.option("--capacity", is_flag=True, help="Search the highest rate meeting --slo.")
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
    """Offer load to an endpoint and store every request; prints the run id(s) last.

    Exit status: 0 when every run completed within --max-error-rate; 1 on an error (before
    any load, a run over its failure threshold or with nothing measured, a harness failure);
    130 when interrupted (Ctrl-C), whatever the moment. See docs/bench.md.
    """
    settings = app.loaded.settings
    prices.apply_config(app.store, settings.prices)  # store errors, before any request
    inp = _input(kw)
    if kw["suite"] is not None:
        _suite(app, inp, kw)
        return
    plan = spec.plan(inp, settings=settings, store=app.store)
    sp = spec.prepare(plan, log=_say)
    if kw["sweep_n"] is not None or kw["capacity"]:
        _multi(app, sp, kw)
        return
    run_id, summary = execute(app, sp, show_live=not kw["no_live"])
    _print_run(summary)
    _finish([summary], [run_id], kw["max_error_rate"])


def _input(kw: dict[str, Any]) -> spec.RunInput:
    """The flags as a RunInput (the one place flag names meet field names)."""
    return spec.RunInput(
        endpoint=kw["endpoint"],
        model=kw["model"],
        api=kw["api"],
        stream=not kw["no_stream"],
        headers=tuple(kw["headers"]),
        extra_body=kw["extra_body"],
        concurrency=kw["concurrency"],
        rate=kw["rate"],
        arrival=kw["arrival"],
        burstiness=kw["burstiness"],
        ramp_from=kw["ramp_from"],
        ramp_s=kw["ramp_s"],
        requests=kw["n_requests"],
        duration=kw["duration"],
        until_steady=kw["until_steady"],
        warmup=kw["warmup"],
        warmup_requests=kw["warmup_requests"],
        cooldown=kw["cooldown"],
        input_tokens=kw["input_tokens"],
        output_tokens=kw["output_tokens"],
        prefix_tokens=kw["prefix_tokens"],
        dataset=kw["dataset"],
        trace=kw["trace"],
        tokenizer=kw["tokenizer"],
        seed=kw["seed"],
        ignore_eos=kw["ignore_eos"],
        slo=kw["slo"],
        slo_attainment=kw["slo_attainment"],
        percentiles=kw["percentiles"],
        labels=_labels(kw["labels"]),
        name=kw["name"],
        api_key_env=kw["api_key_env"],
        timeout_connect=kw["timeout_connect"],
        timeout_first_token=kw["timeout_first_token"],
        timeout_total=kw["timeout_total"],
        engine=kw["engine"],
        hardware=kw["hardware"],
        gpu_count=kw["gpu_count"],
        quantization=kw["quantization"],
        parameter_count=kw["parameter_count"],
        price_ref=kw["price_ref"],
        whole_instance=kw["whole_instance"],
        metrics_url=kw["metrics_url"],
        scrape_interval=kw["scrape_interval"],
        no_scrape=kw["no_scrape"],
        workers=kw["workers"],
    )


def _multi(app: App, sp: spec.RunSpec, kw: dict[str, Any]) -> None:
    """--sweep / --capacity: several stored runs, a comparison table, all ids on the last line."""
    from unitcost.bench import sweep

    def run_one(step: spec.RunSpec) -> tuple[str, dict[str, Any]]:
        err.print(f"[bold]{step.name}[/]")
        return execute(app, step, show_live=not kw["no_live"])

    max_conc = kw["concurrency"] if kw["concurrency"] and kw["concurrency"] > 1 else 64
    if kw["capacity"]:
        d = sweep.capacity(
            sp,
            run_one,
            attainment=kw["slo_attainment"],
            steps=kw["search_steps"],
            max_conc=max_conc,
        )
        runs = d.runs
    else:
        runs = sweep.sweep(sp, run_one, kw["sweep_n"], max_conc)
        if len(runs) < 2 + kw["sweep_n"] and all(s["status"] == "completed" for _, s in runs):
            _warn(
                "the max-throughput run was not faster than the synchronous one, so there are "
                "no rates in between to sweep"
            )
    out.print(report.compare_table([s for _, s in runs]))
    summaries = [s for _, s in runs]
    if kw["capacity"]:
        if all(s["status"] == "completed" for s in summaries):
            capacity.store_decision(app.store, d)
            out.print(capacity.describe(d.row()), soft_wrap=True)
        else:
            out.print("SLO capacity: not decided (the search was interrupted)")
    _finish(summaries, [r for r, _ in runs], kw["max_error_rate"])


def _suite(app: App, inp: spec.RunInput, kw: dict[str, Any]) -> None:
    """--suite: every (target, scenario, level); the SLO capacity table; all ids last."""

    def progress(p: suites.SuiteProgress) -> None:
        if p.run_id is None:
            err.print(f"[bold]{p.name}[/] ({p.index}/{p.total})")

    view: RichLive | None = None

    def tick(lv: Live) -> None:
        if view is not None:
            view.update(_live_table(lv), refresh=True)

    if kw["no_live"]:
        res = suites.run_suite(
            app.store, kw["suite"], settings=app.loaded.settings, base=inp, progress=progress,
            log=_say,
        )  # fmt: skip
    else:
        with RichLive(_live_table(Live()), console=err, auto_refresh=False) as view:
            res = suites.run_suite(
                app.store, kw["suite"], settings=app.loaded.settings, base=inp,
                progress=progress, on_tick=tick, log=_say,
            )  # fmt: skip
    if res.decisions:
        att = res.decisions[0].slo_attainment
        out.print(
            report.capacity_table(res.decisions, f"SLO capacity (goodput fraction >= {att:.0%})")
        )
    for w in dict.fromkeys(w for r in res.runs for w in r[4].get("warnings", [])):
        _warn(w)  # each once, not once per run
    _finish([r[4] for r in res.runs], res.run_ids, kw["max_error_rate"])


def _age(ms: int | None) -> str:
    if ms is None:
        return ""
    return _fmt_s(max(0.0, time.time() - ms / 1000))


def _process_gone(pid: int | None, host: str | None, ticks: int | None) -> bool | None:
    """True/False when the run's process is known to be gone/alive; None when we cannot tell
    (another host, or a run from before pids were stored). A live pid that started at another
    time than the run's process is a reused pid: gone."""
    if pid is None or host != socket.gethostname():
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass
    now = process_start_ticks(pid)
    return ticks is not None and now is not None and now != ticks


@bench.command("list")
@click.option("--limit", type=int, default=50, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@pass_app
def bench_list(app: App, limit: int, fmt: str) -> None:
    """Recent runs, newest first (a running run shows its age; runs at an SLO capacity say so)."""
    with app.store.read() as con:
        rows = fetch_dicts(con, sqlfiles.load("queries", "bench_run_list"), {"limit": limit})
    for r in rows:
        r["age_s"] = None
        if r["status"] == "running" and r["started_ms"] is not None:
            r["age_s"] = max(0.0, time.time() - r["started_ms"] / 1000)
            r["process_gone"] = _process_gone(
                r["client_pid"], r["client_host"], r["client_start_ticks"]
            )
        r["at_capacity"] = list(r["at_capacity"] or [])
    if fmt == "json":
        for r in rows:  # nested JSON as objects, not as strings
            for k in ("summary", "load_profile"):
                r[k] = json.loads(r[k]) if r[k] else None
        click.echo(json.dumps(rows, indent=2, default=str))
        return
    t = Table(title="bench runs")
    t.add_column("run_id", no_wrap=True, min_width=max((len(r["run_id"]) for r in rows), default=6))
    for col in ("started", "status", "model", "load", "ok/total", "out tok/s", "TTFT p50 ms"):
        t.add_column(col)
    t.add_column("USD/1M out")
    t.add_column("capacity")
    for r in rows:
        s = json.loads(r["summary"]) if r["summary"] else {}
        lp = json.loads(r["load_profile"]) if r["load_profile"] else {}
        status = r["status"]
        if status == "running":
            status += f" ({_age(r['started_ms'])})"
            if r.get("process_gone"):
                status += ", process gone: bench mark-interrupted"
        model = (r["model"] or "") + (" (emulated)" if r["emulated"] else "")
        t.add_row(
            r["run_id"],
            (r["started_at"] or "")[:19],
            status,
            model,
            report.describe_load(lp),
            f"{s.get('requests_ok', '')}/{s.get('requests_total', '')}" if s else "",
            report._num(s.get("output_tokens_per_s"), 1),
            report._ms((s.get("ttft_ms") or {}).get("p50")),
            report._num(s.get("usd_per_1m_output_tokens"), 4),
            ", ".join(r["at_capacity"]),
        )
    out.print(t)


@bench.command("show")
@click.argument("run")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@click.option("--percentiles", help="Recompute latencies at these percentiles, e.g. 99.9.")
@pass_app
def bench_show(app: App, run: str, fmt: str, percentiles: str | None) -> None:
    """One run's summary (JSON schema `unitcost.bench.summary` v1, see docs/bench.md), with the
    SLO capacity decisions of its group."""
    pcts = spec.parse_percentiles(percentiles) if percentiles else None
    s = report.stored_or_fresh(app.store, run, percentiles=pcts)
    decisions = capacity.for_group(app.store, s.get("group_id"))
    if fmt == "json":
        click.echo(json.dumps({**s, "capacity": decisions}, indent=2, default=str))
        return
    _print_run(s)
    for d in decisions:
        mark = " (this run)" if d["capacity_run_id"] == s["run_id"] else ""
        out.print(capacity.describe(d) + mark, soft_wrap=True)


@bench.command("compare")
@click.argument("runs", nargs=-1, required=True)
@pass_app
def bench_compare(app: App, runs: tuple[str, ...]) -> None:
    """Each run's name, load profile, target and headline figures, side by side."""
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
@click.option("--gpu-count", type=int, help="GPUs the benchmarked server ran on.")
@click.option("--whole-instance", is_flag=True, help="Charge the whole priced instance.")
@click.option("--label", "labels", multiple=True, help="KEY=VALUE stored with the run.")
@pass_app
def bench_import(
    app: App,
    file: Path,
    price_ref: str | None,
    gpu_count: int | None,
    whole_instance: bool,
    labels: tuple[str, ...],
) -> None:
    """Import vLLM (--save-result), guidellm or AIPerf result JSON; prints the run ids."""
    from unitcost.bench import importers

    prices.apply_config(app.store, app.loaded.settings.prices)
    if price_ref:
        with app.store.read() as con:
            cost.resolve(
                con,
                price_ref,
                gpu_count=gpu_count,
                whole_instance=whole_instance,
                where="--price-ref",
            )
    ids = importers.import_file(
        app.store,
        file,
        price_ref=price_ref,
        gpu_count=gpu_count,
        whole_instance=whole_instance,
        labels=_labels(labels),
    )
    for rid in ids:
        s = report.stored_or_fresh(app.store, rid)
        _say(f"imported {s['source']} run {rid}: {s['definitions_note']}")
    click.echo(" ".join(ids))


@bench.command("mark-interrupted")
@click.argument("runs", nargs=-1)
@pass_app
def bench_mark_interrupted(app: App, runs: tuple[str, ...]) -> None:
    """Close runs left `running` by a process that was killed: status `interrupted`, their
    summary from the requests they stored. Without RUN: every such run whose process on this
    host is gone (runs from another host must be named)."""
    with app.store.read() as con:
        running = fetch_dicts(con, sqlfiles.load("queries", "bench_runs_running"), {})
    chosen: list[dict[str, Any]] = []
    if runs:
        for arg in runs:
            row = report.get_run(app.store, arg)
            if row["status"] != "running":
                raise BenchError(f"RUN {arg!r}: status is {row['status']}, not running")
            if (
                _process_gone(row["client_pid"], row["client_host"], row["client_start_ticks"])
                is False
            ):
                raise BenchError(
                    f"RUN {arg!r}: its process (pid {row['client_pid']}) is still running"
                )
            chosen.append(row)
    else:
        for r in running:
            gone = _process_gone(r["client_pid"], r["client_host"], r["client_start_ticks"])
            if gone:
                chosen.append(r)
            elif gone is None:
                _say(
                    f"left alone: {r['run_id']} (started {r['started_at']} on "
                    f"{r['client_host'] or 'an unknown host'}; name it to close it)"
                )
    for r in chosen:
        _close_stale(app, r["run_id"])
        out.print(f"{r['run_id']}: interrupted")
    if not chosen:
        out.print("no run to close")


def _close_stale(app: App, run_id: str) -> None:
    row = report.get_run(app.store, run_id)
    with app.store.read() as con:
        last = con.execute(
            sqlfiles.load("queries", "bench_run_last_end"), {"run_id": run_id}
        ).fetchone()
    ended = datetime.fromtimestamp(row["started_ms"] / 1000, UTC)
    if last and last[0] is not None and row["anchor_ns"] is not None:
        ended += timedelta(microseconds=(last[0] - row["anchor_ns"]) / 1000)
    summary = report.build_summary(app.store, run_id)
    summary["status"] = "interrupted"
    summary["ended_at"] = str(ended)
    summary["warnings"].append(
        "closed by `bench mark-interrupted`: its process ended without closing the run; "
        "requests in flight then, and the last second of finished ones, may be missing"
    )
    finish_run(app.store, run_id, "interrupted", ended, summary, row["loop_lag_ns"])
