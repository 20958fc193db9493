"""How the analytics layer's figures are shown: labels, formats and changes against the
previous period, the same on every page and in the review.

Nothing here computes a figure: values come from `kpi_report()` rows as they are; this module
only picks rows, formats numbers and says how a value moved against the row's `previous`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pandas as pd
from unitcost.analytics.definitions import DEFINITIONS
from unitcost.analytics.kpi import HEADLINE, ROW_FIELDS, UNMAPPED_SPEND

from unitcost.display import percent


@dataclass(frozen=True)
class Figure:
    """One KPI figure: how to label and format it, and which way is better."""

    name: str
    label: str
    kind: str  # money, money_rate, ratio, count, number
    lower_is_better: bool = False

    @property
    def definition(self) -> str:
        return DEFINITIONS.get(self.name, "")


FIGURES: dict[str, Figure] = {
    f.name: f
    for f in (
        Figure("effective_cost", "Spend", "money", lower_is_better=True),
        Figure("billed_cost", "Billed (cash)", "money", lower_is_better=True),
        Figure("estimated_cost", "Estimated part", "money", lower_is_better=True),
        Figure("usd_per_1m_output_tokens", "Cost per 1M output tokens", "money_rate", True),
        Figure("usd_per_1m_tokens", "Cost per 1M tokens", "money_rate", lower_is_better=True),
        Figure(
            "usd_per_1m_good_output_tokens", "Cost per 1M good output tokens", "money_rate", True
        ),
        Figure("output_tokens", "Output tokens", "count"),
        Figure("input_tokens", "Input tokens", "count"),
        Figure("gpu_hours", "GPU-hours", "number"),
        Figure("gpu_utilization", "GPU utilization", "ratio"),
        Figure("kv_cache_usage", "KV-cache use", "ratio"),
        Figure("capacity_utilization", "Capacity utilization", "ratio"),
        Figure("idle_cost", "Idle cost", "money", lower_is_better=True),
        Figure("success_rate", "Success rate", "ratio"),
        Figure("cache_hit_rate", "Prefix-cache hit rate", "ratio"),
        Figure("joules_per_output_token", "Energy per output token (J)", "number", True),
        Figure("requests_ok", "Requests ok", "count"),
        Figure("requests_failed", "Requests failed", "count", lower_is_better=True),
    )
}
#: The Overview's headline figures, in order.
HEADLINE_FIGURES = [
    "effective_cost",
    "usd_per_1m_output_tokens",
    "gpu_utilization",
    "capacity_utilization",
    "success_rate",
    "idle_cost",
]
assert set(HEADLINE_FIGURES) <= set(HEADLINE), "only figures kpi repeats under `previous`"


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA


def fmt(name: str, value: Any, currency: str | None = None) -> str:
    """A figure as people read it: money with its currency, ratios in %, counts grouped."""
    if _missing(value):
        return "—"
    kind = FIGURES[name].kind if name in FIGURES else "number"
    cur = f" {currency}" if currency else ""
    if kind == "money":
        return f"{Decimal(value):,.2f}{cur}"
    if kind == "money_rate":
        v = float(value)
        return f"{v:,.2f}{cur}" if abs(v) >= 1 else f"{v:,.4f}{cur}"
    if kind == "ratio":
        return percent(value, 1, " ")
    if kind == "count":
        return f"{float(value):,.0f}"
    v = float(value)
    return f"{v:,.2f}" if abs(v) >= 1 else f"{v:.4g}"


def change(name: str, value: Any, previous: Any) -> str | None:
    """How the value moved against the previous period: % for amounts, points for ratios."""
    if _missing(value) or _missing(previous):
        return None
    kind = FIGURES[name].kind if name in FIGURES else "number"
    if kind == "ratio":
        return f"{(float(value) - float(previous)) * 100:+.1f} pp"
    if float(previous) == 0:
        return None  # no meaningful relative change from zero
    return f"{(float(value) / float(previous) - 1) * 100:+.1f} %"


def previous_of(row: Mapping[str, Any], name: str) -> Any:
    prev = row.get("previous") or {}
    return prev.get(name)


def rows_for(report: Mapping[str, Any], key: str | None) -> list[dict[str, Any]]:
    """The report's rows for one key (all rows of `by=all` when key is None), priced rows
    first, then those without a currency (telemetry without cost)."""
    want = "all" if key is None else key
    rows = [r for r in report["rows"] if r["key"] == want]
    return sorted(rows, key=lambda r: (r["currency"] is None, r["currency"] or ""))


def unmapped_spend(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Spend no deployment rule claims (its own row, so the rows add up to the bill)."""
    return [r for r in report["rows"] if r["key"] == UNMAPPED_SPEND and r["effective_cost"]]


def report_frame(report: Mapping[str, Any], names: Sequence[str] | None = None) -> pd.DataFrame:
    """The report's rows as a table: every field (or `names`), then previous_<figure>.

    Money stays Decimal; failures_by_reason is JSON text (one cell)."""
    cols = [c for c in (names or ROW_FIELDS) if c != "start" or report.get("grain")]
    prev = [h for h in HEADLINE if names is None or h in names]
    records = []
    for r in report["rows"]:
        rec = {c: r.get(c) for c in cols}
        if "failures_by_reason" in rec:
            rec["failures_by_reason"] = json.dumps(rec["failures_by_reason"], sort_keys=True)
        for h in prev:
            rec[f"previous_{h}"] = previous_of(r, h)
        records.append(rec)
    return pd.DataFrame.from_records(records, columns=[*cols, *[f"previous_{h}" for h in prev]])


COVERAGE_ORDER = ("measured", "estimated", "emulated", "partial", "missing")


def coverage_summary(statuses: pd.Series) -> str:
    """'61 day(s) measured · 2 day(s) partial · ...' for a period's per-day statuses."""
    counts = statuses.value_counts()
    return " · ".join(f"{counts[s]} day(s) {s}" for s in COVERAGE_ORDER if s in counts)
