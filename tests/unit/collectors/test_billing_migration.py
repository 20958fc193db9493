"""Migration 0006 carries billing data stored by earlier versions into the counted-once model."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import duckdb

from unitcost import sqlfiles
from unitcost.store import Store, available_migrations

OLD_LINE = (
    "INSERT INTO billing_line_items (source_file, source_row, source_format, ChargePeriodStart, "
    "ChargePeriodEnd, BilledCost, EffectiveCost, BillingCurrency, ProviderName, "
    "BillingAccountId, collector_run_id) VALUES (?, ?, ?, ?, ?, ?, ?, 'USD', 'AWS', ?, ?)"
)


def test_existing_lines_are_spread_and_two_cost_explorer_shapes_count_once(
    tmp_path: Path,
) -> None:
    store = Store(tmp_path / "old.duckdb")
    store.migrate([m for m in available_migrations() if m.version < 6])
    utc = dt.UTC
    sep1, oct1 = dt.datetime(2025, 9, 1, tzinfo=utc), dt.datetime(2025, 10, 1, tzinfo=utc)
    mar1, mar2 = dt.datetime(2025, 3, 1, tzinfo=utc), dt.datetime(2025, 3, 2, tzinfo=utc)
    con = duckdb.connect(str(store.path))  # as the earlier version wrote it
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.execute(
            "INSERT INTO collector_runs (collector_run_id, collector, source, started_at, status)"
            " VALUES ('r1', 'cost-explorer', 'ce', TIMESTAMPTZ '2025-03-05 00:00:00+00', 'ok'),"
            " ('r2', 'cost-explorer', 'ce', TIMESTAMPTZ '2025-03-06 00:00:00+00', 'ok'),"
            " ('b', 'billing', 'x', TIMESTAMPTZ '2025-10-02 00:00:00+00', 'ok')"
        )
        # a monthly fee from a billing file: stored on its start day by the old view
        con.execute(OLD_LINE, ["f.csv", 1, "focus-1.2", sep1, oct1, 90, 90, "111", "b"])
        con.execute(
            "INSERT INTO billing_files (source_file, source_format, fingerprint, rows_loaded, "
            "extra_columns, loaded_at, collector_run_id) VALUES ('f.csv', 'focus-1.2', 'x', 1, "
            "[], TIMESTAMPTZ '2025-10-02 00:00:00+00', 'b')"
        )
        # one Cost Explorer day pulled with two groupings: keyed by query shape, counted twice
        for qid, run, parts in (("aaa", "r1", ["7.00", "3.00"]), ("bbb", "r2", ["10.50"])):
            for i, amount in enumerate(parts, 1):
                con.execute(
                    OLD_LINE,
                    [
                        f"ce:{qid}:{mar1.isoformat()}",
                        i,
                        "cost-explorer",
                        mar1,
                        mar2,
                        Decimal(amount),
                        Decimal(amount),
                        None,
                        run,
                    ],
                )
    finally:
        con.close()
    store.migrate()
    with store.read() as con:
        days = con.execute(
            "SELECT day, billed_cost FROM billing_cost_by_deployment_daily ORDER BY day"
        ).fetchall()
        aside = con.execute(
            "SELECT source_file, superseded_by IS NOT NULL, reason FROM billing_files "
            "WHERE source_format = 'cost-explorer' ORDER BY 1"
        ).fetchall()
        assert con.execute(sqlfiles.load("checks", "billing_counted_once")).fetchall() == []
        lines = con.execute("SELECT count(*) FROM billing_line_items").fetchone()
    assert days[0] == (dt.date(2025, 3, 1), Decimal("10.5000000000"))  # the later pull, once
    sep = days[1:]
    assert len(sep) == 30 and sum(b for _, b in sep) == Decimal(90)
    assert all(b == Decimal(3) for _, b in sep)  # 90 over 30 days, not 90 on day 1
    assert [(f.split(":")[1], gone) for f, gone, _ in aside] == [("aaa", True), ("bbb", False)]
    assert "later Cost Explorer pull of the same period" in str(aside[0][2])
    assert lines == (2,)  # the fee and the later pull's line
