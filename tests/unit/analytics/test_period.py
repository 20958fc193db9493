"""Periods: the four forms, their previous periods, and the default period."""

from __future__ import annotations

import datetime as dt

import pytest
from unitcost.analytics.period import default_period, parse_period
from unitcost.collectors import rollups

from unitcost.errors import InputError
from unitcost.store import Store


@pytest.mark.parametrize(
    ("text", "start", "end", "previous"),
    [
        ("2026Q3", "2026-07-01", "2026-10-01", "2026Q2"),
        ("2026q1", "2026-01-01", "2026-04-01", "2025Q4"),
        ("2026-09", "2026-09-01", "2026-10-01", "2026-08"),
        ("2026-01", "2026-01-01", "2026-02-01", "2025-12"),
        ("2026-W37", "2026-09-07", "2026-09-14", "2026-W36"),
        ("2026-W01", "2025-12-29", "2026-01-05", "2025-W52"),
        ("2026-09-01..2026-09-30", "2026-09-01", "2026-10-01", "2026-08-02..2026-08-31"),
    ],
)
def test_forms_and_previous(text: str, start: str, end: str, previous: str) -> None:
    p = parse_period(text)
    assert (p.start.isoformat(), p.end.isoformat()) == (start, end)
    assert p.previous().label == previous
    assert p.previous().end == p.start  # back to back, nothing skipped or counted twice


@pytest.mark.parametrize(
    "text", ["2026Q5", "2026-13", "2026-W54", "2026-02-30..2026-03-01", "last quarter", ""]
)
def test_bad_periods_name_the_flag(text: str) -> None:
    with pytest.raises(InputError, match="--period"):
        parse_period(text)


def test_range_that_ends_before_it_starts() -> None:
    with pytest.raises(InputError, match="ends before it starts"):
        parse_period("2026-09-30..2026-09-01")


def _interval(store: Store, day: dt.date) -> None:
    with store.write() as con:
        con.execute(
            "INSERT INTO metric_intervals (deployment_id, interval_start, interval_s, source) "
            "VALUES ('d', ?, 60, 's')",
            [dt.datetime(day.year, day.month, day.day, 12, tzinfo=dt.UTC)],
        )
        rollups.rebuild(con)  # written around the collectors: their rollups follow by hand


def test_default_period_is_the_last_full_quarter_with_data(store: Store) -> None:
    today = dt.date(2026, 11, 29)
    with store.read() as con, pytest.raises(InputError, match="no cost or telemetry"):
        default_period(con, today=today)
    _interval(store, dt.date(2026, 11, 2))  # only the quarter in progress
    with store.read() as con:
        p = default_period(con, today=today)
    assert (p.start, p.end, p.label) == (
        dt.date(2026, 10, 1),
        dt.date(2026, 11, 3),
        "2026Q4 (to 2026-11-02)",
    )
    _interval(store, dt.date(2026, 5, 20))  # Q3 holds nothing: Q2 is the last with data
    with store.read() as con:
        assert default_period(con, today=today).label == "2026Q2"
    _interval(store, dt.date(2026, 9, 30))
    with store.read() as con:
        assert default_period(con, today=today).label == "2026Q3"
        assert default_period(con, today=dt.date(2026, 8, 1)).label == "2026Q2"
