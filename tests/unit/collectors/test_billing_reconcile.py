"""Stored billing totals equal an independent pandas/Decimal sum of each source file, to the cent.

Every billing fixture is covered: the FOCUS 1.0 multi-provider sample, the FOCUS 1.2 spec's
worked examples, and the AWS legacy CUR sample. Two spec examples carry an impossible time
(`T30:00:00Z`); those must be refused with the row and column named, and nothing written.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from unitcost.collectors import billing

from tests.unit.collectors import billing_reference as ref
from tests.unit.collectors.conftest import FIXTURES
from unitcost import sqlfiles
from unitcost.errors import InputError
from unitcost.store import Store

BILLING = FIXTURES / "billing"
SPEC = sorted((BILLING / "focus" / "spec_examples_v1.2").glob("*.csv"))
BROKEN_SPEC = {  # file -> (row, column) of the spec's own typo (hour 30)
    "commitment_discount_scenarios__commitment_discount_purchase_scenario_2.csv": 3,
    "commitment_discount_scenarios__commitment_discount_purchase_scenario_3.csv": 4,
}
# The spec's SaaS examples write money for people (`$10,000.00 `): refused by the one money rule
# (unitcost/money.py), naming the first such value. file -> (row, column, text)
CURRENCY_TEXT = {
    "saas_examples__simple_agreements__simple_saas_agreements_a1.csv": (
        1,
        "BilledCost",
        "$10,000.00 ",
    ),
    "saas_examples__simple_agreements__simple_saas_agreements_a2.csv": (
        1,
        "BilledCost",
        "$50,000.00 ",
    ),
    "saas_examples__simple_agreements__simple_saas_agreements_a3.csv": (
        1,
        "BilledCost",
        "$1,000.00 ",
    ),
    "saas_examples__simple_agreements__simple_saas_agreements_b.csv": (
        1,
        "BilledCost",
        "$50,000.00 ",
    ),
    "saas_examples__simple_agreements__simple_saas_agreements_c.csv": (
        1,
        "BilledCost",
        "$10,100.00 ",
    ),
}
CENT = Decimal("0.01")


def stored_totals(store: Store, source_file: str) -> dict[tuple[str, str], tuple[Decimal, Decimal]]:
    with store.read() as con:
        rows = con.execute(
            sqlfiles.load("queries", "billing_totals_by_provider_month"), [source_file]
        ).fetchall()
    return {(p, m): (Decimal(b or 0), Decimal(e or 0)) for p, m, b, e in rows}


def assert_same_to_the_cent(
    got: dict[tuple[str, str], tuple[Decimal, Decimal]],
    want: dict[tuple[str, str], tuple[Decimal, Decimal]],
) -> None:
    assert set(got) == set(want)
    for key, (billed, effective) in want.items():
        assert got[key][0].quantize(CENT) == billed.quantize(CENT), key
        assert got[key][1].quantize(CENT) == effective.quantize(CENT), key
        # DECIMAL(38, 10) keeps 10 places; sources with 11 lose at most 1e-10 per row
        tol = Decimal("1e-10") * 2000
        assert abs(got[key][0] - billed) <= tol and abs(got[key][1] - effective) <= tol, key


@pytest.mark.parametrize(
    "path",
    [BILLING / "focus" / "focus_1.0_sample_1000_multiprovider.csv"]
    + [p for p in SPEC if p.name not in BROKEN_SPEC and p.name not in CURRENCY_TEXT],
    ids=lambda p: p.name[:60],
)
def test_focus_file_reconciles(cstore: Store, path: Path) -> None:
    load = billing.load_file(cstore, str(path))
    assert load.source_format.startswith("focus-")
    assert load.rows == len(ref.read(path))
    assert_same_to_the_cent(stored_totals(cstore, str(path)), ref.focus_totals(path))


def test_focus_sample_per_provider(cstore: Store) -> None:
    """The multi-provider sample splits into AWS, Microsoft and Oracle, Sept 2024, as documented."""
    path = BILLING / "focus" / "focus_1.0_sample_1000_multiprovider.csv"
    billing.load_file(cstore, str(path))
    with cstore.read() as con:
        rows = con.execute(
            "SELECT ProviderName, count(*), count(*) FILTER (WHERE EffectiveCost = 0) "
            "FROM billing_line_items GROUP BY 1 ORDER BY 1"
        ).fetchall()
    # PROVENANCE: Oracle rows have EffectiveCost 0
    assert rows == [("AWS", 942, rows[0][2]), ("Microsoft", 51, rows[1][2]), ("Oracle", 7, 7)]


def test_cur_legacy_reconciles(cstore: Store) -> None:
    path = BILLING / "aws" / "aws_legacy_cur_sample_anonymous_focus_converters.csv"
    load = billing.load_file(cstore, str(path))
    assert load.source_format == "cur-legacy"
    assert load.rows == 1281
    assert_same_to_the_cent(stored_totals(cstore, str(path)), ref.cur_totals(path))


@pytest.mark.parametrize("name", sorted(BROKEN_SPEC))
def test_spec_typo_is_refused_with_row_and_column(cstore: Store, name: str) -> None:
    path = BILLING / "focus" / "spec_examples_v1.2" / name
    with pytest.raises(InputError) as err:
        billing.load_file(cstore, str(path))
    msg = str(err.value)
    assert f"row {BROKEN_SPEC[name]}" in msg
    assert "'ChargePeriodEnd'" in msg and "2023-02-01T30:00:00Z" in msg and str(path) in msg
    with cstore.read() as con:
        assert con.execute("SELECT count(*) FROM billing_line_items").fetchone() == (0,)
        assert con.execute("SELECT count(*) FROM billing_files").fetchone() == (0,)


def _spec(name: str) -> Path:
    return BILLING / "focus" / "spec_examples_v1.2" / f"{name}.csv"


def test_spec_commitment_usage_is_amortized(cstore: Store) -> None:
    """Usage scenario 1: covered usage bills 0 cash but carries 1.00 of amortized cost."""
    path = _spec("commitment_discount_scenarios__commitment_discount_usage_scenario_1")
    billing.load_file(cstore, str(path))
    with cstore.read() as con:
        row = con.execute(
            "SELECT ChargeCategory, PricingCategory, BilledCost, EffectiveCost, "
            "CommitmentDiscountStatus FROM billing_line_items"
        ).fetchall()
    assert row == [("Usage", "Committed", Decimal("0"), Decimal("1"), "Used")]


def test_spec_mixed_usage_keeps_committed_and_standard_apart(cstore: Store) -> None:
    """Usage scenario 4: 1h covered (billed 0, effective 1.00) + 1h on demand (0.50 / 0.50)."""
    path = _spec("commitment_discount_scenarios__commitment_discount_usage_scenario_4")
    billing.load_file(cstore, str(path))
    with cstore.read() as con:
        rows = con.execute(
            "SELECT PricingCategory, sum(BilledCost), sum(EffectiveCost), "
            "count(CommitmentDiscountId) FROM billing_line_items GROUP BY 1 ORDER BY 1"
        ).fetchall()
    assert rows == [
        ("Committed", Decimal("0"), Decimal("1"), 1),
        ("Standard", Decimal("0.5"), Decimal("0.5"), 0),  # `null` text stored as NULL
    ]


def test_spec_purchase_is_cash_not_amortized(cstore: Store) -> None:
    """Purchase scenario 1: the commitment purchase is billed cash with zero effective cost."""
    path = _spec("commitment_discount_scenarios__commitment_discount_purchase_scenario_1")
    billing.load_file(cstore, str(path))
    with cstore.read() as con:
        rows = con.execute(
            "SELECT ChargeCategory, sum(BilledCost), sum(EffectiveCost) FROM billing_line_items "
            "GROUP BY 1"
        ).fetchall()
    want = ref.focus_totals(path)
    billed = sum(v[0] for v in want.values())
    assert rows == [("Purchase", billed, Decimal(0))]
    assert billed > 0


def test_cur_spot_on_demand_and_commitment_told_apart(cstore: Store, tmp_path: Path) -> None:
    """PricingCategory from CUR: SpotUsage -> Dynamic, RI/SP-covered -> Committed, else Standard."""
    src = BILLING / "aws" / "aws_legacy_cur_sample_anonymous_focus_converters.csv"
    df = ref.read(src).head(3).copy()
    df.loc[0, ["lineItem/LineItemType", "lineItem/UsageType"]] = ["Usage", "USE1-SpotUsage:g5.xl"]
    df.loc[1, ["lineItem/LineItemType", "lineItem/UsageType"]] = ["DiscountedUsage", "BoxUsage:p5"]
    df.loc[2, ["lineItem/LineItemType", "lineItem/UsageType"]] = ["Usage", "BoxUsage:g5.xlarge"]
    df["product/instanceType"] = ["g5.xlarge", "p5.48xlarge", "g5.xlarge"]
    df["reservation/EffectiveCost"] = ["", "7.25", ""]
    df["lineItem/UnblendedCost"] = ["1.10", "0", "2.00"]
    path = tmp_path / "cur.csv"
    df.to_csv(path, index=False)
    billing.load_file(cstore, str(path))
    with cstore.read() as con:
        rows = con.execute(
            "SELECT source_row, PricingCategory, x_InstanceType, BilledCost, EffectiveCost "
            "FROM billing_line_items ORDER BY source_row"
        ).fetchall()
    assert rows == [
        (1, "Dynamic", "g5.xlarge", Decimal("1.1"), Decimal("1.1")),
        (2, "Committed", "p5.48xlarge", Decimal("0"), Decimal("7.25")),
        (3, "Standard", "g5.xlarge", Decimal("2"), Decimal("2")),
    ]


@pytest.mark.parametrize("name", sorted(CURRENCY_TEXT))
def test_spec_money_written_for_people_is_refused(cstore: Store, name: str) -> None:
    """`$10,000.00` is refused like `12,50`: one rule, the file, row and column named."""
    path = BILLING / "focus" / "spec_examples_v1.2" / name
    row, column, text = CURRENCY_TEXT[name]
    with pytest.raises(InputError) as err:
        billing.load_file(cstore, str(path))
    msg = str(err.value)
    assert msg.startswith(f"{path}, row {row}, column '{column}': {text!r} is not a decimal number")
    assert "no currency sign" in msg
    with cstore.read() as con:
        assert con.execute("SELECT count(*) FROM billing_files").fetchone() == (0,)
