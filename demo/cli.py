"""`unitcost demo`: the whole product on a laptop in one command, on labelled demo data."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import webbrowser
from pathlib import Path
from typing import TYPE_CHECKING

import click
import requests
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from unitcost.demo import processes
from unitcost.demo import run as demo_run

from unitcost.display import new_console
from unitcost.errors import UnitcostError
from unitcost.store import Store

if TYPE_CHECKING:
    from unitcost.cli import App

out = new_console()
err = new_console(stderr=True)

STEPS = {
    "store": "1/6 store, demo config, forget the last demo's data",
    "fleet": "2/6 start the emulated fleet (unitcost emulate --fleet)",
    "benchmarks": "3/6 benchmark suite against every emulated endpoint",
    "telemetry": "4/6 a simulated quarter of production telemetry",
    "billing": "5/6 billing through collect billing",
    "recommend": "6/6 unitcost recommend for the demo's scenarios",
}


@click.command("demo")
@click.option("--quick", is_flag=True, help="Fewer configurations and a coarser quarter (~1 min).")
@click.option("--no-browser", is_flag=True, help="Print the dashboard's URL, open no browser.")
@click.option("--no-serve", is_flag=True, help="Stop after step 6, leaving the store ready.")
@click.option("--port", type=int, default=8501, show_default=True, help="Dashboard port.")
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="DuckDB file to fill (default: the global --db / UNITCOST_DB / config).",
)
@click.pass_obj
def demo(
    app: App, quick: bool, no_browser: bool, no_serve: bool, port: int, db_path: Path | None
) -> None:
    """See every part of unitcost work on generated data (no GPU, cloud or Prometheus needed).

    Emulated servers, benchmarks, a simulated quarter of telemetry, a bill, cost per token,
    utilization, success rate and tier recommendations, then the dashboard. Everything it
    makes is labelled demo data; running it again replaces it and touches nothing else.
    """
    lock_s = app.loaded.settings.lock_timeout_s
    store = Store(db_path, lock_timeout_s=lock_s) if db_path else app.store
    store.path.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
    ) as progress:
        tasks: dict[str, TaskID] = {}

        def on_step(name: str) -> None:
            for t in tasks.values():
                task = progress.tasks[t]
                progress.update(t, completed=task.total or 1, total=task.total or 1)
            tasks[name] = progress.add_task(STEPS[name], total=None)

        def on_total_runs(n: int) -> None:
            progress.update(tasks["benchmarks"], total=n, completed=0)

        def on_run(target: str, finished: bool) -> None:
            if finished:
                progress.advance(tasks["benchmarks"])

        report = demo_run.run(
            store,
            quick=quick,
            on_step=on_step,
            on_run=on_run,
            on_total_runs=on_total_runs,
            log=lambda m: progress.console.print(m, markup=False, highlight=False),
        )
        on_step_done = list(tasks.values())
        for t in on_step_done:
            task = progress.tasks[t]
            progress.update(t, completed=task.total or 1, total=task.total or 1)
    _summary(report, time.monotonic() - started, store.path)
    if no_serve:
        return
    _serve(str(store.path), str(report.config), port, open_browser=not no_browser)


def _summary(report: demo_run.Report, elapsed: float, db: object) -> None:
    t = Table(title=f"unitcost demo: DEMO data for {report.quarter.label}, ready in {elapsed:.0f}s")
    t.add_column("step")
    t.add_column("seconds", justify="right")
    for name, secs in report.timings.items():
        t.add_row(STEPS[name], f"{secs:.1f}")
    out.print(t)
    out.print(
        f"{report.runs} benchmark runs; {report.samples:,} telemetry samples via "
        f"{report.telemetry_path}; {report.billing_rows:,} billing rows"
    )
    for s in report.scenarios:
        saving = s.get("savings_usd_per_month")
        line = f"  {s['scenario']}: {s['status']}"
        if s.get("usd_per_hour") is not None:
            line += f", USD {float(s['usd_per_hour']):,.2f}/hour"
        if saving is not None:
            line += f", saves USD {float(saving):,.0f}/month"
        out.print(line, markup=False, highlight=False)
    cfg = f"--config {report.config}"
    out.print(
        f"store: {db}\nconfig (an example to read): {report.config}\nnext:\n"
        f"  unitcost {cfg} kpi --by deployment\n  unitcost {cfg} recommend\n"
        f"  unitcost {cfg} export review --quarter {report.quarter.label}",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def _serve(db: str, config: str, port: int, *, open_browser: bool) -> None:
    """Step 7: the dashboard, until Ctrl-C (which stops it)."""
    if not _port_free(port):
        raise UnitcostError(f"--port {port}: something already listens there; pick another")
    cmd = [
        sys.executable, "-m", "unitcost", "--db", db, "--config", config,
        "dashboard", "--host", "127.0.0.1", "--port", str(port),
    ]  # fmt: skip
    proc = subprocess.Popen(cmd)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if requests.get(f"{url}/_stcore/health", timeout=1).ok:
                    break
            except requests.RequestException:
                time.sleep(0.3)
        if proc.poll() is not None:
            raise UnitcostError(f"the dashboard stopped (exit {proc.returncode})")
        out.print(f"dashboard: {url}  (Ctrl-C to stop)")
        if open_browser:
            webbrowser.open(url)
        proc.wait()
    finally:
        processes.stop(proc)
