"""`unitcost recommend`: flags in, analytics.recommend called, a table or JSON out."""

from __future__ import annotations

import json
import os
import re
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click
from rich.markup import escape
from rich.table import Table
from unitcost.analytics import recommend as rec

from unitcost import prices
from unitcost.cli import App, pass_app
from unitcost.display import new_console

out = new_console(width=None if sys.stdout.isatty() else 160)
err = new_console(stderr=True)


@click.command("recommend")
@click.option("--scenario", help="Only this scenario (a [[scenarios]] name); default: all.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@click.option("--no-save", is_flag=True, help="Do not store the result (default: stored).")
@pass_app
def recommend(app: App, scenario: str | None, fmt: str, no_save: bool) -> None:
    """Choose the cheapest fleet (model, quantization, GPU type, spot) per scenario at its SLO."""
    with _solver_chatter_to_stderr(), err.status("solving ...", spinner="dots"):
        result = _solve(app, scenario, not no_save)
    if fmt == "json":
        click.echo(json.dumps(result, indent=2, default=str))
        return
    for s in result["scenarios"]:
        _print_scenario(s)
    saved = "not stored (--no-save)" if no_save else f"stored as run {result['run_id']}"
    out.print(f"[dim]{saved}; definitions: `unitcost recommend --format json`[/]")


def _solve(app: App, scenario: str | None, save: bool) -> dict[str, Any]:
    settings = app.loaded.settings
    prices.apply_config(app.store, settings.prices)  # [[prices]] apply on every price reader
    with app.store.write() if save else app.store.read() as con:
        return rec.recommend(con, settings, scenario, save=save)


@contextmanager
def _solver_chatter_to_stderr() -> Iterator[None]:
    """HiGHS (inside scipy's milp) prints some diagnostics from C straight to file descriptor
    1; while solving, that descriptor points at stderr so `--format json` stays parseable."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def _usd(v: Any, places: int = 2) -> str:
    return "" if v is None else f"{v:,.{places}f}"


def _fleet(choice: list[dict[str, Any]]) -> str:
    parts = []
    for c in choice:
        kinds = [f"{n} {k}" for n, k in ((c["on_demand"], "on demand"), (c["spot"], "spot")) if n]
        parts.append(f"{' + '.join(kinds)} of {c['candidate']}")
    return escape("; ".join(parts))


def _print_sensitivity(cases: list[dict[str, Any]]) -> None:
    """One line per case that moves the choice; the cases it survives on one line."""
    holds = []
    for case in cases:
        name = escape(case["case"])
        usd, kept = _usd(case["usd_per_hour"]), case["usd_per_hour_if_kept"]
        keep = "no longer meets the scenario" if kept is None else f"{_usd(kept)} USD/h"
        if case["change"] == "material":
            out.print(
                f"  if {name}: the choice changes to {_fleet(case['choice'])} "
                f"({usd} USD/h; today's fleet: {keep})"
            )
        elif case["change"] == "infeasible":
            out.print(f"  if {name}: no fleet meets the scenario ({escape(case['reason'] or '')})")
        elif case["change"] == "equivalent":
            out.print(
                f"  if {name}: an equal-cost fleet of the same capacity takes over "
                f"({_fleet(case['choice'])}, {usd} USD/h)"
            )
        else:
            holds.append(name)
    if holds:
        out.print(f"  the choice holds if: {'; '.join(holds)}")


def _print_demand(s: dict[str, Any]) -> None:
    d = s["demand"]
    if s["kind"] == "batch":
        line = f"{d['batch_tokens']:,.0f} output tokens within {d['deadline_hours']:g} h"
    elif d["peak_basis"] == "config":
        line = f"peak {d['peak_rps']:g} req/s (scenarios[].peak_rps)"
    else:
        w = d["window"]
        line = (
            f"peak {d['peak_rps']:.4g} req/s, the busiest 5 minutes of the deployment's traffic "
            f"metrics from {w['start'][:16]} to {w['end'][:16]}"
        )
    flag = " [yellow](EMULATED telemetry: simulated, not measured)[/]" if d["emulated"] else ""
    out.print(f"  demand: {escape(line)}{flag}")


def _print_scenario(s: dict[str, Any]) -> None:
    head = f"[bold]{escape(s['scenario'])}[/] ({s['kind']}): "
    if s["status"] != "optimal":
        out.print(head + f"[red]infeasible[/]: {escape(s['reason'])}")
    else:
        line = f"{_usd(s['usd_per_hour'])} USD/hour, {_usd(s['usd_per_1m_output_tokens'], 4)} "
        line += "USD per 1M output tokens"
        if s["kind"] == "batch":
            line += f"; {_usd(s['usd_total'])} USD for the job, done in {s['hours']:.2f} h"
        if s["current_usd_per_hour"] is not None:
            line += f"; today {_usd(s['current_usd_per_hour'])} USD/hour"
        if s["savings_usd_per_month"] is not None:
            line += f", saves {_usd(s['savings_usd_per_month'])} USD/month"
        out.print(head + line)
        t = Table("candidate", "basis", "on demand", "spot", "req/s each", "USD/hour")
        for c in s["choice"]:
            cand = c["candidate"]
            t.add_row(
                escape(
                    f"{cand['model']} {cand['quantization']} {cand['gpu_count']}x "
                    f"{cand['hardware']} ({cand['engine']}) @ {cand['price_ref']}"
                ),
                cand["basis"].upper() if cand["basis"] == "emulated" else cand["basis"],
                str(c["replicas_on_demand"]),
                str(c["replicas_spot"]),
                f"{c['capacity_rps_per_replica']:.3f}",
                _usd(c["usd_per_hour"]),
            )
        out.print(t)
    _print_demand(s)
    out.print(f"  models considered: {escape(s['models']['why'])}")
    for h in s["hosted_baseline"]:
        per_1m = _usd(h["usd_per_1m_output_tokens_at_this_shape"], 4)
        out.print(
            f"  hosted {escape(h['model'])}: {per_1m} USD "
            f"per 1M output tokens, {_usd(h['usd_per_hour_at_peak'])} USD/hour at peak "
            f"({h['as_of']})"
        )
    auto = s.get("autoscaling")
    if auto:
        out.print(
            f"  autoscaling: {_usd(auto['usd_per_day_scaled'])} USD/day scaled vs "
            f"{_usd(auto['usd_per_day_fixed'])} fixed, saves "
            f"{_usd(auto['savings_usd_per_month'])} USD/month"
        )
    _print_sensitivity(s["sensitivity"])
    # Group by the reason's kind: its text before any figure or detail.
    kinds = Counter(
        re.sub(r" by [\d.,]+.*", "", r["reason"].split(" (")[0].split(":")[0])
        for r in s["rejected"]
    )
    if kinds:
        listed = "; ".join(f"{n} {k}" for k, n in kinds.most_common(4))
        out.print(f"  rejected {len(s['rejected'])}: {escape(listed)}")
    for w in s["warnings"]:
        out.print(f"  [yellow]warning:[/] {escape(w)}")
