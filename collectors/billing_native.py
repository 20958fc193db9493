"""Native (non-FOCUS) billing exports: Azure EA cost exports and Oracle OCI cost reports.

Each maps onto billing_line_items with the same templates as billing_formats (`{m:col}` money,
`{n:col}` number, `{ts:col}` time, `{t:col}` text, `{az:col}` Azure's brace-less tag text),
over *canonical* column names, so that the spellings of different export versions
(`CostInBillingCurrency` / `costInBillingCurrency`, `Date` / `date`) meet.

Which FOCUS cost the single cost figure of a native export fills (see docs/collectors.md):

* Azure **ActualCost** (`azure-ea-actual`): `Cost` is what was invoiced, so BilledCost = Cost.
  EffectiveCost equals Cost where no commitment is involved (on-demand and spot usage,
  non-commitment purchases): there is nothing to amortize. A commitment purchase or refund has
  EffectiveCost 0 (the FOCUS rule: its cost reaches EffectiveCost through the usage it covers).
  Commitment-covered usage shows Cost 0 in an actual export and its amortized cost is not in
  the file: EffectiveCost is NULL there ("unknown"), never a guess.
* Azure **AmortizedCost** (`azure-ea-amortized`): `Cost` is amortized, so EffectiveCost = Cost.
  BilledCost equals Cost where no commitment is involved; commitment-covered usage and unused
  commitment rows are billed 0 (Azure invoices the commitment through its purchase rows, which
  an amortized export leaves out: the purchases' billed cost is not in this file).
* Azure export whose kind is not known (`azure-ea`, name says neither actual nor amortized):
  rows without a commitment fill both (actual and amortized agree there); commitment rows get
  NULL for both, with the source figure kept in x_Extensions.
* OCI cost report (`oci-cost-report`): `cost/myCost` is the customer's cost of each usage
  line; OCI cost reports carry no commitment purchase lines to amortize (Universal Credits are
  drawn down as usage happens), so BilledCost = EffectiveCost = cost/myCost.

Every row of these formats says which rule filled its costs in x_Extensions
(`x_unitcost_CostBasis`), and keeps the source's cost figure verbatim (`x_unitcost_SourceCost`).
"""

from __future__ import annotations

import re
from pathlib import PurePath

AZURE_FORMATS = ("azure-ea-actual", "azure-ea-amortized", "azure-ea")
OCI_FORMAT = "oci-cost-report"
NATIVE_FORMATS = (*AZURE_FORMATS, OCI_FORMAT)

# Required canonical columns; "a|b" means either.
AZURE_REQUIRED = ("date", "costinbillingcurrency|cost")
OCI_REQUIRED = ("cost_my_cost", "line_item_interval_usage_start")


def canonical_name(fmt: str, name: str) -> str:
    """Azure: lower case (EA, MCA and their versions differ only in case). OCI: snake case."""
    if fmt in AZURE_FORMATS:
        return name.lower()
    left, _, right = name.partition("/")
    snake = "_".join(re.sub(r"(?<!^)(?=[A-Z])", "_", p).lower() for p in (left, right) if p)
    return re.sub(r"[^a-z0-9_]", "_", snake)


def detect(columns: list[str], path: str) -> str | None:
    """A native format from the header (Azure's kind from the export's path), or None."""
    lower = {c.lower() for c in columns}
    if "cost/mycost" in lower:
        return OCI_FORMAT
    if "metercategory" in lower and "date" in lower and lower & {"cost", "costinbillingcurrency"}:
        return _azure_kind(path)
    return None


def _azure_kind(path: str) -> str:
    """The export's kind from its path: the file name, else the nearest folder naming one.

    Azure puts the export's name (e.g. `daily-AmortizedCost`) in the file name or, for
    partitioned exports (`<export>/<dates>/<run>/part_0_0001.csv`), in a folder.
    """
    for part in reversed(PurePath(path).parts):
        name = part.lower().replace("_", "").replace("-", "")
        if "amortized" in name:
            return "azure-ea-amortized"
        if "actual" in name:
            return "azure-ea-actual"
    return "azure-ea"


def required(fmt: str) -> tuple[str, ...]:
    return OCI_REQUIRED if fmt == OCI_FORMAT else AZURE_REQUIRED


# --- Azure EA --------------------------------------------------------------------------------

_AZ_COST = "coalesce({m:costinbillingcurrency}, {m:cost})"
_AZ_COST_TEXT = "coalesce({t:costinbillingcurrency}, {t:cost})"
# A row whose price comes from a reservation or savings plan (or reports its unused part).
_AZ_COMMIT = (
    "(coalesce({t:pricingmodel}, '') IN ('Reservation', 'SavingsPlan') "
    "OR coalesce({t:chargetype}, '') IN ('UnusedReservation', 'UnusedSavingsPlan'))"
)
_AZ_COMMIT_BUY = f"({_AZ_COMMIT} AND coalesce({{t:chargetype}}, '') IN ('Purchase', 'Refund'))"
_AZ_NEXT_DAY = "({ts:%s} + INTERVAL 1 DAY)"

