"""The demo's bill: GPU-hour charges of its billed deployments, as a FOCUS 1.2 CSV export.

One Usage line per deployment and hour of the quarter (its GPU share of the instance named by
its price_ref: instance USD/hour / GPUs in the instance), tagged `unitcost:deployment`, plus a
few lines no deployment claims (storage, data transfer, support) so the dashboard shows unmapped
spend, and a monthly support fee charged for the whole month (spread over its days by the
collector's views). Money is written as plain decimal text, as FOCUS exports write it. The file
goes through `unitcost collect billing` like any export.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

COLUMNS = [
    "BillingAccountId",
    "BillingAccountName",
    "BillingAccountType",
    "SubAccountId",
    "SubAccountName",
    "BillingCurrency",
    "BillingPeriodStart",
    "BillingPeriodEnd",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargeFrequency",
    "PricingCategory",
    "BilledCost",
    "EffectiveCost",
    "ListCost",
    "ContractedCost",
    "ConsumedQuantity",
    "ConsumedUnit",
    "PricingQuantity",
    "PricingUnit",
    "ProviderName",
    "PublisherName",
    "InvoiceIssuerName",
    "RegionId",
    "ServiceCategory",
    "ServiceName",
    "ResourceId",
    "ResourceType",
    "SkuId",
    "SkuPriceDetails",
    "Tags",
]
ACCOUNT = "000000000000"  # a made-up account: this is demo data
STORED = Decimal("0.0000000001")  # billing_line_items keeps 10 decimals


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _month_start(d: date) -> date:
    return d.replace(day=1)


def _next_month(d: date) -> date:
    return (d.replace(day=28) + timedelta(days=4)).replace(day=1)


def _row(**fields: str) -> dict[str, str]:
    base = {c: "" for c in COLUMNS}
    base.update(
        BillingAccountId=ACCOUNT,
        BillingAccountName="unitcost demo company",
        BillingAccountType="Billing Account",
        SubAccountId="111111111111",
        SubAccountName="inference",
        BillingCurrency="USD",
        ChargeClass="",
        ProviderName="AWS",
        PublisherName="Amazon Web Services, Inc.",
        InvoiceIssuerName="Amazon Web Services, Inc.",
        RegionId="us-east-1",
    )
    base.update(fields)
    return base


def gpu_hour_lines(
    deployment_id: str,
    instance_type: str,
    usd_per_gpu_hour: Decimal,
    gpus: int,
    hours: Iterable[datetime],
) -> Iterator[dict[str, str]]:
    """One Usage line per hour the deployment ran: its GPUs x USD per GPU-hour."""
    cost = (usd_per_gpu_hour * gpus).quantize(STORED)
    tags = json.dumps({"unitcost:deployment": deployment_id, "team": "inference"})
    for start in hours:
        month = _month_start(start.date())
        yield _row(
            BillingPeriodStart=f"{month}T00:00:00Z",
            BillingPeriodEnd=f"{_next_month(month)}T00:00:00Z",
            ChargePeriodStart=_iso(start),
            ChargePeriodEnd=_iso(start + timedelta(hours=1)),
            ChargeCategory="Usage",
            ChargeDescription=f"{gpus} GPU(s) of {instance_type}, one hour",
            ChargeFrequency="Usage-Based",
            PricingCategory="Standard",
            BilledCost=str(cost),
            EffectiveCost=str(cost),
            ListCost=str(cost),
            ContractedCost=str(cost),
            ConsumedQuantity="1",
            ConsumedUnit="Hours",
            PricingQuantity="1",
            PricingUnit="Hours",
            ServiceCategory="Compute",
            ServiceName="Amazon Elastic Compute Cloud",
            ResourceId=f"i-{deployment_id}",
            ResourceType="Instance",
            SkuId=instance_type,
            SkuPriceDetails=json.dumps({"x_InstanceType": instance_type}),
            Tags=tags,
        )


def other_lines(first: date, end: date) -> Iterator[dict[str, str]]:
    """Spend no deployment claims: daily storage and transfer, and a monthly support fee."""
    day = first
    while day < end:
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        month = _month_start(day)
        period = {
            "BillingPeriodStart": f"{month}T00:00:00Z",
            "BillingPeriodEnd": f"{_next_month(month)}T00:00:00Z",
            "ChargePeriodStart": _iso(start),
            "ChargePeriodEnd": _iso(start + timedelta(days=1)),
        }
        yield _row(
            **period,
            ChargeCategory="Usage",
            ChargeDescription="model weights and logs, S3 standard storage",
            ChargeFrequency="Usage-Based",
            PricingCategory="Standard",
            BilledCost="7.3600000000",
            EffectiveCost="7.3600000000",
            ServiceCategory="Storage",
            ServiceName="Amazon Simple Storage Service",
            ResourceId="demo-model-bucket",
            ResourceType="Bucket",
        )
        yield _row(
            **period,
            ChargeCategory="Usage",
            ChargeDescription="data transfer out to the internet",
            ChargeFrequency="Usage-Based",
            PricingCategory="Standard",
            BilledCost="2.0450000000",
            EffectiveCost="2.0450000000",
            ServiceCategory="Networking",
            ServiceName="AWS Data Transfer",
        )
        if day in (month, first):
            month_end = min(_next_month(month), end)
            yield _row(
                BillingPeriodStart=f"{month}T00:00:00Z",
                BillingPeriodEnd=f"{_next_month(month)}T00:00:00Z",
                ChargePeriodStart=f"{day}T00:00:00Z",
                ChargePeriodEnd=f"{month_end}T00:00:00Z",
                ChargeCategory="Purchase",
                ChargeDescription="Business support plan, monthly fee",
                ChargeFrequency="Recurring",
                PricingCategory="Standard",
                BilledCost="100.0000000000",
                EffectiveCost="100.0000000000",
                ServiceCategory="Management and Governance",
                ServiceName="AWS Support (Business)",
            )
        day += timedelta(days=1)


def write(path: Path, rows: Iterable[Mapping[str, str]]) -> int:
    """Write the rows as a FOCUS CSV; returns how many."""
    n = 0
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS)
        w.writeheader()
        for r in rows:
            w.writerow(r)
            n += 1
    return n
