"""Loading billing files: bad input is refused whole, extras kept, reloads are idempotent."""

from __future__ import annotations

import gzip
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from unitcost.collectors import billing, billing_formats

from tests.unit.collectors.conftest import FIXTURES, new_store
from unitcost import sqlfiles
from unitcost.errors import InputError
from unitcost.store import Store

SAMPLE = FIXTURES / "billing" / "focus" / "focus_1.0_sample_1000_multiprovider.csv"
CUR = FIXTURES / "billing" / "aws" / "aws_legacy_cur_sample_anonymous_focus_converters.csv"
HEADER = (
    "BilledCost,EffectiveCost,ChargePeriodStart,ChargePeriodEnd,BillingCurrency,ProviderName,"
    "PricingCategory,Tags,x_GpuHours"
)


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def count(store: Store, table: str = "billing_line_items") -> int:
    with store.read() as con:
        row = con.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(row[0]) if row else -1


def good_rows() -> str:
    return (
        f"{HEADER}\n"
        "1.25,1.00,2025-01-01T00:00:00Z,2025-01-01T01:00:00Z,EUR,AWS,Dynamic,"
        '"{""unitcost:deployment"": ""chat""}",8\n'
        "2.50,2.50,2025-01-01 01:00:00,2025-01-01 02:00:00,EUR,AWS,Standard,NULL,\n"
    )


def test_nulls_currency_extensions_and_decimals(cstore: Store, tmp_path: Path) -> None:
    path = write(tmp_path, "f.csv", good_rows())
    load = billing.load_file(cstore, str(path))
    assert load.source_format == "focus-1.0" and load.rows == 2
    assert load.extra_columns == ["x_GpuHours"]
    with cstore.read() as con:
        rows = con.execute(
            "SELECT source_row, BilledCost, BillingCurrency, PricingCategory, "
            "Tags->>'$.\"unitcost:deployment\"', x_Extensions, typeof(BilledCost) "
            "FROM billing_line_items ORDER BY source_row"
        ).fetchall()
    assert rows[0][:5] == (1, Decimal("1.25"), "EUR", "Dynamic", "chat")
    assert rows[0][5] == '{"x_GpuHours":"8"}' and rows[0][6] == "DECIMAL(38,10)"
    # NULL text and empty fields are NULL (kept as JSON null among the extensions)
    assert rows[1][4] is None and rows[1][5] == '{"x_GpuHours":null}'


@pytest.mark.parametrize(
    ("body", "row", "column", "what"),
    [
        (
            "1.0,1.0,2025-01-01,2025-01-02,USD,AWS,Standard,,\nabc,1.0,2025-01-01,2025-01-02,USD,AWS,,,\n",
            2,
            "BilledCost",
            "'abc' is not a decimal number",
        ),
        (
            "1.0,1.0,2025-01-01,2025-01-02,USD,AWS,,,\n1.0,1.0,yesterday,2025-01-02,USD,AWS,,,\n",
            2,
            "ChargePeriodStart",
            "'yesterday' is not a timestamp",
        ),
        ("1.0,1.0,2025-01-01,2025-01-02,USD,AWS,,{not json,\n", 1, "Tags", "is not JSON"),
        (
            "1.0,1.0,2025-01-01,2025-01-02,USD,AWS,,,\n2.0,2.0,2025-01-01,2025-0",
            2,
            "ChargePeriodEnd",
            "truncated",
        ),
    ],
    ids=["money", "timestamp", "json", "truncated"],
)
def test_bad_file_names_row_and_column_and_writes_nothing(
    cstore: Store, tmp_path: Path, body: str, row: int, column: str, what: str
) -> None:
    good = write(tmp_path, "good.csv", good_rows())
    billing.load_file(cstore, str(good))
    bad = write(tmp_path, "bad.csv", f"{HEADER}\n{body}")
    with pytest.raises(InputError) as err:
        billing.load_file(cstore, str(bad))
    msg = str(err.value)
    assert msg.startswith(f"{bad}, row {row}, column '{column}'"), msg
    assert what in msg
    assert count(cstore) == 2 and count(cstore, "billing_files") == 1  # only the good file


