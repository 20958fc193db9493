"""Charts as pure functions: a frame in, a plotly figure out (no Streamlit, no store).

The same functions draw the dashboard and the review's static images, so both show one picture
of one set of figures. Emulated data is always drawn apart from measured data (dashed lines,
open markers, "(emulated)" in the legend).
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from unitcost.dashboard.pareto import INTERACTIVITY, Y_AXES, front_mask

_LAYOUT = {
    "template": "plotly_white",
    "margin": {"l": 60, "r": 20, "t": 50, "b": 50},
    "legend": {"orientation": "h", "yanchor": "top", "y": -0.18, "x": 0},
    "height": 460,
}
PALETTE = [
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
]


#: fig_lines draws at most this many lines; more become the rows of a heatmap.
MAX_LINES = 12


def _empty(title: str, note: str) -> go.Figure:
    fig = go.Figure()
    fig.update_layout(title=title, **_LAYOUT)
    fig.add_annotation(text=note, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def _style(emulated: bool) -> tuple[str, str]:
    """(line dash, marker symbol): emulated runs dashed with open markers."""
    return ("dash", "circle-open") if emulated else ("solid", "circle")


def fig_pareto(df: pd.DataFrame, y: str) -> go.Figure:
    """Each configuration's runs and its Pareto front: interactivity (x) against `y`."""
    axis = Y_AXES[y]
    title = f"{axis.label} against interactivity"
    pts = df[df[INTERACTIVITY.column].notna() & df[y].notna()]
    if pts.empty:
        return _empty(title, "no run has both figures")
    on_front = front_mask(pts, INTERACTIVITY.column, y, y_higher_is_better=axis.higher_is_better)
    fig = go.Figure()
    for i, (config, grp) in enumerate(pts.groupby("config", sort=True)):
        color = PALETTE[i % len(PALETTE)]
        emulated = bool(grp["emulated"].iloc[0])
        dash, symbol = _style(emulated)
        hover = (
            "%{customdata[0]}<br>load %{customdata[1]}<br>"
            + f"{INTERACTIVITY.label}: %{{x:.1f}}<br>{axis.label}: %{{y:.4g}}<extra></extra>"
        )
        load = grp["concurrency"].map(lambda c: f"concurrency {c:g}", na_action="ignore")
        load = load.fillna(grp["rate"].map(lambda r: f"{r:g} req/s", na_action="ignore"))
        custom = list(zip(grp["run_name"], load.fillna("?"), strict=True))
        front = grp[on_front[grp.index]].sort_values(INTERACTIVITY.column)
        fig.add_trace(
            go.Scatter(
                x=front[INTERACTIVITY.column],
                y=front[y],
                mode="lines",
                line={"color": color, "dash": dash},
                name=str(config),
                legendgroup=str(config),
                hoverinfo="skip",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=grp[INTERACTIVITY.column],
                y=grp[y],
                mode="markers",
                marker={"color": color, "symbol": symbol, "size": 9},
                name=str(config),
                legendgroup=str(config),
                showlegend=False,
                customdata=custom,
                hovertemplate=hover,
            )
        )
    fig.update_layout(title=title, **_LAYOUT)
    fig.update_xaxes(title=INTERACTIVITY.label)
    fig.update_yaxes(title=axis.label, rangemode="tozero")
    return fig


LATENCY = {
    "ttft": ("TTFT (ms)", "ttft_p50_ms", "ttft_p99_ms"),
    "tpot": ("TPOT (ms)", "tpot_p50_ms", "tpot_p99_ms"),
}
LOADS = {"concurrency": "Concurrency (requests in flight)", "rate": "Offered rate (req/s)"}


