"""The billing views for a quarter over 10M billing lines, beside one plain DuckDB scan.

Goal (issue 13): what the analytics layer reads for a quarter (spend per deployment and day,
spend by a tag, spend per deployment) answers in under 1 s in total, over 10M stored lines. The
views read the daily rollup (billing_daily) kept in step with each load; the baseline is one plain
scan of the same lines (`sum(EffectiveCost)` over billing_line_items) and the daily sum a reader
would write without the rollup. Also printed: the same three reads through the views as they were
before the rollup (line-level attribution, charge on its start day), run once, for comparison.

Lines: UNITCOST_PERF_ROWS (default 10,000,000) hourly usage lines over July-September 2025
(one line per resource and hour, as CUR and FOCUS exports hold them), 12 deployments matched
by tag, plus a monthly fee per deployment and month. Loaded through billing.load_file (its time
is printed; tests/perf/collectors/test_billing_ingest_perf.py is the load benchmark).
Run: pytest -m perf tests/perf/collectors/test_billing_views_perf.py -s
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import duckdb
import pytest
from unitcost.collectors import billing, deployments

from unitcost.config import Deployment, DeploymentMatch
from unitcost.store import Store

ROWS = int(os.environ.get("UNITCOST_PERF_ROWS", "10000000"))
GOAL_S = 1.0
Q0, Q1 = "DATE '2025-07-01'", "DATE '2025-10-01'"
READS = {
    "spend per deployment and day": (
        f"SELECT * FROM billing_cost_by_deployment_daily WHERE day >= {Q0} AND day < {Q1}"
    ),
    "spend by tag (team)": (
        "SELECT tags->>'$.team' AS team, currency, sum(effective_cost) FROM billing_daily_lines "
        f"WHERE day >= {Q0} AND day < {Q1} GROUP BY ALL"
    ),
    "spend per deployment": (
        "SELECT deployment_id, currency, sum(effective_cost) FROM billing_daily_lines "
        f"WHERE day >= {Q0} AND day < {Q1} GROUP BY ALL"
    ),
}
BASELINE = {
    "plain scan: sum(EffectiveCost)": "SELECT sum(EffectiveCost) FROM billing_line_items",
    "plain daily sum (no attribution)": (
        "SELECT CAST(ChargePeriodStart AS DATE) AS day, sum(EffectiveCost) "
        "FROM billing_line_items GROUP BY 1"
    ),
}
# The views before the rollup (migration 0006): attribution of every line, at query time.
OLD_LINES = """
WITH matches AS (
    SELECT b.source_file, b.source_row, r.deployment_id,
           CASE r.match_kind WHEN 'resource_id' THEN 1 WHEN 'tag' THEN 2
                WHEN 'k8s_namespace' THEN 3 ELSE 4 END AS precedence
    FROM billing_line_items b JOIN deployment_resources r ON
        (r.match_kind = 'resource_id' AND b.ResourceId = r.match_value)
        OR (r.match_kind = 'instance_type' AND b.x_InstanceType = r.match_value)
        OR (r.match_kind = 'tag'
            AND json_extract_string(b.Tags, '$."' || r.match_key || '"') = r.match_value)
), best AS (
    SELECT * FROM matches QUALIFY row_number() OVER (PARTITION BY source_file, source_row
                                                     ORDER BY precedence, deployment_id) = 1
)
SELECT coalesce(best.deployment_id, 'unmapped') AS deployment_id,
       CAST(b.ChargePeriodStart AS DATE) AS day, b.EffectiveCost, b.Tags