AZURE_COMMON: dict[str, str] = {
    "AvailabilityZone": "nullif({t:availabilityzone}, '')",
    "BillingAccountId": "{t:billingaccountid}",
    "BillingAccountName": "{t:billingaccountname}",
    "BillingCurrency": "coalesce({t:billingcurrencycode}, {t:billingcurrency})",
    # Azure writes the billing period's last day; FOCUS ends are exclusive.
    "BillingPeriodEnd": _AZ_NEXT_DAY % "billingperiodenddate",
    "BillingPeriodStart": "{ts:billingperiodstartdate}",
    "ChargeCategory": """CASE {t:chargetype}
        WHEN 'Usage' THEN 'Usage' WHEN 'UnusedReservation' THEN 'Usage'
        WHEN 'UnusedSavingsPlan' THEN 'Usage' WHEN 'Purchase' THEN 'Purchase'
        WHEN 'Refund' THEN 'Purchase' WHEN 'Tax' THEN 'Tax' WHEN 'Credit' THEN 'Credit'
        WHEN 'RoundingAdjustment' THEN 'Adjustment' WHEN 'Adjustment' THEN 'Adjustment'
        ELSE NULL END""",
    "ChargeClass": "CASE WHEN {t:chargetype} = 'Refund' THEN 'Correction' ELSE NULL END",
    "ChargeDescription": "coalesce({t:productname}, {t:product})",
    "ChargeFrequency": """CASE {t:frequency} WHEN 'OneTime' THEN 'One-Time'
        WHEN 'Recurring' THEN 'Recurring' WHEN 'UsageBased' THEN 'Usage-Based' ELSE NULL END""",
    # One row per day: Date is the day, the period ends the next midnight (UTC).
    "ChargePeriodEnd": _AZ_NEXT_DAY % "date",
    "ChargePeriodStart": "{ts:date}",
    "CommitmentDiscountCategory": """CASE {t:pricingmodel} WHEN 'Reservation' THEN 'Usage'
        WHEN 'SavingsPlan' THEN 'Spend' ELSE NULL END""",
    "CommitmentDiscountId": "coalesce(nullif({t:benefitid}, ''), nullif({t:reservationid}, ''))",
    "CommitmentDiscountName": (
        "coalesce(nullif({t:benefitname}, ''), nullif({t:reservationname}, ''))"
    ),
    "CommitmentDiscountStatus": f"""CASE
        WHEN {{t:chargetype}} IN ('UnusedReservation', 'UnusedSavingsPlan') THEN 'Unused'
        WHEN {{t:chargetype}} = 'Usage' AND {_AZ_COMMIT} THEN 'Used' ELSE NULL END""",
    "CommitmentDiscountType": """CASE {t:pricingmodel} WHEN 'Reservation' THEN 'Reservation'
        WHEN 'SavingsPlan' THEN 'Savings Plan' ELSE NULL END""",
    "ConsumedQuantity": "{m:quantity}",
    "ConsumedUnit": "{t:unitofmeasure}",  # Azure's block unit, e.g. `10 Hours`, verbatim
    "ContractedUnitPrice": "{m:unitprice}",
    "ListUnitPrice": "{m:paygprice}",
    # Spot = Dynamic, reservation / savings plan = Committed, pay-as-you-go = Standard.
    "PricingCategory": """CASE {t:pricingmodel} WHEN 'OnDemand' THEN 'Standard'
        WHEN 'Spot' THEN 'Dynamic' WHEN 'Reservation' THEN 'Committed'
        WHEN 'SavingsPlan' THEN 'Committed' ELSE NULL END""",
    "ProviderName": "'Microsoft'",
    "PublisherName": "nullif({t:publishername}, '')",
    "RegionId": "lower(nullif({t:resourcelocation}, ''))",
    "RegionName": "nullif({t:meterregion}, '')",
    "ResourceId": "nullif({t:resourceid}, '')",
    "ResourceName": "nullif({t:resourcename}, '')",
    "ServiceCategory": "{t:servicefamily}",
    "ServiceName": "{t:metercategory}",
    "ServiceSubcategory": "{t:metersubcategory}",
    "SkuId": "{t:partnumber}",
    "SkuMeter": "{t:metername}",
    "SubAccountId": "{t:subscriptionid}",
    "SubAccountName": "{t:subscriptionname}",
    "Tags": "{az:tags}",
}

