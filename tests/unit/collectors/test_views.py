"""Collector views, data in and data out: literal rows in a real store, exact rows out."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from unitcost.collectors import billing_ledger as ledger
from unitcost.collectors import deployments, rollups

from unitcost.config import Deployment, DeploymentMatch
from unitcost.store import Store

DEPS = [
    Deployment(
        id="chat",
        model="llama-8b",
        match=DeploymentMatch(
            tags={"unitcost:deployment": "chat"}, metric_labels={"model": "llama-8b"}
        ),
    ),
    Deployment(
        id="batch",
        model="llama-70b",
        match=DeploymentMatch(
            resource_ids=["i-batch"], instance_types=["p5.48xlarge"], k8s_namespaces=["batch-ns"]
        ),
    ),
]
LINES = [
    # row, ResourceId, instance, Tags, billed, effective, pricing
    (1, "i-chat", "g5.xlarge", '{"unitcost:deployment": "chat"}', "1.00", "0.80", "Standard"),
    (2, "i-batch", "p5.48xlarge", None, "98.32", "70.00", "Committed"),
    (3, "i-other", "p5.48xlarge", None, "10.00", "10.00", "Dynamic"),  # by instance type
    (4, "i-pod", None, '{"aws:eks:namespace": "batch-ns"}', "2.00", "2.00", "Standard"),
    (5, "vol-1", None, None, "0.33", "0.33", None),  # nobody's: unmapped
    # resource id beats tag: both match, resource_id wins
    (6, "i-batch", None, '{"unitcost:deployment": "chat"}', "5.00", "5.00", "Standard"),
]


def load(store: Store) -> None:
    deployments.sync(store, DEPS)
    with store.write() as con:
        for row, rid, inst, tags, billed, eff, pc in LINES:
            con.execute(
                "INSERT INTO billing_line_items (source_file, source_row, source_format, "
                "ResourceId, x_InstanceType, Tags, BilledCost, EffectiveCost, PricingCategory, "
                "BillingCurrency, ChargePeriodStart) VALUES ('f', ?, 'focus-1.2', ?, ?, ?, ?, ?, "
                "?, 'USD', TIMESTAMPTZ '2025-03-01 10:00:00+00')",
                [row, rid, inst, tags, Decimal(billed), Decimal(eff), pc],
            )
        # literal lines enter the views the way every writer's lines do: recorded, resolved,
        # rolled up (collectors/billing_ledger.py)
        ledger.register_inserted(con, "f", "focus-1.2")
        con.execute(
            "INSERT INTO metric_intervals (deployment_id, interval_start, interval_s, "
            "input_tokens, output_tokens, requests_ok, requests_failed, source) VALUES "
            "('chat', TIMESTAMPTZ '2025-03-01 10:00:00+00', 60, 1000, 400000, 9, 1, 's')"
        )


def test_deployment_sync_is_idempotent(cstore: Store) -> None:
    for _ in range(2):
        deployments.sync(cstore, DEPS)
    with cstore.read() as con:
        rules = con.execute(
            "SELECT deployment_id, match_kind, match_key, match_value FROM deployment_resources "
            "ORDER BY ALL"
        ).fetchall()
        deps = con.execute("SELECT deployment_id, model FROM deployments ORDER BY 1").fetchall()
    assert deps == [("batch", "llama-70b"), ("chat", "llama-8b")]
    assert rules == sorted(
        [
            ("batch", "instance_type", "", "p5.48xlarge"),
            ("batch", "k8s_namespace", "", "batch-ns"),
            ("batch", "resource_id", "", "i-batch"),
            ("chat", "metric_label", "model", "llama-8b"),
            ("chat", "tag", "unitcost:deployment", "chat"),
        ]
    )


def test_lines_attributed_and_unmapped_kept(cstore: Store) -> None:
    load(cstore)
    with cstore.read() as con:
        lines = con.execute(
            "SELECT source_row, deployment_id, matched_by FROM billing_attributed_lines "
            "ORDER BY source_row"
        ).fetchall()
        daily = con.execute(
            "SELECT deployment_id, day, currency, billed_cost, effective_cost, "
            "spot_effective_cost, committed_effective_cost, line_items "
            "FROM billing_cost_by_deployment_daily ORDER BY 1"
        ).fetchall()
        total = con.execute("SELECT sum(BilledCost) FROM billing_line_items").fetchone()
    assert lines == [
        (1, "chat", "tag"),
        (2, "batch", "resource_id"),
        (3, "batch", "instance_type"),
        (4, "batch", "k8s_namespace"),
        (5, "unmapped", None),
        (6, "batch", "resource_id"),
    ]
    day = dt.date(2025, 3, 1)
    assert daily == [
        (
            "batch",
            day,
            "USD",
            Decimal("115.32"),
            Decimal("87.00"),
            Decimal("10.00"),
            Decimal("70.00"),
            4,
        ),
        ("chat", day, "USD", Decimal("1.00"), Decimal("0.80"), None, None, 1),
        ("unmapped", day, "USD", Decimal("0.33"), Decimal("0.33"), None, None, 1),
    ]
    assert total == (sum(r[3] for r in daily),)  # nothing dropped


def test_tokens_and_success_rate(cstore: Store) -> None:
    load(cstore)
    with cstore.read() as con:
        tok = con.execute(
            "SELECT deployment_id, output_tokens, success_rate FROM metrics_tokens_daily"
        ).fetchall()
    assert tok == [("chat", 400000.0, 0.9)]


def test_gpu_hourly(cstore: Store) -> None:
    with cstore.write() as con:
        for i, (u, p, e) in enumerate([(0.5, 300.0, 1_000_000), (0.7, 500.0, 1_400_000)]):
            con.execute(
                "INSERT INTO gpu_samples (host, gpu_uuid, ts, source, util_gpu, power_w, "
                "energy_mj) VALUES ('h', 'GPU-1', TIMESTAMPTZ '2025-03-01 10:00:00+00' + "
                "INTERVAL (?) SECOND, 'nvml', ?, ?, ?)",
                [i * 60, u, p, e],
            )
        rollups.rebuild(con)  # written without the collectors: the rollup, once
    with cstore.read() as con:
        row = con.execute(
            "SELECT util_gpu, power_w, energy_j, samples FROM gpu_utilization_hourly"
        ).fetchone()
    assert row is not None
    assert (round(row[0], 6), row[1], row[2], row[3]) == (0.6, 400.0, 400.0, 2)
