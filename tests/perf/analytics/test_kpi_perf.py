"""`unitcost kpi` over a quarter: ours vs one plain DuckDB scan of the same tables.

A store is generated in SQL: DEPLOYMENTS deployments with 1-minute telemetry for a quarter
(metric_intervals and gpu_samples, one GPU each) and BILLING_ROWS billing lines (hourly lines of
each deployment's instance, plus lines no rule claims), all mapped by resource id. Ours =
kpi_report for the quarter by deployment (it reads the quarter before too, for `previous`);
baseline = one plain scan summing a column of each of the three tables.
Run: pytest -m perf -s tests/perf/analytics/test_kpi_perf.py (goal: kpi under 1 s here).
"""

from __future__ import annotations

import os
import statistics
import time
from datetime import date
from pathlib import Path

import pytest
from unitcost.analytics.kpi import kpi_report
from unitcost.analytics.period import parse_period
from unitcost.collectors import billing_ledger, deployments, rollups

from unitcost.config import Deployment, DeploymentMatch
from unitcost.store import Store

DEPLOYMENTS = int(os.environ.get("UNITCOST_PERF_DEPLOYMENTS", "50"))
BILLING_ROWS = int(os.environ.get("UNITCOST_PERF_BILLING_ROWS", "10000000"))
ROUNDS = int(os.environ.get("UNITCOST_PERF_ROUNDS", "5"))
QUARTER = parse_period("2026Q3")
MINUTES = QUARTER.days * 1440


def _generate(store: Store) -> None:
    deployments.sync(
        store,
        [
            Deployment(
                id=f"d{i:02d}",
                model=f"model-{i % 5}",
                hardware="H100",
                gpu_count=1,
                price_ref="aws/us-east-1/p5.48xlarge",
                match=DeploymentMatch(resource_ids=[f"i-{i:02d}"]),
            )
            for i in range(DEPLOYMENTS)
        ],
    )
    start = f"TIMESTAMPTZ '{QUARTER.start} 00:00:00+00'"
    with store.write() as con:
        con.execute(
            f"""
            INSERT INTO metric_intervals (deployment_id, interval_start, interval_s,
                input_tokens, output_tokens, requests_ok, requests_failed, kv_cache_usage, source)
            SELECT printf('d%02d', d), {start} + to_minutes(m), 60,
                   (m % 97) * 50.0, (m % 89) * 20.0, (m % 7) * 1.0, CAST(m % 211 = 0 AS DOUBLE),
                   (m % 10) / 10.0, 'perf'
            FROM range({DEPLOYMENTS}) t(d), range({MINUTES}) s(m)
            """
        )
        con.execute(
            f"""
            INSERT INTO gpu_samples (host, gpu_uuid, ts, source, util_gpu, energy_mj)
            SELECT printf('i-%02d', d), printf('GPU-%02d', d), {start} + to_minutes(m), 'dcgm',
                   (m % 100) / 100.0, m * 30000.0
            FROM range({DEPLOYMENTS}) t(d), range({MINUTES}) s(m)
            """
        )
        hours = QUARTER.hours
        con.execute(
            f"""
            INSERT INTO billing_line_items (source_file, source_row, source_format, ResourceId,
                BilledCost, EffectiveCost, BillingCurrency, ChargePeriodStart, ChargePeriodEnd,
                ProviderName, ChargeCategory, PricingCategory)
            SELECT 'perf.csv', r + 1, 'focus-1.2',
                   CASE WHEN r % 10 = 0 THEN 'vol-' || (r % 1000)
                        ELSE printf('i-%02d', r % {DEPLOYMENTS}) END,
                   CAST(1.2345 AS DECIMAL(38, 10)), CAST(1.1 AS DECIMAL(38, 10)), 'USD',
                   {start} + to_hours((r // 1000) % {hours}),
                   {start} + to_hours((r // 1000) % {hours} + 1),
                   'AWS', 'Usage', 'Standard'
            FROM range({BILLING_ROWS}) t(r)
            """
        )
        # lines written straight into the table reach the billing views once recorded
        billing_ledger.register_inserted(con, "perf.csv", "focus-1.2")
        rollups.rebuild(con)  # the telemetry's daily and hourly rollups, as writers keep them


def _best(fn: object, rounds: int) -> tuple[float, float]:
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - t)
    return min(times), statistics.median(times)


@pytest.mark.perf
@pytest.mark.timeout(3600)
def test_kpi_quarter(tmp_path: Path) -> None:
    store = Store(tmp_path / "perf.duckdb")
    store.migrate()
    t = time.perf_counter()
    _generate(store)
    print(
        f"\ngenerated {DEPLOYMENTS * MINUTES:,} intervals, {DEPLOYMENTS * MINUTES:,} GPU samples, "
        f"{BILLING_ROWS:,} billing rows in {time.perf_counter() - t:.1f}s"
    )

    def plain() -> None:
        with store.read() as con:
            con.execute(
                "SELECT (SELECT sum(output_tokens) FROM metric_intervals), "
                "(SELECT avg(util_gpu) FROM gpu_samples), "
                "(SELECT sum(EffectiveCost) FROM billing_line_items)"
            ).fetchall()

    rows: list[dict[str, object]] = []

    def ours() -> None:
        with store.read() as con:
            rows[:] = kpi_report(con, QUARTER, by="deployment")["rows"]

    base_best, base_med = _best(plain, ROUNDS)
    ours_best, ours_med = _best(ours, ROUNDS)
    print(f"plain DuckDB scan of the three tables: best {base_best:.3f}s, median {base_med:.3f}s")
    print(f"unitcost kpi (quarter, by deployment): best {ours_best:.3f}s, median {ours_med:.3f}s")
    print(f"ratio (median): {ours_med / base_med:.1f}x; goal: kpi under 1 s")
    keys = {r["key"] for r in rows}
    assert f"d{DEPLOYMENTS - 1:02d}" in keys and "unmapped" in keys
    assert date(2026, 7, 1) == QUARTER.start
