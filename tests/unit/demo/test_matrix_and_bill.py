"""The demo's matrix (what fits) and its bill (exact money, one line per GPU-hour)."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from unitcost.demo import bill
from unitcost.demo.matrix import CURRENT, GPUS, MODELS, Config, benchmarked, fits, matrix
from unitcost.emulate.catalog import load_catalog


def test_matrix_keeps_only_what_fits() -> None:
    cat = load_catalog()
    cells = matrix(cat)
    assert Config("llama-3.1-8b", "t4", "fp16") not in cells  # 16 GB of weights on a 16 GB T4
    assert Config("llama-2-13b", "l4", "fp16") not in cells
    assert Config("llama-3.2-3b", "t4", "fp16") in cells
    assert all(fits(cat, c) for c in cells)
    assert {c.model for c in cells} == set(MODELS) and {c.gpu for c in cells} == set(GPUS)
    quick, full = benchmarked(cat, quick=True), benchmarked(cat, quick=False)
    assert set(quick) < set(full) <= set(cells)
    assert all(c.model != "llama-2-13b" for c in quick)
    for cur in CURRENT:  # every current deployment's config can be emulated
        assert fits(cat, cur.config)


def test_gpu_hour_lines_are_exact(tmp_path: Path) -> None:
    start = datetime(2026, 7, 1, tzinfo=UTC)
    hours = [start + timedelta(hours=h) for h in range(30)]
    rows = list(bill.gpu_hour_lines("demo-chat", "p5.48xlarge", Decimal("12.29"), 1, hours))
    n = bill.write(tmp_path / "b.csv", rows)
    assert n == 30
    with (tmp_path / "b.csv").open() as fh:
        back = list(csv.DictReader(fh))
    assert sum(Decimal(r["EffectiveCost"]) for r in back) == Decimal("368.70")
    assert back[0]["ChargePeriodStart"] == "2026-07-01T00:00:00Z"
    assert back[-1]["ChargePeriodEnd"] == "2026-07-02T06:00:00Z"
    assert '"unitcost:deployment": "demo-chat"' in back[0]["Tags"]


def test_other_lines_have_a_monthly_fee_per_month() -> None:
    rows = list(bill.other_lines(date(2026, 7, 30), date(2026, 8, 3)))
    fees = [r for r in rows if r["ChargeCategory"] == "Purchase"]
    assert [(f["ChargePeriodStart"], f["ChargePeriodEnd"]) for f in fees] == [
        ("2026-07-30T00:00:00Z", "2026-08-01T00:00:00Z"),
        ("2026-08-01T00:00:00Z", "2026-08-03T00:00:00Z"),
    ]
    assert len(rows) == 4 * 2 + 2
