"""/utilization: GPU, KV-cache and capacity utilization over time and by hour of day and
weekday, and where paid capacity sits idle."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from unitcost.dashboard import charts, figures, queries, ui
from unitcost.dashboard.filters import allowed_keys

OVER_TIME = ["gpu_utilization", "kv_cache_usage", "capacity_utilization"]
#: radio choice -> (query, its value column, label)
HEATMAP = {
    "gpu": ("gpu_utilization", "GPU utilization"),
    "kv": ("kv_cache_usage", "KV-cache use"),
}


#: --grain choices for the charts over time
GRAINS = {"day": "Day", "week": "Week", "month": "Month"}
#: Periods up to this many days are drawn per day by default; longer ones per week (a quarter
#: by day is 92 points per deployment, and its report the largest the page could ask for).
DAILY_UP_TO_DAYS = 31


def default_grain(days: int) -> str:
    return "day" if days <= DAILY_UP_TO_DAYS else "week"


def main() -> None:
    st.title("Utilization")
    f = ui.filters()
    if f.period is None:
        ui.missing(*ui.NO_DATA)
        return
    sk = queries.store_key()
    options = queries.filter_options(sk)
    keys = allowed_keys("deployment", f, options)
    grains = list(GRAINS)
    grain = st.selectbox(
        "Time grain",
        grains,
        index=grains.index(default_grain(f.period.days)),
        format_func=GRAINS.__getitem__,
        key="util_grain",
    )
    # the chart's grain and the whole period (idle capacity below): one read of the store
    daily, total_report = queries.kpis(sk, f.period, (("deployment", grain), ("deployment", None)))
    if keys is not None:
        daily = {**daily, "rows": [r for r in daily["rows"] if r["key"] in keys]}
    st.caption(
        f"Per deployment and UTC {grain}, as `unitcost kpi --period "
        f"{daily['period']['label']} --by deployment --grain {grain}`."
    )
    df = figures.report_frame(daily, ["key", "start", "currency", *OVER_TIME, "gpu_hours"])
    if df.empty or df[OVER_TIME].isna().all().all():
        ui.missing(
            f"No utilization figures in {daily['period']['label']}",
            "GPU utilization needs GPU telemetry (`unitcost collect gpu`, or DCGM through "
            "`collect prometheus`); KV-cache use needs engine metrics (`collect prometheus` or "
            "`collect scrape`); capacity utilization also needs a capacity benchmark "
            "(`unitcost bench run --capacity`).",
        )
    else:
        # One row per deployment and day: cost rows in two currencies repeat the same usage.
        per_day = df.drop_duplicates(["key", "start"])
        for name in OVER_TIME:
            fig = figures.FIGURES[name]
            if per_day[name].isna().all():
                st.caption(f"{fig.label}: no figure in this period. {fig.definition}")
                continue
            ui.chart(
                charts.fig_lines(
                    per_day,
                    "start",
                    name,
                    "key",
                    f"{fig.label} per {grain}",
                    fig.label,
                    percent=True,
                    series="deployment",
                ),
                per_day[["key", "start", name]],
                f"{name} per {grain}",
                caption=fig.definition,
            )
    st.subheader("By hour of day and weekday (UTC)")
    which = st.radio(
        "Heatmap",
        list(HEATMAP),
        format_func=lambda k: HEATMAP[k][1],
        horizontal=True,
        key="util_hm",
    )
    value, label = HEATMAP[which]
    cells = queries.heatmap(sk, which, f.period, tuple(sorted(keys)) if keys is not None else None)
    ui.chart(
        charts.fig_heatmap(cells, value, f"{label} by hour of day and weekday"),
        cells,
        f"{value} heatmap",
        caption=(
            "Mean of the hourly GPU utilization over every GPU-hour in the cell (the GPUs the "
            "deployment rules claim), the definition of GPU utilization restricted to that hour "
            "and weekday."
            if which == "gpu"
            else "Time-weighted mean KV-cache use of the cell's metric intervals, the definition "
            "of KV-cache use restricted to that hour and weekday."
        ),
    )
    st.subheader("Where paid capacity sits idle")
    total = figures.report_frame(
        total_report,
        ["key", "currency", "effective_cost", "idle_cost", "gpu_hours", "gpu_utilization"],
    )
    if keys is not None:
        total = total[total["key"].isin(keys)]
    idle = total[pd.to_numeric(total["idle_cost"], errors="coerce") > 0]
    if idle.empty:
        st.caption("No idle cost in this period (or no telemetry to tell idle hours).")
    else:
        ui.chart(
            charts.fig_bars(
                idle.assign(label=idle["key"] + " (" + idle["currency"] + ")"),
                "label",
                {"idle_cost": "idle cost"},
                "Idle cost by deployment",
                "row currency",
            ),
            idle,
            "idle cost by deployment",
            caption=figures.FIGURES["idle_cost"].definition,
        )
    ui.figure_definitions(OVER_TIME)


main()
