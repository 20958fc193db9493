"""/ (Overview): the period's headline figures against the previous period, and the top savings."""

from __future__ import annotations

from typing import Any

import streamlit as st
from unitcost.dashboard import figures, queries, recommendations, ui


def headline(row: dict[str, Any], previous_label: str) -> None:
    """The headline figures of one row (one currency), each with its change and definition."""
    cur = row["currency"]
    names = figures.HEADLINE_FIGURES
    for start in range(0, len(names), 3):
        cols = st.columns(3)
        for col, name in zip(cols, names[start : start + 3], strict=False):
            fig = figures.FIGURES[name]
            value = row.get(name)
            prev = figures.previous_of(row, name)
            label = fig.label
            if name == "effective_cost" and row["cost_basis"] in ("estimated", "mixed"):
                label += f" ({row['cost_basis']})"
            col.metric(
                label,
                figures.fmt(name, value, cur),
                delta=figures.change(name, value, prev),
                delta_color="inverse" if fig.lower_is_better else "normal",
                help=fig.definition,
            )
            col.caption(f"{previous_label}: {figures.fmt(name, prev, cur)}")


def main() -> None:
    st.title("Overview")
    f = ui.filters()
    if f.period is None:
        ui.missing(*ui.NO_DATA)
        return
    sk = queries.store_key()
    by, key = f.scope()
    report = queries.kpi(sk, f.period, by)
    prev = report["previous_period"]["label"]
    st.caption(
        f"{report['period']['label']} ({report['period']['start']} to "
        f"{report['period']['last_day']}, UTC days) against {prev}; "
        f"{'all deployments' if key is None else f'{by} {key}'}; cost basis: allocation "
        "(every paid hour, idle included). Same figures as "
        f"`unitcost kpi --period {report['period']['label']}"
        f"{'' if by == 'all' else f' --by {by}'}`."
    )
    rows = figures.rows_for(report, key)
    for w in report["warnings"]:
        st.warning(w)
    if not rows:
        ui.missing(
            f"No cost or telemetry for {key or 'any deployment'} in {report['period']['label']}",
            "choose another period or filter, or collect data (`unitcost collect all`).",
        )
    for row in rows:
        if row["currency"] is None:
            st.subheader("Without cost (telemetry only)")
            st.caption(
                "Tokens, GPUs or requests with no billing line and no price to estimate from: "
                "see the warnings above."
            )
        elif len(rows) > 1:
            st.subheader(f"In {row['currency']}")
        headline(row, prev)
    if key is None:
        for row in figures.unmapped_spend(report):
            amount = figures.fmt("effective_cost", row["effective_cost"], row["currency"])
            st.info(
                f"Unmapped spend: {amount} that no deployment rule claims (its own row in "
                "`unitcost kpi`, so the rows add up to the bill). Map it with "
                "deployments[].match in the config."
            )
    st.subheader("Top savings")
    latest = queries.latest_recommendations(sk)
    if not latest["scenarios"]:
        ui.missing(
            "No recommendations stored yet",
            "`unitcost recommend` solves the config's scenarios and stores the answers (see "
            "/tiers).",
        )
    else:
        top = recommendations.top_savings(latest)
        if top.empty:
            st.caption(
                "No scenario's recommended fleet costs less than today's deployment (see "
                "/tiers for each scenario's answer)."
            )
        else:
            ui.table(
                top[["scenario", "fleet", "savings_usd_per_month", "usd_per_hour", "run_at"]],
                "top savings",
            )
            st.caption(latest["definitions"].get("savings_usd_per_month", ""))
    ui.figure_definitions(figures.HEADLINE_FIGURES)


main()
