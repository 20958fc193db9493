"""The quarterly review's content, read from the store through the analytics layer.

The same calls as the dashboard (kpi_report, coverage, bench runs) and the same formatting
(dashboard.figures), so the review's figures equal the dashboard's and `unitcost kpi
--period Q`'s for the quarter. A quarter with no cost or telemetry is an error (InputError),
not an empty report.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from duckdb import DuckDBPyConnection
from unitcost.analytics.definitions import DEFINITIONS
from unitcost.analytics.period import Period, data_days
from unitcost.dashboard import charts, data, figures, recommendations
from unitcost.dashboard.pareto import INTERACTIVITY, Y_AXES, with_axes
from unitcost.dashboard.review.model import Chart, Metric, Review, Section, Table

from unitcost.config import Scenario, Settings
from unitcost.errors import InputError

TREND_GRAIN = "week"
#: The KPI columns a printed table shows (A4 portrait); the XLSX sheets keep every column.
PRINTED = (
    "key",
    "currency",
    "effective_cost",
    "cost_basis",
    "output_tokens",
    "usd_per_1m_output_tokens",
    "gpu_utilization",
    "success_rate",
    "idle_cost",
)
BY_DEPLOYMENT = [
    "key",
    "currency",
    "effective_cost",
    "billed_cost",
    "estimated_cost",
    "cost_basis",
    "input_tokens",
    "output_tokens",
    "usd_per_1m_output_tokens",
    "usd_per_1m_tokens",
    "gpu_hours",
    "gpu_utilization",
    "capacity_utilization",
    "idle_cost",
    "requests_ok",
    "requests_failed",
    "success_rate",
]


def _no_data(con: DuckDBPyConnection, period: Period) -> InputError:
    first, last, _ = data_days(con, period.end)
    where = (
        f"the store holds data from {first} to {last}"
        if first is not None
        else "the store holds no cost or telemetry at all"
    )
    return InputError(
        f"{period.label}: no cost or telemetry in this quarter ({where}); nothing to review. "
        "Choose another --quarter, or collect data first (`unitcost collect all`)."
    )


def _metrics(row: dict[str, Any], previous_label: str) -> list[Metric]:
    cur = row["currency"]
    out = []
    for name in figures.HEADLINE_FIGURES:
        fig = figures.FIGURES[name]
        value, prev = row.get(name), figures.previous_of(row, name)
        label = fig.label
        if name == "effective_cost" and row["cost_basis"] in ("estimated", "mixed"):
            label += f" ({row['cost_basis']})"
        out.append(
            Metric(
                group=f"Billed in {cur}" if cur else "Without cost (telemetry only)",
                label=label,
                value=figures.fmt(name, value, cur),
                previous=f"{previous_label}: {figures.fmt(name, prev, cur)}",
                change=figures.change(name, value, prev) or "no change to show",
                definition=fig.definition,
            )
        )
    return out


def kpi_section(
    con: DuckDBPyConnection, period: Period, scenarios: Sequence[Scenario]
) -> tuple[Section, dict[str, Any]]:
    report = data.kpi_report(con, period, scenarios=scenarios)
    prev = report["previous_period"]["label"]
    section = Section(
        "Quarter over quarter",
        intro=f"{period.label} against {prev}, all deployments, allocation basis (every paid "
        f"hour, idle included). The figures of `unitcost kpi --period {period.label}`.",
    )
    for row in figures.rows_for(report, None):
        if row["currency"] is None:
            continue  # telemetry without cost: in the table and the warnings
        section.metrics += _metrics(row, prev)
    section.tables.append(
        Table(
            "kpi_all",
            "All KPI rows of the quarter (one per currency; unmapped spend its own row)",
            figures.report_frame(report),
            "Every figure of `unitcost kpi --format json` for the quarter, with its value in "
            "the previous quarter (previous_*): all of them in the XLSX. Definitions: the last "
            "section.",
            printed=PRINTED,
        )
    )
    section.notes += [f"Warning: {w}" for w in report["warnings"]]
    return section, report


def trend_section(
    con: DuckDBPyConnection, period: Period, scenarios: Sequence[Scenario]
) -> Section:
    # the weeks and the quarter by deployment, from one read
    report, totals = data.kpi_reports(
        con, period, [("deployment", TREND_GRAIN), ("deployment", None)], scenarios=scenarios
    )
    df = figures.report_frame(report)
    priced = df[df["currency"].notna()]
    section = Section(
        "Trends",
        intro=f"Per deployment and ISO week (`unitcost kpi --by deployment --grain "
        f"{TREND_GRAIN}`).",
    )
    weekly = Table(
        "weekly_by_deployment",
        "Weekly KPIs by deployment",
        df,
        f"`unitcost kpi --period {period.label} --by deployment --grain {TREND_GRAIN}`.",
        printed=("start", *PRINTED),
    )
    section.charts.append(
        Chart(
            "Cost per 1M output tokens by week",
            charts.fig_lines(
                priced,
                "start",
                "usd_per_1m_output_tokens",
                "key",
                "Cost per 1M output tokens by deployment and week",
                "per 1M output tokens (row currency)",
                series="deployment",
            ),
            weekly,
            figures.FIGURES["usd_per_1m_output_tokens"].definition,
        )
    )
    section.charts.append(
        Chart(
            "GPU utilization by week",
            charts.fig_lines(
                df.drop_duplicates(["key", "start"]),
                "start",
                "gpu_utilization",
                "key",
                "GPU utilization by deployment and week",
                "GPU utilization",
                percent=True,
                series="deployment",
            ),
            Table(
                "weekly_gpu_utilization",
                "Weekly GPU utilization by deployment",
                df.drop_duplicates(["key", "start"])[["key", "start", "gpu_utilization"]],
            ),
            figures.FIGURES["gpu_utilization"].definition,
        )
    )
    section.tables.append(
        Table(
            "by_deployment",
            "The quarter by deployment",
            figures.report_frame(totals, BY_DEPLOYMENT),
            f"`unitcost kpi --period {period.label} --by deployment`. The rows add up to the "
            "bill: spend no rule claims is the row 'unmapped'. Every column in the XLSX.",
            printed=PRINTED,
        )
    )
    return section


def bench_section(con: DuckDBPyConnection, period: Period) -> Section:
    runs = data.bench_runs(con)
    section = Section(
        "Benchmark highlights",
        intro=f"Benchmark runs started in {period.label}: each configuration's best throughput "
        "per GPU and lowest cost per 1M output tokens at the catalog's on-demand price.",
    )
    if not runs.empty:
        day = runs["started_at"].dt.tz_convert("UTC").dt.date
        runs = runs[(day >= period.start) & (day < period.end)]
    if runs.empty:
        section.notes.append(
            f"No benchmark run in {period.label} (`unitcost bench run` stores them)."
        )
        return section
    df = with_axes(runs, None)
    best = []
    for config, grp in df.groupby("config", sort=True):
        ranked = grp.sort_values("output_tokens_per_s_per_gpu", ascending=False, na_position="last")
        top = ranked.iloc[0]
        cheap = grp["usd_per_1m_output_tokens"].dropna()
        best.append(
            {
                "config": config,
                "basis": top["basis"],
                "runs": len(grp),
                "best_output_tokens_per_s_per_gpu": top["output_tokens_per_s_per_gpu"],
                "at_interactivity": top[INTERACTIVITY.column],
                "best_run": top["run_name"],
                "lowest_usd_per_1m_output_tokens": cheap.min() if not cheap.empty else None,
                "usd_per_gpu_hour": top["usd_per_gpu_hour"],
            }
        )
    cols = [
        "run_id",
        "run_name",
        "config",
        "basis",
        "concurrency",
        "rate",
        INTERACTIVITY.column,
        "output_tokens_per_s_per_gpu",
        "usd_per_1m_output_tokens",
        "usd_per_gpu_hour",
        "ttft_p50_ms",
        "tpot_p50_ms",
        "success_rate",
    ]
    y = "output_tokens_per_s_per_gpu"
    section.charts.append(
        Chart(
            "Throughput per GPU against interactivity",
            charts.fig_pareto(df, y),
            Table("benchmark_runs", f"Benchmark runs in {period.label}", df[cols]),
            f"x: {INTERACTIVITY.definition} y: {Y_AXES[y].definition} Dashed lines and open "
            "markers are emulated runs.",
        )
    )
    section.tables.append(
        Table(
            "benchmark_best",
            "Best run per configuration",
            pd.DataFrame(best),
            Y_AXES["usd_per_1m_output_tokens"].definition,
            printed=(
                "config",
                "basis",
                "runs",
                "best_output_tokens_per_s_per_gpu",
                "at_interactivity",
                "lowest_usd_per_1m_output_tokens",
            ),
        )
    )
    return section


def recommendations_section(con: DuckDBPyConnection) -> Section:
    latest = data.latest_recommendations(con)
    section = Section(
        "Tier recommendations",
        intro="The newest answer of `unitcost recommend` per scenario: the least-cost fleet "
        "that meets the scenario's SLO and demand, against today's deployment.",
    )
    if not latest["scenarios"]:
        section.notes.append(
            "No recommendations stored: `unitcost recommend` solves the config's scenarios "
            "and stores the answers."
        )
        return section
    summary = recommendations.summary_frame(latest)
    section.tables.append(
        Table(
            "recommendations",
            "Recommendations per scenario",
            summary,
            latest["definitions"].get("savings_usd_per_month", ""),
            printed=(
                "scenario",
                "status",
                "fleet",
                "usd_per_hour",
                "current_usd_per_hour",
                "savings_usd_per_month",
            ),
        )
    )
    for s in latest["scenarios"]:
        if s["status"] != "optimal":
            section.notes.append(f"{s['scenario']}: no fleet meets it: {s.get('reason')}")
        for w in s.get("warnings", []):
            section.notes.append(f"{s['scenario']}: {w}")
    hosted = recommendations.hosted_frame(latest)
    if not hosted.empty:
        section.tables.append(
            Table(
                "hosted_baseline",
                "Hosted-API baseline",
                hosted,
                "What each scenario's requests would cost on a hosted API, beside the "
                "recommended fleet.",
                printed=(
                    "scenario",
                    "hosted_model",
                    "usd_per_1m_output_tokens_at_this_shape",
                    "fleet_usd_per_1m_output_tokens",
                ),
            )
        )
    return section


def coverage_section(con: DuckDBPyConnection, period: Period) -> Section:
    days = data.coverage_daily(con, period)
    summary = figures.coverage_summary(days["status"]) if not days.empty else "no days"
    section = Section(
        "Data coverage", intro=f"What the quarter's figures stand on, day by day: {summary}."
    )
    section.charts.append(
        Chart(
            "Data coverage per day",
            charts.fig_coverage(days, f"Data coverage, {period.label}"),
            Table("coverage_daily", "Data coverage per day", days),
            "measured: billed and with telemetry; estimated: some cost is GPU-hours x catalog "
            "price; emulated: some telemetry comes from `unitcost emulate`; partial: a "
            "deployment lacks cost or telemetry; missing: no data.",
        )
    )
    return section


def definitions_section() -> Section:
    defs = pd.DataFrame(
        [{"figure": k, "definition": v} for k, v in DEFINITIONS.items()],
        columns=["figure", "definition"],
    )
    return Section(
        "Definitions",
        tables=[Table("definitions", "Every figure's definition", defs)],
    )


#: The review's sections after the first ("Quarter over quarter", built with the head), in
#: order: title -> its builder (con, period, scenarios). The page builds the one it shows.
SECTIONS: dict[str, Callable[[DuckDBPyConnection, Period, Sequence[Scenario]], Section]] = {
    "Trends": trend_section,
    "Benchmark highlights": lambda con, period, _: bench_section(con, period),
    "Tier recommendations": lambda con, _period, _sc: recommendations_section(con),
    "Data coverage": lambda con, period, _: coverage_section(con, period),
    "Definitions": lambda _con, _period, _sc: definitions_section(),
}


def build_review(
    con: DuckDBPyConnection,
    period: Period,
    *,
    settings: Settings | None = None,
    source: str | Path = "",
    now: datetime | None = None,
) -> Review:
    """Everything the quarter's review says; InputError when the quarter holds no data."""
    review = build_head(con, period, settings=settings, source=source, now=now)
    scenarios = settings.scenarios if settings is not None else ()
    review.sections += [build(con, period, scenarios) for build in SECTIONS.values()]
    return review


def build_section(
    con: DuckDBPyConnection, period: Period, title: str, settings: Settings | None = None
) -> Section:
    """One section of SECTIONS, as build_review() builds it."""
    return SECTIONS[title](con, period, settings.scenarios if settings is not None else ())


def build_head(
    con: DuckDBPyConnection,
    period: Period,
    *,
    settings: Settings | None = None,
    source: str | Path = "",
    now: datetime | None = None,
) -> Review:
    """The review with its first section only (quarter over quarter) and the data labels;
    InputError when the quarter holds no data."""
    scenarios = settings.scenarios if settings is not None else ()
    kpis, report = kpi_section(con, period, scenarios)
    if not report["rows"]:
        raise _no_data(con, period)
    labels = data.data_labels(con, period)
    last_day = period.end - timedelta(days=1)
    return Review(
        period_label=period.label,
        period_text=f"{period.start} to {last_day} (UTC days)",
        previous_label=report["previous_period"]["label"],
        generated_at=now or datetime.now(UTC),
        source=str(source),
        labels=list(labels["notes"]),
        sections=[kpis],
    )
