"""A running `unitcost dashboard` and Debian's Chromium driven by Playwright.

Playwright's own browser download (`playwright install`) is never used: the browser is
/usr/bin/chromium (scripts/test.sh installs it), launched with the flags RECIPES.md lists.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.servers import Server, free_port, run_server
from tests.unit.dashboard.seed import seed_all, write_config
from unitcost.store import Store

CHROMIUM = os.environ.get("UNITCOST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
VIEWPORT = {"width": 1400, "height": 3000}  # Streamlit scrolls inside its own container


def _missing(reason: str) -> None:
    if os.environ.get("UNITCOST_REQUIRE_SERVERS") == "1":
        pytest.fail(f"{reason} (UNITCOST_REQUIRE_SERVERS=1)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def seeded_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seeded store, with its config (a scenario naming a deployment) beside it."""
    path = tmp_path_factory.mktemp("e2e-store") / "unitcost.duckdb"
    store = Store(path)
    store.migrate()
    seed_all(store)
    write_config(path.parent)
    return path


def cli_env(db: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a user of this store: its config, nothing from the developer."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("UNITCOST_")}
    return {**base, "UNITCOST_CONFIG": str(db.parent / "unitcost.toml"), **(extra or {})}


def start_dashboard(
    db: Path, log_dir: Path, *, env: dict[str, str] | None = None
) -> Any:  # a context manager yielding Server
    port = free_port()
    cmd = [sys.executable, "-m", "unitcost", "--db", str(db), "dashboard", "--port", str(port)]
    return run_server(
        cmd,
        port=port,
        model="",
        name="dashboard",
        health_path="/_stcore/health",
        timeout_s=60,
        env=cli_env(db, env),
        log_dir=log_dir,
    )


@pytest.fixture(scope="session")
def dashboard(seeded_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`unitcost dashboard` on the seeded store, as a user starts it."""
    with start_dashboard(seeded_db, tmp_path_factory.mktemp("dashboard-logs")) as srv:
        yield srv


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium under Playwright's sync API, for one test module: the sync API runs an event
    loop in this thread while it is open, and a session-wide one would break every later test
    that calls asyncio.run()."""
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).is_file():
        _missing(f"{CHROMIUM} not found: apt-get install chromium (scripts/test.sh does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=VIEWPORT)
    pg = context.new_page()
    yield pg
    context.close()


def wait_drawn(pg: Any, *, charts: bool, timeout_ms: int = 60_000) -> None:
    """The page's script ran to the end (Streamlit's script state, after a run), every element
    is drawn (no loading skeleton left: tables and charts load their code lazily) and, where
    the page has charts, plotly drew them."""
    pg.wait_for_function(
        """() => {
            const app = document.querySelector('[data-testid="stApp"]');
            const state = app && app.getAttribute('data-test-script-state');
            const pending = '[data-testid="stSkeleton"], [data-testid="stSkeletonElement"]';
            return state === 'notRunning'
                && document.querySelector('[data-testid="stMain"] h1') !== null
                && document.querySelectorAll(pending).length === 0;
        }""",
        timeout=timeout_ms,
    )
    if charts:
        pg.wait_for_selector(".js-plotly-plot .main-svg", timeout=timeout_ms)
