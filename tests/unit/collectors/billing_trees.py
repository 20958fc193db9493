"""Billing export trees shaped as the providers deliver them, for restatement tests.

Layouts from the providers' documentation (the paths and manifest fields unitcost reads):
- AWS CUR legacy, "create new report version": `<prefix>/<report>/<yyyymmdd-yyyymmdd>/
  <assemblyId>/<report>-N.csv.gz`, a `<report>-Manifest.json` in each assembly folder and one in
  the period folder naming the current `assemblyId` and its `reportKeys` (bucket keys);
  `billingPeriod` written as `20240901T000000.000Z` (AWS Cost and Usage Reports user guide,
  "Understanding report versions").
- AWS Data Exports: `<prefix>/<export>/data/BILLING_PERIOD=YYYY-MM/...` and
  `<prefix>/<export>/metadata/BILLING_PERIOD=YYYY-MM/<export>-Manifest.json`, whose `dataFiles`
  (s3:// URIs) are the current files; "create new" adds a folder per version (AWS Data Exports
  user guide, "Understanding export delivery").
- Azure Cost Management exports: `<path>/<export>/<yyyyMMdd-yyyyMMdd>/<export time>/<guid>/
  part_0_0001.csv` with a `manifest.json` per run: `runInfo.submittedTime`, `runId`,
  `blobs[].blobName` (FinOps toolkit docs, "How data is processed in FinOps hubs").
- OCI cost reports: `reports/cost-csv/<sequence>.csv.gz`, incremental (Oracle docs).

Costs are generated here and summed here (Decimal), independently of the loader.
"""

from __future__ import annotations

import gzip
import io
import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

T0 = datetime(2024, 10, 2, 6, 0, tzinfo=UTC)  # first delivery; later ones follow


@dataclass
class Tree:
    """rel path -> (bytes, modification time), plus the bill each delivery holds."""

    files: dict[str, tuple[bytes, datetime]] = field(default_factory=dict)

    def add(self, rel: str, data: bytes, when: datetime) -> None:
        self.files[rel] = (data, when)

    def write(self, root: Path) -> Path:
        for rel, (data, when) in self.files.items():
            p = root / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)
            os.utime(p, (when.timestamp(), when.timestamp()))
        return root


def _csv(header: list[str], rows: list[list[str]], gz: bool = False) -> bytes:
    out = io.StringIO()
    out.write(",".join(header) + "\n")
    for r in rows:
        out.write(",".join(r) + "\n")
    data = out.getvalue().encode()
    return gzip.compress(data, mtime=0) if gz else data


def hours(day: int, n: int, month: int = 9, year: int = 2024) -> list[tuple[datetime, datetime]]:
    """n one-hour charge periods from the start of a day."""
    t = datetime(year, month, day, tzinfo=UTC)
    return [(t + timedelta(hours=i), t + timedelta(hours=i + 1)) for i in range(n)]


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


# ------------------------------------------------------------------ FOCUS
FOCUS_HEADER = [
    "BilledCost",
    "EffectiveCost",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "BillingPeriodStart",
    "BillingCurrency",
    "ProviderName",
    "BillingAccountId",
    "ResourceId",
]


def focus(
    periods: list[tuple[datetime, datetime]],
    cost: str,
    *,
    provider: str = "Google Cloud",
    account: str = "0A1B2C-3D4E5F",
    billing_period: str = "2024-09-01T00:00:00Z",
) -> tuple[bytes, Decimal]:
    """A FOCUS CSV with one line per period, each of `cost`: (bytes, total)."""
    rows = [
        [cost, cost, iso(s), iso(e), billing_period, "USD", provider, account, f"vm-{i % 3}"]
        for i, (s, e) in enumerate(periods)
    ]
    return _csv(FOCUS_HEADER, rows), Decimal(cost) * len(periods)


# ------------------------------------------------------------------ AWS CUR legacy
CUR_HEADER = [
    "identity/LineItemId",
    "bill/PayerAccountId",
    "bill/BillingPeriodStartDate",
    "bill/BillingPeriodEndDate",
    "lineItem/LineItemType",
    "lineItem/UsageStartDate",
    "lineItem/UsageEndDate",
    "lineItem/UnblendedCost",
    "lineItem/CurrencyCode",
    "lineItem/ResourceId",
]
PAYER = "123456789012"


