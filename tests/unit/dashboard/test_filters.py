"""URL filters: valid values are taken, anything else is dropped without changing the view."""

from __future__ import annotations

from datetime import date

import pytest
from unitcost.analytics.period import parse_period, quarter
from unitcost.dashboard.filters import (
    FilterOptions,
    conflicts,
    from_params,
    period_choices,
    period_param,
    to_params,
)

OPTIONS = FilterOptions(
    deployments=("chat-8b", "batch-70b"),
    models=("llama-3.1-70b", "llama-3.1-8b"),
    hardware=("A100", "H100"),
    deployment_info={"chat-8b": ("llama-3.1-8b", "H100"), "batch-70b": ("llama-3.1-70b", "A100")},
    first_day=date(2026, 5, 20),
    last_day=date(2026, 8, 10),
)
DEFAULT = quarter(2026, 2)


def test_valid_params_are_taken() -> None:
    f = from_params(
        {"period": "2026-W32", "deployment": "chat-8b", "model": "llama-3.1-8b"}, OPTIONS, DEFAULT
    )
    assert f.period == parse_period("2026-W32")
    assert (f.deployment, f.model, f.hardware, f.ignored) == ("chat-8b", "llama-3.1-8b", None, ())
    assert f.scope() == ("deployment", "chat-8b")


HOSTILE = [
    "x' OR '1'='1",
    "'; DROP TABLE billing_line_items; --",
    'chat-8b" UNION SELECT * FROM watermarks --',
    "<script>alert(1)</script>",
    "A" * 10_000,
    "chat-8b ",
    "unknown-deployment",
    "%27%20OR%201%3D1",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_values_change_nothing(value: str) -> None:
    params = {k: value for k in ("period", "deployment", "model", "hardware")}
    f = from_params(params, OPTIONS, DEFAULT)
    assert (f.period, f.deployment, f.model, f.hardware) == (DEFAULT, None, None, None)
    assert f.ignored == ("period", "deployment", "model", "hardware")
    assert f.scope() == ("all", None)


def test_repeated_params_take_the_last_and_lists_are_checked() -> None:
    f = from_params({"deployment": ["nope", "chat-8b"]}, OPTIONS, DEFAULT)
    assert f.deployment == "chat-8b"
    f = from_params({"deployment": [], "model": ""}, OPTIONS, DEFAULT)  # empty: no filter
    assert (f.deployment, f.model, f.ignored) == (None, None, ())


def test_url_round_trip_reproduces_the_view() -> None:
    for text in ("2026Q2", "2026-07", "2026-W32", "2026-07-01..2026-07-15"):
        f = from_params({"period": text, "hardware": "A100"}, OPTIONS, DEFAULT)
        again = from_params(to_params(f), OPTIONS, None)
        assert again == f
        assert period_param(f.period) == text  # type: ignore[arg-type]


def test_period_choices_cover_the_data_and_start_with_the_default() -> None:
    choices = period_choices(OPTIONS, DEFAULT)
    labels = [p.label for p in choices]
    assert labels == ["2026Q2", "2026Q3", "2026-08", "2026-07", "2026-06", "2026-05"]
    assert period_choices(FilterOptions(), None) == []


def test_conflicting_filters_are_explained() -> None:
    f = from_params({"deployment": "chat-8b", "model": "llama-3.1-70b"}, OPTIONS, DEFAULT)
    assert conflicts(f, OPTIONS) == "deployment chat-8b serves llama-3.1-8b, not llama-3.1-70b"
    f = from_params({"model": "llama-3.1-8b", "hardware": "A100"}, OPTIONS, DEFAULT)
    assert conflicts(f, OPTIONS) == "no deployment serves llama-3.1-8b on A100"
    assert conflicts(from_params({"model": "llama-3.1-8b"}, OPTIONS, DEFAULT), OPTIONS) is None
