"""How shares are written for people, one way for the CLI, the dashboard and the review.

A share is never rounded to the whole or to nothing when it is neither: a success rate of
0.99985 written "100.0%" says no request failed, which is false (3,609 of 23.6M did). Such a
share gets more digits, up to four, then "> 99.99%" / "< 0.01%".
"""

from __future__ import annotations

from typing import Any

from rich.console import Console

MAX_DIGITS = 4


def percent(share: Any, digits: int = 1, sep: str = "") -> str:
    """`share` (0-1) as a percentage with `digits` decimals, more where rounding would show
    100% or 0% for a share that is neither. None gives "-"."""
    if share is None:
        return "-"
    v = float(share) * 100
    d = digits
    while d < MAX_DIGITS:
        shown = round(v, d)
        if not ((shown >= 100 and v < 100) or (shown <= 0 < v)):
            break
        d += 1
    if d >= MAX_DIGITS:
        edge = 10.0 ** -(MAX_DIGITS - 2)  # the smallest step at the digits allowed, in %
        if 100 - edge < v < 100:
            return f"> {100 - edge:.{MAX_DIGITS - 2}f}{sep}%"
        if 0 < v < edge:
            return f"< {edge:.{MAX_DIGITS - 2}f}{sep}%"
    return f"{v:.{d}f}{sep}%"


def new_console(*, stderr: bool = False, width: int | None = None) -> Console:
    """The one way a command makes its rich Console: emoji codes off, so a text such as
    `label:KEY:` or a tag value ':x:' from the data is printed as written, never as a symbol."""
    return Console(stderr=stderr, width=width, emoji=False)
