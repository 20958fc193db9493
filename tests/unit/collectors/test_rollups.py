"""Rollups kept in step with every write: written in pieces or at once, the same sums, and
always equal to a recomputation from the stored rows (sql/checks/rollups_match.sql)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from unitcost.collectors import gpu, metric_store, rollups
from unitcost.collectors.metric_store import SampleBatch

from unitcost import sqlfiles
from unitcost.store import Store

START = datetime(2026, 8, 10, 22, 0, tzinfo=UTC)  # two hours before midnight: two days touched


def _store(tmp_path: Path, name: str) -> Store:
    s = Store(tmp_path / name)
    s.migrate()
    return s


def _counter_batch(minutes: range) -> SampleBatch:
    batch = SampleBatch()
    ts = np.array([(START + timedelta(minutes=m)).timestamp() for m in minutes])
    labels = {"model_name": "m", "unitcost_deployment": "d"}
    batch.add("vllm:generation_tokens_total", labels, ts, [100.0 * m for m in minutes])
    return batch


def _daily(store: Store) -> list[tuple[object, ...]]:
    with store.read() as con:
        assert con.execute(sqlfiles.load("checks", "rollups_match")).fetchall() == []
        return con.execute(
            "SELECT deployment_id, day, output_tokens, observed_s FROM kpi_usage_daily ORDER BY ALL"
        ).fetchall()


def test_metric_days_written_in_pieces_equal_at_once(tmp_path: Path) -> None:
    whole, pieces = _store(tmp_path, "a.duckdb"), _store(tmp_path, "b.duckdb")
    with whole.write() as con:
        metric_store.write(con, _counter_batch(range(0, 240)), source="s", kind="scrape")
    for part in (range(0, 70), range(70, 130), range(130, 240)):  # across midnight
        with pieces.write() as con:
            metric_store.write(con, _counter_batch(part), source="s", kind="scrape")
    got = _daily(whole)
    assert got == _daily(pieces)
    # 239 increases of 100 tokens, split at midnight (22:00 + 120 minutes)
    assert [(str(d), t) for _, d, t, _ in got] == [
        ("2026-08-10", 11_900.0),
        ("2026-08-11", 12_000.0),
    ]


def test_gpu_hours_written_in_pieces_equal_at_once(tmp_path: Path) -> None:
    def samples(minutes: range) -> list[gpu.GpuSample]:
        return [
            gpu.GpuSample(
                host="h", gpu_uuid="GPU-1", ts=START + timedelta(minutes=m), source="nvml",
                util_gpu=0.5, energy_mj=1_000_000.0 + 60_000.0 * m,
            )
            for m in minutes
        ]  # fmt: skip

    whole, pieces = _store(tmp_path, "a.duckdb"), _store(tmp_path, "b.duckdb")
    gpu.write_samples(whole, samples(range(0, 180, 5)))
    for part in (range(0, 65, 5), range(65, 180, 5)):  # the 23:xx hour spans two writes
        gpu.write_samples(pieces, samples(part))
    query = "SELECT hour, energy_j, samples FROM gpu_utilization_hourly ORDER BY hour"
    with whole.read() as a, pieces.read() as b:
        assert a.execute(sqlfiles.load("checks", "rollups_match")).fetchall() == []
        assert b.execute(sqlfiles.load("checks", "rollups_match")).fetchall() == []
        got = a.execute(query).fetchall()
        assert got == b.execute(query).fetchall()
    # 60 J a minute, a sample every 5 minutes: 300 J per pair; the first hour has 11 pairs
    assert [(e, n) for _, e, n in got] == [(3300.0, 12), (3600.0, 12), (3600.0, 12)]


def test_rebuild_equals_writes(tmp_path: Path) -> None:
    s = _store(tmp_path, "a.duckdb")
    with s.write() as con:
        metric_store.write(con, _counter_batch(range(0, 240)), source="s", kind="scrape")
    before = _daily(s)
    with s.write() as con:
        con.execute("DELETE FROM metric_daily")
        rollups.rebuild(con)
    assert _daily(s) == before


def test_gpu_days_count_one_source_per_hour_in_any_write_order(tmp_path: Path) -> None:
    """NVML and DCGM both saw GPU-1 at 23:xx: gpu_daily counts that hour once, from NVML, and
    the day after (DCGM only) from DCGM, whichever source was written first, in pieces."""

    def samples(source: str, minutes: range, util: float) -> list[gpu.GpuSample]:
        return [
            gpu.GpuSample(
                host="h", gpu_uuid="GPU-1", ts=START + timedelta(minutes=m), source=source,
                util_gpu=util, pod="pod-a" if source == "dcgm" else None,
            )
            for m in minutes
        ]  # fmt: skip

    nvml = samples("nvml", range(0, 120, 10), 0.5)  # 22:00-23:50 on 2026-08-10
    dcgm = samples("dcgm", range(60, 180, 10), 0.9)  # 23:00 on the 10th to 00:50 on the 11th
    a, b = _store(tmp_path, "a.duckdb"), _store(tmp_path, "b.duckdb")
    gpu.write_samples(a, nvml)
    gpu.write_samples(a, dcgm)
    gpu.write_samples(b, dcgm[6:])  # the 11th first, then the rest
    gpu.write_samples(b, dcgm[:6])
    gpu.write_samples(b, nvml)
    query = (
        "SELECT host, gpu_uuid, CAST(day AS VARCHAR), gpu_hours, round(util_gpu_hours, 9), "
        "util_gpu_hours_n, pod FROM gpu_daily ORDER BY day"
    )
    with a.read() as ca, b.read() as cb:
        for con in (ca, cb):
            assert con.execute(sqlfiles.load("checks", "rollups_match")).fetchall() == []
        got = ca.execute(query).fetchall()
        assert got == cb.execute(query).fetchall()
        # the 10th: 22:00 and 23:00 from NVML (0.5 each); the 11th: 00:00 from DCGM (0.9)
        assert got == [
            ("h", "GPU-1", "2026-08-10", 2, 1.0, 2, "pod-a"),
            ("h", "GPU-1", "2026-08-11", 1, 0.9, 1, "pod-a"),
        ]
    # the same samples delivered again (a restated pull) change nothing
    gpu.write_samples(a, dcgm + nvml)
    with a.read() as ca:
        assert ca.execute(sqlfiles.load("checks", "rollups_match")).fetchall() == []
        assert ca.execute(query).fetchall() == got


def test_kv_hours_follow_the_intervals(tmp_path: Path) -> None:
    """metric_kv_hourly holds the KV-cache seconds of metric_intervals per deployment and UTC
    hour, after writes in pieces and after a rebuild."""
    s = _store(tmp_path, "a.duckdb")
    batch = SampleBatch()
    minutes = range(0, 150)
    ts = np.array([(START + timedelta(minutes=m)).timestamp() for m in minutes])
    labels = {"model_name": "m", "unitcost_deployment": "d"}
    batch.add("vllm:kv_cache_usage_perc", labels, ts, [0.25 if m < 60 else 0.75 for m in minutes])
    batch.add("vllm:generation_tokens_total", labels, ts, [10.0 * m for m in minutes])
    with s.write() as con:
        metric_store.write(con, batch, source="s", kind="scrape")
    query = (
        "SELECT CAST(hour AS VARCHAR), round(kv_usage_s / kv_observed_s, 6) FROM "
        "metric_kv_hourly ORDER BY hour"
    )
    with s.read() as con:
        assert con.execute(sqlfiles.load("checks", "rollups_match")).fetchall() == []
        got = con.execute(query).fetchall()
    assert [h for h, _ in got] == ["2026-08-10 22:00:00", "2026-08-10 23:00:00",
                                   "2026-08-11 00:00:00"]  # fmt: skip
    assert got[2][1] == 0.75
    with s.write() as con:
        con.execute("DELETE FROM metric_kv_hourly")
        rollups.rebuild(con)
    with s.read() as con:
        assert con.execute(query).fetchall() == got
