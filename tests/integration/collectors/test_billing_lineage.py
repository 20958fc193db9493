"""Lineage on files big enough for DuckDB's parallel readers: source_row is the data row."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from unitcost.collectors import billing

from unitcost.store import Store

pytestmark = pytest.mark.integration
ROWS = 600_000


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_source_row_is_the_data_row(cstore: Store, tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"big.{fmt}"
    opts = "(HEADER)" if fmt == "csv" else "(FORMAT parquet, ROW_GROUP_SIZE 50000)"
    duckdb.sql(
        f"""COPY (SELECT CAST(i AS VARCHAR) AS x_i, CAST((i % 100) / 7 AS VARCHAR) AS BilledCost,
                 CAST((i % 100) / 7 AS VARCHAR) AS EffectiveCost,
                 CAST(TIMESTAMP '2025-01-01' + INTERVAL (i % 1000) MINUTE AS VARCHAR)
                     AS ChargePeriodStart,
                 repeat('x', i % 50) AS ChargeDescription
              FROM range({ROWS}) t(i)) TO '{path}' {opts}"""
    )
    load = billing.load_file(cstore, str(path))
    assert load.rows == ROWS
    with cstore.read() as con:
        bad = con.execute(
            "SELECT count(*) FROM billing_line_items "
            "WHERE source_row <> CAST(x_Extensions->>'x_i' AS BIGINT) + 1"
        ).fetchone()
    assert bad == (0,)
