"""Billing export formats: detection from the header, and the map from each format to FOCUS.

Pure functions over column names and types; no I/O. Each format is a map from a
billing_line_items column to an SQL expression template over the source's columns:
`{m:col}` money (DECIMAL(38,10)), `{n:col}` a number for arithmetic (money, NULL -> 0),
`{ts:col}` a UTC timestamp, `{j:col}` JSON, `{az:col}` Azure's tag text (JSON members without
the braces), `{t:col}` text. A column the file lacks becomes a typed NULL, so one template
serves every FOCUS version and every CUR variant. Native Azure and Oracle exports: see
billing_native.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from unitcost.collectors import billing_native as native

from unitcost.errors import InputError
from unitcost.sqlfiles import quote_ident, quote_literal

MONEY = "DECIMAL(38, 10)"

# billing_line_items' FOCUS columns and their kind (m money/quantity, ts timestamp, j json, t text)
FOCUS_COLUMNS: dict[str, str] = {
    "AvailabilityZone": "t",
    "BilledCost": "m",
    "BillingAccountId": "t",
    "BillingAccountName": "t",
    "BillingAccountType": "t",
    "BillingCurrency": "t",
    "BillingPeriodEnd": "ts",
    "BillingPeriodStart": "ts",
    "CapacityReservationId": "t",
    "CapacityReservationStatus": "t",
    "ChargeCategory": "t",
    "ChargeClass": "t",
    "ChargeDescription": "t",
    "ChargeFrequency": "t",
    "ChargePeriodEnd": "ts",
    "ChargePeriodStart": "ts",
    "CommitmentDiscountCategory": "t",
    "CommitmentDiscountId": "t",
    "CommitmentDiscountName": "t",
    "CommitmentDiscountQuantity": "m",
    "CommitmentDiscountStatus": "t",
    "CommitmentDiscountType": "t",
    "CommitmentDiscountUnit": "t",
    "ConsumedQuantity": "m",
    "ConsumedUnit": "t",
    "ContractedCost": "m",
    "ContractedUnitPrice": "m",
    "EffectiveCost": "m",
    "InvoiceId": "t",
    "InvoiceIssuerName": "t",
    "ListCost": "m",
    "ListUnitPrice": "m",
    "PricingCategory": "t",
    "PricingCurrency": "t",
    "PricingQuantity": "m",
    "PricingUnit": "t",
    "ProviderName": "t",
    "PublisherName": "t",
    "ServiceProviderName": "t",
    "HostProviderName": "t",
    "RegionId": "t",
    "RegionName": "t",
    "ResourceId": "t",
    "ResourceName": "t",
    "ResourceType": "t",
    "ServiceCategory": "t",
    "ServiceName": "t",
    "ServiceSubcategory": "t",
    "SkuId": "t",
    "SkuMeter": "t",
    "SkuPriceDetails": "t",
    "SkuPriceId": "t",
    "SubAccountId": "t",
    "SubAccountName": "t",
    "SubAccountType": "t",
    "Tags": "j",
    "x_InstanceType": "t",
    "x_UsageType": "t",
}
# The order billing_line_items stores them in after the lineage columns (see 0001).
TARGET_ORDER: list[str] = [*FOCUS_COLUMNS, "x_Extensions"]

FOCUS_REQUIRED = ("BilledCost", "EffectiveCost", "ChargePeriodStart")
# Columns introduced by each FOCUS version: the newest present gives the (minimum) version.
_FOCUS_VERSION_MARKERS: list[tuple[str, tuple[str, ...]]] = [
    ("focus-1.3", ("ServiceProviderName", "HostProviderName")),
    (
        "focus-1.2",
        (
            "BillingAccountType",
            "SubAccountType",
            "InvoiceId",
            "PricingCurrency",
            "PricingCurrencyEffectiveCost",
        ),
    ),
    (
        "focus-1.1",
        (
            "CapacityReservationId",
            "CommitmentDiscountQuantity",
            "CommitmentDiscountUnit",
            "ServiceSubcategory",
            "SkuMeter",
            "SkuPriceDetails",
        ),
    ),
]

CUR_REQUIRED = (
    "line_item_unblended_cost",
    "line_item_usage_start_date",
    "line_item_line_item_type",
)

# AWS CUR (legacy and 2.0 share canonical snake_case names, see canonical_cur_name).
# EffectiveCost is AWS's documented amortized-cost formula over line item types.
CUR_MAP: dict[str, str] = {
    "AvailabilityZone": "{t:line_item_availability_zone}",
    "BilledCost": "{m:line_item_unblended_cost}",
    "BillingAccountId": "{t:bill_payer_account_id}",
    "BillingCurrency": "{t:line_item_currency_code}",
    "BillingPeriodEnd": "{ts:bill_billing_period_end_date}",
    "BillingPeriodStart": "{ts:bill_billing_period_start_date}",
    "ChargeCategory": """CASE {t:line_item_line_item_type}
        WHEN 'Usage' THEN 'Usage' WHEN 'DiscountedUsage' THEN 'Usage'
        WHEN 'SavingsPlanCoveredUsage' THEN 'Usage' WHEN 'SavingsPlanNegation' THEN 'Usage'
        WHEN 'Tax' THEN 'Tax' WHEN 'Credit' THEN 'Credit' WHEN 'Refund' THEN 'Adjustment'
        WHEN 'BundledDiscount' THEN 'Credit' WHEN 'EdpDiscount' THEN 'Credit'
        WHEN 'PrivateRateDiscount' THEN 'Credit'
        WHEN 'Fee' THEN 'Purchase' WHEN 'RIFee' THEN 'Purchase'
        WHEN 'SavingsPlanRecurringFee' THEN 'Purchase' WHEN 'SavingsPlanUpfrontFee' THEN 'Purchase'
        ELSE 'Adjustment' END""",
    "ChargeDescription": "{t:line_item_line_item_description}",
    "ChargePeriodEnd": "{ts:line_item_usage_end_date}",
    "ChargePeriodStart": "{ts:line_item_usage_start_date}",
    "CommitmentDiscountId": (
        "coalesce(nullif({t:savings_plan_savings_plan_a_r_n}, ''), "
        "nullif({t:reservation_reservation_a_r_n}, ''))"
    ),
    "ConsumedQuantity": "{m:line_item_usage_amount}",
    "EffectiveCost": f"""CAST(CASE {{t:line_item_line_item_type}}
        WHEN 'SavingsPlanCoveredUsage' THEN {{n:savings_plan_savings_plan_effective_cost}}
        WHEN 'SavingsPlanRecurringFee'
            THEN {{n:savings_plan_total_commitment_to_date}} - {{n:savings_plan_used_commitment}}
        WHEN 'SavingsPlanNegation' THEN 0
        WHEN 'SavingsPlanUpfrontFee' THEN 0
        WHEN 'DiscountedUsage' THEN {{n:reservation_effective_cost}}
        WHEN 'RIFee' THEN {{n:reservation_unused_amortized_upfront_fee_for_billing_period}}
                          + {{n:reservation_unused_recurring_fee}}
        ELSE CASE WHEN {{t:line_item_line_item_type}} = 'Fee'
                       AND coalesce({{t:reservation_reservation_a_r_n}}, '') <> ''
                  THEN 0 ELSE {{m:line_item_unblended_cost}} END
        END AS {MONEY})""",
    "InvoiceId": "{t:bill_invoice_id}",
    "InvoiceIssuerName": "{t:bill_invoicing_entity}",
    "ListCost": "{m:pricing_public_on_demand_cost}",
    "ListUnitPrice": "{m:pricing_public_on_demand_rate}",
    # Spot = Dynamic, RI/SP-covered = Committed, on-demand usage = Standard (FOCUS PricingCategory).
    "PricingCategory": """CASE
        WHEN {t:line_item_usage_type} LIKE '%SpotUsage%' THEN 'Dynamic'
        WHEN {t:line_item_line_item_type} IN ('DiscountedUsage', 'SavingsPlanCoveredUsage')
            THEN 'Committed'
        WHEN {t:line_item_line_item_type} = 'Usage' THEN 'Standard'
        ELSE NULL END""",
    "PricingCurrency": "{t:pricing_currency}",
    "PricingUnit": "{t:pricing_unit}",
    "ProviderName": "'AWS'",
    "PublisherName": "{t:bill_billing_entity}",
    "RegionId": "coalesce({t:product_region_code}, {t:product_region})",
    "ResourceId": "nullif({t:line_item_resource_id}, '')",
    "ServiceCategory": "{t:product_product_family}",
    "ServiceName": "coalesce({t:product_product_name}, {t:line_item_product_code})",
    "SkuId": "{t:product_sku}",
    "SkuPriceId": "{t:pricing_rate_id}",
    "SubAccountId": "{t:line_item_usage_account_id}",
    "x_InstanceType": "nullif({t:product_instance_type}, '')",
    "x_UsageType": "{t:line_item_usage_type}",
}


@dataclass(frozen=True)
class SourceColumn:
    """A column as the file names it, its canonical name, and the DuckDB type read."""

    name: str
    canonical: str
    dtype: str


def canonical_cur_name(name: str) -> str:
    """`lineItem/UnblendedCost` -> `line_item_unblended_cost`, the CUR 2.0 spelling.

    CUR 2.0 splits every capital (`reservation_reservation_a_r_n`), so this does too.
    """
    if "/" not in name:
        return name
    out = []
    for part in name.split("/", 1):
        out.append(re.sub(r"(?<!^)(?=[A-Z])", "_", part).lower())
    return "_".join(out)


def detect_format(columns: list[str], path: str) -> str:
    """The format of a billing file from its header; errors say what was expected."""
    cols = set(columns)
    if "BilledCost" in cols or "EffectiveCost" in cols:
        for version, markers in _FOCUS_VERSION_MARKERS:
            if cols.intersection(markers):
                return version
        return "focus-1.0"
    if "lineItem/UnblendedCost" in cols:
        return "cur-legacy"
    if "line_item_unblended_cost" in cols:
        return "cur-2.0"
    found = native.detect(columns, path)
    if found is not None:
        return found
    raise InputError(
        f"{path}: not a billing export unitcost knows: expected FOCUS columns (BilledCost, "
        "EffectiveCost, ...), AWS CUR columns (lineItem/UnblendedCost or "
        "line_item_unblended_cost), an Azure EA/MCA cost export (Date, MeterCategory, Cost or "
        "CostInBillingCurrency) or an OCI cost report (cost/myCost) in the header"
    )


def source_columns(fmt: str, described: list[tuple[str, str]]) -> list[SourceColumn]:
    """Canonical names for the file's columns (CUR legacy -> CUR 2.0 spelling)."""
    if fmt.startswith("cur"):
        return [SourceColumn(n, canonical_cur_name(n), t) for n, t in described]
    if fmt in native.NATIVE_FORMATS:
        return [SourceColumn(n, native.canonical_name(fmt, n), t) for n, t in described]
    return [SourceColumn(n, n, t) for n, t in described]


