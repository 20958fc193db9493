"""The dashboard's own queries reconcile with `unitcost kpi`; the review writes all or nothing;
the cache follows the store's writes."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from unitcost.analytics.period import day_range, quarter
from unitcost.dashboard import data
from unitcost.dashboard.review import render
from unitcost.dashboard.review.model import Review, Section, Table

from tests.support.kpi_seed import D0, D1, INTERVALS, PERIOD
from tests.unit.dashboard.seed import seed_all
from unitcost.store import Store

Q3 = quarter(2026, 3)


@pytest.fixture
def seeded(store: Store) -> Store:
    seed_all(store)
    return store


def test_pricing_parts_add_up_to_kpi_spend(seeded: Store) -> None:
    with seeded.read() as con:
        parts = data.cost_by_pricing(con, Q3).set_index(["deployment_id", "currency"])
        report = data.kpi_report(con, Q3, by="deployment")
    kpi = {
        (r["key"], r["currency"]): r["effective_cost"]
        for r in report["rows"]
        if r["effective_cost"] is not None
    }
    assert set(parts.index) == set(kpi)
    for key, row in parts.iterrows():
        total = row[["on_demand_cost", "spot_cost", "committed_cost", "estimated_cost"]].sum()
        assert Decimal(str(total)) == kpi[key], key
        assert Decimal(str(row["effective_cost"])) == kpi[key]
    assert float(parts.loc[("self", "USD"), "estimated_cost"]) == 4.0
    assert float(parts.loc[("chat", "USD"), "on_demand_cost"]) == 18.0


def test_heatmap_means_reconcile_with_kpi_utilization(seeded: Store) -> None:
    with seeded.read() as con:
        chat = data.heatmap(con, "gpu", PERIOD, ["chat"])
        everything = data.heatmap(con, "gpu", PERIOD, None)
        kv = data.heatmap(con, "kv", day_range(D0, D1), None)
        report = data.kpi_report(con, PERIOD, by="deployment")
    util = {r["key"]: r["gpu_utilization"] for r in report["rows"] if r["currency"] != "EUR"}
    # One cell: Tuesday (2026-08-11) 10:00 UTC, chat's GPU at 0.5 and 0.7 -> 0.6 = kpi's figure
    cell = chat[chat["gpu_utilization"].notna()]
    assert cell[["weekday", "hour_of_day"]].values.tolist() == [[2, 10]]
    assert cell["gpu_utilization"].iloc[0] == pytest.approx(util["chat"])
    # every GPU (chat's and the stray one): GPU-hour-weighted mean = kpi's mean over GPU-hours
    cells = everything[everything["gpu_utilization"].notna()]
    pooled = (cells["gpu_utilization"] * cells["gpu_hours"]).sum() / cells["gpu_hours"].sum()
    assert pooled == pytest.approx((util["chat"] + util["gpu-host:stray"]) / 2)
    # KV-cache use: every seeded interval says 0.25; one cell per (weekday, hour) with telemetry,
    # D0 a Monday (1), D1 a Tuesday (2)
    assert list(kv["kv_cache_usage"]) == pytest.approx([0.25] * len(kv))
    expected = sorted({(day.isoweekday(), hour) for _, day, hour, *_ in INTERVALS})
    assert [tuple(c) for c in kv[["weekday", "hour_of_day"]].values.tolist()] == expected
    assert (1, 10) in expected and (2, 9) in expected


def _review(tmp: Path) -> Review:
    table = Table("t", "T", pd.DataFrame({"a": [1, 2]}))
    return Review(
        period_label="2026Q3",
        period_text="x",
        previous_label="2026Q2",
        generated_at=datetime(2026, 10, 1, tzinfo=UTC),
        source=str(tmp),
        sections=[Section("S", tables=[table])],
    )


def test_write_is_all_or_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    out.mkdir()
    real_replace = os.replace
    calls = []

    def failing_replace(src: str, dst: str) -> None:
        calls.append(dst)
        if len(calls) == 2:
            raise OSError("disk full")
        real_replace(src, dst)

    monkeypatch.setattr(render.os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        render.write(_review(tmp_path), ["html", "xlsx"], out)
    assert list(out.iterdir()) == []  # the first file removed again, no temporary left
    monkeypatch.setattr(render.os, "replace", real_replace)
    paths = render.write(_review(tmp_path), ["xlsx"], out)
    assert [p.name for p in paths] == ["review-2026Q3.xlsx"]
    assert oct(paths[0].stat().st_mode & 0o777) != oct(0o600)


def test_sheet_names_follow_excels_rules() -> None:
    tables = [Table(n, n, pd.DataFrame()) for n in ("a/b:c", "x" * 40, "x" * 40, "A/B:C")]
    names = render.sheet_names(tables)
    assert names[0] == "a-b-c" and names[3] == "A-B-C (2)"
    assert names[1] == "x" * 31 and names[2] == "x" * 27 + " (2)"
    assert all(len(n) <= 31 for n in names)


def test_store_key_changes_with_each_write(
    seeded: Store, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import streamlit as st
    from unitcost.dashboard import queries

    monkeypatch.setenv("UNITCOST_DB", str(seeded.path))
    monkeypatch.delenv("UNITCOST_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    st.cache_resource.clear()
    st.cache_data.clear()
    before = queries.store_key()
    runs = len(queries.bench_runs(before))
    with seeded.write() as con:
        con.execute("DELETE FROM bench_runs WHERE run_id = 'm8-c1'")
    after = queries.store_key()
    assert after != before
    assert len(queries.bench_runs(after)) == runs - 1  # a new key: read again, not cached
    assert len(queries.bench_runs(before)) == runs  # (the old key's entry is what it was)
    st.cache_resource.clear()
    st.cache_data.clear()


def test_review_built_a_section_at_a_time_equals_the_whole(seeded: Store) -> None:
    """The /review preview builds its first section with the head and each other section
    when shown; the files build them all at once: the same sections, the same tables."""
    from unitcost.dashboard.review import build

    def tables(s: Section) -> list[tuple[str, list[list[object]]]]:
        return [(t.sheet, t.df.astype(str).values.tolist()) for t in s.tables]

    with seeded.read() as con:
        whole = build.build_review(con, Q3)
        head = build.build_head(con, Q3)
        rest = [build.build_section(con, Q3, title) for title in build.SECTIONS]
    assert [s.title for s in whole.sections] == [head.sections[0].title, *build.SECTIONS]
    assert head.labels == whole.labels
    for mine, theirs in zip([*head.sections, *rest], whole.sections, strict=True):
        assert mine.title == theirs.title
        assert mine.metrics == theirs.metrics
        assert tables(mine) == tables(theirs)
        assert [c.title for c in mine.charts] == [c.title for c in theirs.charts]
