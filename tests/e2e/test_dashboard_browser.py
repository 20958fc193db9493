"""Every page of a running `unitcost dashboard` in headless Chromium: drawn, no error box, and a
figure on the page equal to `unitcost kpi --format json`'s."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import cli_env, start_dashboard, wait_drawn
from tests.support.servers import Server

pytestmark = pytest.mark.e2e

#: url path -> (title, whether the page draws plotly charts on the seeded store)
PAGES = {
    "": ("Overview", False),
    "cost": ("Cost per token", True),
    "utilization": ("Utilization", True),
    "benchmarks": ("Benchmarks", True),
    "tiers": ("Tiers", False),
    "review": ("Quarterly review", False),  # opens on the KPI section: metrics, no chart
    "sources": ("Sources", True),
}


def _problems(pg: Any) -> list[str]:
    boxes = pg.locator("[data-testid='stException'], [data-testid='stAlertContentError']")
    return [boxes.nth(i).inner_text() for i in range(boxes.count())]


@pytest.mark.parametrize("path", list(PAGES))
def test_every_page_draws_without_errors(dashboard: Server, page: Any, path: str) -> None:
    title, charts = PAGES[path]
    page.goto(f"{dashboard.base_url}/{path}")
    wait_drawn(page, charts=charts)
    assert page.locator("[data-testid='stMain'] h1").first.inner_text() == title
    assert _problems(page) == []
    if charts:
        assert page.locator(".js-plotly-plot .main-svg").count() >= 1
    # the filters in force are in the URL, so a copied link reproduces the view
    assert "period=2026Q3" in page.url


def _kpi_json(db: Path, *args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "unitcost", "--db", str(db), "kpi", "--format", "json", *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        env=cli_env(db),
    ).stdout
    return json.loads(out)  # type: ignore[no-any-return]


def _metric(pg: Any, label: str) -> list[str]:
    """The values of the metrics with this label, in page order."""
    cards = pg.locator("[data-testid='stMetric']")
    values = []
    for i in range(cards.count()):
        card = cards.nth(i)
        if card.locator("[data-testid='stMetricLabel']").inner_text().strip() == label:
            values.append(card.locator("[data-testid='stMetricValue']").inner_text().strip())
    return values


def test_overview_figures_equal_kpi_cli(dashboard: Server, page: Any, seeded_db: Path) -> None:
    page.goto(dashboard.base_url)
    wait_drawn(page, charts=False)
    report = _kpi_json(seeded_db)  # the CLI's default period is the dashboard's
    assert report["period"]["label"] == "2026Q3"
    usd = next(r for r in report["rows"] if r["key"] == "all" and r["currency"] == "USD")
    assert _metric(page, "Spend (mixed)") == [f"{float(usd['effective_cost']):,.2f} USD"]
    # one block per currency (EUR, USD) and one for telemetry without cost
    per_token = _metric(page, "Cost per 1M output tokens")
    assert per_token[1] == f"{usd['usd_per_1m_output_tokens']:,.2f} USD"
    assert _metric(page, "Success rate")[1] == f"{usd['success_rate'] * 100:.1f} %"
    # capacity utilization: the config's scenario gives 'self' an SLO (emulated capacity)
    assert usd["capacity_utilization"] is not None
    assert _metric(page, "Capacity utilization")[1] == f"{usd['capacity_utilization'] * 100:.1f} %"
    # a link with a deployment filter shows that deployment's row of `kpi --by deployment`
    page.goto(f"{dashboard.base_url}/?period=2026Q3&deployment=chat")
    wait_drawn(page, charts=False)
    chat = next(r for r in _kpi_json(seeded_db, "--by", "deployment")["rows"] if r["key"] == "chat")
    assert _metric(page, "Spend") == [f"{float(chat['effective_cost']):,.2f} USD"]


def test_hostile_link_shows_the_default_view(dashboard: Server, page: Any) -> None:
    page.goto(dashboard.base_url)
    wait_drawn(page, charts=False)
    plain = _metric(page, "Spend (mixed)")
    hostile = "%27%3B%20DROP%20TABLE%20billing_line_items%3B%20--"
    page.goto(
        f"{dashboard.base_url}/?period={hostile}&deployment={'A' * 10_000}"
        "&model=%3Cscript%3Ealert(1)%3C%2Fscript%3E"
    )
    wait_drawn(page, charts=False)
    assert _problems(page) == []
    assert _metric(page, "Spend (mixed)") == plain
    assert "DROP" not in page.url and "script" not in page.url and "period=2026Q3" in page.url


def test_password_gate_in_the_browser(seeded_db: Path, page: Any, tmp_path: Path) -> None:
    env = {"UNITCOST_DASHBOARD_PASSWORD": "e2e-secret"}
    with start_dashboard(seeded_db, tmp_path, env=env) as srv:
        page.goto(f"{srv.base_url}/cost")
        page.wait_for_selector("input[type='password']", timeout=60_000)
        assert page.locator("[data-testid='stMetric'], .js-plotly-plot").count() == 0
        assert "22.00" not in page.content()
        page.fill("input[type='password']", "e2e-secret")
        page.get_by_role("button", name="Log in").click()
        page.wait_for_selector("[data-testid='stMain'] h1:has-text('Cost per token')")
        wait_drawn(page, charts=True)
        assert _problems(page) == []


def test_cost_tabs_run_when_opened(dashboard: Server, page: Any) -> None:
    """/cost's views are tabs that run when opened: the pricing split is drawn on a click."""
    page.goto(f"{dashboard.base_url}/cost")
    wait_drawn(page, charts=True)
    bought = page.locator(".js-plotly-plot").filter(has_text="Cost by how it was bought")
    assert bought.count() == 0  # not run before its tab is opened
    page.get_by_role("tab", name="How it was bought").click()
    bought.first.wait_for(timeout=60_000)
    wait_drawn(page, charts=True)
    assert bought.count() == 2  # one chart per currency (EUR, USD)
    assert _problems(page) == []


def test_review_preview_draws_a_sections_charts(dashboard: Server, page: Any) -> None:
    """The preview shows one section at a time; the Trends section's charts are drawn."""
    page.goto(f"{dashboard.base_url}/review")
    wait_drawn(page, charts=False)
    page.get_by_text("Trends", exact=True).click()
    wait_drawn(page, charts=True)
    assert page.locator(".js-plotly-plot .main-svg").count() >= 1
    assert _problems(page) == []


def test_review_downloads_from_the_page(dashboard: Server, browser: Any, tmp_path: Path) -> None:
    """The /review button gives the files `unitcost export review` writes."""
    context = browser.new_context(viewport={"width": 1400, "height": 3000}, accept_downloads=True)
    pg = context.new_page()
    try:
        pg.goto(f"{dashboard.base_url}/review")
        wait_drawn(pg, charts=False)
        pg.get_by_role("button", name="Prepare PDF, HTML and XLSX").click()
        pg.get_by_role("button", name="Download PDF").wait_for(timeout=180_000)
        for fmt in ("PDF", "XLSX"):
            with pg.expect_download() as info:
                pg.get_by_role("button", name=f"Download {fmt}").click()
            dl = info.value
            assert dl.suggested_filename == f"review-2026Q3.{fmt.lower()}"
            dl.save_as(tmp_path / dl.suggested_filename)
        text = subprocess.run(
            ["pdftotext", str(tmp_path / "review-2026Q3.pdf"), "-"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert "Quarterly review 2026Q3" in text and "22.00 USD" in text
        assert (tmp_path / "review-2026Q3.xlsx").read_bytes()[:2] == b"PK"
    finally:
        context.close()