def test_missing_required_column(cstore: Store, tmp_path: Path) -> None:
    bad = write(tmp_path, "bad.csv", "BilledCost,ChargePeriodStart\n1,2025-01-01\n")
    with pytest.raises(InputError, match=r"bad.csv, column 'EffectiveCost': required column"):
        billing.load_file(cstore, str(bad))
    assert count(cstore) == 0


def test_not_a_billing_file(cstore: Store, tmp_path: Path) -> None:
    path = write(tmp_path, "x.csv", "Date,Cost\n9/1/2023,1\n")  # no MeterCategory: not Azure
    with pytest.raises(InputError, match="not a billing export unitcost knows"):
        billing.load_file(cstore, str(path))
    assert count(cstore) == 0


def test_reload_is_idempotent_and_unchanged_file_skipped(cstore: Store) -> None:
    def snapshot() -> list[tuple[object, ...]]:
        with cstore.read() as con:
            return con.execute(
                "SELECT * EXCLUDE (collector_run_id) FROM billing_line_items ORDER BY source_row"
            ).fetchall()

    billing.load_file(cstore, str(SAMPLE))
    first = snapshot()
    again = billing.load_file(cstore, str(SAMPLE))
    assert again.skipped and snapshot() == first
    forced = billing.load_file(cstore, str(SAMPLE), force=True)
    assert not forced.skipped and forced.rows == 1000
    assert snapshot() == first and count(cstore) == 1000


def test_collect_folder_sets_watermark_and_run(cstore: Store, tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "a.csv").write_text(good_rows())
    pd.read_csv(SAMPLE, dtype=str, keep_default_na=False, na_values=["NULL"]).to_parquet(
        folder / "b.parquet"
    )
    n = billing.collect(cstore, location=str(folder))
    assert n == 1002
    with cstore.read() as con:
        wm = con.execute("SELECT watermark FROM watermarks WHERE collector='billing'").fetchone()
        run = con.execute("SELECT status, rows_written FROM collector_runs").fetchone()
        fmts = con.execute(
            "SELECT source_format, count(*) FROM billing_line_items GROUP BY 1 ORDER BY 1"
        ).fetchall()
    assert wm is not None and run == ("ok", 1002)
    assert fmts == [("focus-1.0", 1002)]


def test_parquet_float_money_keeps_decimal_text(cstore: Store, tmp_path: Path) -> None:
    """A Parquet export with DOUBLE money stores 0.1 as 0.1, not 0.1000000000000000055."""
    df = pd.DataFrame(
        {
            "BilledCost": [0.1, 0.2],
            "EffectiveCost": [0.1, 0.2],
            "ChargePeriodStart": pd.to_datetime(["2025-02-01", "2025-02-01"]),
            "ServiceProviderName": ["Google Cloud", "Google Cloud"],
            "HostProviderName": ["Google Cloud", "Google Cloud"],
        }
    )
    path = tmp_path / "gcp.parquet"
    df.to_parquet(path)
    load = billing.load_file(cstore, str(path))
    assert load.source_format == "focus-1.3"
    with cstore.read() as con:
        total = con.execute("SELECT sum(BilledCost) FROM billing_line_items").fetchone()
    assert total == (Decimal("0.3"),)


def test_cur_2_0_spelling_maps_like_legacy(cstore: Store, tmp_path: Path) -> None:
    """CUR 2.0 (snake_case) gives the same rows as the legacy CUR it was renamed from."""
    df = pd.read_csv(CUR, dtype=str, keep_default_na=False)
    df.columns = [billing_formats.canonical_cur_name(c) for c in df.columns]
    path = tmp_path / "cur2.parquet"
    df.to_parquet(path)
    other = new_store(tmp_path / "cur2.duckdb")  # one store would count the same bill once
    a = billing.load_file(cstore, str(CUR))
    b = billing.load_file(other, str(path))
    assert (a.source_format, b.source_format) == ("cur-legacy", "cur-2.0")
    rows = []
    for store in (cstore, other):
        with store.read() as con:
            rows += con.execute(
                "SELECT source_format, sum(BilledCost), sum(EffectiveCost), count(ResourceId) "
                "FROM billing_line_items GROUP BY 1 ORDER BY 1"
            ).fetchall()
    assert rows[0][1:] == rows[1][1:]


