"""AppTest on the real router and pages, against a real DuckDB file."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.unit.dashboard.seed import seed_all, write_config
from unitcost.store import Store

APP = Path(__file__).resolve().parents[3] / "dashboard" / "streamlit_app.py"
#: Every page: AppTest path (relative to the router) and its title.
PAGES = {
    "app_pages/overview.py": "Overview",
    "app_pages/cost.py": "Cost per token",
    "app_pages/utilization.py": "Utilization",
    "app_pages/benchmarks.py": "Benchmarks",
    "app_pages/tiers.py": "Tiers",
    "app_pages/review.py": "Quarterly review",
    "app_pages/sources.py": "Sources",
}
Run = Callable[..., AppTest]


@pytest.fixture
def app_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No config or password from the developer's shell; Streamlit's caches emptied."""
    for var in ("UNITCOST_CONFIG", "UNITCOST_DASHBOARD_AUTH", "UNITCOST_DASHBOARD_PASSWORD"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


def _runner(db: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    monkeypatch.setenv("UNITCOST_DB", str(db))

    def run(page: str | None = None, *, params: dict[str, str] | None = None) -> AppTest:
        at = AppTest.from_file(str(APP), default_timeout=60)
        at.query_params.update(params or {})
        at.run()
        if page is not None:
            at.switch_page(page).run()
        return at

    return run


@pytest.fixture
def empty_app(app_env: None, store: Store, monkeypatch: pytest.MonkeyPatch) -> Run:
    """The app on a migrated store with nothing in it."""
    return _runner(store.path, monkeypatch)


@pytest.fixture
def seeded_app(app_env: None, store: Store, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Run:
    """The app on a store with KPI cases, benchmark runs, scrapes and collector runs, and a
    config (./unitcost.toml) whose scenario gives one deployment a capacity."""
    seed_all(store)
    write_config(tmp_path)
    return _runner(store.path, monkeypatch)
