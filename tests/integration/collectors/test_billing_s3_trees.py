"""Restated exports in S3 (a real moto server): the bill once, to the cent, across collections.

The trees are the ones the local tests use (tests/unit/collectors/billing_trees.py), uploaded
under the keys the providers write; manifests are read from S3 with boto3.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from unitcost.collectors import billing
from unitcost.collectors.clients import make_boto3_client

from tests.unit.collectors import billing_trees as bt
from unitcost import sqlfiles
from unitcost.config import AwsSettings
from unitcost.store import Store

pytestmark = pytest.mark.integration
DAY = timedelta(days=1)


def upload(s3: Any, tree: bt.Tree, keys: list[str] | None = None) -> None:
    for key, (data, _when) in tree.files.items():
        if keys is None or key in keys:
            s3.put_object(Bucket="bills", Key=key, Body=data)


def collect(store: Store, s3: Any, prefix: str) -> list[billing.FileLoad]:
    loads: list[billing.FileLoad] = []
    billing.collect(store, location=f"s3://bills/{prefix}", client=s3, on_file=loads.append)
    return loads


def total(store: Store) -> Decimal:
    with store.read() as con:
        row = con.execute("SELECT sum(billed_cost) FROM billing_cost_by_deployment_daily")
        got = row.fetchone()
        assert con.execute(sqlfiles.load("checks", "billing_counted_once")).fetchall() == []
    assert got is not None
    return Decimal(got[0])


@pytest.fixture
def s3(moto_url: str) -> Any:
    client = make_boto3_client("s3", AwsSettings(endpoint_url=moto_url))
    client.create_bucket(Bucket="bills")
    return client


def test_cur_new_assembly_in_s3_replaces_the_old_one(cstore: Store, s3: Any) -> None:
    tree = bt.Tree()
    kw = {"prefix": "cur", "report": "hourly", "period": "20240901-20241001"}
    a1, ta1 = bt.cur(bt.hours(1, 24), "0.40")
    bt.cur_assembly(tree, assembly="aaaa", parts=[a1], when=bt.T0, **kw)
    upload(s3, tree)
    collect(cstore, s3, "cur/")
    assert total(cstore) == ta1
    b1, tb1 = bt.cur(bt.hours(1, 30), "0.41")
    b2, tb2 = bt.cur(bt.hours(2, 30), "0.02")
    keys = bt.cur_assembly(tree, assembly="bbbb", parts=[b1, b2], when=bt.T0 + DAY, **kw)
    upload(s3, tree, [*keys, *(k for k in tree.files if k.endswith("-Manifest.json"))])
    loads = collect(cstore, s3, "cur/")
    assert total(cstore) == tb1 + tb2
    aside = [x for x in loads if x.source_format == "superseded"]
    assert [x.source_file for x in aside] == [
        "s3://bills/cur/hourly/20240901-20241001/aaaa/hourly-1.csv.gz"
    ]
    assert "not part of the current assembly bbbb" in aside[0].notes[0]
    # nothing new: nothing downloaded or changed
    assert {x.source_format for x in collect(cstore, s3, "cur/")} == {"unchanged"}
    assert total(cstore) == tb1 + tb2


def test_data_exports_new_version_folders_in_s3(cstore: Store, s3: Any) -> None:
    tree = bt.Tree()
    sep = "exp/focus/data/BILLING_PERIOD=2024-09"
    kw = {"provider": "AWS", "account": bt.PAYER}
    v1, _ = bt.focus(bt.hours(1, 10), "1.00", **kw)
    v2, t2 = bt.focus(bt.hours(1, 20), "1.00", **kw)
    tree.add(f"{sep}/v1/focus-00001.csv", v1, bt.T0)
    tree.add(f"{sep}/v2/focus-00001.csv", v2, bt.T0 + DAY)
    bt.data_export_manifest(
        tree,
        prefix="exp",
        export="focus",
        partition="BILLING_PERIOD=2024-09",
        keys=[f"{sep}/v2/focus-00001.csv"],
        when=bt.T0 + DAY,
    )
    upload(s3, tree)
    loads = collect(cstore, s3, "exp/")
    assert total(cstore) == t2
    assert [x.source_file.rsplit("/", 2)[-2] for x in loads if x.source_format == "superseded"] == [
        "v1"
    ]


def test_azure_runs_in_blob_shaped_keys(cstore: Store, s3: Any) -> None:
    tree = bt.Tree()
    kw = {"provider": "Microsoft", "account": "/billingAccounts/1"}
    r1, _ = bt.focus(bt.hours(1, 24), "0.50", **kw)
    r2, t2 = bt.focus(bt.hours(1, 48), "0.50", **kw)
    for i, part in enumerate((r1, r2)):
        bt.azure_run(
            tree,
            base="msexports/sub/daily",
            date_range="20240901-20240930",
            run_time=bt.T0 + i * DAY,
            run_id=f"g{i}",
            parts=[part],
        )
    upload(s3, tree)
    collect(cstore, s3, "msexports/")
    assert total(cstore) == t2