def fig_latency_vs_load(df: pd.DataFrame, metric: str, load: str) -> go.Figure:
    """p50 (solid) and p99 (dotted) of TTFT or TPOT against the offered load, per config."""
    label, p50, p99 = LATENCY[metric]
    title = f"{label} p50 and p99 against load"
    pts = df[df[load].notna() & (df[p50].notna() | df[p99].notna())]
    if pts.empty:
        return _empty(title, f"no run with a {LOADS[load].lower()} load")
    fig = go.Figure()
    for i, (config, grp) in enumerate(pts.groupby("config", sort=True)):
        color = PALETTE[i % len(PALETTE)]
        emulated = bool(grp["emulated"].iloc[0])
        _, symbol = _style(emulated)
        grp = grp.sort_values(load)
        for col, pname, dash in ((p50, "p50", "solid"), (p99, "p99", "dot")):
            fig.add_trace(
                go.Scatter(
                    x=grp[load],
                    y=grp[col],
                    mode="lines+markers",
                    line={"color": color, "dash": "dash" if emulated and dash == "solid" else dash},
                    marker={"symbol": symbol, "color": color},
                    name=f"{config} {pname}",
                    legendgroup=str(config),
                )
            )
    fig.update_layout(title=title, **_LAYOUT)
    fig.update_xaxes(title=LOADS[load])
    fig.update_yaxes(title=label, rangemode="tozero")
    return fig


def _num(s: pd.Series) -> pd.Series:
    """Money arrives as Decimal: plotly needs floats (the tables keep the exact values)."""
    return pd.to_numeric(s, errors="coerce").astype(float)


def fig_lines(
    df: pd.DataFrame,
    x: str,
    y: str,
    color: str,
    title: str,
    y_title: str,
    *,
    percent: bool = False,
    series: str | None = None,
) -> go.Figure:
    """One line per `color` value (e.g. a figure per deployment and day); `x` holds ISO days.
    Beyond MAX_LINES values, one row per value in a heatmap instead (fifty lines cannot be
    told apart, and take seconds to draw). `percent`: 0-1 fractions, shown in %. `series`:
    what a line is (e.g. "deployment"), the legend's or the heatmap rows' title."""
    pts = df[df[y].notna()] if not df.empty else df
    if pts.empty:
        return _empty(title, "no figure to draw")
    if pts[color].nunique() > MAX_LINES:
        return _lines_as_heatmap(
            pts, x, y, color, title, y_title, percent=percent, series=series or color
        )
    fig = go.Figure()
    for i, (name, grp) in enumerate(pts.groupby(color, sort=True)):
        grp = grp.sort_values(x)
        fig.add_trace(
            go.Scatter(
                x=pd.to_datetime(grp[x]),
                y=_num(grp[y]),
                mode="lines+markers",
                name=str(name),
                line={"color": PALETTE[i % len(PALETTE)]},
            )
        )
    fig.update_layout(title=title, **_LAYOUT)
    if series:
        fig.update_layout(legend_title_text=series)
    fig.update_xaxes(type="date", tickformat="%Y-%m-%d")
    fig.update_yaxes(title=y_title, rangemode="tozero", tickformat=".0%" if percent else None)
    return fig


def _lines_as_heatmap(
    pts: pd.DataFrame,
    x: str,
    y: str,
    color: str,
    title: str,
    y_title: str,
    *,
    percent: bool,
    series: str,
) -> go.Figure:
    grid = pts.pivot_table(index=color, columns=x, values=y, aggfunc="first").sort_index()
    grid = grid[sorted(grid.columns)]
    z = grid.apply(_num).to_numpy(dtype=float)
    fig = go.Figure(
        go.Heatmap(
            z=(z * 100).round(1) if percent else z,
            x=pd.to_datetime(pd.Series(grid.columns)),
            y=[str(v) for v in grid.index],
            colorscale="Blues",
            zmin=0 if percent else None,
            zmax=100 if percent else None,
            colorbar={"title": "%" if percent else y_title},
            hovertemplate="%{y}, %{x|%Y-%m-%d}: %{z:.4g}"
            + (" %" if percent else "")
            + "<extra></extra>",
        )
    )
    fig.update_layout(title=title, **_LAYOUT)
    fig.update_layout(height=max(460, 120 + 14 * len(grid.index)))
    fig.update_xaxes(type="date", tickformat="%Y-%m-%d")
    fig.update_yaxes(autorange="reversed", title=series)
    return fig


