"""Cost Explorer: one source of truth per billing account and period.

Answers are parsed from Cost Explorer's response shape (cost_explorer.parse_page) and written
by the collector's own write path; the moto test (tests/integration) runs the whole command.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from unitcost.collectors import billing, cost_explorer

from tests.unit.collectors import billing_trees as bt
from unitcost import sqlfiles
from unitcost.errors import InputError
from unitcost.store import Store

T = datetime(2024, 10, 5, tzinfo=UTC)


def answer(periods: list[tuple[str, str]], groups: list[tuple[str, str]]) -> dict[str, Any]:
    """A get_cost_and_usage page: every period has the given (SERVICE, UnblendedCost)."""
    return {
        "ResultsByTime": [
            {
                "TimePeriod": {"Start": s, "End": e},
                "Groups": [
                    {
                        "Keys": [svc],
                        "Metrics": {
                            "UnblendedCost": {"Amount": amount, "Unit": "USD"},
                            "AmortizedCost": {"Amount": amount, "Unit": "USD"},
                        },
                    }
                    for svc, amount in groups
                ],
            }
            for s, e in periods
        ]
    }


def pull(
    store: Store,
    periods: list[tuple[str, str]],
    groups: list[tuple[str, str]],
    *,
    at: datetime,
    run: str,
    account: str = bt.PAYER,
) -> list[str]:
    rows = cost_explorer.parse_page(
        answer(periods, groups), cost_explorer.parse_group_by(["SERVICE"])
    )
    window = (rows[0].start, max(r.end for r in rows))
    _, events = cost_explorer.write_rows(
        store,
        rows,
        account=account,
        run_id=run,
        source="ce",
        pulled_at=at,
        window=window,
        describe="{}",
    )
    return [e.describe() for e in events]


def total(store: Store) -> Decimal:
    with store.read() as con:
        row = con.execute("SELECT sum(billed_cost) FROM billing_cost_by_deployment_daily")
        got = row.fetchone()
        assert con.execute(sqlfiles.load("checks", "billing_counted_once")).fetchall() == []
    return Decimal(got[0] if got and got[0] is not None else 0)


SEP_DAYS = [(f"2024-09-0{d}", f"2024-09-0{d + 1}") for d in range(1, 4)]


def cur_file(tmp_path: Path) -> tuple[Path, Decimal]:
    data, t = bt.cur(bt.hours(1, 48), "2.00")
    p = tmp_path / "cur.csv.gz"
    p.write_bytes(data)
    return p, t


def test_two_groupings_of_a_period_count_once(cstore: Store) -> None:
    """Keyed by query shape, a SERVICE pull and a USAGE_TYPE pull of the same days added up."""
    pull(cstore, SEP_DAYS, [("EC2", "10.00"), ("S3", "1.00")], at=T, run="r1")
    pull(cstore, SEP_DAYS, [("BoxUsage:p5", "10.50")], at=T + timedelta(hours=1), run="r2")
    assert total(cstore) == Decimal("31.50")  # the latest pull of each period, once


def test_export_takes_precedence_over_cost_explorer_either_order(
    cstore: Store, tmp_path: Path
) -> None:
    path, cur_total = cur_file(tmp_path)
    pull(cstore, SEP_DAYS, [("EC2", "10.00")], at=T, run="r1")
    load = billing.load_file(cstore, str(path))
    assert total(cstore) == cur_total
    assert any("exports take precedence over Cost Explorer" in n for n in load.notes)
    # a pull after the export: set aside at once, and said so
    notes = pull(cstore, SEP_DAYS, [("EC2", "11.00")], at=T + timedelta(days=1), run="r2")
    assert len(notes) == 3 and all("exports take precedence" in n for n in notes)
    assert total(cstore) == cur_total


def test_other_accounts_and_months_are_not_shadowed(cstore: Store, tmp_path: Path) -> None:
    path, cur_total = cur_file(tmp_path)
    billing.load_file(cstore, str(path))
    pull(cstore, SEP_DAYS, [("EC2", "10.00")], at=T, run="r1", account="999999999999")
    pull(cstore, [("2024-10-01", "2024-10-02")], [("EC2", "4.00")], at=T, run="r2")
    assert total(cstore) == cur_total + Decimal("30.00") + Decimal("4.00")


def test_monthly_pull_replaces_daily_and_daily_inside_monthly_is_refused(
    cstore: Store,
) -> None:
    pull(cstore, SEP_DAYS, [("EC2", "10.00")], at=T, run="r1")
    month = [("2024-09-01", "2024-10-01")]
    notes = pull(cstore, month, [("EC2", "300.00")], at=T + timedelta(hours=1), run="r2")
    assert len(notes) == 3 and total(cstore) == Decimal("300.00")
    with pytest.raises(InputError, match="overlap without the later covering the earlier"):
        pull(cstore, SEP_DAYS, [("EC2", "10.00")], at=T + timedelta(days=1), run="r3")
    assert total(cstore) == Decimal("300.00")  # nothing of the refused pull was written


def test_cost_explorer_amounts_follow_the_money_rule() -> None:
    page = answer([("2024-09-01", "2024-09-02")], [("EC2", "1,000.00")])
    with pytest.raises(InputError) as err:
        cost_explorer.parse_page(page, cost_explorer.parse_group_by(["SERVICE"]))
    assert str(err.value).startswith(
        "Cost Explorer answer for 2024-09-01..2024-09-02, group ['EC2'], metric UnblendedCost: "
        "'1,000.00' is not a decimal number"
    )
