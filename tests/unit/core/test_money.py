"""Money text: one strict rule, the same in Python (unitcost.money) and in SQL (uc_money)."""

from __future__ import annotations

from decimal import Decimal

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from unitcost import money, sqlfiles
from unitcost.errors import InputError

ACCEPTED = {
    "1": "1",
    " 12.50 ": "12.5",
    "-0.75": "-0.75",
    "+3": "3",
    ".5": "0.5",
    "7.": "7",
    "1.5E-7": "0.00000015",
    "2e3": "2000",
    "0.12345678915": "0.1234567892",  # 10 places, half away from zero (as DuckDB)
    "-0.12345678915": "-0.1234567892",
}
REFUSED = [
    "$1.00",
    "12,50",
    "1,000.00",
    "1 000",
    "1_000",
    "NaN",
    "inf",
    "1e",
    "5E5.",
    "--1",
    "€5",
    "5 USD",
]


_SQL: list[duckdb.DuckDBPyConnection] = []


def sql_try_money(text: str | None) -> Decimal | None:
    """uc_try_money as the loader defines it (one in-memory connection for the module)."""
    if not _SQL:
        _SQL.append(duckdb.connect())
        _SQL[0].execute(sqlfiles.load("queries", "billing_macros"))
    row = _SQL[0].execute("SELECT uc_try_money(?)", [text]).fetchone()
    return None if row is None else row[0]


@pytest.mark.parametrize(("text", "value"), ACCEPTED.items())
def test_plain_numbers_are_money_in_python_and_sql(text: str, value: str) -> None:
    assert money.parse_money(text, where="f") == Decimal(value)
    assert sql_try_money(text) == Decimal(value)


@pytest.mark.parametrize("text", REFUSED)
def test_currency_signs_separators_and_decimal_commas_are_refused(text: str) -> None:
    """`$1.00` used to be accepted while `12,50` was refused: now both are, the same way."""
    with pytest.raises(InputError) as err:
        money.parse_money(text, where="bills.csv, row 3, column 'BilledCost'")
    assert str(err.value).startswith(
        f"bills.csv, row 3, column 'BilledCost': {text!r} is not a decimal number"
    )
    assert "no currency sign, thousands separator or decimal comma" in str(err.value)
    assert sql_try_money(text) is None


def test_blank_is_none_and_huge_is_out_of_range() -> None:
    assert money.parse_money("  ", where="f") is None
    assert money.parse_money(None, where="f") is None
    with pytest.raises(InputError, match="out of range"):
        money.parse_money("1e40", where="f")


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="0123456789.,+-eE_ $\t\nxdfnai", min_size=1, max_size=12))
def test_python_and_sql_agree_on_any_text(text: str) -> None:
    """Whatever the text, both readers accept it or both refuse it, with the same value."""
    try:
        py: Decimal | None = money.parse_money(text, where="f")
    except InputError:
        py = None
    sql = sql_try_money(text)
    if py is None and text.strip() and money.is_money_text(text):
        return  # out of DECIMAL(38, 10)'s range: refused by both (SQL as NULL)
    assert sql == py
