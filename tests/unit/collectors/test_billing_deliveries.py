"""Which files are one delivery, and which delivery is current: layout and manifests only."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from unitcost.collectors import billing_deliveries as bd

from unitcost.errors import InputError

T0 = datetime(2024, 10, 2, 6, tzinfo=UTC)


def entry(rel: str, when: datetime = T0) -> bd.Entry:
    return bd.Entry(f"s3://bills/{rel}", rel, 10, when, f"etag={rel}")


def plan(entries: list[bd.Entry], manifests: dict[str, Any]) -> bd.Plan:
    return bd.plan(entries, lambda e: manifests[e.rel])


def ids(p: bd.Plan) -> list[list[str]]:
    return [sorted(e.rel.rsplit("/", 1)[-1] for e in d.files) for d in p.deliveries]


def test_numbered_parts_written_together_are_one_delivery() -> None:
    p = plan(
        [
            entry("gcp/focus-000000000000.csv"),
            entry("gcp/focus-000000000001.csv", T0 + timedelta(minutes=3)),
            entry("gcp/focus-000000000000.csv.gz", T0 + timedelta(minutes=3)),  # another ext
            entry("daily/focus_2024-09-14.csv", T0),  # dated names a day apart: deliveries
            entry("daily/focus_2024-09-15.csv", T0 + timedelta(days=1)),
            entry("v/sep-v1.csv"),  # a version, not a part number
            entry("v/sep-v2.csv"),
        ],
        {},
    )
    assert sorted(ids(p)) == [
        ["focus-000000000000.csv", "focus-000000000001.csv"],
        ["focus-000000000000.csv.gz"],
        ["focus_2024-09-14.csv"],
        ["focus_2024-09-15.csv"],
        ["sep-v1.csv"],
        ["sep-v2.csv"],
    ]
    assert [d.by for d in p.deliveries].count("numbered parts") == 1


def test_azure_exports_sharing_a_date_range_folder_do_not_replace_each_other() -> None:
    """Newer Azure layout: <path>/<date range>/<export>/<run time>/<guid>/."""
    files, manifests = [], {}
    for export in ("daily-actual", "daily-amortized"):
        for i in range(2):
            folder = f"ms/20240901-20240930/{export}/20241002060{i}/g{i}"
            files += [entry(f"{folder}/part_0_0001.csv"), entry(f"{folder}/manifest.json")]
            manifests[f"{folder}/manifest.json"] = {
                "exportConfig": {"exportName": export},
                "runInfo": {"runId": f"g{i}", "submittedTime": f"2024-10-0{2 + i}T06:00:00Z"},
                "blobs": [{"blobName": f"{folder}/part_0_0001.csv"}],
            }
    p = plan(files, manifests)
    assert len(p.deliveries) == 2 and {d.files[0].rel.split("/")[2] for d in p.deliveries} == {
        "daily-actual",
        "daily-amortized",
    }
    assert all("/20241002060" in d.files[0].rel and d.delivered_at.day == 3 for d in p.deliveries)
    assert len(p.superseded) == 2


def test_two_runs_with_the_same_submitted_time_are_refused() -> None:
    files, manifests = [], {}
    for run in ("a", "b"):
        folder = f"ms/exp/20240901-20240930/202410020600/{run}"
        files += [entry(f"{folder}/part_0_0001.csv"), entry(f"{folder}/manifest.json")]
        manifests[f"{folder}/manifest.json"] = {
            "runInfo": {"runId": run, "submittedTime": "2024-10-02T06:00:00.1234567Z"},
            "blobs": [{"blobName": f"{folder}/part_0_0001.csv"}],
        }
    p = bd.Plan()
    with pytest.raises(InputError, match="same submitted time; cannot tell which is current"):
        p = plan(files, manifests)
    assert p.deliveries == []


def test_data_exports_partition_names_any_case_and_s3_uris() -> None:
    root = "cur2/exp"
    m = f"{root}/metadata/billing_period=2024-09/exp-Manifest.json"
    p = plan(
        [entry(f"{root}/data/billing_period=2024-09/exp-00001.snappy.parquet"), entry(m)],
        {
            m: {
                "executionId": "e1",
                "dataFiles": [
                    f"s3://bills/{root}/data/billing_period=2024-09/exp-00001.snappy.parquet"
                ],
            }
        },
    )
    assert ids(p) == [["exp-00001.snappy.parquet"]] and p.deliveries[0].delivery_id.endswith(":e1")


@pytest.mark.parametrize(
    ("doc", "what"),
    [
        ({"assemblyId": "a"}, "manifest without reportKeys"),
        (ValueError("Expecting value: line 1 column 1"), "cannot read this manifest"),
        ([1, 2], "not a JSON object"),
    ],
)
def test_unreadable_manifests_are_named(doc: Any, what: str) -> None:
    m = "cur/r/20240901-20241001/r-Manifest.json"

    def read(e: bd.Entry) -> Any:
        if isinstance(doc, Exception):
            raise doc
        return json.loads(json.dumps(doc))

    with pytest.raises(InputError) as err:
        bd.plan([entry(m), entry("cur/r/20240901-20241001/a/r-1.csv.gz")], read)
    assert str(err.value).startswith(f"s3://bills/{m}: ") and what in str(err.value)
