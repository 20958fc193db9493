"""Native Azure / OCI exports get the loaders' guarantees: bad input refused whole with file,
row and column named; reloads idempotent; every unmapped column kept; cost rules labelled.
Also: every column of Azure's FOCUS 1.2 export schema is accepted by the FOCUS loader."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from unitcost.collectors import billing

from tests.unit.collectors.conftest import FIXTURES, new_store
from unitcost.errors import InputError
from unitcost.store import Store

AZURE = FIXTURES / "billing" / "azure"
ACTUAL = AZURE / "azure_ea_actualcost_small.csv"
ANONYMOUS = AZURE / "azure_ea_export_anonymous_focus_converters.csv"
OCI = FIXTURES / "billing" / "oci" / "oci_cost_report_sample_focus_converters.csv"
SCHEMA = AZURE / "azure_focuscost_1.2_export_schema.json"


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def count(store: Store) -> int:
    with store.read() as con:
        row = con.execute("SELECT count(*) FROM billing_line_items").fetchone()
    return int(row[0]) if row else -1


def broken_copy(src: Path, dst: Path, row: int, column: str, value: str) -> Path:
    df = read(src)
    df.loc[row - 1, column] = value
    df.to_csv(dst, index=False)
    return dst


@pytest.mark.parametrize(
    ("src", "name", "row", "column", "value"),
    [
        (ACTUAL, "azure_actualcost.csv", 5, "Cost", "12,5"),
        (ACTUAL, "azure_actualcost.csv", 7, "Date", "2023-13-45"),
        (ACTUAL, "azure_actualcost.csv", 3, "Tags", '"env": prod'),
        (OCI, "oci.csv", 200, "cost/myCost", "n/a"),
        (OCI, "oci.csv", 17, "lineItem/intervalUsageStart", "yesterday"),
    ],
    ids=["azure-money", "azure-date", "azure-tags", "oci-money", "oci-time"],
)
def test_bad_value_names_file_row_column_and_writes_nothing(
    cstore: Store, tmp_path: Path, src: Path, name: str, row: int, column: str, value: str
) -> None:
    bad = broken_copy(src, tmp_path / name, row, column, value)
    with pytest.raises(InputError) as err:
        billing.load_file(cstore, str(bad))
    msg = str(err.value)
    assert str(bad) in msg and f"row {row}" in msg and f"'{column}'" in msg, msg
    assert count(cstore) == 0


def test_truncated_azure_row_is_refused(cstore: Store, tmp_path: Path) -> None:
    lines = ACTUAL.read_text(encoding="utf-8-sig").splitlines()
    lines[4] = lines[4].rsplit(",", 20)[0]  # data row 4 cut short
    bad = tmp_path / "azure_actualcost_cut.csv"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"azure_actualcost_cut.csv, row 4"):
        billing.load_file(cstore, str(bad))
    assert count(cstore) == 0


def test_missing_cost_column_named(cstore: Store, tmp_path: Path) -> None:
    df = read(ANONYMOUS).drop(columns=["CostInBillingCurrency"])
    df.to_csv(tmp_path / "az.csv", index=False)
    # without a cost column the header no longer looks like Azure at all
    with pytest.raises(InputError, match="not a billing export unitcost knows"):
        billing.load_file(cstore, str(tmp_path / "az.csv"))
    df = read(OCI).drop(columns=["lineItem/intervalUsageStart"])
    df.to_csv(tmp_path / "oci.csv", index=False)
    with pytest.raises(InputError, match=r"column 'line_item_interval_usage_start'.*required"):
        billing.load_file(cstore, str(tmp_path / "oci.csv"))
    assert count(cstore) == 0


@pytest.mark.parametrize("src", [ACTUAL, ANONYMOUS, OCI], ids=["actual", "anonymous", "oci"])
def test_reload_is_idempotent(cstore: Store, src: Path) -> None:
    def snapshot() -> list[tuple[object, ...]]:
        with cstore.read() as con:
            return con.execute(
                "SELECT * EXCLUDE (collector_run_id) FROM billing_line_items ORDER BY source_row"
            ).fetchall()

    billing.load_file(cstore, str(src))
    first = snapshot()
    billing.load_file(cstore, str(src), force=True)
    assert snapshot() == first and len(first) == len(read(src))


@pytest.mark.parametrize("src", [ACTUAL, ANONYMOUS, OCI], ids=["actual", "anonymous", "oci"])
def test_unmapped_columns_kept_verbatim_and_cost_rule_labelled(cstore: Store, src: Path) -> None:
    load = billing.load_file(cstore, str(src))
    assert load.extra_columns
    df = read(src)
    with cstore.read() as con:
        ext = con.execute(
            "SELECT source_row, x_Extensions FROM billing_line_items ORDER BY source_row"
        ).fetchall()
    assert len(ext) == len(df)
    for row, text in ext:
        got = json.loads(text)
        assert got["x_unitcost_CostBasis"]
        for col in load.extra_columns:
            value = df.loc[row - 1, col]
            assert (got.get(col) or "") == value, (row, col)
        if "x_unitcost_SourceCost" in got:
            cost_col = "Cost" if "Cost" in df.columns else "CostInBillingCurrency"
            assert got["x_unitcost_SourceCost"] == df.loc[row - 1, cost_col]


def test_azure_and_oci_tags_are_json_objects(cstore: Store) -> None:
    billing.load_file(cstore, str(ACTUAL))
    billing.load_file(cstore, str(OCI))
    with cstore.read() as con:
        rows = con.execute(
            "SELECT ProviderName, source_row, Tags FROM billing_line_items ORDER BY 1, 2"
        ).fetchall()
    az = read(ACTUAL)
    for prov, row, tags in rows:
        if prov == "Microsoft":
            text = az.loc[row - 1, "Tags"]
            assert (tags is None) == (text == "")
            if text:
                assert json.loads(tags) == json.loads("{" + text + "}")
    oci_tagged = [json.loads(t) for p, _, t in rows if p == "Oracle" and t is not None]
    assert oci_tagged and all(isinstance(t, dict) for t in oci_tagged)
    assert "Oracle-Tags.CreatedBy" in set().union(*oci_tagged)


def test_azure_focus_1_2_export_schema_columns_all_accepted(cstore: Store, tmp_path: Path) -> None:
    """A file with every column Azure's FOCUS 1.2 export declares loads as FOCUS 1.2, and each
    column is either a billing_line_items column or kept in x_Extensions."""
    mappings = json.loads(SCHEMA.read_text(encoding="utf-8"))["translator"]["mappings"]
    names = [m["source"]["name"] for m in mappings]
    sample = {"Decimal": "1.5", "DateTimeOffset": "2024-09-01T00:00:00Z", "Boolean": "true"}
    values = {m["source"]["name"]: sample.get(m["source"]["type"], "x") for m in mappings}
    values["Tags"] = '{"unitcost:deployment": "llama"}'
    path = tmp_path / "azure_focus_1.2.csv"
    pd.DataFrame([values], columns=names).to_csv(path, index=False)
    load = billing.load_file(cstore, str(path))
    assert load.source_format == "focus-1.2"
    with cstore.read() as con:
        stored = {r[0] for r in con.execute("DESCRIBE billing_line_items").fetchall()}
        row = con.execute(
            "SELECT BilledCost, EffectiveCost, ChargePeriodStart, Tags, x_Extensions "
            "FROM billing_line_items"
        ).fetchone()
    assert row is not None
    kept = set(json.loads(row[4]))
    assert set(names) <= (stored | kept)
    assert set(load.extra_columns) == kept and len(names) == 104
    assert (row[0], row[1]) == (Decimal("1.5"), Decimal("1.5"))
    assert json.loads(row[3]) == {"unitcost:deployment": "llama"}


@pytest.mark.parametrize(
    ("name", "kind"), [("derived_actualcost.csv", "actual"), ("derived_export.csv", "unknown")]
)
def test_commitment_rows_get_null_not_a_guess(
    cstore: Store, tmp_path: Path, name: str, kind: str
) -> None:
    """Derived from the amortized sample: its reservation and savings plan usage rows plus two
    on-demand rows. As an actual export (covered usage at Cost 0, as Azure shows it) the
    EffectiveCost of covered usage is unknown; as an export of unknown kind both costs are."""
    from tests.unit.collectors.test_billing_native_reconcile import azure_reference
    from tests.unit.collectors.test_billing_reconcile import assert_same_to_the_cent, stored_totals

    df = read(AZURE / "azure_ea_amortizedcost_small.csv").head(4).copy()
    assert list(df["PricingModel"]) == ["Reservation", "SavingsPlan", "OnDemand", "OnDemand"]
    if kind == "actual":
        df.loc[:1, "Cost"] = "0"
    path = tmp_path / name
    df.to_csv(path, index=False)
    billing.load_file(cstore, str(path))
    want, unknown = azure_reference(path, kind)
    assert unknown == 2
    assert_same_to_the_cent(stored_totals(cstore, str(path)), want)
    with cstore.read() as con:
        rows = con.execute(
            "SELECT source_row, BilledCost IS NULL, EffectiveCost IS NULL, "
            "x_Extensions->>'x_unitcost_CostBasis' FROM billing_line_items ORDER BY 1"
        ).fetchall()
    both = kind == "unknown"
    assert [r[:3] for r in rows] == [
        (1, both, True),
        (2, both, True),
        (3, False, False),
        (4, False, False),
    ]
    assert all("unknown" in r[3] for r in rows[:2]) and "unknown" not in rows[2][3].split(":")[1]


def test_mca_style_camel_case_header_loads_the_same(cstore: Store, tmp_path: Path) -> None:
    """MCA exports spell the same columns camelCase (`costInBillingCurrency`, `date`, ...)."""
    df = read(ANONYMOUS)
    df.columns = [c[0].lower() + c[1:] for c in df.columns]
    path = tmp_path / "mca_export.csv"
    df.to_csv(path, index=False)
    other = new_store(tmp_path / "mca.duckdb")  # one store would count the same bill once
    billing.load_file(other, str(path))
    billing.load_file(cstore, str(ANONYMOUS))
    got = []
    for store in (cstore, other):
        with store.read() as con:
            got += con.execute(
                "SELECT source_file = ?, source_format, BillingCurrency, count(*), "
                "sum(BilledCost), sum(EffectiveCost), count(Tags), count(PricingCategory) "
                "FROM billing_line_items GROUP BY ALL ORDER BY 1",
                [str(path)],
            ).fetchall()
    assert len(got) == 2 and got[0][1:] == got[1][1:]
    assert got[0][2] == "CAD" and got[0][3] == len(df)
