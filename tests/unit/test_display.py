"""Shares are never shown as the whole or as nothing when they are neither."""

from __future__ import annotations

import pytest

from unitcost.display import percent


@pytest.mark.parametrize(
    ("share", "digits", "shown"),
    [
        (0.5, 1, "50.0%"),
        (1.0, 1, "100.0%"),
        (0.0, 1, "0.0%"),
        (None, 1, "-"),
        (0.123456, 2, "12.35%"),
        # 3,609 failures in 23.6M requests: not "100.0%"
        (0.999846855392536, 1, "99.98%"),
        (0.9996, 1, "99.96%"),
        (0.00004, 1, "0.004%"),
        (0.99999999, 1, "> 99.99%"),
        (1e-9, 1, "< 0.01%"),
    ],
)
def test_percent(share: float | None, digits: int, shown: str) -> None:
    assert percent(share, digits) == shown


def test_separator() -> None:
    assert percent(0.25, 1, " ") == "25.0 %"


def test_console_prints_emoji_codes_as_written() -> None:
    """`Error: --by label:KEY: ...` was printed with a key symbol in place of ':KEY:'."""
    from unitcost.display import new_console

    c = new_console(width=200)
    with c.capture() as cap:
        c.print("--by label:KEY: say which; a tag ':thumbs_up:'", markup=False)
    assert cap.get().strip() == "--by label:KEY: say which; a tag ':thumbs_up:'"
