"""The /benchmarks axes and Pareto fronts, as InferenceX and AIPerf draw them (REFERENCE §7).

x: interactivity = 1000 / TPOT p50 (ms) = output tokens per second each user sees.
y: one of
- output tokens/s per GPU = the run's output tokens/s ÷ its GPUs;
- USD per 1M output (input, total) tokens = USD per GPU-hour * GPUs ÷ (output (input, total)
  tokens/s * 3600) * 1e6, the whole cost of the GPUs over one kind of token (so the three are
  alternatives, not parts of a sum); USD per GPU-hour is the user's own rate or the catalog's
  on-demand price of the run's price_ref (bench.cost.usd_per_1m does the arithmetic);
- J per output token = GPU energy counter increase ÷ engine output-token counter increase over
  the run's scrapes (sql/queries/dashboard_bench_energy.sql).
A configuration's front is its points that no other point of the same configuration beats on
both axes. Measured and emulated runs are separate configurations, never one front.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from unitcost.bench.cost import usd_per_1m


@dataclass(frozen=True)
class Axis:
    column: str
    label: str
    higher_is_better: bool
    definition: str


INTERACTIVITY = Axis(
    "interactivity",
    "Interactivity (tokens/s per user = 1000 / TPOT p50)",
    True,
    "1000 ÷ the run's median time per output token (ms): the decode speed one user sees.",
)
Y_AXES: dict[str, Axis] = {
    a.column: a
    for a in (
        Axis(
            "output_tokens_per_s_per_gpu",
            "Output tokens/s per GPU",
            True,
            "The run's output tokens per second ÷ the GPUs serving it.",
        ),
        Axis(
            "usd_per_1m_output_tokens",
            "USD per 1M output tokens",
            False,
            "USD per GPU-hour * GPUs ÷ (output tokens/s * 3600) * 1e6: the GPUs' whole cost "
            "over the output tokens.",
        ),
        Axis(
            "usd_per_1m_input_tokens",
            "USD per 1M input tokens",
            False,
            "USD per GPU-hour * GPUs ÷ (input tokens/s * 3600) * 1e6: the GPUs' whole cost "
            "over the prompt tokens (an alternative view, not a share of the output figure).",
        ),
        Axis(
            "usd_per_1m_total_tokens",
            "USD per 1M tokens (input + output)",
            False,
            "USD per GPU-hour * GPUs ÷ ((input + output) tokens/s * 3600) * 1e6.",
        ),
        Axis(
            "joules_per_output_token",
            "J per output token",
            False,
            "GPU energy counter increase (all GPUs) ÷ the engine's output-token counter "
            "increase between the run's first and last /metrics scrape; only for servers "
            "that expose a GPU energy counter.",
        ),
    )
}


def with_axes(runs: pd.DataFrame, own_usd_per_gpu_hour: float | None) -> pd.DataFrame:
    """The runs with every axis column, the price used and a configuration label."""
    df = runs.copy()
    gpus = df["gpu_count"].astype("Float64").where(df["gpu_count"] > 0)
    tpot = df["tpot_p50_ms"].astype("Float64")
    df["interactivity"] = (1000.0 / tpot.where(tpot > 0)).astype(float)
    df["output_tokens_per_s_per_gpu"] = (df["output_tokens_per_s"] / gpus).astype(float)
    if own_usd_per_gpu_hour is not None:
        rate = pd.Series(float(own_usd_per_gpu_hour), index=df.index, dtype=float)
        df["price_basis"] = "own rate"
    else:
        rate = df["on_demand_usd_per_gpu_hour"].astype(float)
        df["price_basis"] = np.where(rate.notna(), "catalog on-demand", "no price")
    df["usd_per_gpu_hour"] = rate
    for col, tps in (
        ("usd_per_1m_output_tokens", "output_tokens_per_s"),
        ("usd_per_1m_input_tokens", "input_tokens_per_s"),
        ("usd_per_1m_total_tokens", "total_tokens_per_s"),
    ):
        df[col] = [
            np.nan if pd.isna(r) or pd.isna(g) or pd.isna(t) else _or_nan(usd_per_1m(r * g, t))
            for r, g, t in zip(rate, gpus, df[tps], strict=True)
        ]
    if "joules_per_output_token" not in df.columns:
        df["joules_per_output_token"] = np.nan
    df["config"] = (
        df["model"].astype(str)
        + " · "
        + df["quantization"].astype(str)
        + " · "
        + df["gpu_count"].astype("Int64").astype(str)
        + "x "
        + df["hardware"].astype(str)
        + " · "
        + df["engine"].astype(str)
        + np.where(df["emulated"], " (emulated)", "")
    )
    return df


def _or_nan(v: float | None) -> float:
    return np.nan if v is None else v


def front_mask(df: pd.DataFrame, x: str, y: str, *, y_higher_is_better: bool) -> pd.Series:
    """True for each point on its configuration's Pareto front (higher x is better)."""
    mask = pd.Series(False, index=df.index)
    usable = df[df[x].notna() & df[y].notna()]
    sign = 1.0 if y_higher_is_better else -1.0
    for _, grp in usable.groupby("config", sort=False):
        best = -np.inf
        # Walk from the best x down; a point is on the front if it beats every point with a
        # higher x on y (ties in x: the better y first).
        order = grp.assign(_y=grp[y] * sign).sort_values([x, "_y"], ascending=[False, False])
        for idx, yy in zip(order.index, order["_y"], strict=True):
            if yy > best:
                mask[idx] = True
                best = yy
    return mask


def top_configs(axes: pd.DataFrame, n: int) -> list[str]:
    """The n configurations with the highest output tokens/s per GPU (their best run), in
    name order; configurations without that figure come last. `axes`: with_axes()'s frame."""
    best = axes.groupby("config")["output_tokens_per_s_per_gpu"].max()
    ranked = best.sort_values(ascending=False, na_position="last", kind="stable")
    return sorted(str(c) for c in ranked.index[:n])