def cur(
    periods: list[tuple[datetime, datetime]],
    cost: str,
    *,
    payer: str = PAYER,
    month: int = 9,
    text: str | None = None,
) -> tuple[bytes, Decimal]:
    """A gzip CUR legacy CSV, one Usage line per period: (bytes, total unblended). `text`
    writes the cost differently (a malformed value) in every line."""
    bp0 = datetime(2024, month, 1, tzinfo=UTC)
    bp1 = datetime(2024 + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    rows = [
        [
            f"id{i}",
            payer,
            iso(bp0),
            iso(bp1),
            "Usage",
            iso(s),
            iso(e),
            text or cost,
            "USD",
            f"i-{i % 4}",
        ]
        for i, (s, e) in enumerate(periods)
    ]
    return _csv(CUR_HEADER, rows, gz=True), Decimal(cost) * len(periods)


def cur_assembly(
    tree: Tree,
    *,
    prefix: str,
    report: str,
    period: str,
    assembly: str,
    parts: list[bytes],
    when: datetime,
    current: bool = True,
    missing: int = 0,
) -> list[str]:
    """One CUR assembly (parts + its manifest); `current` also rewrites the period manifest.
    `missing`: that many parts are listed by the manifests but not delivered. Returns keys."""
    keys = [
        f"{prefix}/{report}/{period}/{assembly}/{report}-{i + 1}.csv.gz" for i in range(len(parts))
    ]
    for key, data in zip(keys[: len(keys) - missing], parts[: len(parts) - missing], strict=True):
        tree.add(key, data, when)
    start, end = period.split("-")
    manifest = json.dumps(
        {
            "assemblyId": assembly,
            "account": PAYER,
            "reportId": "a1b2c3",
            "reportName": report,
            "billingPeriod": {"start": f"{start}T000000.000Z", "end": f"{end}T000000.000Z"},
            "bucket": "bills",
            "reportKeys": keys,
            "compression": "GZIP",
            "contentType": "text/csv",
        }
    ).encode()
    tree.add(f"{prefix}/{report}/{period}/{assembly}/{report}-Manifest.json", manifest, when)
    if current:
        tree.add(f"{prefix}/{report}/{period}/{report}-Manifest.json", manifest, when)
    return keys


# ------------------------------------------------------------------ AWS Data Exports
def data_export_manifest(
    tree: Tree, *, prefix: str, export: str, partition: str, keys: list[str], when: datetime
) -> None:
    doc = {
        "executionId": f"exec-{when:%Y%m%d%H%M}",
        "exportArn": f"arn:aws:bcm-data-exports:us-east-1:{PAYER}:export/{export}-abc",
        "exportName": export,
        "billingPeriod": {"start": "2024-09-01T00:00:00.000Z", "end": "2024-10-01T00:00:00.000Z"},
        "dataFiles": [f"s3://bills/{k}" for k in keys],
    }
    tree.add(
        f"{prefix}/{export}/metadata/{partition}/{export}-Manifest.json",
        json.dumps(doc).encode(),
        when,
    )


# ------------------------------------------------------------------ Azure exports
def azure_run(
    tree: Tree,
    *,
    base: str,
    date_range: str,
    run_time: datetime,
    run_id: str,
    parts: list[bytes],
    manifest: bool = True,
    missing: int = 0,
) -> list[str]:
    folder = f"{base}/{date_range}/{run_time:%Y%m%d%H%M}/{run_id}"
    keys = [f"{folder}/part_0_{i + 1:04d}.csv" for i in range(len(parts))]
    for key, data in zip(keys[: len(keys) - missing], parts[: len(parts) - missing], strict=True):
        tree.add(key, data, run_time)
    if manifest:
        doc = {
            "exportConfig": {"exportName": base.rsplit("/", 1)[-1], "type": "FocusCost"},
            "deliveryConfig": {"partitionData": True, "fileFormat": "Csv"},
            "runInfo": {
                "executionType": "Scheduled",
                "submittedTime": run_time.strftime("%Y-%m-%dT%H:%M:%S.1234567Z"),
                "runId": run_id,
                "startDate": "2024-09-01T00:00:00",
                "endDate": "2024-09-30T00:00:00",
            },
            "blobs": [{"blobName": k, "byteCount": 1} for k in keys],
        }
        tree.add(f"{folder}/manifest.json", json.dumps(doc).encode(), run_time)
    return keys


# ------------------------------------------------------------------ OCI cost reports
OCI_HEADER = [
    "lineItem/referenceNo",
    "lineItem/tenantId",
    "lineItem/intervalUsageStart",
    "lineItem/intervalUsageEnd",
    "product/service",
    "product/resourceId",
    "cost/myCost",
    "cost/currencyCode",
]


def oci(periods: list[tuple[datetime, datetime]], cost: str, tag: str) -> tuple[bytes, Decimal]:
    rows = [
        [
            f"{tag}{i}",
            "ocid1.tenancy.oc1..aaaa",
            iso(s),
            iso(e),
            "COMPUTE",
            f"ocid1.i{i}",
            cost,
            "USD",
        ]
        for i, (s, e) in enumerate(periods)
    ]
    return _csv(OCI_HEADER, rows, gz=True), Decimal(cost) * len(periods)
