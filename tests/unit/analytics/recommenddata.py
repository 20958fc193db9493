"""A store whose recommendation is worked out by hand, for the recommend tests.

The model, acme/chat-7b, is not in the emulator's catalog, so only the measured configs below
are candidates and every figure can be worked out by hand:
  A on L40S: 4 req/s per replica at TPOT 15 ms (concurrency 4 at TPOT 9 ms: e2e 100 + 100 x 9 =
             1000 ms -> 4 / 1.0 s); 2.00 USD/hour on demand.
  B on L4:   3 req/s (concurrency 3, e2e 1.0 s); 1.45 USD/hour on demand.
Each also has a run at twice the load with TPOT 20 ms, which misses the SLO.
Traffic (`add_traffic`): deployment 'chat' serving the model on L40S, two days of 1-minute
intervals at 2 + h/4 req/s in hour h of each day (peak 7.75 req/s in hour 23).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from unitcost.collectors import rollups

from tests.unit.analytics.benchdata import add_run
from unitcost import prices
from unitcost.config import PriceRow
from unitcost.store import Store

MODEL = "acme/chat-7b"
PRICES = (("L40S", "big", "2.00"), ("L4", "small", "1.45"))


def price_row(gpu: str, itype: str, od: str) -> PriceRow:
    return PriceRow(
        provider="test", region="r1", instance_type=itype, gpu_model=gpu, gpu_count=1,
        on_demand_usd_per_hour=Decimal(od), source="test", as_of="2026-09",
    )  # fmt: skip


def add_fleet(store: Store, *, with_prices: bool = True) -> None:
    """The runs of A and B, and (unless a config will carry them) their prices."""
    with store.write() as con:
        for hw, c in (("L40S", 4), ("L4", 3)):
            add_run(con, f"{hw}-ok", model=MODEL, hardware=hw, concurrency=c, tpot_ms=9.0,
                    capacity_search=True)  # fmt: skip
            add_run(con, f"{hw}-over", model=MODEL, hardware=hw, concurrency=2 * c,
                    tpot_ms=20.0, capacity_search=True)  # fmt: skip
        if with_prices:
            prices.sync_config(con, [price_row(*p) for p in PRICES])


def add_traffic(store: Store, labels: dict[str, str] | None = None) -> None:
    """Deployment 'chat' and its two days of traffic (module docstring)."""
    start = datetime(2026, 9, 1, tzinfo=UTC)
    with store.write() as con:
        con.execute(
            "INSERT INTO deployments (deployment_id, model, hardware, labels) "
            "VALUES ('chat', ?, 'L40S', ?)",
            [MODEL, labels or {}],
        )
        rows = []
        for minute in range(2 * 24 * 60):
            ts = start + timedelta(minutes=minute)
            rps = 2 + ts.hour / 4  # flat within the hour
            rows.append(("chat", ts, 60, rps * 60, 0.0, "test"))
        con.executemany(
            "INSERT INTO metric_intervals (deployment_id, interval_start, interval_s, "
            "requests_ok, requests_failed, source) VALUES (?, ?, ?, ?, ?, ?)",
            rows,
        )
        rollups.rebuild(con)  # written without the collectors: their rollups, once
