"""An independent reading of billing files with pandas and Decimal, for reconciliation tests.

Written from the formats' documentation, not from the loader: it shares no code with it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pandas as pd

_NULLS = {"", "NULL", "null"}
# Money text as the FOCUS, CUR and Azure documentation write it in exports: a plain decimal
# number (sign, digits, '.', decimals, optional exponent). Anything else is not money.
_PLAIN = re.compile(r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$")


def money(text: object) -> Decimal:
    """Text to Decimal; empty and NULL are zero for sums; anything else that is not a plain
    number is an error (the test would be wrong to sum it)."""
    if text is None or (isinstance(text, float) and pd.isna(text)):
        return Decimal(0)
    s = str(text).strip()
    if s in _NULLS:
        return Decimal(0)
    if not _PLAIN.match(s):
        raise ValueError(f"not plain money text: {s!r}")
    return Decimal(s)


def month(text: str) -> str:
    ts = pd.Timestamp(text)
    return f"{ts.year:04d}-{ts.month:02d}"


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def focus_totals(path: Path) -> dict[tuple[str, str], tuple[Decimal, Decimal]]:
    """(provider, month) -> (sum BilledCost, sum EffectiveCost) of a FOCUS CSV."""
    df = read(path)
    out: dict[tuple[str, str], list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    prov_col = "ProviderName" if "ProviderName" in df.columns else "ServiceProviderName"
    for _, r in df.iterrows():
        prov = r.get(prov_col, "") if prov_col in df.columns else ""
        prov = "" if prov in _NULLS else prov
        key = (prov, month(r["ChargePeriodStart"]))
        out[key][0] += money(r["BilledCost"])
        out[key][1] += money(r["EffectiveCost"])
    return {k: (v[0], v[1]) for k, v in out.items()}


def cur_totals(path: Path) -> dict[tuple[str, str], tuple[Decimal, Decimal]]:
    """(AWS, month) -> (unblended, amortized) of a legacy CUR CSV, AWS's amortization rules."""
    df = read(path)
    out: dict[tuple[str, str], list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])

    def col(r: pd.Series, name: str) -> Decimal:
        return money(r[name]) if name in r.index else Decimal(0)

    for _, r in df.iterrows():
        t = r["lineItem/LineItemType"]
        unblended = col(r, "lineItem/UnblendedCost")
        if t == "SavingsPlanCoveredUsage":
            eff = col(r, "savingsPlan/SavingsPlanEffectiveCost")
        elif t == "SavingsPlanRecurringFee":
            eff = col(r, "savingsPlan/TotalCommitmentToDate") - col(r, "savingsPlan/UsedCommitment")
        elif t in ("SavingsPlanNegation", "SavingsPlanUpfrontFee"):
            eff = Decimal(0)
        elif t == "DiscountedUsage":
            eff = col(r, "reservation/EffectiveCost")
        elif t == "RIFee":
            eff = col(r, "reservation/UnusedAmortizedUpfrontFeeForBillingPeriod") + col(
                r, "reservation/UnusedRecurringFee"
            )
        elif t == "Fee" and str(r.get("reservation/ReservationARN", "")).strip():
            eff = Decimal(0)
        else:
            eff = unblended
        key = ("AWS", month(r["lineItem/UsageStartDate"]))
        out[key][0] += unblended
        out[key][1] += eff
    return {k: (v[0], v[1]) for k, v in out.items()}
