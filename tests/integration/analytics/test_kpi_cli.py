"""`unitcost kpi` as a user runs it: the real entry point on a real DuckDB file."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest

from tests.support.kpi_seed import seed
from unitcost.store import Store

pytestmark = pytest.mark.integration


@pytest.fixture
def seeded(tmp_path: Path) -> Path:
    store = Store(tmp_path / "kpi.duckdb")
    store.migrate()
    seed(store)
    return store.path


def test_json_has_definitions_rows_and_exact_money(run_cli, seeded: Path) -> None:  # type: ignore[no-untyped-def]
    r = run_cli(
        "--db",
        str(seeded),
        "kpi",
        "--period",
        "2026-08-11..2026-08-11",
        "--by",
        "deployment",
        "--format",
        "json",
    )
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["period"]["start"] == "2026-08-11" and doc["period"]["end"] == "2026-08-12"
    assert doc["previous_period"]["label"] == "2026-08-10..2026-08-10"
    chat = next(row for row in doc["rows"] if row["key"] == "chat")
    assert chat["effective_cost"] == "10.00"  # money is an exact decimal string
    assert chat["usd_per_1m_output_tokens"] == 25.0
    assert chat["previous"]["effective_cost"] == "8.00"
    for name in ("usd_per_1m_output_tokens", "success_rate", "idle_cost", "cost_basis"):
        assert doc["definitions"][name]
    assert "vmonly" in r.stderr and "no GPU price" in r.stderr  # the warning, on stderr


def test_csv_and_table(run_cli, seeded: Path) -> None:  # type: ignore[no-untyped-def]
    r = run_cli("--db", str(seeded), "kpi", "--period", "2026-08-11..2026-08-11", "--format", "csv")
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    usd = next(row for row in rows if row["key"] == "all" and row["currency"] == "USD")
    assert Decimal(usd["effective_cost"]) == Decimal("14.00")
    assert "start" not in rows[0]  # no --grain: no start column
    t = run_cli(
        "--db", str(seeded), "kpi", "--period", "2026-08-11..2026-08-11", "--by", "deployment"
    )
    assert t.returncode == 0, t.stderr
    assert "chat" in t.stdout and "25.0000" in t.stdout and "(-38%)" in t.stdout  # 25 vs 40


def test_default_period_and_bad_input(run_cli, seeded: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    r = run_cli("--db", str(seeded), "kpi", "--format", "json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["period"]["label"] == "2026Q3"  # the last full quarter with data
    bad = run_cli("--db", str(seeded), "kpi", "--period", "Q3")
    assert bad.returncode == 1 and bad.stderr.startswith("Error: --period 'Q3'")
    assert "Traceback" not in bad.stderr
    empty = Store(tmp_path / "empty.duckdb")
    empty.migrate()
    none = run_cli("--db", str(empty.path), "kpi")
    assert none.returncode == 1
    assert "no cost or telemetry in the store yet" in none.stderr


def test_by_label(run_cli, seeded: Path) -> None:  # type: ignore[no-untyped-def]
    r = run_cli(
        "--db", str(seeded), "kpi", "--period", "2026-08-11..2026-08-11", "--by", "label:app",
        "--format", "json",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["by"] == "label:app"
    keys = {(row["key"], row["currency"]) for row in report["rows"]}
    assert {("chat", "USD"), ("eu", "EUR"), ("(no app)", "USD")} <= keys
    bad = run_cli("--db", str(seeded), "kpi", "--by", "label:")
    assert bad.returncode == 1 and "label:KEY" in bad.stderr and "Traceback" not in bad.stderr
