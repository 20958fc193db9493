"""Migration 0005 carries a store's existing samples, intervals and GPU rows over: the three
series_key spellings of earlier writers become one, readers keep the metric_samples columns."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from unitcost.collectors import deployments

from unitcost import sqlfiles
from unitcost.config import Deployment, DeploymentMatch
from unitcost.store import Store, available_migrations

T0 = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)
URL = "http://vllm:8000/metrics"
OLD_SAMPLES = [  # (source, metric, series_key, label keys, label values, seconds, value, run_id)
    # `collect scrape`: canonical key, normalized labels
    (URL, "vllm:generation_tokens_total", 'vllm:generation_tokens_total{model_name="m"}',
     ["model_name", "model", "engine"], ["m", "m", "vllm"], 0, 100.0, None),
    # bench, the same series: label part only, labels as exposed, a run id
    (URL, "vllm:generation_tokens_total", 'model_name="m"', ["model_name"], ["m"], 30, 160.0,
     "run-1"),
    # emulate offline: label part only, its own source
    ("emulate-offline:e", "vllm:generation_tokens_total", 'emulated="true",model_name="m"',
     ["emulated", "model_name"], ["true", "m"], 0, 5.0, None),
    ("emulate-offline:e", "vllm:generation_tokens_total", 'emulated="true",model_name="m"',
     ["emulated", "model_name"], ["true", "m"], 60, 9.0, None),
    # a Prometheus pull
    ("http://prom:9090", "DCGM_FI_DEV_POWER_USAGE", 'DCGM_FI_DEV_POWER_USAGE{UUID="GPU-1"}',
     ["UUID", "gpu_uuid", "engine"], ["GPU-1", "GPU-1", "dcgm"], 0, 300.0, None),
]  # fmt: skip


def old_store(tmp_path: Path) -> Store:
    store = Store(tmp_path / "old.duckdb")
    store.migrate([m for m in available_migrations() if m.version <= 4])
    con = store._retry_lock(lambda: __import__("duckdb").connect(str(store.path)))
    try:
        con.execute("SET TimeZone = 'UTC'")
        for src, metric, key, lk, lv, secs, value, run in OLD_SAMPLES:
            con.execute(
                "INSERT INTO metric_samples VALUES (?, ?, ?, map(?::VARCHAR[], ?::VARCHAR[]), "
                "?::TIMESTAMPTZ + to_seconds(?), ?, ?)",
                [src, metric, key, lk, lv, T0, secs, value, run],
            )
        con.execute(
            "INSERT INTO collector_runs VALUES ('r', 'prometheus', 'http://prom:9090', ?, ?, "
            "'ok', 1, NULL, NULL, NULL)",
            [T0, T0],
        )
        con.execute(
            "INSERT INTO metric_intervals (deployment_id, interval_start, interval_s, "
            "output_tokens, source) VALUES ('model:m', ?, 60, 60.0, ?)",
            [T0, URL],
        )
        con.execute(
            "INSERT INTO gpu_samples (host, gpu_uuid, ts, source, power_w, energy_mj) "
            "VALUES ('h', 'GPU-1', ?, 'dcgm', 300.0, 5.0)",
            [T0],
        )
    finally:
        con.close()
    return store


def test_0005_carries_samples_intervals_and_gpu_rows(tmp_path: Path) -> None:
    store = old_store(tmp_path)
    assert "0005_metric_store" in store.migrate()
    with store.read() as con:
        series = con.execute(
            "SELECT source, source_kind, metric, series_key, deployment_id, emulated "
            "FROM metric_series ORDER BY series_id"
        ).fetchall()
        samples = con.execute(
            "SELECT source, metric, series_key, epoch(ts) - epoch(?::TIMESTAMPTZ), value, run_id "
            "FROM metric_samples ORDER BY ALL",
            [T0],
        ).fetchall()
        labels = con.execute(
            "SELECT labels FROM metric_samples WHERE source = ? LIMIT 1", [URL]
        ).fetchone()
        interval = con.execute(
            "SELECT deployment_id, output_tokens, emulated, ttft_hist FROM metric_intervals"
        ).fetchall()
        gpu = con.execute("SELECT host, power_w, energy_mj FROM gpu_samples").fetchall()
        for check in sqlfiles.names("checks"):
            assert con.execute(sqlfiles.load("checks", check)).fetchall() == [], check
    key = 'vllm:generation_tokens_total{model_name="m"}'
    emu_key = 'vllm:generation_tokens_total{emulated="true",model_name="m"}'
    assert sorted(series) == sorted(
        [
            (URL, "scrape", "vllm:generation_tokens_total", key, None, False),  # one, not two
            ("emulate-offline:e", "emulate", "vllm:generation_tokens_total", emu_key, None, True),
            ("http://prom:9090", "prometheus", "DCGM_FI_DEV_POWER_USAGE",
             'DCGM_FI_DEV_POWER_USAGE{UUID="GPU-1"}', None, False),
        ]
    )  # fmt: skip
    assert samples == sorted(
        [
            (URL, "vllm:generation_tokens_total", key, 0.0, 100.0, None),
            (URL, "vllm:generation_tokens_total", key, 30.0, 160.0, "run-1"),
            ("emulate-offline:e", "vllm:generation_tokens_total", emu_key, 0.0, 5.0, None),
            ("emulate-offline:e", "vllm:generation_tokens_total", emu_key, 60.0, 9.0, None),
            ("http://prom:9090", "DCGM_FI_DEV_POWER_USAGE",
             'DCGM_FI_DEV_POWER_USAGE{UUID="GPU-1"}', 0.0, 300.0, None),
        ]
    )  # fmt: skip
    assert labels is not None and labels[0]["model"] == "m"  # the normalized superset kept
    assert interval == [("model:m", 60.0, False, None)]
    assert gpu == [("h", 300.0, 5.0)]
    # `collect deployments` maps the carried-over series and derives their intervals again
    dep = Deployment(id="chat", model="m", match=DeploymentMatch(metric_labels={"model": "m"}))
    deployments.sync(store, [dep])
    with store.read() as con:
        mapped = con.execute(
            "SELECT source, deployment_id FROM metric_series ORDER BY source"
        ).fetchall()
        rows = con.execute(
            "SELECT deployment_id, sum(output_tokens), bool_or(emulated) FROM metric_intervals "
            "WHERE output_tokens IS NOT NULL GROUP BY ALL ORDER BY 1"
        ).fetchall()
    assert mapped == [
        ("emulate-offline:e", "chat"),  # emulated but names no deployment: the rules decide
        ("http://prom:9090", "unmapped"),
        (URL, "chat"),
    ]
    # 60 bench+collect tokens and 4 emulated ones, now under 'chat'; model:m is gone
    assert rows == [("chat", 64.0, True)]
