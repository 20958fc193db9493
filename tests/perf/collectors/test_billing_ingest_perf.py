"""Ingest speed of a generated FOCUS export, ours vs DuckDB's own CREATE TABLE AS SELECT.

Goal (issue 5): our load at most 1.5x DuckDB's `CREATE TABLE AS SELECT * FROM read_parquet/
read_csv` of the same file. Rows: UNITCOST_PERF_ROWS (default 10,000,000). Prints figures;
asserts only that every row arrived.
Run: pytest -m perf tests/perf/collectors -s
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import duckdb
import pytest
from unitcost.collectors import billing

from unitcost.store import Store

ROWS = int(os.environ.get("UNITCOST_PERF_ROWS", "10000000"))

GEN = """
SELECT
  CAST(round((i % 100000) / 997.0, 10) AS DECIMAL(38, 10)) AS BilledCost,
  CAST(round((i % 100000) / 1009.0, 10) AS DECIMAL(38, 10)) AS EffectiveCost,
  CAST(round((i % 100000) / 983.0, 10) AS DECIMAL(38, 10)) AS ListCost,
  CAST(round((i % 77) * 1.5, 10) AS DECIMAL(38, 10)) AS ConsumedQuantity,
  'Hours' AS ConsumedUnit,
  TIMESTAMP '2025-01-01' + INTERVAL (i % 8760) HOUR AS ChargePeriodStart,
  TIMESTAMP '2025-01-01' + INTERVAL (i % 8760 + 1) HOUR AS ChargePeriodEnd,
  TIMESTAMP '2025-01-01' AS BillingPeriodStart,
  TIMESTAMP '2025-02-01' AS BillingPeriodEnd,
  'Usage' AS ChargeCategory,
  CASE i % 3 WHEN 0 THEN 'Standard' WHEN 1 THEN 'Dynamic' ELSE 'Committed' END AS PricingCategory,
  'USD' AS BillingCurrency,
  'AWS' AS ProviderName, 'AWS' AS PublisherName, 'Amazon Web Services' AS InvoiceIssuerName,
  'us-east-1' AS RegionId,
  'arn:aws:ec2:us-east-1:123456789012:instance/i-' || (i % 5000) AS ResourceId,
  'Amazon Elastic Compute Cloud' AS ServiceName, 'Compute' AS ServiceCategory,
  'SKU' || (i % 997) AS SkuId, '123456789012' AS SubAccountId,
  '{"unitcost:deployment": "d' || (i % 7) || '"}' AS Tags,
  'p5.48xlarge' AS x_InstanceKind
FROM range({rows}) t(i)
"""


def _generate(tmp: Path, rows: int) -> tuple[Path, Path]:
    pq, csv = tmp / "focus.parquet", tmp / "focus.csv"
    con = duckdb.connect()
    sql = GEN.replace("{rows}", str(rows))
    con.execute(f"COPY ({sql}) TO '{pq}' (FORMAT parquet)")
    con.execute(f"COPY ({sql}) TO '{csv}' (HEADER, DELIMITER ',')")
    con.close()
    return pq, csv


def _baseline(tmp: Path, path: Path) -> float:
    db = tmp / f"baseline-{path.suffix[1:]}.duckdb"
    con = duckdb.connect(str(db))
    reader = "read_parquet" if path.suffix == ".parquet" else "read_csv"
    t = time.perf_counter()
    con.execute(f"CREATE TABLE t AS SELECT * FROM {reader}('{path}')")
    con.execute("CHECKPOINT")
    elapsed = time.perf_counter() - t
    con.close()
    return elapsed


def _ours(tmp: Path, path: Path) -> float:
    store = Store(tmp / f"ours-{path.suffix[1:]}.duckdb")
    store.migrate()
    t = time.perf_counter()
    load = billing.load_file(store, str(path))
    elapsed = time.perf_counter() - t
    assert load.rows == ROWS
    return elapsed


@pytest.mark.perf
@pytest.mark.timeout(3600)
def test_billing_ingest_vs_duckdb_ctas(tmp_path: Path) -> None:
    t = time.perf_counter()
    pq, csv = _generate(tmp_path, ROWS)
    print(
        f"\ngenerated {ROWS:,} FOCUS rows in {time.perf_counter() - t:.1f}s "
        f"(parquet {pq.stat().st_size / 1e6:.0f} MB, csv {csv.stat().st_size / 1e6:.0f} MB)"
    )
    print(f"{'file':8} {'DuckDB CTAS s':>14} {'unitcost s':>11} {'ratio':>6} {'rows/s':>12}")
    for path in (pq, csv):
        base = _baseline(tmp_path, path)
        ours = _ours(tmp_path, path)
        print(
            f"{path.suffix[1:]:8} {base:14.2f} {ours:11.2f} {ours / base:6.2f} {ROWS / ours:12,.0f}"
        )
