"""/sources: where every figure comes from: collector runs, watermarks, errors, prices, coverage."""

from __future__ import annotations

import streamlit as st
from unitcost.dashboard import charts, figures, queries, ui


def collectors(sk: queries.Key) -> None:
    st.subheader("Collectors")
    last = queries.collector_last_runs(sk)
    if last.empty:
        ui.missing(
            "No collector has run against this store",
            "`unitcost collect all` (or `collect billing|prometheus|scrape|gpu`) fills it; "
            "schedule it with cron or a systemd timer (README).",
        )
    else:
        failed = last[last["last_status"] == "failed"]
        if not failed.empty:
            st.warning(
                f"{len(failed)} source(s) failed on their last run: "
                + ", ".join(
                    f"{c}/{s}" for c, s in zip(failed["collector"], failed["source"], strict=False)
                )
                + ". Their figures stop at the watermark below."
            )
        ui.table(
            last,
            "collector last runs",
            column_config={
                "last_rows": st.column_config.NumberColumn("rows (last run)"),
                "rows_total": st.column_config.NumberColumn("rows (all runs)"),
                "watermark": st.column_config.DatetimeColumn("collected up to"),
            },
        )
        st.caption(
            "One row per collector and source: its last run (status, rows written, the time "
            "window it asked for), all its runs, and the watermark the next run resumes from."
        )
    marks = queries.watermarks(sk)
    if not marks.empty:
        st.markdown("**Watermarks**")
        ui.table(marks, "watermarks")
    errors = queries.collector_errors(sk)
    st.markdown("**Recent errors**")
    if errors.empty:
        st.caption("No failed or interrupted collector run.")
    else:
        ui.table(errors, "collector errors")


def prices(sk: queries.Key) -> None:
    st.subheader("Price catalog")
    catalog = queries.price_catalog(sk)
    if catalog.empty:
        ui.missing("The price catalog is empty", "`unitcost db init` loads the shipped one.")
        return
    ui.table(catalog, "price catalog")
    st.caption(
        "The price in force per instance and price model (config > import > shipped), each "
        "with its source, as-of date and whether it was verified; a caveat marks known-stale "
        "rows. USD/GPU-h = whole-instance USD/hour ÷ GPUs in the instance. Prices are dated "
        "facts from the named source, not quotes."
    )


COVERAGE_TEXT = (
    "Per UTC day of the period: how many deployments had billing lines (billed), an estimated "
    "cost (GPU-hours x catalog price), no cost at all, telemetry, emulated telemetry or demo "
    "data. Status: measured (billed and telemetry), estimated (some cost estimated), emulated "
    "(some telemetry emulated), partial (a deployment lacks cost or telemetry), missing (no "
    "data at all)."
)


def coverage(sk: queries.Key) -> None:
    f = ui.filters()
    st.subheader("Data coverage per day")
    if f.period is None:
        ui.missing(*ui.NO_DATA)
        return
    days = queries.coverage_daily(sk, f.period)
    ui.chart(
        charts.fig_coverage(days, f"Data coverage, {f.period.label}"),
        days,
        "coverage",
        caption=COVERAGE_TEXT,
    )
    if not days.empty:
        st.caption(figures.coverage_summary(days["status"]))
        with st.expander("Coverage per day, as a table"):
            st.dataframe(days, hide_index=True)


def main() -> None:
    st.title("Sources")
    sk = queries.store_key()
    coverage(sk)
    collectors(sk)
    prices(sk)


main()
