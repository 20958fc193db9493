"""Hosted-API per-token prices: the "buy the tokens from an API instead" baseline.

The table `unitcost/data/hosted_prices.csv` is LiteLLM's model price list (the JSON shipped in
the `litellm` 1.110.2 wheel, MIT licence; unitcost/data/SOURCES.md), cut to what the baseline
needs: every chat model with both an input and an output price, as USD per 1M tokens. Prices
are dated facts from that release, not quotes.

Baseline of a scenario: the same requests (its token shape) at its peak rate, priced per token:
    USD/hour at peak   = peak_rps x 3600 x (input x in_price + output x out_price) / 1e6
    USD per 1M output  = (input x in_price + output x out_price) / output
                         (prompt tokens included, so it compares with a fleet's cost per 1M output)
"""

from __future__ import annotations

import csv
import difflib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from unitcost.errors import ConfigError

SOURCE = "LiteLLM model_prices_and_context_window (litellm 1.110.2 wheel on PyPI), MIT licence"
AS_OF = "litellm 1.110.2"
COLUMNS = ("model", "provider", "usd_per_1m_input_tokens", "usd_per_1m_output_tokens")
_FILE = "hosted_prices.csv"
_MILLION = Decimal(1_000_000)


@dataclass(frozen=True)
class HostedPrice:
    """One hosted model's list price per 1M tokens (USD)."""

    model: str  # LiteLLM's name, e.g. "gpt-4o-mini" or "bedrock/us-east-1/meta.llama3-8b..."
    provider: str
    usd_per_1m_input_tokens: Decimal
    usd_per_1m_output_tokens: Decimal


def convert_litellm(data: Mapping[str, Any]) -> list[HostedPrice]:
    """LiteLLM's JSON to table rows: chat models with both prices, per 1M tokens, sorted."""
    out = []
    for name, entry in data.items():
        if not isinstance(entry, dict) or entry.get("mode") != "chat":
            continue
        pin, pout = entry.get("input_cost_per_token"), entry.get("output_cost_per_token")
        if not isinstance(pin, int | float) or not isinstance(pout, int | float):
            continue
        out.append(
            HostedPrice(
                name,
                str(entry.get("litellm_provider") or ""),
                (Decimal(repr(pin)) * _MILLION).normalize(),
                (Decimal(repr(pout)) * _MILLION).normalize(),
            )
        )
    return sorted(out, key=lambda p: p.model)


def write_table(rows: Iterable[HostedPrice], path: Path) -> None:
    """Write the shipped table (how unitcost/data/hosted_prices.csv is rebuilt)."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(COLUMNS)
        for r in rows:
            w.writerow(
                [r.model, r.provider, f"{r.usd_per_1m_input_tokens:f}",
                 f"{r.usd_per_1m_output_tokens:f}"]
            )  # fmt: skip


def build_from_litellm(json_path: Path, out: Path) -> int:
    """Rebuild the shipped table from LiteLLM's JSON; returns the number of rows."""
    rows = convert_litellm(json.loads(json_path.read_text(encoding="utf-8")))
    write_table(rows, out)
    return len(rows)


def table_path() -> Path:
    return Path(str(files("unitcost").joinpath("data", _FILE)))


@cache
def load_table() -> dict[str, HostedPrice]:
    """The shipped table, keyed by lower-case model name."""
    with table_path().open(encoding="utf-8") as fh:
        return {
            r["model"].lower(): HostedPrice(
                r["model"],
                r["provider"],
                Decimal(r["usd_per_1m_input_tokens"]),
                Decimal(r["usd_per_1m_output_tokens"]),
            )
            for r in csv.DictReader(fh)
        }


def hosted_price(name: str, *, where: str = "hosted_models") -> HostedPrice:
    """A model's price, or a ConfigError naming the setting and the closest names."""
    table = load_table()
    found = table.get(name.lower())
    if found is not None:
        return found
    close = difflib.get_close_matches(name.lower(), list(table), n=3, cutoff=0.5)
    hint = f"; closest: {', '.join(table[c].model for c in close)}" if close else ""
    raise ConfigError(
        f"{where}: {name!r} is not in the hosted price table (unitcost/data/{_FILE}, {AS_OF}){hint}"
    )


def baseline(
    price: HostedPrice, input_tokens: float, output_tokens: float, peak_rps: float | None
) -> dict[str, Any]:
    """What the scenario's requests cost on one hosted API (see the module docstring)."""
    per_request = (
        Decimal(repr(float(input_tokens))) * price.usd_per_1m_input_tokens
        + Decimal(repr(float(output_tokens))) * price.usd_per_1m_output_tokens
    ) / _MILLION
    per_1m_out = per_request / Decimal(repr(float(output_tokens))) * _MILLION
    return {
        "model": price.model,
        "provider": price.provider,
        "usd_per_1m_input_tokens": float(price.usd_per_1m_input_tokens),
        "usd_per_1m_output_tokens": float(price.usd_per_1m_output_tokens),
        "usd_per_1m_output_tokens_at_this_shape": round(float(per_1m_out), 6),
        "usd_per_hour_at_peak": None
        if peak_rps is None
        else round(float(per_request * Decimal(repr(peak_rps)) * 3600), 6),
        "source": SOURCE,
        "as_of": AS_OF,
    }
