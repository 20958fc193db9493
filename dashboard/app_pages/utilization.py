"""/utilization: GPU, KV-cache and capacity utilization over time and by hour of day and
weekday, and where paid capacity sits idle.

The three views are tabs that run only when open (`st.tabs(on_change="rerun")`), as on /cost:
the page reads and draws what is shown."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from unitcost.dashboard import charts, figures, queries, ui
from unitcost.dashboard.filters import Filters, allowed_keys

VIEWS = ("Over time", "By hour and weekday", "Idle capacity")
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


def over_time(sk: queries.Key, f: Filters, keys: set[str] | None) -> None:
    """GPU, KV-cache and capacity utilization per deployment and day, week or month."""
    assert f.period is not None
    grains = list(GRAINS)
    grain = st.selectbox(
        "Time grain",
        grains,
        index=grains.index(default_grain(f.period.days)),
        format_func=GRAINS.__getitem__,
        key="util_grain",
    )
    report = queries.kpi(sk, f.period, "deployment", grain)
    if keys is not None:
        report = {**report, "rows": [r for r in report["rows"] if r["key"] in keys]}
    st.caption(
        f"Per deployment and UTC {grain}, as `unitcost kpi --period "
        f"{report['period']['label']} --by deployment --grain {grain}`."
    )
    df = figures.report_frame(report, ["key", "start", "currency", *OVER_TIME, "gpu_hours"])
    if df.empty or df[OVER_TIME].isna().all().all():
        ui.missing(
            f"No utilization figures in {report['period']['label']}",
            "GPU utilization needs GPU telemetry (`unitcost collect gpu`, or DCGM through "
            "`collect prometheus`); KV-cache use needs engine metrics (`collect prometheus` or "
            "`collect scrape`); capacity utilization also needs a capacity benchmark "
            "(`unitcost bench run --capacity`).",
        )
        return
    # One row per deployment and bucket: cost rows in two currencies repeat the same usage.
    per_bucket = df.drop_duplicates(["key", "start"])
    for name in OVER_TIME:
        fig = figures.FIGURES[name]
        if per_bucket[name].isna().all():
            st.caption(f"{fig.label}: no figure in this period. {fig.definition}")
            continue
        ui.chart(
            charts.fig_lines(
                per_bucket,
                "start",
                name,
                "key",
                f"{fig.label} per {grain}",
                fig.label,
                percent=True,
                series="deployment",
            ),
            per_bucket[["key", "start", name]],
            f"{name} per {grain}",
            caption=fig.definition,
        )


def by_hour(sk: queries.Key, f: Filters, keys: set[str] | None) -> None:
    """GPU utilization or KV-cache use by hour of day and weekday (UTC)."""
    assert f.period is not None
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
        charts.fig_heatmap(cells, value, f"{label} by hour of day and weekday (UTC)"),
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


def idle_capacity(sk: queries.Key, f: Filters, keys: set[str] | None) -> None:
    """Where paid capacity sits idle: idle cost per deployment over the whole period."""
    assert f.period is not None
    total = figures.report_frame(
        queries.kpi(sk, f.period, "deployment"),
        ["key", "currency", "effective_cost", "idle_cost", "gpu_hours", "gpu_utilization"],
    )
    if keys is not None:
        total = total[total["key"].isin(keys)]
    idle = total[pd.to_numeric(total["idle_cost"], errors="coerce") > 0]
    if idle.empty:
        st.caption("No idle cost in this period (or no telemetry to tell idle hours).")
        return
    ui.chart(
        charts.fig_idle_cost(idle, "Idle cost by deployment"),
        idle,
        "idle cost by deployment",
        caption=figures.FIGURES["idle_cost"].definition,
    )


def main() -> None:
    st.title("Utilization")
    f = ui.filters()
    if f.period is None:
        ui.missing(*ui.NO_DATA)
        return
    sk = queries.store_key()
    keys = allowed_keys("deployment", f, queries.filter_options(sk))
    tabs = dict(zip(VIEWS, st.tabs(VIEWS, key="util_view", on_change="rerun"), strict=True))
    for name, view in zip(VIEWS, (over_time, by_hour, idle_capacity), strict=True):
        if tabs[name].open:
            with tabs[name]:
                view(sk, f, keys)
    ui.figure_definitions([*OVER_TIME, "idle_cost"])


main()
