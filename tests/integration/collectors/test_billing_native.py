"""Native Azure EA and OCI exports through the real paths users take: the `unitcost collect
billing` command on a folder (a subprocess on a real DuckDB file), and an S3 prefix on a moto
server laid out as Azure's partitioned exports (the kind named by a folder, not the file)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from unitcost.collectors import billing
from unitcost.collectors.clients import make_boto3_client

from tests.integration.collectors.conftest import FIXTURES
from tests.integration.collectors.test_cli import rows, run
from tests.unit.collectors.test_billing_native_reconcile import azure_reference, oci_reference
from tests.unit.collectors.test_billing_reconcile import assert_same_to_the_cent, stored_totals
from unitcost.config import AwsSettings
from unitcost.errors import InputError
from unitcost.store import Store

pytestmark = pytest.mark.integration
AZURE = FIXTURES / "billing" / "azure"
ACTUAL = AZURE / "azure_ea_actualcost_small.csv"
AMORTIZED = AZURE / "azure_ea_amortizedcost_small.csv"
OCI = FIXTURES / "billing" / "oci" / "oci_cost_report_sample_focus_converters.csv"
# moto keeps its state for the whole process: a bucket of our own, not other tests' "bills"
BUCKET = "native-bills"


def test_cli_loads_a_folder_of_native_exports(tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    shutil.copy(ACTUAL, folder / ACTUAL.name)
    shutil.copy(OCI, folder / OCI.name)
    assert run(tmp_path, "db", "init").returncode == 0
    res = run(tmp_path, "collect", "billing", "--source", str(folder))
    assert res.returncode == 0, res.stderr
    said = " ".join((res.stdout + res.stderr).split())
    assert "11 rows (azure-ea-actual)" in said and "506 rows (oci-cost-report)" in said
    got = rows(
        tmp_path,
        "SELECT source_format, count(*) FROM billing_line_items GROUP BY 1 ORDER BY 1",
    )
    assert got == [("azure-ea-actual", 11), ("oci-cost-report", 506)]
    again = run(tmp_path, "collect", "billing", "--source", str(folder), "--force")
    assert again.returncode == 0, again.stderr
    assert rows(tmp_path, "SELECT count(*) FROM billing_line_items") == [(517,)]


def test_s3_partitioned_azure_exports_reconcile(
    cstore: Store, moto_url: str, tmp_path: Path
) -> None:
    """The usual Azure layout: an ActualCost and an AmortizedCost export of the same month side
    by side. Collected as one source, the second kind is refused (same usage twice); collected
    one prefix per store, each reconciles to the cent with its file."""
    s3 = make_boto3_client("s3", AwsSettings(endpoint_url=moto_url))
    s3.create_bucket(Bucket=BUCKET)
    actual_key = "azure/daily-ActualCost/20230901-20230930/run1/part_0_0001.csv"
    amortized_key = "azure/daily-AmortizedCost/20230901-20230930/run1/part_0_0001.csv"
    s3.upload_file(str(ACTUAL), BUCKET, actual_key)
    s3.upload_file(str(AMORTIZED), BUCKET, amortized_key)
    s3.upload_file(str(OCI), BUCKET, "oci/reports/cost-csv/0001.csv")
    other = Store(tmp_path / "actual.duckdb")
    other.migrate()
    with pytest.raises(InputError, match="count it twice"):  # actual loads, amortized refused
        billing.collect(other, location=f"s3://{BUCKET}/azure/", client=s3)
    billing.collect(other, location=f"s3://{BUCKET}/azure/daily-ActualCost/", client=s3)
    billing.collect(cstore, location=f"s3://{BUCKET}/azure/daily-AmortizedCost/", client=s3)
    billing.collect(cstore, location=f"s3://{BUCKET}/oci/", client=s3)
    for store, key, src, kind in (
        (other, actual_key, ACTUAL, "actual"),
        (cstore, amortized_key, AMORTIZED, "amortized"),
    ):
        want, _ = azure_reference(src, kind)
        assert_same_to_the_cent(stored_totals(store, f"s3://{BUCKET}/{key}"), want)
    assert_same_to_the_cent(
        stored_totals(cstore, f"s3://{BUCKET}/oci/reports/cost-csv/0001.csv"), oci_reference(OCI)
    )
    formats = {}
    for name, store in (("actual", other), ("amortized", cstore)):
        with store.read() as con:
            formats[name] = con.execute(
                "SELECT source_format FROM billing_files ORDER BY source_file"
            ).fetchall()
    # the refused amortized load left nothing behind in the actual store
    assert formats == {
        "actual": [("azure-ea-actual",)],
        "amortized": [("azure-ea-amortized",), ("oci-cost-report",)],
    }
