"""The price catalog: built from the public snapshot, layered, validated all-or-nothing."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from unitcost import prices
from unitcost.config import PriceRow
from unitcost.errors import InputError
from unitcost.store import Store

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "prices"


def test_shipped_table_is_the_snapshot_converted(tmp_path: Path) -> None:
    recs = prices.read_price_file(FIXTURES / "gpu_instance_prices_snapshot.csv", origin="shipped")
    out = tmp_path / "rebuilt.csv"
    prices.write_catalog_csv(recs, out)
    assert out.read_text() == prices.shipped_catalog_path().read_text()


def test_pre_cut_aws_rows_are_marked(store: Store) -> None:
    with store.write() as con:
        prices.load_shipped(con)
        rows = prices.list_prices(con, provider="aws")
    by_type = {(r["instance_type"], r["price_model"]): r for r in rows}
    for inst in ("p4d.24xlarge", "p4de.24xlarge", "p5.48xlarge", "p5en.48xlarge"):
        assert by_type[(inst, "on_demand")]["caveat"] == prices.PRE_CUT_CAVEAT, inst
    assert by_type[("g6.xlarge", "on_demand")]["caveat"] is None
    p5 = by_type[("p5.48xlarge", "on_demand")]
    assert p5["on_demand_usd_per_hour"] == Decimal("98.320000")
    assert p5["on_demand_usd_per_gpu_hour"] == Decimal("12.29")
    assert (p5["spot_usd_per_hour_low"], p5["spot_usd_per_hour_high"]) == (
        Decimal("20.99"),
        Decimal("30.33"),
    )


def test_import_overrides_shipped_and_config_overrides_import(store: Store, tmp_path: Path) -> None:
    f = tmp_path / "mine.csv"
    f.write_text(
        ",".join(prices.CATALOG_COLUMNS) + "\n"
        "aws,us-east-1,p5.48xlarge,on_demand,H100,8,80,55.04,,,my AWS quote,2025-07-01,true,\n"
    )
    with store.write() as con:
        prices.load_shipped(con)
        assert prices.import_prices(con, f) == 1
        row = next(
            r
            for r in prices.list_prices(con, gpu="h100")
            if r["instance_type"] == "p5.48xlarge" and r["price_model"] == "on_demand"
        )
        assert (row["origin"], row["on_demand_usd_per_hour"]) == ("import", Decimal("55.04"))
        prices.sync_config(
            con,
            [
                PriceRow(
                    provider="aws",
                    region="us-east-1",
                    instance_type="p5.48xlarge",
                    gpu_model="H100",
                    gpu_count=8,
                    on_demand_usd_per_hour=Decimal("50"),
                )
            ],
        )
        row = next(
            r
            for r in prices.list_prices(con, gpu="h100")
            if r["instance_type"] == "p5.48xlarge" and r["price_model"] == "on_demand"
        )
        assert (row["origin"], row["on_demand_usd_per_hour"]) == ("config", Decimal("50"))


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "aws,us-east-1,x1,on_demand,H100,eight,80,1.0,,,s,2025,true,\n",
            r"row 2, column 'gpu_count': not an integer",
        ),
        (
            "aws,us-east-1,x1,on_demand,H100,8,80,-3,,,s,2025,true,\n",
            r"row 2, column 'on_demand_usd_per_hour': must be a price",
        ),
        ("aws,us-east-1,x1,on_demand,H100,8,80,1.0,,,s,2025,maybe,\n", r"row 2, column 'verified'"),
        (
            "aws,us-east-1,x1,on_demand,H100,8,80,1.0,,,s,2025,true,\n"
            "aws,us-east-1,x2,on_demand,H100\n",
            r"row 3: wrong number of fields",
        ),
    ],
)
def test_bad_import_names_file_row_column_and_writes_nothing(
    store: Store, tmp_path: Path, body: str, expected: str
) -> None:
    f = tmp_path / "bad.csv"
    f.write_text(",".join(prices.CATALOG_COLUMNS) + "\n" + body)
    with store.write() as con:
        prices.load_shipped(con)
    with pytest.raises(InputError, match=expected) as exc, store.write() as con:
        prices.import_prices(con, f)
    assert str(f) in str(exc.value)
    with store.read() as con:
        assert con.execute(
            "SELECT count(*) FROM price_catalog WHERE origin = 'import'"
        ).fetchone() == (0,)


def test_missing_column_is_named(tmp_path: Path) -> None:
    f = tmp_path / "cols.csv"
    f.write_text("provider,region,instance_type\naws,us-east-1,x\n")
    with pytest.raises(InputError, match="column 'gpu_model'"):
        prices.read_price_file(f)


def test_source_names_the_publisher_and_note_says_how_gathered() -> None:
    assert prices.split_source(
        "aws.amazon.com/ec2/capacityblocks/pricing (seen via mirror page)"
    ) == (
        "aws.amazon.com/ec2/capacityblocks/pricing",
        "seen via mirror page",
    )
    assert prices.split_source("AWS public list price") == ("AWS public list price", None)
    rows = prices.read_price_file(prices.shipped_catalog_path(), origin="shipped")
    assert all("(" not in r.source for r in rows), [r.source for r in rows if "(" in r.source]
    g4 = next(r for r in rows if r.instance_type == "g4dn.xlarge")
    assert (g4.source, g4.as_of) == ("AWS public list price", "2025")
    assert g4.note == "not re-read this session; consistent with catalog g4dn.12xlarge"


def test_price_import_follows_the_money_rule(tmp_path: Path) -> None:
    """A price file is read by the same money rule as billing: `$1.00` and `1,000` refused."""
    from unitcost.prices import read_price_file

    good = tmp_path / "good.csv"
    header = (
        "provider,region,instance_type,price_model,gpu_model,gpu_count,gpu_mem_gb,"
        "on_demand_usd_per_hour,spot_usd_per_hour_low,spot_usd_per_hour_high,source,as_of,"
        "verified,caveat\n"
    )
    good.write_text(header + "aws,r,x,on_demand,H100,8,80,55.04,,,me,2026,true,\n")
    assert read_price_file(good, origin="import", label="good.csv")
    for text in ("$55.04", "55,04"):
        bad = tmp_path / "bad.csv"
        bad.write_text(header + f'aws,r,x,on_demand,H100,8,80,"{text}",,,me,2026,true,\n')
        with pytest.raises(InputError, match="row 2, column 'on_demand_usd_per_hour'"):
            read_price_file(bad, origin="import", label="bad.csv")
