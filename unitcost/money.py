"""Money written as text: one strict rule for every billing source (CSV, Parquet text columns,
Cost Explorer answers) and anything else that reads amounts from files.

Why one rule: a reader that accepts `$1.00` but refuses `12,50` (or reads `1,000` as one
thousand in one place and refuses it in another) gives figures that depend on which door the
number came through. The rule accepts exactly what machine-written exports contain and nothing a
person has to guess about:

    optional spaces, an optional `+` or `-`, digits with an optional `.` and decimals (or `.5`),
    an optional exponent (`1.5E-7`, as float-writing exports such as BigQuery's emit), optional
    spaces.

Refused, always with the file, row and column named: currency signs (`$1.00`), thousands
separators (`1,000.00`, `1 000`), decimal commas (`12,50`), digit underscores (`1_000`), `NaN`
and infinities. Amounts are kept to 10 decimal places (DECIMAL(38, 10)), rounded half away from
zero as DuckDB does, so Python and SQL give the same value for the same text.

sql/queries/billing_macros.sql (uc_money) applies the same rule inside DuckDB;
tests/unit/core/test_money.py checks the two agree on random text.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation

from unitcost.errors import InputError

#: The rule in words, for error messages and the docs.
RULE = (
    "write money as a plain number: digits, '.' before decimals, an optional leading '-' "
    "(e.g. -1234.56 or 1.5E-7); no currency sign, thousands separator or decimal comma"
)
PLACES = Decimal("1E-10")  # DECIMAL(38, 10): the precision billing_line_items stores
LIMIT = Decimal("1E28")  # DECIMAL(38, 10) holds 28 digits before the point
_EXACT = Context(prec=60)  # room for 28 + 10 digits (the default context keeps only 28)
_PLAIN = re.compile(r"\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*")


def is_money_text(text: str) -> bool:
    """True when the text follows the rule (blank text is not money: callers treat it as NULL)."""
    return _PLAIN.fullmatch(text) is not None


def parse_money(text: str | None, *, where: str) -> Decimal | None:
    """Text to a Decimal of 10 places; None for None or blank; InputError naming `where`.

    `where` is the place the value came from, as the user can find it: `FILE, row N, column
    'C'` or `Cost Explorer answer for 2025-03-01, metric UnblendedCost`.
    """
    if text is None or not text.strip():
        return None
    if not is_money_text(text):
        raise InputError(
            f"{where}: {text!r} is not a decimal number as unitcost reads money: {RULE}"
        )
    try:
        value = Decimal(text.strip())
    except InvalidOperation as exc:  # unreachable given the pattern; kept so nothing slips by
        raise InputError(f"{where}: {text!r} is not a decimal number: {RULE}") from exc
    if abs(value) >= LIMIT:
        raise InputError(f"{where}: {text!r} is out of range (at most 28 digits before the point)")
    return value.quantize(PLACES, rounding=ROUND_HALF_UP, context=_EXACT)