def test_canonical_cur_names() -> None:
    assert (
        billing_formats.canonical_cur_name("lineItem/UnblendedCost") == "line_item_unblended_cost"
    )
    assert (
        billing_formats.canonical_cur_name("reservation/ReservationARN")
        == "reservation_reservation_a_r_n"
    )
    assert billing_formats.canonical_cur_name("product/instanceType") == "product_instance_type"


def test_detect_focus_versions() -> None:
    d = billing_formats.detect_format
    assert d(["BilledCost", "EffectiveCost"], "f") == "focus-1.0"
    assert d(["BilledCost", "SkuMeter"], "f") == "focus-1.1"
    assert d(["BilledCost", "InvoiceId"], "f") == "focus-1.2"
    assert d(["BilledCost", "ServiceProviderName"], "f") == "focus-1.3"


def test_duckdb_reads_what_we_store(cstore: Store) -> None:
    """Lineage: every stored row points back at its file and data row."""
    billing.load_file(cstore, str(SAMPLE))
    src = duckdb.sql(
        f"SELECT \"BilledCost\" FROM read_csv('{SAMPLE}', all_varchar=true) LIMIT 5 OFFSET 9"
    ).fetchall()
    with cstore.read() as con:
        got = con.execute(
            "SELECT BilledCost FROM billing_line_items WHERE source_row BETWEEN 10 AND 14 "
            "ORDER BY source_row"
        ).fetchall()
    assert [Decimal(s[0]) for s in src] == [g[0] for g in got]


def test_csv_rows_numbered_in_file_order_across_threads_and_row_groups(
    cstore: Store, tmp_path: Path
) -> None:
    """CSV rows are inserted in parallel and numbered afterwards from their row ids: every
    row's number must still be its position in the file, over several row groups and threads,
    after a reload that deleted the file's earlier rows in the same transaction."""
    n = 300_001  # > two 122,880-row groups, so DuckDB splits the scan across threads
    path = tmp_path / "big.csv"
    con = duckdb.connect()
    con.execute(
        "COPY (SELECT (i % 97) / 8 AS BilledCost, 1 AS EffectiveCost, "
        "'2025-01-01 00:00:00' AS ChargePeriodStart, 'USD' AS BillingCurrency, "
        "'arn:aws:ec2:us-east-1:123456789012:instance/i-' || i AS ResourceId, "
        "i + 1 AS x_Line FROM range(?) t(i)) TO '" + str(path) + "' (HEADER)",
        [n],
    )
    con.close()
    billing.load_file(cstore, str(path))
    other = write(tmp_path, "small.csv", good_rows())
    billing.load_file(cstore, str(other))
    billing.load_file(cstore, str(path), force=True)  # delete + insert + number again
    with cstore.read() as con:
        con.execute("SET threads = 4")
        bad = con.execute(
            "SELECT count(*) FROM billing_line_items WHERE source_file = ? "
            "AND source_row <> CAST(x_Extensions->>'$.x_Line' AS BIGINT)",
            [str(path)],
        ).fetchone()
        span = con.execute(
            "SELECT count(*), min(source_row), max(source_row) FROM billing_line_items "
            "WHERE source_file = ?",
            [str(path)],
        ).fetchone()
        dupes = con.execute(sqlfiles.load("checks", "billing_natural_key_unique")).fetchall()
    assert span == (n, 1, n)
    assert bad == (0,)
    assert dupes == []


