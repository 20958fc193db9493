"""/cost: cost per token by deployment, model, hardware or provider, over time; how it was
bought (on-demand, spot, committed, estimated); idle cost; unmapped spend; hosted-API baseline.

The four views are tabs that run only when open (`st.tabs(on_change="rerun")`): a manager
opening the page waits for one chart and its reads, not four; the table under the first tab
carries every figure (idle cost and the billed/estimated split included) in any case."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st
from unitcost.dashboard import charts, figures, queries, recommendations, ui
from unitcost.dashboard.filters import FilterOptions, Filters, allowed_keys

VIEWS = ("Cost per token", "How it was bought", "Idle cost", "Hosted-API baseline")
BY = {"deployment": "Deployment", "model": "Model", "hardware": "Hardware", "provider": "Provider"}
GRAINS = {None: "Whole period", "day": "Day", "week": "Week", "month": "Month"}
TABLE = [
    "key",
    "start",
    "currency",
    "effective_cost",
    "billed_cost",
    "estimated_cost",
    "cost_basis",
    "input_tokens",
    "output_tokens",
    "usd_per_1m_output_tokens",
    "usd_per_1m_tokens",
    "usd_per_1m_good_output_tokens",
    "idle_cost",
]


def _select(report: dict[str, Any], keys: set[str] | None) -> dict[str, Any]:
    if keys is None:
        return report
    return {**report, "rows": [r for r in report["rows"] if r["key"] in keys]}


def pricing(sk: queries.Key, f: Filters, options: FilterOptions) -> None:
    """On-demand, spot, committed and estimated parts of each deployment's cost."""
    assert f.period is not None
    df = queries.cost_by_pricing(sk, f.period)
    keys = allowed_keys("deployment", f, options)
    if keys is not None:
        df = df[df["deployment_id"].isin(keys)]
    if df.empty:
        st.caption("No cost in this period.")
        return
    for cur, part in df.groupby("currency", sort=True):
        ui.chart(
            charts.fig_bars(
                part,
                "deployment_id",
                {
                    "on_demand_cost": "on-demand (billed)",
                    "spot_cost": "spot",
                    "committed_cost": "committed",
                    "estimated_cost": "estimated",
                },
                f"Cost by how it was bought ({cur})",
                str(cur),
            ),
            part,
            f"cost by pricing {cur}",
            caption="Allocation basis (every paid hour). On-demand = billed effective cost "
            "minus spot (FOCUS PricingCategory Dynamic) and committed (Committed); estimated = "
            "GPU-hours x catalog price on days without billing lines. The parts add up to "
            "each deployment's spend (the Cost per token tab's table, by deployment).",
        )


def per_token(priced: pd.DataFrame, table: pd.DataFrame, by: str, grain: str | None) -> None:
    """Cost per 1M tokens per row (over time with a grain), then the rows' table."""
    if grain:
        ui.chart(
            charts.fig_lines(
                priced,
                "start",
                "usd_per_1m_output_tokens",
                "key",
                f"Cost per 1M output tokens by {by} and {grain}",
                "per 1M output tokens (row currency)",
                series=by,
            ),
            priced[["key", "start", "currency", "usd_per_1m_output_tokens", "output_tokens"]],
            f"cost per token over time by {by}",
            caption=figures.FIGURES["usd_per_1m_output_tokens"].definition,
        )
    else:
        ui.chart(
            charts.fig_bars(
                charts.with_key_currency(priced),
                "label",
                {
                    "usd_per_1m_output_tokens": "per 1M output tokens",
                    "usd_per_1m_tokens": "per 1M tokens",
                },
                f"Cost per 1M tokens by {by}",
                "per 1M tokens (row currency)",
                stacked=False,
            ),
            priced[["key", "currency", "usd_per_1m_output_tokens", "usd_per_1m_tokens"]],
            f"cost per token by {by}",
            caption=figures.FIGURES["usd_per_1m_output_tokens"].definition
            + " "
            + figures.FIGURES["usd_per_1m_tokens"].definition,
        )
    st.subheader(f"By {by}")
    ui.table(table, f"cost by {by}")