def with_key_currency(df: pd.DataFrame) -> pd.DataFrame:
    """A KPI report's rows with `label` = "key (currency)": a bar per key and currency, as
    money in two currencies is never added up."""
    return df.assign(label=df["key"] + " (" + df["currency"] + ")")


def fig_idle_cost(df: pd.DataFrame, title: str) -> go.Figure:
    """Idle cost per row of a KPI report: one bar per key and currency (never added up)."""
    return fig_bars(
        with_key_currency(df),
        "label",
        {"idle_cost": "idle cost"},
        title,
        "row currency",
    )


def fig_bars(
    df: pd.DataFrame, x: str, ys: dict[str, str], title: str, y_title: str, *, stacked: bool = True
) -> go.Figure:
    """Bars of one or more columns (`ys`: column -> legend name) per `x`, stacked or grouped."""
    if df.empty or all(df[c].isna().all() for c in ys):
        return _empty(title, "no figure to draw")
    fig = go.Figure()
    for i, (col, name) in enumerate(ys.items()):
        fig.add_trace(
            go.Bar(x=df[x].astype(str), y=_num(df[col]), name=name, marker_color=PALETTE[i % 10])
        )
    fig.update_layout(title=title, barmode="stack" if stacked else "group", **_LAYOUT)
    fig.update_yaxes(title=y_title)
    return fig


WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def fig_heatmap(df: pd.DataFrame, value: str, title: str) -> go.Figure:
    """Hour of day (x) by weekday (y), UTC; `value` is a 0-1 fraction shown in %."""
    pts = df[df[value].notna()] if not df.empty else df
    if pts.empty:
        return _empty(title, "no data in this period")
    grid = pts.pivot_table(index="weekday", columns="hour_of_day", values=value, aggfunc="first")
    grid = grid.reindex(index=range(1, 8), columns=range(24))
    fig = go.Figure(
        go.Heatmap(
            z=(grid.to_numpy(dtype=float) * 100).round(1),
            x=[f"{h:02d}" for h in range(24)],
            y=WEEKDAYS,
            colorscale="Blues",
            zmin=0,
            zmax=100,
            colorbar={"title": "%"},
            hovertemplate="%{y} %{x}:00 UTC: %{z:.1f} %<extra></extra>",
        )
    )
    fig.update_layout(title=title, **_LAYOUT)
    fig.update_xaxes(title="Hour of day (UTC)")
    fig.update_yaxes(autorange="reversed")
    return fig


COVERAGE_STATUS = {  # the order of figures.COVERAGE_ORDER
    "measured": "#2ca02c",
    "estimated": "#ffbf00",
    "emulated": "#9467bd",
    "partial": "#ff7f0e",
    "missing": "#d62728",
}


def fig_coverage(df: pd.DataFrame, title: str = "Data coverage per day") -> go.Figure:
    """One bar per day, coloured by what the day's figures stand on."""
    if df.empty:
        return _empty(title, "no days in this period")
    fig = go.Figure()
    for status, color in COVERAGE_STATUS.items():
        days = df[df["status"] == status]
        fig.add_trace(
            go.Bar(
                x=days["day"],
                y=[1] * len(days),
                name=status,
                marker_color=color,
                customdata=list(
                    zip(days["billed"], days["estimated"], days["telemetry"], strict=True)
                ),
                hovertemplate="%{x}: "
                + status
                + "<br>billed %{customdata[0]}, estimated %{customdata[1]}, "
                "with telemetry %{customdata[2]} deployments<extra></extra>",
            )
        )
    fig.update_layout(title=title, barmode="stack", bargap=0.05, **_LAYOUT)
    fig.update_layout(height=260)
    fig.update_yaxes(visible=False)
    return fig
