"""`unitcost export review` end to end: real Chromium (kaleido), WeasyPrint and openpyxl, read
back with pdftotext and openpyxl, checked against the store and `unitcost kpi`."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from tests.unit.dashboard.seed import seed_all
from unitcost.store import Store

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str, str]:
    """One seeded store, exported once in all three formats by the real CLI."""
    import sys

    root = tmp_path_factory.mktemp("review")
    store = Store(root / "u.duckdb")
    store.migrate()
    seed_all(store)
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("UNITCOST_")}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "unitcost", "--db", str(store.path), *args],
            capture_output=True,
            text=True,
            cwd=root,
            env=env,
            timeout=300,
        )

    out = root / "out"
    r = cli("export", "review", "--quarter", "2026Q3", "--out", str(out))
    assert r.returncode == 0, r.stderr
    kpi = cli("kpi", "--period", "2026Q3", "--format", "json")
    assert kpi.returncode == 0, kpi.stderr
    return store.path, out, r.stdout, kpi.stdout


def test_prints_the_three_paths(exported: tuple[Path, Path, str, str]) -> None:
    _, out, stdout, _ = exported
    assert stdout.splitlines() == [
        str(out / "review-2026Q3.pdf"),
        str(out / "review-2026Q3.html"),
        str(out / "review-2026Q3.xlsx"),
    ]
    assert sorted(p.name for p in out.iterdir()) == [
        "review-2026Q3.html",
        "review-2026Q3.pdf",
        "review-2026Q3.xlsx",
    ]


def _kpi_all(kpi_json: str) -> dict[str | None, dict[str, Any]]:
    report = json.loads(kpi_json)
    return {r["currency"]: r for r in report["rows"] if r["key"] == "all"}


def test_pdf_holds_the_quarters_key_figures(exported: tuple[Path, Path, str, str]) -> None:
    _, out, _, kpi_json = exported
    assert shutil.which("pdftotext"), "poppler-utils is installed by scripts/test.sh"
    text = subprocess.run(
        ["pdftotext", "-layout", str(out / "review-2026Q3.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    usd = _kpi_all(kpi_json)["USD"]
    # kpi: 22.00 USD spend (10 + 8 billed, 4 estimated), 800,000 output tokens -> 27.50 per 1M
    assert usd["effective_cost"] == "22.00" and usd["usd_per_1m_output_tokens"] == 27.5
    assert "Quarterly review 2026Q3" in text and "compared with 2026Q2" in text
    for figure in ("22.00 USD", "27.50 USD", "60.0 %", "95.8 %", "5.00 USD", "5.00 EUR"):
        assert figure in text, figure
    assert f"{usd['success_rate'] * 100:.1f} %" == "95.8 %"
    assert "Estimated: some costs are GPU-hours x catalog price" in text  # labelled up front
    assert "Data coverage" in text and "Benchmark highlights" in text


def test_xlsx_totals_equal_the_database(exported: tuple[Path, Path, str, str]) -> None:
    db, out, _, _ = exported
    wb = load_workbook(out / "review-2026Q3.xlsx", read_only=True)
    assert wb.sheetnames[0] == "About"
    assert {"kpi_all", "by_deployment", "weekly_by_deployment", "coverage_daily"} <= set(
        wb.sheetnames
    )
    rows = list(wb["by_deployment"].iter_rows(values_only=True))
    head, body = rows[0], rows[1:]
    cost, cur = head.index("effective_cost"), head.index("currency")
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for r in body:
        if r[cost] is not None:
            totals[r[cur]] += Decimal(str(r[cost]))
    # Independently from the store: the quarter's billing lines by currency, plus the one
    # estimate (deployment 'self': 2 hours of telemetry x 1 GPU x 2.00 USD per GPU-hour).
    with Store(db).read() as con:
        billed = dict(
            con.execute(
                "SELECT BillingCurrency, sum(EffectiveCost) FROM billing_line_items "
                "WHERE ChargePeriodStart >= '2026-07-01' AND ChargePeriodStart < '2026-10-01' "
                "GROUP BY ALL"
            ).fetchall()
        )
    expected = {"USD": billed["USD"] + Decimal("4.00"), "EUR": billed["EUR"]}
    assert {k: v.quantize(Decimal("0.01")) for k, v in totals.items()} == expected
    assert expected == {"USD": Decimal("22.33"), "EUR": Decimal("5.00")}


def test_export_figures_equal_kpi_cli(exported: tuple[Path, Path, str, str]) -> None:
    _, out, _, kpi_json = exported
    wb = load_workbook(out / "review-2026Q3.xlsx", read_only=True)
    rows = list(wb["kpi_all"].iter_rows(values_only=True))
    head = rows[0]
    sheet = {
        (r[head.index("key")], r[head.index("currency")]): dict(zip(head, r, strict=True))
        for r in rows[1:]
    }
    report = json.loads(kpi_json)
    assert len(sheet) == len(report["rows"])
    for row in report["rows"]:
        got = sheet[(row["key"], row["currency"])]
        for name in ("effective_cost", "billed_cost", "idle_cost"):
            want = row[name]
            assert (got[name] is None) == (want is None), name
            if want is not None:
                assert Decimal(str(got[name])).quantize(Decimal("1e-6")) == Decimal(want).quantize(
                    Decimal("1e-6")
                ), name
        for name in ("usd_per_1m_output_tokens", "gpu_utilization", "success_rate"):
            assert got[name] == pytest.approx(row[name]) if row[name] is not None else True
    html = (out / "review-2026Q3.html").read_text()
    assert "22.00 USD" in html and "<script" not in html


def test_quarter_without_data_is_one_line_and_leaves_nothing(
    run_cli: Any, tmp_path: Path, store: Store
) -> None:
    seed_all(store)
    out = tmp_path / "empty-out"
    r = run_cli(
        "--db", str(store.path), "export", "review", "--quarter", "2025Q1", "--out", str(out)
    )
    assert r.returncode == 1
    assert r.stderr.startswith("Error: 2025Q1: no cost or telemetry in this quarter")
    assert "2026-08-10 to 2026-08-11" in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert not out.exists() and r.stdout == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--quarter", "2026-09"], "--quarter '2026-09': expected a quarter like 2026Q3"),
        (["--quarter", "2026Q5"], "--quarter '2026Q5'"),
        (["--quarter", "2026Q3", "--format", "pdf,docx"], "'docx' is not one of pdf, html, xlsx"),
    ],
)
def test_bad_flags_are_named(run_cli: Any, store: Store, args: list[str], message: str) -> None:
    r = run_cli("--db", str(store.path), "export", "review", *args)
    assert r.returncode != 0 and message in r.stderr, r.stderr


def test_review_carries_the_stored_recommendations(exported: tuple[Path, Path, str, str]) -> None:
    from unitcost.analytics.recommend import latest_recommendations

    db, out, _, _ = exported
    with Store(db).read() as con:
        stored = latest_recommendations(con)["scenarios"]
    wb = load_workbook(out / "review-2026Q3.xlsx", read_only=True)
    rows = list(wb["recommendations"].iter_rows(values_only=True))
    head = rows[0]
    got = {r[head.index("scenario")]: dict(zip(head, r, strict=True)) for r in rows[1:]}
    for s in stored:
        row = got[s["scenario"]]
        for name in ("usd_per_hour", "current_usd_per_hour", "savings_usd_per_month"):
            assert row[name] == pytest.approx(s[name]), name
    assert {"hosted_baseline"} <= set(wb.sheetnames)
    html = (out / "review-2026Q3.html").read_text()
    assert "Tier recommendations" in html and "self-chat" in html