def idle(priced: pd.DataFrame, by: str, grain: str | None, basis: str) -> None:
    """Paid hours with no traffic, per row (per row and bucket with a grain)."""
    rows = priced[pd.to_numeric(priced["idle_cost"], errors="coerce") > 0]
    if rows.empty:
        st.caption("No idle cost in this period: every paid hour served traffic.")
        return
    note = figures.FIGURES["idle_cost"].definition
    if basis == "usage":
        note += " On the usage basis it is left out of the cost per token above."
    if grain:
        ui.chart(
            charts.fig_lines(
                rows,
                "start",
                "idle_cost",
                "key",
                f"Idle cost by {by} and {grain}: paid hours with no traffic",
                "row currency",
                series=by,
            ),
            rows[["key", "start", "currency", "idle_cost", "effective_cost"]],
            f"idle cost over time by {by}",
            caption=note,
        )
        return
    ui.chart(
        charts.fig_idle_cost(rows, "Idle cost: paid hours with no traffic"),
        rows[["key", "currency", "idle_cost", "effective_cost"]],
        f"idle cost by {by}",
        caption=note,
    )


def hosted(sk: queries.Key) -> None:
    """What each scenario's requests would cost on a hosted API, beside the recommended fleet."""
    frame = recommendations.hosted_frame(queries.latest_recommendations(sk))
    if frame.empty:
        ui.missing(
            "No hosted-API baseline yet",
            "name hosted models in a scenario (`scenarios[].hosted_models`, e.g. "
            '["gpt-4o-mini"]) and run `unitcost recommend`.',
        )
        return
    ui.table(frame, "hosted api baseline")
    st.caption(
        "What each scenario's requests would cost on a hosted API (its per-token list "
        "prices at the scenario's token shape), beside the recommended fleet's cost per 1M "
        "output tokens. Prices with their source and date."
    )


def main() -> None:
    st.title("Cost per token")
    f = ui.filters()
    if f.period is None:
        ui.missing(*ui.NO_DATA)
        return
    sk = queries.store_key()
    options = queries.filter_options(sk)
    c1, c2, c3 = st.columns(3)
    by = c1.selectbox("Group by", list(BY), format_func=BY.__getitem__, key="cost_by")
    grain = c2.selectbox(
        "Time grain", list(GRAINS), format_func=GRAINS.__getitem__, key="cost_grain"
    )
    basis = c3.radio(
        "Cost basis",
        ["allocation", "usage"],
        horizontal=True,
        key="cost_basis",
        help="allocation: every paid hour, idle included (reconciles to the bill); usage: "
        "active hours only (OpenCost's names).",
    )
    report = _select(queries.kpi(sk, f.period, by, grain, basis), allowed_keys(by, f, options))
    st.caption(
        f"Same figures as `unitcost kpi --period {report['period']['label']} --by {by}"
        f"{f' --grain {grain}' if grain else ''} --basis {basis}`. Money is in each row's "
        "currency; currencies are never added together. A quarter is the period itself "
        "(pick it in the sidebar)."
    )
    for w in report["warnings"]:
        st.warning(w)
    table = figures.report_frame(report, TABLE)
    if table.empty:
        ui.missing(
            f"No cost or tokens in {report['period']['label']} for these filters",
            "choose another period or filter, or collect billing and metrics "
            "(`unitcost collect all`).",
        )
        return
    unmapped = table[table["key"] == "unmapped"]
    if not unmapped.empty:
        parts = [
            figures.fmt("effective_cost", v, c)
            for v, c in zip(unmapped["effective_cost"], unmapped["currency"], strict=True)
        ]
        st.info(
            f"Unmapped spend ({', '.join(parts)}): billing lines no deployment rule claims, "
            "kept as their own row so the rows add up to the bill."
        )
    priced = table[table["currency"].notna()]
    tabs = dict(zip(VIEWS, st.tabs(VIEWS, key="cost_view", on_change="rerun"), strict=True))
    if tabs["Cost per token"].open:
        with tabs["Cost per token"]:
            per_token(priced, table, by, grain)
    if tabs["How it was bought"].open:
        with tabs["How it was bought"]:
            pricing(sk, f, options)
    if tabs["Idle cost"].open:
        with tabs["Idle cost"]:
            idle(priced, by, grain, basis)
    if tabs["Hosted-API baseline"].open:
        with tabs["Hosted-API baseline"]:
            hosted(sk)
    ui.figure_definitions(TABLE)


main()