@pytest.mark.parametrize(
    ("body", "row", "what"),
    [
        # a file cut inside a quoted last field: pyarrow's reader alone would take the rest of
        # the file as the field's text; DuckDB's strict reader refuses it
        (
            '1.0,1.0,2025-01-01,2025-01-02,USD,AWS,,,\n2.0,2.0,2025-01-01,2025-01-02,USD,AWS,,,"8',
            2,
            "unterminated quote",
        ),
        # text after a closing quote: pyarrow alone would glue it on (`{}x`)
        ('1.0,1.0,2025-01-01,2025-01-02,USD,AWS,,"{}"x,\n', 1, "unterminated quote"),
        # not UTF-8 (past the first few KB, which the header check decodes): DuckDB's strict
        # count accepts it, pyarrow refuses, and DuckDB's reader then names the row
        (
            "1.0,1.0,2025-01-01,2025-01-02,USD,AWS,,,\n" * 500
            + "1.0,1.0,2025-01-01,2025-01-02,USD,\xff,,,\n",
            501,
            "not utf-8 encoded",
        ),
    ],
    ids=["cut-inside-quotes", "text-after-quote", "not-utf8"],
)
def test_malformed_csv_refused_by_row_whichever_reader_catches_it(
    cstore: Store, tmp_path: Path, body: str, row: int, what: str
) -> None:
    good = write(tmp_path, "good.csv", good_rows())
    billing.load_file(cstore, str(good))
    bad = tmp_path / "bad.csv"
    bad.write_bytes(f"{HEADER}\n{body}".encode("latin-1" if "\xff" in body else "utf-8"))
    with pytest.raises(InputError) as err:
        billing.load_file(cstore, str(bad))
    assert str(err.value).startswith(f"{bad}, row {row}: "), str(err.value)
    assert what in str(err.value)
    assert count(cstore) == 2 and count(cstore, "billing_files") == 1  # only the good file


def _numbered_rows(n: int, trailing: str = "") -> str:
    """A CSV whose row i has EffectiveCost i, BilledCost i + 0.5 and x_GpuHours i."""
    rows = [f"{i}.5,{i},2025-01-01,2025-01-02,USD,AWS,,,{i}{trailing}" for i in range(1, n + 1)]
    return HEADER + "\n" + "\n".join(rows) + "\n"


def _misnumbered(store: Store) -> tuple[object, ...] | None:
    """(rows, rows whose source_row is not their position in the file, sum of BilledCost)."""
    with store.read() as con:
        return con.execute(
            "SELECT count(*), count(*) FILTER (WHERE source_row <> EffectiveCost "
            "OR BilledCost <> EffectiveCost + 0.5 "
            "OR CAST(x_Extensions->>'$.x_GpuHours' AS INT) <> source_row), sum(BilledCost) "
            "FROM billing_line_items"
        ).fetchone()


def test_csv_pyarrow_cannot_read_is_loaded_by_duckdb_reader_in_order(
    cstore: Store, tmp_path: Path
) -> None:
    """DuckDB's reader takes a trailing comma after the last field, pyarrow's refuses the row:
    the file is loaded by DuckDB's reader, rows numbered by their position all the same."""
    path = write(tmp_path, "trailing.csv", _numbered_rows(2000, trailing=","))
    assert billing.load_file(cstore, str(path)).rows == 2000
    assert _misnumbered(cstore) == (2000, 0, Decimal(sum(range(1, 2001))) + Decimal("1000"))


def test_gzip_csv_loads_like_plain(cstore: Store, tmp_path: Path) -> None:
    """`.csv.gz` (how CUR and FOCUS exports usually arrive) is decompressed while streaming."""
    path = tmp_path / "export.csv.gz"
    path.write_bytes(gzip.compress(_numbered_rows(5000).encode()))
    assert billing.load_file(cstore, str(path)).rows == 5000
    assert _misnumbered(cstore) == (5000, 0, Decimal(sum(range(1, 5001))) + Decimal("2500"))


def test_line_without_a_charge_period_start_is_refused(cstore: Store, tmp_path: Path) -> None:
    """Such a line cannot be put on any day: the file is refused, naming row and column."""
    bad = write(
        tmp_path,
        "cur.csv",
        "lineItem/UnblendedCost,lineItem/UsageStartDate,lineItem/LineItemType\n"
        "1.00,2025-01-01T00:00:00Z,Usage\n2.00,,Usage\n",
    )
    with pytest.raises(InputError) as err:
        billing.load_file(cstore, str(bad))
    assert str(err.value).startswith(f"{bad}, row 2, column 'lineItem/UsageStartDate': empty")
    assert count(cstore) == 0
