"""Fixtures for collector unit tests: a real migrated DuckDB file and the recorded fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

from unitcost.store import Store

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "collectors"


@pytest.fixture
def cstore(tmp_path: Path) -> Store:
    """A fresh, migrated store in a real DuckDB file."""
    s = Store(tmp_path / "collect.duckdb", lock_timeout_s=10)
    s.migrate()
    return s


def new_store(path: Path) -> Store:
    """Another fresh, migrated store (for comparing two loads that must not meet in one)."""
    s = Store(path, lock_timeout_s=10)
    s.migrate()
    return s