def required_columns(fmt: str) -> tuple[str, ...]:
    """Canonical names that must be present; `a|b` means either."""
    if fmt in native.NATIVE_FORMATS:
        return native.required(fmt)
    return CUR_REQUIRED if fmt.startswith("cur") else FOCUS_REQUIRED


def templates(fmt: str, columns: list[SourceColumn]) -> dict[str, str]:
    """The format's map from billing_line_items column to SQL template."""
    if fmt in native.NATIVE_FORMATS:
        return native.mapping(fmt)
    return CUR_MAP if fmt.startswith("cur") else focus_map(columns)


def _is_float(dtype: str) -> bool:
    return dtype.upper() in ("DOUBLE", "FLOAT", "REAL")


def convert(kind: str, col: SourceColumn | None) -> str:
    """SQL turning one source column into the target kind; a missing column is a typed NULL.

    Money from a float column goes through its shortest decimal text, so 0.1 stays 0.1 and never
    becomes 0.1000000000000000055. Text is cast strictly: a bad value aborts the load.
    """
    if col is None:
        return {
            "m": f"CAST(NULL AS {MONEY})",
            "n": f"CAST(0 AS {MONEY})",
            "ts": "CAST(NULL AS TIMESTAMPTZ)",
            "j": "CAST(NULL AS JSON)",
            "az": "CAST(NULL AS JSON)",
        }.get(kind, "CAST(NULL AS VARCHAR)")
    q = quote_ident(col.name)
    dt = col.dtype.upper()
    if kind in ("m", "n"):
        if _is_float(dt):
            expr = f"CAST(CAST({q} AS VARCHAR) AS {MONEY})"
        elif dt == "VARCHAR":
            expr = f"uc_money({q})"
        else:
            expr = f"CAST({q} AS {MONEY})"
        return f"coalesce({expr}, 0)" if kind == "n" else expr
    if kind == "ts":
        if dt == "VARCHAR":
            return f"uc_ts({q})"
        return f"CAST({q} AS TIMESTAMPTZ)"
    if kind == "az":
        return f"uc_az_tags({q})"  # strict: text that is no JSON object aborts the load
    if kind == "j":
        if dt == "VARCHAR":
            return f"CAST({q} AS JSON)"  # strict: FOCUS Tags must be a JSON object
        return f"CAST(to_json({q}) AS JSON)"
    return q if dt == "VARCHAR" else f"CAST({q} AS VARCHAR)"


