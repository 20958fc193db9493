"""Azure EA cost exports and the OCI cost report reconcile with an independent pandas sum.

The reference sums below are written from the providers' documented semantics (Azure: an
ActualCost export holds invoiced cost, an AmortizedCost export holds commitment purchases spread
over the usage they cover; OCI: cost/myCost is the cost of each usage line), with pandas and
Decimal, sharing no code with the loader. They also state which rows carry no figure for the
other FOCUS cost (the loader must store NULL there, not a guess).

Every billing export among the fixtures is reconciled here or in test_billing_reconcile;
the files that are not exports (Azure mapping tables, Azure's FOCUS 1.2 export schema) are
listed and checked for what they are.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from unitcost.collectors import billing

from tests.unit.collectors.conftest import FIXTURES
from tests.unit.collectors.test_billing_reconcile import assert_same_to_the_cent, stored_totals
from unitcost.errors import InputError
from unitcost.store import Store

BILLING = FIXTURES / "billing"
AZURE = BILLING / "azure"
ACTUAL = AZURE / "azure_ea_actualcost_small.csv"
AMORTIZED = AZURE / "azure_ea_amortizedcost_small.csv"
ANONYMOUS = AZURE / "azure_ea_export_anonymous_focus_converters.csv"
OCI = BILLING / "oci" / "oci_cost_report_sample_focus_converters.csv"

# Billing exports (each reconciled by a test) and the fixtures that are not exports.
EXPORTS_ELSEWHERE = {  # reconciled in test_billing_reconcile.py
    "focus/focus_1.0_sample_1000_multiprovider.csv",
    "aws/aws_legacy_cur_sample_anonymous_focus_converters.csv",
}
NATIVE_EXPORTS = {
    "azure/azure_ea_actualcost_small.csv": "azure-ea-actual",
    "azure/azure_ea_amortizedcost_small.csv": "azure-ea-amortized",
    "azure/azure_ea_export_anonymous_focus_converters.csv": "azure-ea",
    "oci/oci_cost_report_sample_focus_converters.csv": "oci-cost-report",
}
NOT_EXPORTS = {  # FinOps toolkit lookup tables (UnitOfMeasure, ConsumedService mappings)
    "azure/finops_toolkit_PricingUnits.csv",
    "azure/finops_toolkit_Services.csv",
}
COMMITMENT_MODELS = {"Reservation", "SavingsPlan"}
UNUSED = {"UnusedReservation", "UnusedSavingsPlan"}

Totals = dict[tuple[str, str], tuple[Decimal, Decimal]]


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def dec(text: str) -> Decimal:
    return Decimal(text.strip()) if text.strip() else Decimal(0)


def azure_reference(path: Path, kind: str) -> tuple[Totals, int]:
    """(Microsoft, month) -> (billed, effective), and the number of rows whose other cost is
    not in the file. kind: actual, amortized, or unknown (the export does not say)."""
    df = read(path).rename(columns=str.lower)
    cost_col = "costinbillingcurrency" if "costinbillingcurrency" in df.columns else "cost"
    sums: dict[tuple[str, str], list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    unknown = 0
    for _, r in df.iterrows():
        cost = dec(r[cost_col])
        commitment = r["pricingmodel"] in COMMITMENT_MODELS or r["chargetype"] in UNUSED
        purchase = r["chargetype"] in ("Purchase", "Refund")
        day = pd.to_datetime(r["date"], format="%m/%d/%Y")
        key = ("Microsoft", f"{day.year:04d}-{day.month:02d}")
        if kind == "actual":
            billed = cost
            effective = Decimal(0) if commitment else cost  # covered usage: unknown, not summed
            unknown += commitment and not purchase
        elif kind == "amortized":
            effective = cost
            billed = Decimal(0) if commitment and not purchase else cost
        else:
            billed = effective = Decimal(0) if commitment else cost
            unknown += commitment
        sums[key][0] += billed
        sums[key][1] += effective
    return {k: (v[0], v[1]) for k, v in sums.items()}, unknown


def oci_reference(path: Path) -> Totals:
    df = read(path)
    sums: dict[tuple[str, str], list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for _, r in df.iterrows():
        key = ("Oracle", r["lineItem/intervalUsageStart"][:7])
        sums[key][0] += dec(r["cost/myCost"])
        sums[key][1] += dec(r["cost/myCost"])
    return {k: (v[0], v[1]) for k, v in sums.items()}


def null_costs(store: Store, path: Path) -> tuple[int, int]:
    with store.read() as con:
        row = con.execute(
            "SELECT count(*) FILTER (WHERE BilledCost IS NULL), "
            "count(*) FILTER (WHERE EffectiveCost IS NULL) FROM billing_line_items "
            "WHERE source_file = ?",
            [str(path)],
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


@pytest.mark.parametrize(
    ("path", "kind", "fmt"),
    [
        (ACTUAL, "actual", "azure-ea-actual"),
        (AMORTIZED, "amortized", "azure-ea-amortized"),
        (ANONYMOUS, "unknown", "azure-ea"),
    ],
    ids=["actual", "amortized", "kind-unknown"],
)
def test_azure_export_reconciles(cstore: Store, path: Path, kind: str, fmt: str) -> None:
    load = billing.load_file(cstore, str(path))
    assert load.source_format == fmt
    assert load.rows == len(read(path))
    want, unknown = azure_reference(path, kind)
    assert_same_to_the_cent(stored_totals(cstore, str(path)), want)
    billed_null, effective_null = null_costs(cstore, path)
    if kind == "actual":
        assert (billed_null, effective_null) == (0, unknown)
    elif kind == "amortized":
        assert (billed_null, effective_null) == (0, 0)
    else:
        assert (billed_null, effective_null) == (unknown, unknown)


def test_oci_cost_report_reconciles(cstore: Store) -> None:
    load = billing.load_file(cstore, str(OCI))
    assert load.source_format == "oci-cost-report"
    assert load.rows == len(read(OCI)) == 506
    assert_same_to_the_cent(stored_totals(cstore, str(OCI)), oci_reference(OCI))
    assert null_costs(cstore, OCI) == (0, 0)
    # The sample has no overage nor correction lines; the mapping of those is untested by data.
    df = read(OCI)
    assert set(df["cost/myCostOverage"]) == {""} and set(df["lineItem/isCorrection"]) == {"false"}


def test_azure_actual_vs_amortized_show_the_reservation_purchase_spread(
    cstore: Store, tmp_path: Path
) -> None:
    """What the pair shows: the reservation purchase is cash in the actual export only (with
    EffectiveCost 0); the amortized export has commitment-covered usage (a reservation and a
    savings plan) that is effective cost but billed 0; the on-demand usage in the actual export
    appears identically in the amortized one. (Two stores: one store refuses the pair.)"""
    billing.load_file(cstore, str(ACTUAL))
    other = Store(tmp_path / "amortized.duckdb")
    other.migrate()
    billing.load_file(other, str(AMORTIZED))
    a = str(ACTUAL)
    with cstore.read() as con:
        con.execute(f"ATTACH '{other.path}' AS m (READ_ONLY)")
        purchases = con.execute(
            "SELECT source_file, PricingCategory, CommitmentDiscountType, BilledCost, "
            "EffectiveCost FROM (FROM billing_line_items UNION ALL BY NAME "
            "FROM m.billing_line_items) WHERE ChargeCategory = 'Purchase' ORDER BY source_file"
        ).fetchall()
        covered = con.execute(
            "SELECT CommitmentDiscountType, CommitmentDiscountStatus, BilledCost, EffectiveCost "
            "FROM m.billing_line_items WHERE PricingCategory = 'Committed' ORDER BY 1"
        ).fetchall()
        missing = con.execute(
            "SELECT ChargePeriodStart, ResourceId, SkuMeter, ConsumedQuantity, BilledCost, "
            "EffectiveCost FROM billing_line_items WHERE source_file = ? "
            "AND ChargeCategory = 'Usage' AND PricingCategory = 'Standard' "
            "EXCEPT ALL SELECT ChargePeriodStart, ResourceId, SkuMeter, ConsumedQuantity, "
            "BilledCost, EffectiveCost FROM m.billing_line_items",
            [a],
        ).fetchall()
    src = read(ACTUAL)
    bought = src[(src["ChargeType"] == "Purchase") & (src["PricingModel"] == "Reservation")]
    assert len(bought) == 1
    assert purchases == [(a, "Committed", "Reservation", dec(bought["Cost"].iloc[0]), Decimal(0))]
    src_m = read(AMORTIZED)
    want_covered = sorted(
        (t, "Used", Decimal(0), dec(c).quantize(Decimal("1e-10")))  # DECIMAL(38, 10)
        for t, c in zip(
            src_m.loc[src_m["PricingModel"].isin(COMMITMENT_MODELS), "PricingModel"],
            src_m.loc[src_m["PricingModel"].isin(COMMITMENT_MODELS), "Cost"],
            strict=True,
        )
    )
    want_covered = [
        ("Savings Plan" if t == "SavingsPlan" else t, s, b, e) for t, s, b, e in want_covered
    ]
    assert sorted(covered) == sorted(want_covered) and len(covered) == 2
    assert all(e > 0 for *_, e in covered)
    assert missing == []


def test_azure_actual_and_amortized_of_the_same_days_are_not_both_kept(cstore: Store) -> None:
    """Both exports list the same usage: the second is refused whole, naming both files, and
    the first stays as it was; the same file reloaded is not a double count."""
    billing.load_file(cstore, str(ACTUAL))
    before = stored_totals(cstore, str(ACTUAL))
    with pytest.raises(InputError) as err:
        billing.load_file(cstore, str(AMORTIZED))
    text = str(err.value)
    assert text.startswith(f"{AMORTIZED}: this azure-ea-amortized export")
    assert f"{ACTUAL} (azure-ea-actual)" in text and "twice" in text
    assert stored_totals(cstore, str(ACTUAL)) == before
    with cstore.read() as con:
        files = con.execute("SELECT DISTINCT source_file FROM billing_line_items").fetchall()
    assert files == [(str(ACTUAL),)]
    billing.load_file(cstore, str(ACTUAL), force=True)
    assert stored_totals(cstore, str(ACTUAL)) == before


def test_azure_pricing_categories_follow_pricing_model(cstore: Store) -> None:
    """Spot -> Dynamic, OnDemand -> Standard (the anonymous export has both), per row."""
    billing.load_file(cstore, str(ANONYMOUS))
    with cstore.read() as con:
        got = con.execute(
            "SELECT PricingCategory, count(*) FROM billing_line_items GROUP BY 1 ORDER BY 1"
        ).fetchall()
    counts = read(ANONYMOUS)["PricingModel"].value_counts()
    assert got == [("Dynamic", int(counts["Spot"])), ("Standard", int(counts["OnDemand"]))]
    assert int(counts["Spot"]) > 0


def test_every_billing_fixture_is_reconciled_or_known_not_to_be_an_export() -> None:
    files = {
        str(p.relative_to(BILLING))
        for p in BILLING.rglob("*")
        if p.is_file() and p.suffix in (".csv", ".parquet") and "spec_examples" not in str(p)
    }
    assert files == EXPORTS_ELSEWHERE | set(NATIVE_EXPORTS) | NOT_EXPORTS


@pytest.mark.parametrize("name", sorted(NATIVE_EXPORTS))
def test_native_format_detected_from_header_and_name(cstore: Store, name: str) -> None:
    assert billing.load_file(cstore, str(BILLING / name)).source_format == NATIVE_EXPORTS[name]


@pytest.mark.parametrize("name", sorted(NOT_EXPORTS))
def test_mapping_tables_are_not_loaded_as_bills(cstore: Store, name: str) -> None:
    with pytest.raises(InputError, match="not a billing export unitcost knows"):
        billing.load_file(cstore, str(BILLING / name))
