"""What a token cost on the benchmarked hardware, from the price catalog.

Definitions (REFERENCE.md §5):
  USD per 1M tokens = (USD per hour charged) / 3600 / (tokens per second) * 1e6
                    = 277.78 * (USD per hour charged) / (tokens per second)
  USD per hour charged
                    the price of the instance named by price_ref ("provider/region/instance_type")
                    in the view price_catalog_effective (on_demand_usd_per_hour, and the spot
                    range spot_usd_per_hour_low / _high) times the run's share of it:
  share             the run's GPUs / the instance's GPUs: a 1-GPU endpoint priced with an 8-GPU
                    p5.48xlarge is charged 1/8 of it. When the run holds the whole instance
                    (`--whole-instance`, `endpoints[].whole_instance`), it is charged every
                    instance its GPUs occupy: ceil(GPUs / instance GPUs), 1 when unknown.
  tokens per second output_tokens_per_s (output) or total_tokens_per_s (input + output) of the
                    run; "at SLO" uses good_output_tokens_per_s (only requests meeting the SLO),
                    the throughput one can sell under that SLO.
Every figure is None when no price is known or the throughput is zero. A VM-only catalog row
(no GPU in its price) is never used (unitcost.prices.price_for_ref refuses it); any other row's
caveat is returned as a warning that goes beside every cost the row produces.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import duckdb

from unitcost import prices
from unitcost.errors import ConfigError


@dataclass(frozen=True)
class Share:
    """How much of the priced instance a run is charged, and why, in words."""

    share: float  # fraction of the instance price (may exceed 1: several instances)
    basis: str  # e.g. "1 of the instance's 8 GPUs"
    run_gpus: int | None
    instance_gpus: int
    whole_instance: bool


def share_of(
    instance_gpus: int, run_gpus: int | None, whole_instance: bool, *, where: str
) -> Share:
    """The run's share of an instance of `instance_gpus` GPUs; ConfigError (naming `where`)
    when it cannot be known: a multi-GPU instance and no GPU count, or a count of 0."""
    if whole_instance:
        n = 1 if not run_gpus else math.ceil(run_gpus / instance_gpus)
        basis = "the whole instance" if n == 1 else f"{n} whole instances ({run_gpus} GPUs)"
        return Share(float(n), basis, run_gpus, instance_gpus, True)
    if run_gpus is None:
        if instance_gpus == 1:
            return Share(1.0, "the instance's one GPU", None, 1, False)
        raise ConfigError(
            f"{where}: the instance has {instance_gpus} GPUs and the run's GPU count is unknown: "
            "give it (--gpu-count N, or gpu_count in the endpoint or suite target) to be charged "
            "that share, or say the run holds the whole instance (--whole-instance)"
        )
    if run_gpus < 1:
        raise ConfigError(f"{where}: a run on {run_gpus} GPUs cannot be priced per GPU")
    if run_gpus == instance_gpus:
        basis = f"all {instance_gpus} of the instance's GPUs"
    elif run_gpus < instance_gpus:
        basis = f"{run_gpus} of the instance's {instance_gpus} GPUs"
    else:
        basis = f"{run_gpus} GPUs = {run_gpus / instance_gpus:g} instances of {instance_gpus}"
    return Share(run_gpus / instance_gpus, basis, run_gpus, instance_gpus, False)


def resolve(
    con: duckdb.DuckDBPyConnection,
    price_ref: str,
    *,
    gpu_count: int | None,
    whole_instance: bool,
    where: str,
) -> tuple[dict[str, Any], Share]:
    """The price row and the run's share of it, or a ConfigError naming `where`: what `bench
    run` checks before any request is sent."""
    row = prices.price_for_ref(con, price_ref, where=where)
    return row, share_of(int(row["gpu_count"]), gpu_count, whole_instance, where=where)


def usd_per_1m(usd_per_hour: Decimal | float | None, tokens_per_s: float | None) -> float | None:
    """USD per one million tokens at a steady `tokens_per_s` on hardware at `usd_per_hour`."""
    if usd_per_hour is None or not tokens_per_s:
        return None
    return float(usd_per_hour) / 3600.0 / tokens_per_s * 1e6


def _times(v: Decimal | float | None, share: float) -> float | None:
    return None if v is None else float(v) * share


def cost_figures(
    price: dict[str, Any] | None, share: Share | None, summary: dict[str, Any]
) -> dict[str, Any]:
    """The cost block of a run summary (every figure None without a price and share)."""
    out_tps = summary.get("output_tokens_per_s")
    tot_tps = summary.get("total_tokens_per_s")
    good_tps = summary.get("good_output_tokens_per_s")
    k = share.share if share is not None else 0.0
    use = price is not None and share is not None
    od = _times(price.get("on_demand_usd_per_hour"), k) if use and price else None
    lo = _times(price.get("spot_usd_per_hour_low"), k) if use and price else None
    hi = _times(price.get("spot_usd_per_hour_high"), k) if use and price else None
    block: dict[str, Any] = {
        "usd_per_1m_output_tokens": usd_per_1m(od, out_tps),
        "usd_per_1m_total_tokens": usd_per_1m(od, tot_tps),
        "usd_per_1m_output_tokens_spot_low": usd_per_1m(lo, out_tps),
        "usd_per_1m_output_tokens_spot_high": usd_per_1m(hi, out_tps),
        "usd_per_1m_total_tokens_spot_low": usd_per_1m(lo, tot_tps),
        "usd_per_1m_total_tokens_spot_high": usd_per_1m(hi, tot_tps),
        "usd_per_1m_output_tokens_at_slo": usd_per_1m(od, good_tps),
        "price": None,
    }
    if price is None or share is None:
        return block

    def f(v: Any) -> float | None:
        return None if v is None else float(v)

    block["price"] = {
        "price_ref": price["price_ref"],
        "price_model": price["price_model"],
        "origin": price.get("origin"),
        "on_demand_usd_per_hour": f(price.get("on_demand_usd_per_hour")),  # whole instance
        "spot_usd_per_hour_low": f(price.get("spot_usd_per_hour_low")),
        "spot_usd_per_hour_high": f(price.get("spot_usd_per_hour_high")),
        "instance_gpu_count": share.instance_gpus,
        "run_gpu_count": share.run_gpus,
        "whole_instance": share.whole_instance,
        "share": share.share,
        "share_basis": share.basis,
        "charged_usd_per_hour": od,  # on-demand x share: what the figures above use
        "charged_spot_usd_per_hour_low": lo,
        "charged_spot_usd_per_hour_high": hi,
        "source": price["source"],
        "as_of": price["as_of"],
        "verified": price["verified"],
        "caveat": price["caveat"],
        "note": price.get("note"),
    }
    return block


def run_cost(
    con: duckdb.DuckDBPyConnection,
    price_ref: str | None,
    gpu_count: int | None,
    whole_instance: bool,
    summary: dict[str, Any],
) -> tuple[dict[str, Any], list[str]]:
    """The cost block of a stored run and the warnings that go beside it. Never raises: a
    price that can no longer be used (removed from the catalog since) leaves the figures None
    and says why."""
    if not price_ref:
        return cost_figures(None, None, summary), []
    try:
        price, share = resolve(
            con, price_ref, gpu_count=gpu_count, whole_instance=whole_instance, where="price_ref"
        )
    except ConfigError as exc:
        return cost_figures(None, None, summary), [f"no cost: {exc}"]
    warnings = []
    if price["caveat"]:
        warnings.append(f"price {price_ref} ({price['price_model']}): {price['caveat']}")
    return cost_figures(price, share, summary), warnings


def describe_price(p: dict[str, Any]) -> str:
    """One line for tables: which price, what share of it, and where it came from."""
    od = p.get("on_demand_usd_per_hour")
    charged = p.get("charged_usd_per_hour")
    if od is not None and charged is not None:
        money = f"USD {od:,.4g}/h x {p['share']:g} ({p['share_basis']}) = USD {charged:,.4g}/h"
    else:
        lo, hi = p.get("charged_spot_usd_per_hour_low"), p.get("charged_spot_usd_per_hour_high")
        money = f"spot USD {lo:,.4g}-{hi:,.4g}/h ({p['share_basis']})"
    return (
        f"{p['price_ref']} {p['price_model'].replace('_', ' ')}: {money}; "
        f"{p['source']}, as of {p['as_of']}, verified {p['verified']}"
    )
