"""A small store for KPI tests, with every case the KPIs must get right (see test_kpi.py).

The day D1 (2026-08-11) holds: 'chat' billed 10.00 USD (12.00 cash) for one busy and one idle
hour; 'self' with no billing line, estimated at 2 GPU-hours x 2.00 USD; 'vmonly' priced by a
VM-only row (no estimate possible); 'eu' billed 5.00 EUR; 0.33 USD of spend no rule claims;
tokens from series no rule claims; a GPU no rule claims. chat's busy hour has prefix-cache
counters and TTFT/ITL histograms; eu's telemetry is emulated. D0, the day before, is the previous
period: 'chat' billed 8.00 USD for 200,000 output tokens.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

from unitcost.analytics.period import day_range
from unitcost.collectors import billing_ledger, deployments, rollups

from unitcost import prices
from unitcost.config import Deployment, DeploymentMatch, PriceRow
from unitcost.store import Store

D0, D1 = dt.date(2026, 8, 10), dt.date(2026, 8, 11)
PERIOD = day_range(D1, D1)

DEPS = [
    Deployment(
        id="chat",
        model="llama-8b",
        hardware="H100",
        gpu_count=1,
        price_ref="test/r/gpu8",
        match=DeploymentMatch(tags={"app": "chat"}, resource_ids=["host-chat"]),
    ),
    Deployment(id="self", model="llama-3b", hardware="L4", gpu_count=1, price_ref="test/r/gpu1"),
    Deployment(id="vmonly", model="llama-8b", hardware="A100", price_ref="test/r/vm"),
    Deployment(id="eu", model="llama-3b", hardware="L4", match=DeploymentMatch(tags={"app": "eu"})),
]
PRICES = [
    PriceRow(
        provider="test",
        region="r",
        instance_type="gpu1",
        gpu_model="L4",
        gpu_count=1,
        on_demand_usd_per_hour=Decimal("2.00"),
    ),
    PriceRow(
        provider="test",
        region="r",
        instance_type="gpu8",
        gpu_model="H100",
        gpu_count=8,
        on_demand_usd_per_hour=Decimal("40.00"),
    ),
    PriceRow(
        provider="test",
        region="r",
        instance_type="vm",
        gpu_model="A100",
        gpu_count=1,
        price_model="on_demand_vm_only",
        on_demand_usd_per_hour=Decimal("0.70"),
    ),
]
# day, row, tag, currency, billed, effective
LINES = [
    (D1, 1, "chat", "USD", "12.00", "10.00"),
    (D1, 2, None, "USD", "0.33", "0.33"),
    (D1, 3, "eu", "EUR", "5.00", "5.00"),
    (D0, 4, "chat", "USD", "8.00", "8.00"),
]
# deployment, day, hour, input, output, ok, failed, reasons
INTERVALS: list[tuple[str, dt.date, int, float, float, float, float, dict[str, float] | None]] = [
    ("chat", D1, 10, 1000, 400_000, 9, 1, {"abort": 1.0}),
    ("chat", D1, 11, 0, 0, 0, 0, None),  # idle hour
    ("self", D1, 12, 500, 100_000, 5, 0, None),
    ("self", D1, 13, 500, 100_000, 5, 0, None),
    ("vmonly", D1, 12, 10, 1_000, 1, 0, None),
    ("eu", D1, 9, 0, 1_000_000, 50, 0, None),
    ("unmapped", D1, 9, 0, 7_000, 1, 0, None),
    ("chat", D0, 10, 0, 200_000, 4, 0, None),
]


def _ts(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=dt.UTC)


def seed(store: Store) -> Store:
    """Write the rows above into a migrated store."""
    deployments.sync(store, DEPS)
    with store.write() as con:
        # as imported rows: a CLI run applies its own (empty) [[prices]] over the config layer
        rows = [dataclasses.replace(r, origin="import") for r in prices.config_records(PRICES)]
        prices._upsert(con, rows)
        for day, row, tag, cur, billed, eff in LINES:
            con.execute(
                "INSERT INTO billing_line_items (source_file, source_row, source_format, Tags, "
                "BilledCost, EffectiveCost, BillingCurrency, ChargePeriodStart, ChargePeriodEnd, "
                "ProviderName) VALUES ('f', ?, 'focus-1.2', ?, ?, ?, ?, ?, ?, 'TestCloud')",
                [
                    row,
                    f'{{"app": "{tag}"}}' if tag else None,
                    Decimal(billed),
                    Decimal(eff),
                    cur,
                    _ts(day, 0),
                    _ts(day, 0) + dt.timedelta(days=1),
                ],
            )
        # lines written straight into the table reach the billing views once recorded
        billing_ledger.register_inserted(con, "f", "focus-1.2")
        for dep, day, hour, inp, outp, ok, failed, reasons in INTERVALS:
            con.execute(
                "INSERT INTO metric_intervals (deployment_id, interval_start, interval_s, "
                "input_tokens, output_tokens, requests_ok, requests_failed, failed_by_reason, "
                "kv_cache_usage, source) VALUES (?, ?, 3600, ?, ?, ?, ?, "
                "map(CAST(? AS VARCHAR[]), CAST(? AS DOUBLE[])), 0.25, 's')",
                [
                    dep,
                    _ts(day, hour),
                    inp,
                    outp,
                    ok,
                    failed,
                    list(reasons) if reasons else None,
                    list(reasons.values()) if reasons else None,
                ],
            )
        # chat's busy hour: prefix-cache counters and latency histograms (bucket increases)
        con.execute(
            "UPDATE metric_intervals SET prefix_cache_queries = 1000, prefix_cache_hits = 400, "
            "ttft_hist = MAP {0.2: 6.0, 0.5: 8.0, 1.0: 9.0, 'inf'::DOUBLE: 10.0}, "
            "itl_hist = MAP {0.02: 300000.0, 0.05: 390000.0, 'inf'::DOUBLE: 400000.0} "
            "WHERE deployment_id = 'chat' AND interval_start = ?",
            [_ts(D1, 10)],
        )
        # eu's telemetry comes from emulated series
        con.execute("UPDATE metric_intervals SET emulated = true WHERE deployment_id = 'eu'")
        for host, minute, util, energy_mj in [
            ("host-chat", 0, 0.5, 1_000_000),
            ("host-chat", 30, 0.7, 1_400_000),
            ("stray", 0, 0.1, None),
        ]:
            con.execute(
                "INSERT INTO gpu_samples (host, gpu_uuid, ts, source, util_gpu, energy_mj) "
                "VALUES (?, ?, ?, 'nvml', ?, ?)",
                [host, f"GPU-{host}", _ts(D1, 10, minute), util, energy_mj],
            )
        rollups.rebuild(con)  # rows written without the collectors: their rollups, once
    return store
