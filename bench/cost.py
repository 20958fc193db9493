"""What a token cost on the benchmarked hardware, from the price catalog.

Definitions (REFERENCE.md §5):
  USD per 1M tokens = (USD per hour) / 3600 / (tokens per second) * 1e6
                    = 277.78 * (USD per hour) / (tokens per second)
  USD per hour      the whole instance named by price_ref ("provider/region/instance_type") in
                    the view price_catalog_effective: on_demand_usd_per_hour, and the spot range
                    (spot_usd_per_hour_low / _high). The instance is charged whole whatever share
                    of it the model uses, because that is what the bill says.
  tokens per second output_tokens_per_s (output) or total_tokens_per_s (input + output) of the
                    run; "at SLO" uses good_output_tokens_per_s (only requests meeting the SLO),
                    the throughput one can sell under that SLO.
Every figure is None when no price is known or the throughput is zero.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import duckdb

from unitcost import sqlfiles
from unitcost.store import fetch_dicts


def usd_per_1m(usd_per_hour: Decimal | float | None, tokens_per_s: float | None) -> float | None:
    """USD per one million tokens at a steady `tokens_per_s` on an instance at `usd_per_hour`."""
    if usd_per_hour is None or not tokens_per_s:
        return None
    return float(usd_per_hour) / 3600.0 / tokens_per_s * 1e6


def price_for(con: duckdb.DuckDBPyConnection, price_ref: str | None) -> dict[str, Any] | None:
    if not price_ref:
        return None
    rows = fetch_dicts(
        con, sqlfiles.load("queries", "bench_price_for_ref"), {"price_ref": price_ref}
    )
    return rows[0] if rows else None


def cost_figures(price: dict[str, Any] | None, summary: dict[str, Any]) -> dict[str, Any]:
    """The cost block of a run summary."""
    out_tps = summary.get("output_tokens_per_s")
    tot_tps = summary.get("total_tokens_per_s")
    good_tps = summary.get("good_output_tokens_per_s")
    od = price.get("on_demand_usd_per_hour") if price else None
    lo = price.get("spot_usd_per_hour_low") if price else None
    hi = price.get("spot_usd_per_hour_high") if price else None
    return {
        "usd_per_1m_output_tokens": usd_per_1m(od, out_tps),
        "usd_per_1m_total_tokens": usd_per_1m(od, tot_tps),
        "usd_per_1m_output_tokens_spot_low": usd_per_1m(lo, out_tps),
        "usd_per_1m_output_tokens_spot_high": usd_per_1m(hi, out_tps),
        "usd_per_1m_total_tokens_spot_low": usd_per_1m(lo, tot_tps),
        "usd_per_1m_total_tokens_spot_high": usd_per_1m(hi, tot_tps),
        "usd_per_1m_output_tokens_at_slo": usd_per_1m(od, good_tps),
        "price": None
        if price is None
        else {
            "price_ref": price["price_ref"],
            "price_model": price["price_model"],
            "on_demand_usd_per_hour": None if od is None else float(od),
            "spot_usd_per_hour_low": None if lo is None else float(lo),
            "spot_usd_per_hour_high": None if hi is None else float(hi),
            "source": price["source"],
            "as_of": price["as_of"],
            "verified": price["verified"],
            "caveat": price["caveat"],
        },
    }