AZURE_COSTS: dict[str, dict[str, str]] = {
    "azure-ea-actual": {
        "BilledCost": _AZ_COST,
        "EffectiveCost": f"""CASE WHEN {_AZ_COMMIT_BUY} THEN CAST(0 AS DECIMAL(38, 10))
            WHEN {_AZ_COMMIT} THEN CAST(NULL AS DECIMAL(38, 10)) ELSE {_AZ_COST} END""",
    },
    "azure-ea-amortized": {
        "BilledCost": f"""CASE WHEN {_AZ_COMMIT} AND NOT {_AZ_COMMIT_BUY}
            THEN CAST(0 AS DECIMAL(38, 10)) ELSE {_AZ_COST} END""",
        "EffectiveCost": _AZ_COST,
    },
    "azure-ea": {
        "BilledCost": f"CASE WHEN {_AZ_COMMIT} THEN NULL ELSE {_AZ_COST} END",
        "EffectiveCost": f"CASE WHEN {_AZ_COMMIT} THEN NULL ELSE {_AZ_COST} END",
    },
}

AZURE_BASIS: dict[str, str] = {
    "azure-ea-actual": f"""CASE WHEN {_AZ_COMMIT_BUY}
            THEN 'actual: BilledCost=Cost; EffectiveCost=0 (commitment purchase, FOCUS)'
        WHEN {_AZ_COMMIT}
            THEN 'actual: BilledCost=Cost; EffectiveCost unknown (amortized cost not in file)'
        ELSE 'actual: BilledCost=Cost; EffectiveCost=Cost (no commitment on this row)' END""",
    "azure-ea-amortized": f"""CASE WHEN {_AZ_COMMIT} AND NOT {_AZ_COMMIT_BUY}
            THEN 'amortized: EffectiveCost=Cost; BilledCost=0 (billed via commitment purchase)'
        ELSE 'amortized: EffectiveCost=Cost; BilledCost=Cost (no commitment on this row)' END""",
    "azure-ea": f"""CASE WHEN {_AZ_COMMIT}
            THEN 'export kind unknown: both costs unknown on a commitment row'
        ELSE 'export kind unknown: BilledCost=EffectiveCost=Cost (no commitment)' END""",
}

# --- Oracle OCI cost report ------------------------------------------------------------------

OCI_MAP: dict[str, str] = {
    "AvailabilityZone": "nullif({t:product_availability_domain}, '')",
    "BilledCost": "{m:cost_my_cost}",
    "BillingAccountId": "{t:line_item_tenant_id}",
    "BillingCurrency": "{t:cost_currency_code}",
    "ChargeCategory": "'Usage'",  # cost reports hold usage lines (and their corrections)
    "ChargeClass": """CASE WHEN lower({t:line_item_is_correction}) = 'true' THEN 'Correction'
        ELSE NULL END""",
    "ChargeDescription": "{t:product_description}",
    "ChargeFrequency": "'Usage-Based'",
    "ChargePeriodEnd": "{ts:line_item_interval_usage_end}",
    "ChargePeriodStart": "{ts:line_item_interval_usage_start}",
    "ContractedUnitPrice": "{m:cost_unit_price}",
    "EffectiveCost": "{m:cost_my_cost}",  # no commitment purchases to amortize: see above
    "PricingQuantity": "{m:usage_billed_quantity}",
    "PricingUnit": "{t:cost_sku_unit_description}",
    "ProviderName": "'Oracle'",
    "RegionId": "{t:product_region}",
    "ResourceId": "nullif({t:product_resource_id}, '')",
    "ServiceName": "{t:product_service}",
    "SkuId": "{t:cost_product_sku}",
    "SubAccountId": "{t:product_compartment_id}",
    "SubAccountName": "{t:product_compartment_name}",
}
OCI_BASIS = "'oci: BilledCost=EffectiveCost=cost/myCost (no commitment amortization)'"


def mapping(fmt: str) -> dict[str, str]:
    if fmt == OCI_FORMAT:
        return OCI_MAP
    return {**AZURE_COMMON, **AZURE_COSTS[fmt]}


def notes(fmt: str) -> list[tuple[str, str]]:
    """Extra x_Extensions entries (key, SQL text template): the cost rule and source figure."""
    if fmt == OCI_FORMAT:
        return [("x_unitcost_CostBasis", OCI_BASIS)]
    return [
        ("x_unitcost_CostBasis", AZURE_BASIS[fmt]),
        ("x_unitcost_SourceCost", _AZ_COST_TEXT),
    ]


def tag_prefix(fmt: str) -> str | None:
    """OCI writes one `tags/<namespace>.<key>` column per tag (gathered into Tags)."""
    return "tags/" if fmt == OCI_FORMAT else None
