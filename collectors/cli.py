"""`unitcost collect ...`: thin commands over the collectors, with progress and a summary.

Sources come from the config (billing[], prometheus[], endpoints[].metrics_url, deployments[])
or ad hoc from flags. `--every` repeats a pull until Ctrl-C; for `scrape` and `gpu` it is the
sampling period. Every batch is committed as it comes, so Ctrl-C loses nothing written.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, get_args

import click
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeRemainingColumn
from rich.table import Table
from unitcost.collectors import (
    billing,
    cost_explorer,
    deployments,
    gpu,
    prometheus,
    scrape,
)
from unitcost.collectors.base import parse_duration, parse_time
from unitcost.collectors.clients import make_boto3_client

from unitcost.config import BillingSource
from unitcost.display import new_console
from unitcost.errors import ConfigError, UnitcostError

if TYPE_CHECKING:  # unitcost.cli loads this module lazily; only the type is needed here
    from unitcost.cli import App

#: The formats `billing[].format` accepts in the config: one list, defined by the config model.
BILLING_FORMATS = list(get_args(BillingSource.model_fields["format"].annotation))

pass_app = click.pass_obj  # ctx.obj is the App built by the `unitcost` group

console = new_console(stderr=True)
out = new_console()


@dataclass
class Outcome:
    collector: str
    source: str
    rows: int
    status: str


def _time(value: str | None, flag: str) -> datetime | None:
    return parse_time(value, flag=flag) if value else None


def _summary(results: list[Outcome]) -> None:
    table = Table("collector", "source", "rows written", "status", title="collect summary")
    for r in results:
        table.add_row(r.collector, r.source, f"{r.rows:,}", r.status)
    out.print(table)


def _repeat(every: str | None, once: Callable[[], list[Outcome]]) -> None:
    """Run once, or every period until Ctrl-C; print the summary after each round."""
    period = parse_duration(every).total_seconds() if every else None
    while True:
        _summary(once())
        if period is None:
            return
        console.print(f"next collection in {every} (Ctrl-C to stop)")
        time.sleep(period)


def _billing_file_progress(load: billing.FileLoad, seen: list[str] | None = None) -> None:
    """One line per file, then one per thing it set aside or why it did not count (also kept
    in `seen`)."""
    if load.source_format == "unchanged":
        console.print(f"  unchanged, skipped: {load.source_file}", highlight=False)
    elif not load.skipped:
        console.print(
            f"  {load.rows:,} rows ({load.source_format}) from {load.source_file}", highlight=False
        )
    label = "waiting: " if load.source_format == "waiting" else ""
    for note in load.notes:  # each says what was set aside (or why not yet) and why
        console.print(f"    {label}{note}", markup=False, highlight=False)
    if seen is not None:
        seen.extend(load.notes)


def run_billing(app: App, source: str | None, fmt: str, force: bool) -> list[Outcome]:
    s = app.loaded.settings
    targets = [(source, fmt)] if source else [(b.location, b.format) for b in s.billing]
    if not targets:
        raise ConfigError(
            "no billing source: pass --source PATH|s3://bucket/prefix or add "
            "[[billing]] to the config"
        )
    results = []
    for location, f in targets:
        console.print(f"billing: {location}")
        client = make_boto3_client("s3", s.aws) if location.startswith("s3://") else None
        notes: list[str] = []
        n = billing.collect(
            app.store,
            location=location,
            fmt=f,
            force=force,
            client=client,
            on_file=functools.partial(_billing_file_progress, seen=notes),
        )
        if notes:  # rows written include lines that this run then set aside
            console.print(
                f"  {len(notes)} set aside, counted once or waiting (above): what the views "
                "count is each delivery once",
                highlight=False,
            )
        results.append(Outcome("billing", location, n, "ok"))
    return results


def run_prometheus(
    app: App,
    url: str | None,
    step: str | None,
    since: datetime | None,
    until: datetime | None,
    aggregate_by: tuple[str, ...] = (),
) -> list[Outcome]:
    s = app.loaded.settings
    sources = (
        [(url, step or "30s", None, list(aggregate_by))]
        if url
        else [
            (p.url, step or p.step, p.bearer_token_env, list(aggregate_by) or p.aggregate_by)
            for p in s.prometheus
        ]
    )
    if not sources:
        raise ConfigError("no Prometheus source: pass --url or add [[prometheus]] to the config")
    results = []
    for u, st, token_env, by in sources:
        how = f", summed by {', '.join(by)}" if by else ""
        console.print(f"prometheus: {u} (step {st}{how})")
        with Progress(
            TextColumn("  {task.description}"),
            BarColumn(),
            TextColumn("{task.fields[samples]:,} samples"),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        ) as progress:
            task = progress.add_task("pulling", total=None, samples=0)

            def chunk(
                c: prometheus.Chunk, task: TaskID = task, progress: Progress = progress
            ) -> None:
                done = (c.end - c.since).total_seconds()
                progress.update(
                    task,
                    total=(c.until - c.since).total_seconds(),
                    completed=done,
                    description=f"up to {c.end:%Y-%m-%d %H:%M}Z",
                    samples=progress.tasks[0].fields["samples"] + c.samples,
                )

            n = prometheus.collect(
                app.store,
                since=since,
                until=until,
                url=u,
                step=st,
                deployments=s.deployments,
                bearer_token_env=token_env,
                aggregate_by=by or None,
                on_chunk=chunk,
            )
        results.append(Outcome("prometheus", u, n, "ok"))
    return results


def _scrape_urls(app: App, url: str | None) -> list[str]:
    if url:
        return [url]
    return [e.metrics_url for e in app.loaded.settings.endpoints if e.metrics_url]


def run_gpu(
    app: App, every_s: float, count: int | None, backend: str, until: datetime | None
) -> list[Outcome]:
    try:
        n = gpu.collect(
            app.store,
            every_s=every_s,
            count=count,
            backend=backend,
            until=until,
            on_sample=lambda k: console.print(f"  gpu samples so far: {k}"),
        )
    except gpu.NoGpuError as exc:
        console.print(f"gpu: {exc}; nothing to collect on this machine")
        return [Outcome("gpu", "this machine", 0, "no GPU")]
    return [Outcome("gpu", "this machine", n, "ok")]


def _scrape_once(app: App, url: str) -> Callable[[], list[Outcome]]:
    def run() -> list[Outcome]:
        n = scrape.collect(app.store, url=url, count=1, deployments=app.loaded.settings.deployments)
        return [Outcome("scrape", url, n, "ok")]

    return run


# ---------------------------------------------------------------------------- commands
@click.group("collect")
def collect() -> None:
    """Collect billing, Prometheus, /metrics scrapes and GPU samples into the store."""


_since = click.option("--since", help="Start: ISO time (UTC if no zone), 'now', or ago (2h).")
_until = click.option("--until", help="End: ISO time, 'now', or ago (default: now).")
_every = click.option("--every", help="Repeat every period (30s, 5m, 1h) until Ctrl-C.")


@collect.command("billing")
@click.option("--source", help="A file, folder or s3://bucket/prefix (default: config billing[]).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(BILLING_FORMATS),
    default="auto",
    show_default=True,
)
@click.option("--force", is_flag=True, help="Reload files whose size/mtime/ETag is unchanged.")
@_since
@_until
@_every
@pass_app
def collect_billing(
    app: App,
    source: str | None,
    fmt: str,
    force: bool,
    since: str | None,
    until: str | None,
    every: str | None,
) -> None:
    """Billing exports: FOCUS 1.0-1.3 (CSV/Parquet), AWS CUR legacy/2.0, Azure EA, OCI.

    Each delivery is loaded in one transaction and counted once: a file whose bytes were
    already loaded (under any name) adds nothing, and a later delivery of the same account and
    billing period (a new CUR assembly, export version or Azure run) sets the earlier aside;
    what was set aside is printed with the reason. --since/--until are accepted for symmetry
    and ignored: a file is loaded whole.
    """
    _repeat(every, lambda: run_billing(app, source, fmt, force))


@collect.command("cost-explorer")
@click.option(
    "--granularity",
    type=click.Choice(["DAILY", "HOURLY", "MONTHLY"], case_sensitive=False),
    default="DAILY",
)
@click.option(
    "--group-by",
    multiple=True,
    default=["SERVICE"],
    show_default=True,
    help="SERVICE, INSTANCE_TYPE, USAGE_TYPE, REGION, LINKED_ACCOUNT, PURCHASE_TYPE "
    "or TAG:<key>; at most two.",
)
@click.option(
    "--billing-account",
    help="The AWS billing (payer) account the figures belong to "
    "(default: the credentials' account, from STS).",
)
@_since
@_until
@_every
@pass_app
def collect_ce(
    app: App,
    granularity: str,
    group_by: tuple[str, ...],
    billing_account: str | None,
    since: str | None,
    until: str | None,
    every: str | None,
) -> None:
    """AWS Cost Explorer: unblended (billed) and amortized (effective) cost, all pages.

    One source of truth per billing account and period: a later pull of a period replaces the
    earlier whatever its grouping, and an export (CUR, FOCUS) of the same account and period
    takes precedence (the pull's figures for it are set aside, and this says so).
    """

    def once() -> list[Outcome]:
        aws = app.loaded.settings.aws
        n = cost_explorer.collect(
            app.store,
            since=_time(since, "--since"),
            until=_time(until, "--until"),
            client=make_boto3_client("ce", aws),
            granularity=granularity,
            group_by=list(group_by),
            billing_account=billing_account,
            sts_client=None if billing_account else make_boto3_client("sts", aws),
            on_note=lambda note: console.print(f"  {note}", markup=False, highlight=False),
        )
        return [Outcome("cost-explorer", granularity.upper(), n, "ok")]

    _repeat(every, once)


@collect.command("prometheus")
@click.option("--url", help="Prometheus base URL (default: config prometheus[]).")
@click.option("--step", help="Query resolution (default: the source's step, else 30s).")
@click.option(
    "--aggregate-by",
    "aggregate_by",
    multiple=True,
    metavar="LABEL",
    help="Have Prometheus sum inference metrics by this label (repeatable; default: the "
    "source's aggregate_by, else every series raw).",
)
@_since
@_until
@_every
@pass_app
def collect_prometheus(
    app: App,
    url: str | None,
    step: str | None,
    aggregate_by: tuple[str, ...],
    since: str | None,
    until: str | None,
    every: str | None,
) -> None:
    """Range-pull known inference and GPU metric families (from the watermark by default)."""
    _repeat(
        every,
        lambda: run_prometheus(
            app, url, step, _time(since, "--since"), _time(until, "--until"), aggregate_by
        ),
    )


@collect.command("scrape")
@click.option("--url", help="A /metrics URL (default: config endpoints[].metrics_url).")
@click.option("--every", default="15s", show_default=True, help="Scrape period.")
@click.option("--count", type=int, help="Number of scrapes (default: until --until or Ctrl-C).")
@_until
@pass_app
def collect_scrape(
    app: App, url: str | None, every: str, count: int | None, until: str | None
) -> None:
    """Scrape /metrics endpoints directly (no Prometheus server needed)."""
    urls = _scrape_urls(app, url)
    if not urls:
        raise ConfigError("no /metrics URL: pass --url or set endpoints[].metrics_url")
    if len(urls) > 1 and count is None and until is None:
        raise click.UsageError("several endpoints: give --count or --until")
    results = []
    for u in urls:
        console.print(f"scrape: {u} every {every}")
        n = scrape.collect(
            app.store,
            url=u,
            every_s=parse_duration(every).total_seconds(),
            count=count,
            until=_time(until, "--until"),
            deployments=app.loaded.settings.deployments,
            on_scrape=lambda k: console.print(f"  {k:,} samples"),
        )
        results.append(Outcome("scrape", u, n, "ok"))
    _summary(results)


@collect.command("gpu")
@click.option("--every", default="1s", show_default=True, help="Sampling period.")
@click.option("--count", type=int, default=None, help="Samples to take (default: until Ctrl-C).")
@click.option("--backend", type=click.Choice(["auto", "nvml", "nvidia-smi"]), default="auto")
@_until
@pass_app
def collect_gpu(app: App, every: str, count: int | None, backend: str, until: str | None) -> None:
    """Sample local GPUs via NVML (nvidia-smi fallback). Without a GPU: a message, exit 0."""
    _summary(
        run_gpu(app, parse_duration(every).total_seconds(), count, backend, _time(until, "--until"))
    )


@collect.command("deployments")
@click.option(
    "--rederive",
    is_flag=True,
    help="Derive every deployment's metric_intervals again from the stored samples (after an "
    "upgrade); without it only deployments whose series moved are.",
)
@pass_app
def collect_deployments(app: App, rederive: bool) -> None:
    """Write the config's deployments and matching rules into the store; re-map stored metric
    series to deployments and re-derive the intervals of those that changed."""

    def report(deps: int, rows: int) -> None:
        console.print(f"metric intervals re-derived for {deps} deployment(s): {rows:,} rows")

    n = deployments.sync(
        app.store, app.loaded.settings.deployments, rederive=rederive, on_rederive=report
    )
    _summary([Outcome("deployments", "config", n, "ok")])


@collect.command("all")
@_since
@_until
@_every
@pass_app
def collect_all(app: App, since: str | None, until: str | None, every: str | None) -> None:
    """Everything the config names: deployments, billing, Prometheus, one scrape per endpoint
    with a metrics_url, and one GPU sample. A failing source is reported; the others still run.
    """
    s = app.loaded.settings
    last: list[Outcome] = []

    def once() -> list[Outcome]:
        last.clear()
        results = [
            Outcome("deployments", "config", deployments.sync(app.store, s.deployments), "ok")
        ]
        steps: list[tuple[str, Callable[[], list[Outcome]]]] = []
        if s.billing:
            steps.append(("billing", lambda: run_billing(app, None, "auto", False)))
        if s.prometheus:
            steps.append(
                (
                    "prometheus",
                    lambda: run_prometheus(
                        app, None, None, _time(since, "--since"), _time(until, "--until")
                    ),
                )
            )
        for u in _scrape_urls(app, None):
            steps.append(("scrape", _scrape_once(app, u)))
        steps.append(("gpu", lambda: run_gpu(app, 1.0, 1, "auto", None)))
        for name, step in steps:
            try:
                results.extend(step())
            except UnitcostError as exc:
                console.print(f"[red]{name} failed:[/] {exc}", markup=True, highlight=False)
                results.append(Outcome(name, "-", 0, "failed"))
        last.extend(results)
        return results

    _repeat(every, once)
    if any(r.status == "failed" for r in last):
        raise click.exceptions.Exit(1)
