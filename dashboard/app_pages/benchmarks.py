"""/benchmarks: compare runs across model sizes * hardware * quantization.

Pareto fronts of throughput per GPU (or USD per 1M tokens, or J per token) against
interactivity, latency percentiles against load, and the cost at the SLO capacity; measured
and emulated runs told apart everywhere.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st
from unitcost.dashboard import charts, queries, ui
from unitcost.dashboard.pareto import INTERACTIVITY, Y_AXES, top_configs, with_axes

BASES = {"Measured and emulated": None, "Measured only": False, "Emulated only": True}


def _select(runs: pd.DataFrame) -> pd.DataFrame:
    """The sidebar's deployment/model/hardware filters, the period toggle and the basis."""
    f = ui.filters()
    if f.deployment:
        runs = runs[runs["deployment_id"] == f.deployment]
    if f.model:
        runs = runs[runs["model"] == f.model]
    if f.hardware:
        runs = runs[runs["hardware"] == f.hardware]
    c1, c2 = st.columns(2)
    basis = BASES[c1.radio("Runs", list(BASES), horizontal=True, key="bench_basis")]
    if basis is not None:
        runs = runs[runs["emulated"] == basis]
    if f.period is not None and c2.toggle(
        f"Only runs started in {f.period.label}", value=False, key="bench_in_period"
    ):
        day = runs["started_at"].dt.tz_convert("UTC").dt.date
        runs = runs[(day >= f.period.start) & (day < f.period.end)]
    return runs


#: Configurations drawn at first: beyond a dozen, the charts' colours and legends cannot be
#: told apart (and hundreds of traces take seconds to draw).
SHOWN = charts.MAX_LINES


def main() -> None:
    st.title("Benchmarks")
    st.caption(
        "Benchmark runs compared across model sizes, quantizations and hardware "
        "(`unitcost bench run`, `bench import`). The period filter does not apply unless "
        "asked for: a benchmark describes a configuration, not a period of production."
    )
    runs = queries.bench_runs(queries.store_key())
    if runs.empty:
        ui.missing(
            "No benchmark runs in the store yet",
            "run `unitcost bench run --endpoint URL --model NAME` against a server (or "
            "`unitcost emulate` for an emulated one), or import results with "
            "`unitcost bench import FILE`.",
        )
        return
    runs = _select(runs)
    if runs.empty:
        st.info("No run matches these filters.")
        return
    axes = with_axes(runs, None)
    configs = sorted(axes["config"].unique())
    picked = st.multiselect(
        "Configurations",
        configs,
        default=top_configs(axes, SHOWN),
        key="bench_configs",
        help=f"At first the {SHOWN} configurations with the highest output tokens/s per GPU "
        "(all of them when there are no more); add or remove any.",
    )
    if len(picked) < len(configs):
        st.caption(f"Showing {len(picked)} of {len(configs)} configurations.")

    c1, c2 = st.columns([2, 1])
    y = c1.selectbox("y axis", list(Y_AXES), format_func=lambda k: Y_AXES[k].label, key="bench_y")
    own = None
    if c2.radio("USD per GPU-hour", ["Catalog", "My own"], horizontal=True, key="bench_price") == (
        "My own"
    ):
        own = c2.number_input(
            "My USD per GPU-hour", min_value=0.0, value=2.0, step=0.1, key="bench_own_rate"
        )
    df = with_axes(runs, own)
    df = df[df["config"].isin(picked)]
    if df.empty:
        st.info("Pick at least one configuration.")
        return
    if y.startswith("usd_") and (df["price_basis"] == "no price").any():
        n = int((df["price_basis"] == "no price").sum())
        st.warning(
            f"{n} run(s) have no catalog price (no price_ref, or one the catalog does not "
            "know): they are left out of cost axes. Set your own USD per GPU-hour, or give "
            "runs a price_ref (`bench run --price-ref provider/region/instance`)."
        )
    if y == "joules_per_output_token" and df[y].isna().all():
        ui.missing(
            "No energy figures for these runs",
            "J per token needs a GPU energy counter on the server's /metrics "
            "(dcgm-exporter, or `unitcost emulate`) scraped during the run: "
            "`unitcost bench run --metrics-url URL`.",
        )
    cols = [
        "run_id",
        "run_name",
        "config",
        "basis",
        "concurrency",
        "rate",
        INTERACTIVITY.column,
        y,
        "usd_per_gpu_hour",
        "price_basis",
    ]
    ui.chart(
        charts.fig_pareto(df, y),
        df[cols],
        f"pareto {y}",
        caption=f"x: {INTERACTIVITY.definition} y: {Y_AXES[y].definition} Lines join each "
        "configuration's Pareto front (no other run of it is better on both axes); dashed "
        "lines and open markers are emulated runs.",
    )

    st.subheader("Latency against load")
    load = st.radio(
        "Load",
        list(charts.LOADS),
        format_func=lambda k: charts.LOADS[k],
        horizontal=True,
        key="bench_load",
    )
    lat_cols = ["run_id", "config", "basis", load, "ttft_p50_ms", "ttft_p99_ms"]
    lat_cols += ["tpot_p50_ms", "tpot_p99_ms"]
    a, b = st.columns(2)
    with a:
        ui.chart(charts.fig_latency_vs_load(df, "ttft", load), df[lat_cols], "ttft vs load")
    with b:
        ui.chart(charts.fig_latency_vs_load(df, "tpot", load), df[lat_cols], "tpot vs load")
    st.caption(
        "TTFT: request sent to first content chunk. TPOT: (end-to-end - TTFT) ÷ (output "
        "tokens - 1), per request; p50/p99 over the run's ok requests (docs/bench.md)."
    )

    st.subheader("Cost at the SLO capacity")
    slo = df[df["usd_per_1m_output_tokens_at_slo"].notna()]
    if slo.empty:
        ui.missing(
            "No run with an SLO and a price",
            "`unitcost bench run --slo ttft:500,tpot:50 --price-ref ...` (or `--capacity`) "
            "stores the cost of the tokens that met the SLO.",
        )
    else:
        ui.table(
            slo[
                [
                    "run_name",
                    "config",
                    "basis",
                    "concurrency",
                    "rate",
                    "slo",
                    "goodput",
                    "meets_slo",
                    "usd_per_1m_output_tokens_at_slo",
                ]
            ],
            "cost at slo",
        )
        st.caption(
            "USD per 1M output tokens at the SLO = the instance's on-demand USD/hour (at the "
            "time of the run) ÷ (output tokens/s of the requests that met the SLO * 3600) * 1e6."
        )

    st.subheader("Runs")
    ui.table(df.drop(columns=["labels"], errors="ignore"), "benchmark runs")


main()