FROM billing_line_items b LEFT JOIN best USING (source_file, source_row)
"""
OLD_READS = {
    "spend per deployment and day": (
        f"SELECT deployment_id, day, sum(EffectiveCost) FROM ({OLD_LINES}) GROUP BY ALL"
    ),
    "spend by tag (team)": (
        f"SELECT Tags->>'$.team', sum(EffectiveCost) FROM ({OLD_LINES}) GROUP BY 1"
    ),
    "spend per deployment": (
        f"SELECT deployment_id, sum(EffectiveCost) FROM ({OLD_LINES}) GROUP BY 1"
    ),
}


def generate(path: Path, rows: int) -> int:
    """Hourly lines for `resources` resources over 92 days, plus monthly fees; returns lines."""
    resources = max(1, rows // (24 * 92))
    usage = f"""
    SELECT
      CAST(((i * 7919) % 100000) / 10000.0 AS DECIMAL(38, 10)) AS BilledCost,
      CAST(((i * 7919) % 100000) / 12500.0 AS DECIMAL(38, 10)) AS EffectiveCost,
      TIMESTAMPTZ '2025-07-01 00:00:00+00' + INTERVAL (i // {resources}) HOUR
        AS ChargePeriodStart,
      TIMESTAMPTZ '2025-07-01 00:00:00+00' + INTERVAL (i // {resources} + 1) HOUR
        AS ChargePeriodEnd,
      'USD' AS BillingCurrency, 'AWS' AS ProviderName, '123456789012' AS BillingAccountId,
      'Usage' AS ChargeCategory,
      CASE (i % {resources}) % 3 WHEN 0 THEN 'Standard' WHEN 1 THEN 'Dynamic'
           ELSE 'Committed' END AS PricingCategory,
      'arn:aws:ec2:us-east-1:123456789012:instance/i-' || (i % {resources}) AS ResourceId,
      'p5.48xlarge' AS x_InstanceType,
      '{{"unitcost:deployment": "d' || ((i % {resources}) % 12) || '", "team": "t'
        || ((i % {resources}) % 5) || '"}}' AS Tags
    FROM range({resources * 24 * 92}) t(i)
    """
    fees = """
    SELECT CAST(1000 AS DECIMAL(38, 10)), CAST(1000 AS DECIMAL(38, 10)),
      TIMESTAMPTZ '2025-07-01 00:00:00+00' + INTERVAL (m) MONTH,
      TIMESTAMPTZ '2025-07-01 00:00:00+00' + INTERVAL (m + 1) MONTH,
      'USD', 'AWS', '123456789012', 'Purchase', 'Committed', NULL, NULL,
      '{"unitcost:deployment": "d' || d || '", "team": "fees"}'
    FROM range(3) a(m), range(12) b(d)
    """
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"COPY ({usage} UNION ALL {fees}) TO '{path}' (FORMAT parquet)")
    con.close()
    return resources * 24 * 92 + 36


def timed(con: duckdb.DuckDBPyConnection, sql: str, rounds: int = 3) -> tuple[float, int]:
    best, n = float("inf"), 0
    for _ in range(rounds):
        t = time.perf_counter()
        n = len(con.execute(sql).fetchall())
        best = min(best, time.perf_counter() - t)
    return best, n


@pytest.mark.perf
@pytest.mark.timeout(3600)
def test_billing_views_for_a_quarter(tmp_path: Path) -> None:
    path = tmp_path / "quarter.parquet"
    lines = generate(path, ROWS)
    store = Store(tmp_path / "views.duckdb")
    store.migrate()
    deployments.sync(
        store,
        [
            Deployment(
                id=f"d{k}", model="m", match=DeploymentMatch(tags={"unitcost:deployment": f"d{k}"})
            )
            for k in range(12)
        ],
    )
    t = time.perf_counter()
    load = billing.load_file(store, str(path))
    load_s = time.perf_counter() - t
    assert load.rows == lines
    with store.read() as con:
        rollup = con.execute("SELECT count(*) FROM billing_daily").fetchone()
        print(
            f"\n{lines:,} lines over a quarter loaded in {load_s:.1f} s; rollup "
            f"{rollup[0] if rollup else 0:,} rows; {os.cpu_count()} CPUs (shared); "
            f"goal: the three reads under {GOAL_S:.1f} s in total"
        )
        print(f"{'read':36} {'views s':>8} {'rows':>7} {'before 0006 s':>14}")
        total = 0.0
        for name, sql in READS.items():
            s, n = timed(con, sql)
            before, _ = timed(con, OLD_READS[name], rounds=1)
            total += s
            print(f"{name:36} {s:8.3f} {n:7,} {before:14.2f}")
        print(f"{'total':36} {total:8.3f}")
        for name, sql in BASELINE.items():
            s, n = timed(con, sql)
            print(f"{name:36} {s:8.3f} {n:7,}")
        daily = con.execute(
            "SELECT sum(effective_cost) FROM billing_cost_by_deployment_daily"
        ).fetchone()
        raw = con.execute("SELECT sum(EffectiveCost) FROM billing_line_items").fetchone()
    assert daily == raw  # the rollup holds every cent of the lines
