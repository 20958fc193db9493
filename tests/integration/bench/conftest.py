from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from unitcost import prices
from unitcost.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "bench.duckdb", lock_timeout_s=30)
    s.migrate()
    with s.write() as con:
        prices.load_shipped(con)
    yield s
