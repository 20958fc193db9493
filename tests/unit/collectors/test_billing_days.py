"""Money on the right day: each line spread over its charge period, exactly.

Literal lines in, exact rows out (billing_line_days per line, billing_cost_by_deployment_daily
per day). The expected shares are computed here with Fractions, independently of the SQL.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st
from unitcost.collectors import billing_ledger as ledger

from unitcost.store import Store

UTC = dt.UTC
E10 = Decimal("1E-10")


def ts(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def add(
    store: Store,
    lines: list[tuple[str | None, str | None, str]],
    name: str = "f",
    account: str = "111",
) -> None:
    """Lines (ChargePeriodStart, ChargePeriodEnd, BilledCost = EffectiveCost) as one delivery."""
    with store.write() as con:
        for i, (start, end, cost) in enumerate(lines, 1):
            con.execute(
                "INSERT INTO billing_line_items (source_file, source_row, source_format, "
                "ChargePeriodStart, ChargePeriodEnd, BilledCost, EffectiveCost, BillingCurrency, "
                "ProviderName, BillingAccountId) VALUES (?, ?, 'focus-1.2', ?, ?, ?, ?, 'USD', "
                "'AWS', ?)",
                [
                    name,
                    i,
                    start and ts(start),
                    end and ts(end),
                    Decimal(cost),
                    Decimal(cost),
                    account,
                ],
            )
        ledger.add_lines(
            con,
            name,
            source_format="focus-1.2",
            delivery_id=f"file:{name}",
            delivered_at=ts("2026-01-01T00:00"),
            fingerprint="literal",
        )
        ledger.finish(con, f"file:{name}", [name])


def parts(store: Store, row: int) -> list[tuple[dt.date, Decimal]]:
    with store.read() as con:
        return con.execute(
            "SELECT day, billed_cost FROM billing_line_days WHERE source_row = ? ORDER BY day",
            [row],
        ).fetchall()


def daily(store: Store) -> list[tuple[dt.date, Decimal, Decimal, int]]:
    with store.read() as con:
        return con.execute(
            "SELECT day, billed_cost, effective_cost, line_items "
            "FROM billing_cost_by_deployment_daily ORDER BY day"
        ).fetchall()


def test_monthly_line_gives_every_day_its_share_to_the_last_digit(cstore: Store) -> None:
    """A September fee (Cost Explorer MONTHLY, RI, support) used to land whole on September 1."""
    add(cstore, [("2025-09-01T00:00", "2025-10-01T00:00", "100.00")])
    got = parts(cstore, 1)
    assert [d for d, _ in got] == [dt.date(2025, 9, 1) + dt.timedelta(days=i) for i in range(30)]
    assert sum(c for _, c in got) == Decimal("100.0000000000")
    assert all(abs(c - Decimal(100) / 30) < E10 for _, c in got)
    rows = daily(cstore)
    assert len(rows) == 30 and rows[0][1] < Decimal(4)  # not 100 on day 1
    assert sum(r[1] for r in rows) == Decimal(100) and sum(r[3] for r in rows) == 30


def test_36_hour_line_and_partial_days(cstore: Store) -> None:
    add(cstore, [("2025-03-01T06:00", "2025-03-02T18:00", "36.00")])
    assert parts(cstore, 1) == [
        (dt.date(2025, 3, 1), Decimal("18.0000000000")),  # 18 of 36 hours
        (dt.date(2025, 3, 2), Decimal("18.0000000000")),
    ]


def test_zero_length_and_open_lines_fall_on_their_start_day(cstore: Store) -> None:
    add(
        cstore,
        [
            ("2025-03-05T10:00", "2025-03-05T10:00", "4.20"),  # zero length
            ("2025-03-06T23:00", None, "1.10"),  # no end
        ],
    )
    assert parts(cstore, 1) == [(dt.date(2025, 3, 5), Decimal("4.2"))]
    assert parts(cstore, 2) == [(dt.date(2025, 3, 6), Decimal("1.1"))]


def test_negative_credit_spreads_with_its_sign(cstore: Store) -> None:
    add(cstore, [("2025-03-01T12:00", "2025-03-04T00:00", "-10.00")])  # 60 hours
    assert parts(cstore, 1) == [
        (dt.date(2025, 3, 1), Decimal("-2.0000000000")),  # 12 h
        (dt.date(2025, 3, 2), Decimal("-4.0000000000")),
        (dt.date(2025, 3, 3), Decimal("-4.0000000000")),
    ]


def test_line_crossing_a_month_boundary_lands_in_both_months(cstore: Store) -> None:
    add(cstore, [("2025-01-31T12:00", "2025-02-01T12:00", "7.00")])
    assert [(r[0], r[1]) for r in daily(cstore)] == [
        (dt.date(2025, 1, 31), Decimal("3.5000000000")),
        (dt.date(2025, 2, 1), Decimal("3.5000000000")),
    ]


def test_amounts_that_do_not_divide_still_add_up_exactly(cstore: Store) -> None:
    add(cstore, [("2025-03-01T00:00", "2025-03-04T00:00", "0.0000000007")])
    got = parts(cstore, 1)
    assert sum(c for _, c in got) == Decimal("0.0000000007")
    assert sorted(c for _, c in got) == [Decimal("2E-10"), Decimal("2E-10"), Decimal("3E-10")]


def _share(cost: Decimal, start: dt.datetime, end: dt.datetime, day: dt.date) -> Fraction:
    d0 = dt.datetime.combine(day, dt.time(), UTC)
    d1 = d0 + dt.timedelta(days=1)
    overlap = min(end, d1) - max(start, d0)
    return (
        Fraction(cost)
        * Fraction(overlap / dt.timedelta(microseconds=1))
        / Fraction((end - start) / dt.timedelta(microseconds=1))
    )


_STORE: list[Store] = []


def _one_store() -> Store:
    """One migrated store for every example (each example is a file of its own)."""
    if not _STORE:
        import tempfile
        from pathlib import Path

        _STORE.append(Store(Path(tempfile.mkdtemp(prefix="uc-days-")) / "s.duckdb"))
        _STORE[0].migrate()
    return _STORE[0]


@settings(max_examples=40, deadline=None)
@given(
    start_min=st.integers(0, 60 * 24 * 400),
    minutes=st.integers(1, 60 * 24 * 70),
    units=st.integers(-(10**16), 10**16),
)
def test_any_line_splits_exactly_into_its_days(start_min: int, minutes: int, units: int) -> None:
    """Whatever the line: one part per UTC day it touches, parts within 1e-10 of the exact
    proportional share, and summing to the line to the last stored digit."""
    store = _one_store()
    name = f"h{start_min}-{minutes}-{units}"
    start = dt.datetime(2025, 1, 1, tzinfo=UTC) + dt.timedelta(minutes=start_min)
    end = start + dt.timedelta(minutes=minutes)
    cost = Decimal(units) * E10
    with store.write() as con:
        ledger.forget_file(con, name)
    # an account per example: examples are unrelated bills, not deliveries of one
    add(store, [(start.isoformat()[:16], end.isoformat()[:16], str(cost))], name, account=name)
    with store.read() as con:
        got = con.execute(
            "SELECT day, billed_cost FROM billing_line_days WHERE source_file = ? ORDER BY day",
            [name],
        ).fetchall()
    first, last = start.date(), (end - dt.timedelta(microseconds=1)).date()
    assert [d for d, _ in got] == [
        first + dt.timedelta(days=i) for i in range((last - first).days + 1)
    ]
    assert sum(c for _, c in got) == cost
    for d, c in got:
        assert abs(Fraction(c) - _share(cost, start, end, d)) < Fraction(1, 10**10)
