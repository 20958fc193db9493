"""Literal rows for the dashboard's tests: benchmark runs, their scrapes, collector runs.

Every figure here is chosen so a test can work out by hand what a page must show.
"""

from __future__ import annotations

import json
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from unitcost.analytics.recommend import recommend
from unitcost.collectors import deployments

from tests.support import kpi_seed
from unitcost import prices
from unitcost.config import Deployment, Settings
from unitcost.store import Store

T0 = datetime(2026, 8, 3, 12, 0, tzinfo=UTC)
M8 = "llama-3.1-8b"
P5 = "aws/us-east-1/p5.48xlarge"

#: (run_id, model, quant, hardware, gpus, price_ref, emulated, concurrency, out tok/s,
#:  total tok/s, tpot p50 ms, ttft p50 ms)
RUNS: list[tuple[Any, ...]] = [
    ("m8-c1", M8, "fp16", "H100", 1, P5, False, 1, 100.0, 150.0, 10.0, 40.0),
    ("m8-c8", M8, "fp16", "H100", 1, P5, False, 8, 640.0, 960.0, 12.5, 55.0),
    ("m8-c16", M8, "fp16", "H100", 1, P5, False, 16, 600.0, 900.0, 25.0, 90.0),
    ("e8-c1", M8, "int4", "L4", 1, None, True, 1, 50.0, 75.0, 20.0, 60.0),
    ("e8-c8", M8, "int4", "L4", 1, None, True, 8, 240.0, 360.0, 33.3, 120.0),
]


def summary(out_tps: float, tot_tps: float, tpot: float, ttft: float) -> dict[str, Any]:
    return {
        "requests_total": 100,
        "requests_ok": 99,
        "requests_failed": 1,
        "requests_cancelled": 0,
        "success_rate": 0.99,
        "duration_s": 60.0,
        "request_rate": 1.65,
        "output_tokens_per_s": out_tps,
        "total_tokens_per_s": tot_tps,
        "ttft_ms": {"p50": ttft, "p99": ttft * 2},
        "tpot_ms": {"p50": tpot, "p99": tpot * 1.5},
        "slo": {"ttft": 100.0, "tpot": 30.0},
        "goodput": 1.5,
        "usd_per_1m_output_tokens_at_slo": 12.34 if tpot <= 30 else None,
        "meets_slo": tpot <= 30,
    }


def seed_bench(store: Store) -> None:
    """Five runs: three measured (8B fp16 on H100), two emulated (8B int4 on L4)."""
    with store.write() as con:
        for i, (rid, model, quant, hw, gpus, ref, emu, conc, otps, ttps, tpot, ttft) in enumerate(
            RUNS
        ):
            con.execute(
                "INSERT INTO bench_runs (run_id, name, status, started_at, model, quantization, "
                "engine, hardware, gpu_count, price_ref, emulated, load_profile, slo, "
                "tool_version, schema_version, summary) VALUES (?, ?, 'completed', ?, ?, ?, "
                "'vllm', ?, ?, ?, ?, ?::JSON, ?::JSON, 't', 1, ?::JSON)",
                [
                    rid,
                    f"run {rid}",
                    T0 + timedelta(minutes=i),
                    model,
                    quant,
                    hw,
                    gpus,
                    ref,
                    emu,
                    json.dumps({"kind": "concurrency", "concurrency": conc}),
                    json.dumps({"ttft": 100.0, "tpot": 30.0}),
                    json.dumps(summary(otps, ttps, tpot, ttft)),
                ],
            )


def seed_energy(store: Store) -> None:
    """Scrapes of run m8-c8: 2 GPUs' energy counters and vLLM's token counter, one reset.

    GPU0: 1,000,000 -> 1,500,000 mJ (500 J); GPU1: 2,000,000 -> 2,100,000 then reset to
    50,000 (100 J + 50 J). Tokens: 1000 -> 2500 (1500). J/token = 650 / 1500.
    """
    rows = [
        ("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", 'gpu="0"', [1_000_000, 1_200_000, 1_500_000]),
        ("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", 'gpu="1"', [2_000_000, 2_100_000, 50_000]),
        ("vllm:generation_tokens_total", 'model_name="m"', [1000, 1800, 2500]),
    ]
    with store.write() as con:
        for metric, key, values in rows:
            (sid,) = con.execute(
                "INSERT INTO metric_series (source, source_kind, metric, series_key, labels) "
                "VALUES ('http://emu/metrics', 'scrape', ?, ?, map()) RETURNING series_id",
                [metric, f"{metric}{{{key}}}"],
            ).fetchone() or (None,)
            for j, v in enumerate(values):
                con.execute(
                    "INSERT INTO metric_points (series_id, ts, value, run_id) "
                    "VALUES (?, ?, ?, 'm8-c8')",
                    [sid, T0 + timedelta(seconds=5 * j), float(v)],
                )


def seed_collectors(store: Store) -> None:
    """Two prometheus runs (one failed, with a password in its URL) and a billing run."""
    src = "http://admin:hunter2@prom:9090"
    runs = [
        ("r1", "prometheus", src, T0, "ok", 120, None),
        ("r2", "prometheus", src, T0 + timedelta(hours=1), "failed", 0, f"cannot reach {src}/api"),
        ("r3", "billing", "focus-export", T0, "ok", 1000, None),
    ]
    with store.write() as con:
        for rid, coll, source, started, status, n, err in runs:
            con.execute(
                "INSERT INTO collector_runs (collector_run_id, collector, source, started_at, "
                "ended_at, status, rows_written, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [rid, coll, source, started, started + timedelta(minutes=1), status, n, err],
            )
        con.execute("INSERT INTO watermarks VALUES ('prometheus', ?, ?, ?)", [src, T0, T0])


#: A config whose scenario gives deployment 'self' an SLO, so kpi has a capacity utilization
#: for it (from the emulator's physics: no benchmark of its config), as in tests/unit/analytics.
CONFIG = """
[[scenarios]]
name = "self-chat"
input_tokens = 512
output_tokens = 128
slo_ttft_ms = 500
slo_tpot_ms = 50
deployment = "self"
peak_rps = 2.0
hosted_models = ["gpt-4o-mini"]
"""


def write_config(folder: Path) -> Path:
    path = folder / "unitcost.toml"
    path.write_text(CONFIG)
    return path


def seed_all(store: Store) -> None:
    """Benchmarks, scrapes and collector runs here, and the KPI cases of tests/support/kpi_seed
    (a billed, an estimated, a VM-only-priced and a EUR deployment on 2026-08-11; unmapped
    spend; the day before as the previous period); 'self' serves a model the emulator knows."""
    with store.write() as con:
        prices.load_shipped(con)
    kpi_seed.seed(store)
    deployments.sync(
        store,
        [
            *[d for d in kpi_seed.DEPS if d.id != "self"],
            Deployment(
                id="self",
                model="meta-llama/Llama-3.1-8B-Instruct",
                hardware="H100",
                quantization="fp16",
                engine="vllm",
                gpu_count=1,
                price_ref="test/r/gpu1",
            ),
        ],
    )
    seed_bench(store)
    with store.write() as con:  # the answer /tiers, the Overview and the review show
        recommend(
            con,
            Settings.model_validate(tomllib.loads(CONFIG)),
            save=True,
            run_at=datetime(2026, 10, 1, 8, 0, tzinfo=UTC),
        )
    seed_energy(store)
    seed_collectors(store)
