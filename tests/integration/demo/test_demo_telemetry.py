"""The demo's telemetry paths reconcile: the same simulated days loaded only through the store,
or with their last days through a real Prometheus (promtool backfill, `collect prometheus`),
give the same tokens, requests, failures and GPU-hours per deployment: the seam between the
two parts neither loses nor repeats an interval."""

from __future__ import annotations

import os
import shutil
from datetime import date
from pathlib import Path

import pytest
from unitcost.analytics.period import day_range
from unitcost.demo import telemetry

from unitcost.store import Store

#: Four days ending on a day boundary, the last PROMETHEUS_DAYS of them through Prometheus.
PERIOD = day_range(date(2026, 9, 27), date(2026, 9, 30))

TOTALS = """
SELECT deployment_id, sum(output_tokens), sum(input_tokens), sum(requests_ok),
       sum(requests_failed), count(*)
FROM metric_intervals GROUP BY ALL ORDER BY ALL
"""
GPU = """
SELECT host, count(DISTINCT hour), round(avg(util_gpu), 9) FROM gpu_hourly GROUP BY ALL ORDER BY ALL
"""


def _store(path: Path) -> Store:
    s = Store(path)
    s.migrate()
    return s


def _rows(store: Store, sql: str) -> list[tuple[object, ...]]:
    with store.read() as con:
        return con.execute(sql).fetchall()


def test_prometheus_seam_neither_loses_nor_repeats(tmp_path: Path) -> None:
    if not telemetry.has_prometheus():
        if os.environ.get("UNITCOST_REQUIRE_SERVERS") == "1":
            pytest.fail("prometheus/promtool not installed (scripts/test.sh installs them)")
        pytest.skip("prometheus/promtool not installed")
    assert PERIOD.days > telemetry.PROMETHEUS_DAYS
    direct = _store(tmp_path / "direct.duckdb")
    n_direct, url = telemetry.load(
        direct, PERIOD, tmp_path / "a", quick=False, via_prometheus=False, log=print
    )
    assert url is None
    (tmp_path / "b").mkdir()
    pulled = _store(tmp_path / "pulled.duckdb")
    n_pulled, url = telemetry.load(
        pulled, PERIOD, tmp_path / "b", quick=False, via_prometheus=True, log=print
    )
    assert url is not None and url.startswith("http://127.0.0.1:")
    # both sources wrote: the store's part and Prometheus's part
    kinds = _rows(pulled, "SELECT DISTINCT source_kind FROM metric_series ORDER BY 1")
    assert kinds == [("emulate",), ("prometheus",)]
    totals = _rows(direct, TOTALS)
    assert totals and all(r[1] > 0 for r in totals)
    assert _rows(pulled, TOTALS) == totals
    assert _rows(pulled, GPU) == _rows(direct, GPU)
    # the shared sample is stored twice as a raw point (once per source), never as an interval
    assert n_pulled > n_direct
    shutil.rmtree(tmp_path / "b" / "prometheus", ignore_errors=True)