_PLACEHOLDER = re.compile(r"\{(m|n|ts|j|az|t):([A-Za-z0-9_]+)\}")


def render(template: str, by_canonical: dict[str, SourceColumn], used: set[str]) -> str:
    """Fill a template's placeholders with conversions of the file's columns."""

    def sub(m: re.Match[str]) -> str:
        col = by_canonical.get(m.group(2))
        if col is not None:
            used.add(col.name)
        return convert(m.group(1), col)

    return _PLACEHOLDER.sub(sub, template)


def focus_map(columns: list[SourceColumn]) -> dict[str, str]:
    """FOCUS files map column to same-named column; 1.3 and <=1.2 provider names both kept."""
    names = {c.name for c in columns}
    out = {}
    for target, kind in FOCUS_COLUMNS.items():
        if target in names:
            out[target] = "{" + kind + ":" + target + "}"
    return out


def select_list(fmt: str, columns: list[SourceColumn]) -> tuple[list[str], list[str]]:
    """The SELECT expressions for TARGET_ORDER, and the source columns kept as extensions."""
    by_canonical = {c.canonical: c for c in columns}
    used: set[str] = set()
    mapping = templates(fmt, columns)
    exprs: list[str] = []
    for target in FOCUS_COLUMNS:
        template = mapping.get(target)
        if target == "Tags" and fmt.startswith("cur"):
            exprs.append(_cur_tags(columns, used))
            continue
        prefix = native.tag_prefix(fmt) if fmt in native.NATIVE_FORMATS else None
        if target == "Tags" and prefix is not None:
            tagged = [c for c in columns if c.name.startswith(prefix)]
            used.update(c.name for c in tagged)
            exprs.append(_json_of(tagged, strip_prefix=prefix) if tagged else convert("j", None))
            continue
        exprs.append(
            render(template, by_canonical, used)
            if template
            else convert(FOCUS_COLUMNS[target], None)
        )
    extras = [c for c in columns if c.name not in used]
    notes: list[tuple[str, str]] = []
    if fmt in native.NATIVE_FORMATS:
        notes = [(k, render(t, by_canonical, set())) for k, t in native.notes(fmt)]
    exprs.append(_extensions(extras, notes))
    return exprs, [c.name for c in extras]


