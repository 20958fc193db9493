"""Reporting periods: what `--period 2026Q3|2026-09|2026-W37|2026-09-01..2026-09-30` means.

A period is a half-open range of UTC calendar days [start, end). Its previous period is the one
a manager compares it with: the quarter, month or ISO week before, or for a range of days the
same number of days just before it. The default period is the last full quarter with data, so
the CLI, the dashboard's first page and the review open on the same figures.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal

import duckdb

from unitcost import sqlfiles
from unitcost.errors import InputError

Kind = Literal["quarter", "month", "week", "range"]
_QUARTER = re.compile(r"^(\d{4})-?Q([1-4])$", re.IGNORECASE)
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$", re.IGNORECASE)
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")
FORMS = "2026Q3, 2026-09, 2026-W37 or 2026-09-01..2026-09-30"


@dataclass(frozen=True)
class Period:
    """UTC days [start, end): `end` is the first day after the period."""

    start: date
    end: date
    kind: Kind
    label: str

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def hours(self) -> int:
        return self.days * 24

    def previous(self) -> Period:
        """The period a figure is compared with (same kind, just before)."""
        if self.kind == "quarter":
            return quarter(*_shift_quarter(self.start.year, (self.start.month - 1) // 3 + 1, -1))
        if self.kind == "month":
            y, m = (
                (self.start.year, self.start.month - 1)
                if self.start.month > 1
                else (
                    self.start.year - 1,
                    12,
                )
            )
            return month(y, m)
        if self.kind == "week":
            prev = self.start - timedelta(days=7)
            y, w, _ = prev.isocalendar()
            return week(y, w)
        start = self.start - timedelta(days=self.days)
        return day_range(start, self.start - timedelta(days=1))

    def contains(self, day: date) -> bool:
        return self.start <= day < self.end

    def as_json(self) -> dict[str, str]:
        """`end` is exclusive; `last_day` is the period's last day, for people."""
        return {
            "label": self.label,
            "kind": self.kind,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "last_day": (self.end - timedelta(days=1)).isoformat(),
        }


def _shift_quarter(year: int, q: int, by: int) -> tuple[int, int]:
    n = year * 4 + (q - 1) + by
    return n // 4, n % 4 + 1


def quarter(year: int, q: int) -> Period:
    start = date(year, 3 * (q - 1) + 1, 1)
    ny, nq = _shift_quarter(year, q, 1)
    return Period(start, date(ny, 3 * (nq - 1) + 1, 1), "quarter", f"{year}Q{q}")


def month(year: int, m: int) -> Period:
    start = date(year, m, 1)
    end = date(year + 1, 1, 1) if m == 12 else date(year, m + 1, 1)
    return Period(start, end, "month", f"{year}-{m:02d}")


def week(year: int, w: int) -> Period:
    start = date.fromisocalendar(year, w, 1)
    return Period(start, start + timedelta(days=7), "week", f"{year}-W{w:02d}")


def day_range(first: date, last: date) -> Period:
    """An inclusive range of days, as people write it (2026-09-01..2026-09-30)."""
    return Period(first, last + timedelta(days=1), "range", f"{first}..{last}")


def parse_period(text: str, *, flag: str = "--period") -> Period:
    """Parse one of the four forms; the error names the flag and the forms."""
    t = text.strip()
    try:
        if m := _QUARTER.match(t):
            return quarter(int(m.group(1)), int(m.group(2)))
        if m := _MONTH.match(t):
            return month(int(m.group(1)), int(m.group(2)))
        if m := _WEEK.match(t):
            return week(int(m.group(1)), int(m.group(2)))
        if m := _RANGE.match(t):
            first, last = date.fromisoformat(m.group(1)), date.fromisoformat(m.group(2))
            if last < first:
                raise InputError(f"{flag} {text!r}: the range ends before it starts")
            return day_range(first, last)
    except ValueError as exc:  # month 13, week 54, 2026-02-30
        raise InputError(f"{flag} {text!r}: {exc}") from exc
    raise InputError(f"{flag} {text!r}: expected a period like {FORMS}")


def quarter_of(day: date) -> Period:
    return quarter(day.year, (day.month - 1) // 3 + 1)


def data_days(
    con: duckdb.DuckDBPyConnection, before: date
) -> tuple[date | None, date | None, date | None]:
    """First and last UTC day with cost or telemetry, and the last such day before `before`."""
    row = con.execute(sqlfiles.load("queries", "kpi_data_days"), {"before": before}).fetchone()
    if not row:
        return None, None, None
    return row[0], row[1], row[2]


def default_period(con: duckdb.DuckDBPyConnection, *, today: date | None = None) -> Period:
    """The last quarter that has ended and holds data; else the quarter in progress, to date.

    With no data at all this raises: there is nothing to report, and the message says which
    commands put data in the store.
    """
    today = today or datetime.now(UTC).date()
    current = quarter_of(today)
    first, last, last_before = data_days(con, current.start)
    if first is None or last is None:
        raise InputError(
            "no cost or telemetry in the store yet: run `unitcost collect all` (or `unitcost "
            "demo` to see the product on generated data)"
        )
    if last_before is not None:
        return quarter_of(last_before)
    # Only the quarter in progress has data: report it to date (a partial quarter, said so).
    end = min(today, last) + timedelta(days=1)
    return Period(current.start, end, "range", f"{current.label} (to {end - timedelta(days=1)})")
