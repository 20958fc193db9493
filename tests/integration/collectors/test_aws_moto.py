"""S3 billing exports and Cost Explorer through boto3 against a real moto server."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests
from unitcost.collectors import billing, cost_explorer
from unitcost.collectors.clients import make_boto3_client

from tests.integration.collectors.conftest import FIXTURES
from unitcost.config import AwsSettings
from unitcost.errors import InputError
from unitcost.store import Store

pytestmark = pytest.mark.integration
FOCUS = FIXTURES / "billing" / "focus" / "focus_1.0_sample_1000_multiprovider.csv"
CUR = FIXTURES / "billing" / "aws" / "aws_legacy_cur_sample_anonymous_focus_converters.csv"


def totals(store: Store, like: str) -> list[tuple[Any, ...]]:
    with store.read() as con:
        return con.execute(
            "SELECT source_format, count(*), sum(BilledCost), sum(EffectiveCost) "
            "FROM billing_line_items WHERE source_file LIKE ? GROUP BY 1 ORDER BY 1",
            [like],
        ).fetchall()


def test_s3_prefix_loads_like_local_files(cstore: Store, moto_url: str, tmp_path: Path) -> None:
    s3 = make_boto3_client("s3", AwsSettings(endpoint_url=moto_url))
    s3.create_bucket(Bucket="bills")
    s3.upload_file(str(FOCUS), "bills", "exports/focus/2024-09/part-0.csv")
    s3.upload_file(str(CUR), "bills", "exports/cur/2023-11/cur.csv")
    s3.put_object(Bucket="bills", Key="exports/manifest.json", Body=b"{}")  # not a bill: ignored
    n = billing.collect(cstore, location="s3://bills/exports/", client=s3)
    assert n == 2281
    other = Store(tmp_path / "local.duckdb")
    other.migrate()
    billing.load_file(other, str(FOCUS))
    billing.load_file(other, str(CUR))
    remote = totals(cstore, "s3://%")
    assert remote == totals(other, "/%") and len(remote) == 2
    # the same bytes under a local path are the same file: recorded, counted once
    copies = [billing.load_file(cstore, str(p)) for p in (FOCUS, CUR)]
    assert [c.source_format for c in copies] == ["same content", "same content"]
    assert totals(cstore, "%") == remote
    with cstore.read() as con:
        files = con.execute("SELECT source_file FROM billing_files ORDER BY 1").fetchall()
    assert ("s3://bills/exports/focus/2024-09/part-0.csv",) in files
    # unchanged objects are skipped without download; the tables stay identical
    assert billing.collect(cstore, location="s3://bills/exports/", client=s3) == 0
    assert totals(cstore, "s3://%") == remote


def test_s3_bad_object_names_uri_row_and_column(cstore: Store, moto_url: str) -> None:
    s3 = make_boto3_client("s3", AwsSettings(endpoint_url=moto_url))
    s3.create_bucket(Bucket="bills")
    body = "BilledCost,EffectiveCost,ChargePeriodStart\n1,1,2025-01-01\nx,1,2025-01-01\n"
    s3.put_object(Bucket="bills", Key="p/a.csv", Body=body.encode())
    with pytest.raises(InputError, match=r"^s3://bills/p/a.csv, row 2, column 'BilledCost'"):
        billing.collect(cstore, location="s3://bills/p/", client=s3)
    assert totals(cstore, "%") == []


def _ce_page(day: str, groups: list[tuple[str, str, str]], token: str | None) -> dict[str, Any]:
    nxt = f"{day[:8]}{int(day[8:]) + 1:02d}"
    page: dict[str, Any] = {
        "GroupDefinitions": [{"Type": "DIMENSION", "Key": "SERVICE"}],
        "ResultsByTime": [
            {
                "TimePeriod": {"Start": day, "End": nxt},
                "Total": {},
                "Groups": [
                    {
                        "Keys": [svc],
                        "Metrics": {
                            "UnblendedCost": {"Amount": unb, "Unit": "USD"},
                            "AmortizedCost": {"Amount": amo, "Unit": "USD"},
                            "UsageQuantity": {"Amount": "24", "Unit": "N/A"},
                        },
                    }
                    for svc, unb, amo in groups
                ],
                "Estimated": False,
            }
        ],
        "DimensionValueAttributes": [],
    }
    if token:
        page["NextPageToken"] = token
    return page


def seed_ce(moto_url: str, pages: list[dict[str, Any]]) -> None:
    r = requests.post(
        f"{moto_url}/moto-api/static/ce/cost-and-usage-results", json={"results": pages}, timeout=10
    )
    r.raise_for_status()


PAGES = [
    _ce_page("2025-03-01", [("Amazon Elastic Compute Cloud - Compute", "100.10", "80.05")], "p2"),
    _ce_page(
        "2025-03-02",
        [
            ("Amazon Elastic Compute Cloud - Compute", "99.99", "80.01"),
            ("Amazon Simple Storage Service", "0.33", "0.33"),
        ],
        "p3",
    ),
    _ce_page("2025-03-03", [("Amazon Elastic Compute Cloud - Compute", "50.00", "40.00")], None),
]


def test_cost_explorer_all_pages_idempotent(cstore: Store, moto_url: str) -> None:
    from datetime import UTC, datetime

    ce = make_boto3_client("ce", AwsSettings(endpoint_url=moto_url))
    sts = make_boto3_client("sts", AwsSettings(endpoint_url=moto_url))
    since, until = datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 3, 4, tzinfo=UTC)
    seed_ce(moto_url, PAGES)
    n = cost_explorer.collect(
        cstore, since=since, until=until, client=ce, sts_client=sts, group_by=["SERVICE"]
    )
    assert n == 4  # all three pages

    def snapshot() -> list[tuple[Any, ...]]:
        with cstore.read() as con:
            return con.execute(
                "SELECT * EXCLUDE (collector_run_id) FROM billing_line_items "
                "ORDER BY source_file, source_row"
            ).fetchall()

    first = snapshot()
    with cstore.read() as con:
        sums = con.execute(
            "SELECT sum(BilledCost), sum(EffectiveCost), count(DISTINCT ServiceName), "
            "min(ChargePeriodStart), max(ChargePeriodEnd) FROM billing_line_items"
        ).fetchone()
        wm = con.execute("SELECT watermark FROM watermarks").fetchone()
    assert sums is not None and sums[:3] == (Decimal("250.42"), Decimal("200.39"), 2)
    assert sums[3] == since and sums[4] == until
    assert wm == (until,)
    seed_ce(moto_url, PAGES)  # the same answer again: same table
    cost_explorer.collect(
        cstore, since=since, until=until, client=ce, sts_client=sts, group_by=["SERVICE"]
    )
    assert snapshot() == first


def test_parse_tag_and_purchase_groups() -> None:
    gb = cost_explorer.parse_group_by(["TAG:unitcost:deployment", "PURCHASE_TYPE"])
    page = {
        "ResultsByTime": [
            {
                "TimePeriod": {"Start": "2025-03-01T00:00:00Z", "End": "2025-03-01T01:00:00Z"},
                "Groups": [
                    {
                        "Keys": ["unitcost:deployment$chat", "Spot Instances"],
                        "Metrics": {"UnblendedCost": {"Amount": "1.5", "Unit": "USD"}},
                    }
                ],
            }
        ]
    }
    (row,) = cost_explorer.parse_page(page, gb)
    assert row.keys == {
        "TAG:unitcost:deployment": "unitcost:deployment$chat",
        "PURCHASE_TYPE": "Spot Instances",
    }
    assert row.unblended == Decimal("1.5") and row.amortized == Decimal("1.5")
    rec = cost_explorer._record(row, "ce:x", 1, "r", "123456789012")
    assert rec[15] == "Dynamic" and rec[16] == '{"unitcost:deployment": "chat"}'