def _cur_tags(columns: list[SourceColumn], used: set[str]) -> str:
    """CUR legacy has one `resourceTags/user:key` column per tag; CUR 2.0 one resource_tags map."""
    legacy = [c for c in columns if c.name.startswith("resourceTags/")]
    for c in columns:
        if c.canonical == "resource_tags":
            used.add(c.name)
            return convert("j", c)
    if not legacy:
        return "CAST(NULL AS JSON)"
    used.update(c.name for c in legacy)
    return _json_of(legacy, strip_prefix="resourceTags/")


def _json_of(
    cols: list[SourceColumn], *, strip_prefix: str = "", notes: list[tuple[str, str]] | None = None
) -> str:
    """A JSON object of the non-null columns (NULL when all are null), values as text."""
    pairs = [(c.name.removeprefix(strip_prefix), convert("t", c)) for c in cols]
    pairs += notes or []
    entries = ", ".join(f"{{'k': {quote_literal(k)}, 'v': {v}}}" for k, v in pairs)
    m = f"map_from_entries(list_filter([{entries}], lambda e: e.v IS NOT NULL))"
    return f"CASE WHEN cardinality({m}) = 0 THEN NULL ELSE CAST(to_json({m}) AS JSON) END"


def _extensions(extras: list[SourceColumn], notes: list[tuple[str, str]] | None = None) -> str:
    """Every unmapped column, verbatim (plus a native format's notes on how its costs were
    filled). A few columns: a plain json_object (fast, nulls kept as JSON null); many
    mostly-empty ones (CUR has ~100): only the non-null values."""
    notes = notes or []
    if not extras and not notes:
        return "CAST(NULL AS JSON)"
    if len(extras) > 8:
        return _json_of(extras, notes=notes)
    pairs = [(c.name, convert("t", c)) for c in extras] + notes
    fields = ", ".join(f"{quote_literal(k)}: {v}" for k, v in pairs)
    return f"CAST(to_json({{{fields}}}) AS JSON)"
