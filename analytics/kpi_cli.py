"""`unitcost kpi`: print kpi_report() as a table, JSON or CSV. Thin: parse flags, call, print."""

from __future__ import annotations

import csv
import json
import sys
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import click
from rich.table import Table
from unitcost.analytics import kpi as kpi_mod
from unitcost.analytics.period import FORMS, default_period, parse_period

from unitcost import prices
from unitcost.display import new_console, percent
from unitcost.errors import InputError

if TYPE_CHECKING:
    from unitcost.cli import App

out = new_console(width=None if sys.stdout.isatty() else 200)
err = new_console(stderr=True)


def to_jsonable(value: Any) -> Any:
    """Money (Decimal) as an exact decimal string; everything else as JSON has it."""
    if isinstance(value, Decimal):
        return money_text(value)
    if isinstance(value, dict):
        return {k: to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_jsonable(v) for v in value]
    return value


def money_text(value: Decimal) -> str:
    """Exact, without trailing zeros past the cent: 12.5 -> '12.50', 0.1234500 -> '0.12345'."""
    text = format(value.normalize(), "f")
    whole, _, frac = text.partition(".")
    return f"{whole}.{frac.ljust(2, '0')}"


def parse_by(text: str) -> str:
    if kpi_mod.label_key(text) is None and text not in kpi_mod.BY_CHOICES:
        raise InputError(
            f"--by {text!r}: expected one of {', '.join(kpi_mod.BY_CHOICES)} or label:KEY"
        )
    return text


@click.command("kpi")
@click.option("--period", help=f"{FORMS} (default: the last full quarter with data).")
@click.option(
    "--by",
    "by",
    default="all",
    show_default=True,
    help="all, deployment, model, hardware, provider, or label:KEY (a billing tag or metric "
    "label, e.g. label:team).",
)
@click.option("--grain", type=click.Choice(kpi_mod.GRAINS), help="One row per day, week or month.")
@click.option(
    "--basis",
    type=click.Choice(kpi_mod.BASES),
    default="allocation",
    show_default=True,
    help="allocation: every paid hour, idle included (reconciles to the bill); usage: active "
    "hours only.",
)
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table")
@click.pass_obj
def kpi(app: App, period: str | None, by: str, grain: str | None, basis: str, fmt: str) -> None:
    """Cost per token, utilization and success rate for a period (--period, --by, --grain).

    Every figure's definition is printed with it (--format json: "definitions").
    """
    by = parse_by(by)
    prices.apply_config(app.store, app.loaded.settings.prices)  # estimates use [[prices]] too
    with app.store.read() as con:
        p = parse_period(period) if period else default_period(con)
        report = kpi_mod.kpi_report(
            con, p, by=by, grain=grain, basis=basis, scenarios=app.loaded.settings.scenarios
        )
    if fmt == "json":
        click.echo(json.dumps(to_jsonable(report), indent=2))
    elif fmt == "csv":
        _csv(report)
    else:
        _table(report)
    for w in report["warnings"]:
        err.print(f"[yellow]warning:[/] {w}", highlight=False)


def _csv(report: dict[str, Any]) -> None:
    w = csv.writer(sys.stdout, lineterminator="\n")
    cols = [c for c in kpi_mod.ROW_FIELDS if c != "start" or report["grain"]]
    prev_cols = [f"previous_{h}" for h in kpi_mod.HEADLINE]
    w.writerow([*cols, *prev_cols])
    for row in report["rows"]:
        values = [row[c] for c in cols]
        prev = row["previous"] or {}
        values += [prev.get(h) for h in kpi_mod.HEADLINE]
        w.writerow([_cell(v) for v in values])


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return money_text(value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return str(value)


def _num(value: Any, digits: int = 2) -> str:
    if value is None:
        return "-"
    return f"{float(value):,.{digits}f}"


def _pct(value: Any) -> str:
    return percent(value)


def _delta(row: dict[str, Any], name: str) -> str:
    prev = row.get("previous") or {}
    now, before = row.get(name), prev.get(name)
    if now is None or before in (None, 0):
        return ""
    change = (float(now) - float(before)) / abs(float(before))
    return f" ({change:+.0%})"


def _table(report: dict[str, Any]) -> None:
    p, prev = report["period"], report["previous_period"]
    title = (
        f"KPIs {p['label']} ({p['start']} to {p['last_day']}, UTC), by {report['by']}, "
        f"{report['basis']} basis; change vs {prev['label']} in brackets"
    )
    table = Table(title=title)
    cols = ["key"] + (["start"] if report["grain"] else [])
    cols += ["cur", "cost", "basis", "output tokens", "per 1M out", "per 1M tok", "idle cost"]
    cols += ["GPU util", "capacity util", "success", "J/out tok"]
    for c in cols:
        table.add_column(c, no_wrap=c == "key")
    for r in report["rows"]:
        cells = [r["key"]] + ([r["start"]] if report["grain"] else [])
        cells += [
            r["currency"] or "-",
            _num(r["effective_cost"]) + _delta(r, "effective_cost"),
            r["cost_basis"] + (" (emulated)" if r["emulated"] else ""),
            _num(r["output_tokens"], 0),
            _num(r["usd_per_1m_output_tokens"], 4) + _delta(r, "usd_per_1m_output_tokens"),
            _num(r["usd_per_1m_tokens"], 4),
            _num(r["idle_cost"]),
            _pct(r["gpu_utilization"]),
            _pct(r["capacity_utilization"]),
            _pct(r["success_rate"]),
            _num(r["joules_per_output_token"], 3),
        ]
        table.add_row(*cells)
    out.print(table)
    out.print(
        "cost: allocated amortized cost (FOCUS EffectiveCost), estimates where no billing line "
        "maps (basis); per 1M: cost x 1e6 / tokens the servers counted; GPU util: mean share "
        "of time a kernel ran; success: ok / (ok + failed). Every definition: --format json."
    )
