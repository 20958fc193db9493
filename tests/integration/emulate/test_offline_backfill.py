"""Offline telemetry reaches real consumers: promtool backfill + Prometheus, and the store."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import duckdb
import pytest

from tests.integration.collectors.conftest import start_prometheus
from tests.integration.emulate.servers import prom_query, run_prometheus

pytestmark = pytest.mark.integration


def _unitcost(*args: str) -> subprocess.CompletedProcess[str]:
    exe = str(Path(sys.executable).with_name("unitcost"))
    return subprocess.run([exe, *args], capture_output=True, text=True, timeout=300, check=False)


def test_promtool_backfill_then_prometheus_serves_it(tmp_path: Path) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool is not installed (apt-get install -y prometheus)")
    start = (datetime.now(UTC) - timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    om = tmp_path / "week.om"
    r = _unitcost(
        "emulate",
        "offline",
        "--model",
        "llama-3.1-8b",
        "--gpu",
        "h100",
        "--rps",
        "4",
        "--days",
        "0.25",
        "--step",
        "60",
        "--start",
        start.isoformat(),
        "--out",
        str(om),
    )
    assert r.returncode == 0, r.stderr
    last = [
        ln for ln in om.read_text().splitlines() if ln.startswith("vllm:generation_tokens_total")
    ][-1]
    want = float(last.split()[-2])
    ts = float(last.split()[-1])
    data = tmp_path / "tsdb"  # the storage path run_prometheus gives Prometheus
    b = subprocess.run(
        [promtool, "tsdb", "create-blocks-from", "openmetrics", str(om), str(data)],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert b.returncode == 0, b.stderr + b.stdout
    with run_prometheus([], tmp_path, interval="15s") as prom:
        q = urlencode({"query": "vllm:generation_tokens_total", "time": f"{ts:.3f}"})
        with urllib.request.urlopen(f"{prom.url}/api/v1/query?{q}", timeout=10) as resp:
            res = json.loads(resp.read())["data"]["result"]
        assert res and float(res[0]["value"][1]) == want
        assert res[0]["metric"]["emulated"] == "true"
        gpu = prom_query(prom.url, f"count(DCGM_FI_DEV_GPU_UTIL @ {ts:.0f})")
        assert gpu and float(gpu[0]["value"][1]) == 1  # type: ignore[index]


def test_offline_to_store(tmp_path: Path) -> None:
    db = tmp_path / "u.duckdb"
    assert _unitcost("--db", str(db), "db", "init").returncode == 0
    r = _unitcost(
        "--db",
        str(db),
        "emulate",
        "offline",
        "--model",
        "llama-3.2-3b",
        "--gpu",
        "l4",
        "--rps",
        "1",
        "--days",
        "0.5",
        "--step",
        "300",
        "--to-store",
    )
    assert r.returncode == 0, r.stderr
    con = duckdb.connect(str(db), read_only=True)
    try:
        n, sources = con.execute(
            "SELECT count(*), count(DISTINCT source) FROM metric_samples"
        ).fetchone()
        assert n > 1000 and sources == 1
        emulated = con.execute(
            "SELECT count(*) FROM metric_samples WHERE labels['emulated'] = 'true' AND emulated"
        ).fetchone()
        assert emulated == (n,)
        g = con.execute("SELECT count(*), max(util_gpu), min(power_w) FROM gpu_samples").fetchone()
        # 12 h at 300 s = 144 points, less the one that falls in the restart gap
        assert g is not None and g[0] == 143 and 0 < g[1] <= 1 and g[2] >= 16
        dep = con.execute(
            "SELECT deployment_id, hardware, labels['emulated'], active_parameter_count "
            "FROM deployments"
        ).fetchall()
        assert dep == [("llama-3.2-3b-fp16-1xl4", "L4", "true", 3_210_000_000)]
        # metric_intervals derived from those samples: every series under that deployment
        # (tokens, requests, GPU energy alike: nothing 'unmapped' or 'model:...'), emulated
        iv = con.execute(
            "SELECT deployment_id, bool_and(emulated), sum(output_tokens), sum(energy_j), "
            "sum(prefix_cache_hits) / sum(prefix_cache_queries), count(*) "
            "FROM metric_intervals GROUP BY ALL"
        ).fetchall()
        (dep_id, all_emulated, out_tokens, energy, hit_rate, rows) = iv[0]
        assert len(iv) == 1 and dep_id == "llama-3.2-3b-fp16-1xl4" and all_emulated
        assert out_tokens > 0 and energy > 0 and 0.2 < hit_rate < 0.6 and rows == 143
        # samples 300 s apart make 300 s intervals: every interval holds a sample, so the
        # hours with telemetry (estimated GPU-hours, idle time) are the span, not a fifth of it
        lengths = con.execute("SELECT DISTINCT interval_s FROM metric_intervals").fetchall()
        assert lengths == [(300,)]
        last = con.execute(
            "SELECT max(value) FILTER (WHERE metric = 'vllm:generation_tokens_total') "
            "FROM metric_samples"
        ).fetchone()
        assert last is not None and out_tokens > last[0]  # counted across the restart
    finally:
        con.close()


def test_to_store_equals_backfilled_prometheus_pull(tmp_path: Path) -> None:
    """The same emulated span written with --to-store, or written --out, backfilled into a
    real Prometheus with promtool and pulled with `collect prometheus`, gives the same
    metric_intervals, GPU samples and deployment (incident, restart and counter reset included).
    Prometheus' lookback is set under the step so it never repeats a sample into the restart
    gap (at its default 5 minutes it would: backfilled data has no staleness markers)."""
    start = (datetime.now(UTC) - timedelta(days=2)).replace(hour=0, minute=0, second=0,
                                                           microsecond=0)  # fmt: skip
    common = ["emulate", "offline", "--model", "llama-3.1-8b", "--gpu", "h100", "--gpus", "2",
              "--rps", "3", "--days", "0.5", "--step", "60",
              "--start", start.isoformat()]  # fmt: skip
    om = tmp_path / "span.om"
    direct, pulled = tmp_path / "direct.duckdb", tmp_path / "pulled.duckdb"
    for db in (direct, pulled):
        assert _unitcost("--db", str(db), "db", "init").returncode == 0
    r = _unitcost("--db", str(direct), *common, "--to-store", "--out", str(om))
    assert r.returncode == 0, r.stderr
    tsdb = tmp_path / "tsdb"
    b = subprocess.run(
        ["promtool", "tsdb", "create-blocks-from", "openmetrics", str(om), str(tsdb)],
        capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip
    assert b.returncode == 0, b.stderr + b.stdout
    proc, url, log = start_prometheus(tmp_path, {}, tsdb=tsdb, args=("--query.lookback-delta=30s",))
    try:
        until = start + timedelta(days=0.5)
        r = _unitcost("--db", str(pulled), "collect", "prometheus", "--url", url, "--step", "60s",
                      "--since", start.isoformat(), "--until", until.isoformat())  # fmt: skip
        assert r.returncode == 0, r.stderr
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()
    queries = {
        "intervals": "SELECT * EXCLUDE (source) FROM metric_intervals ORDER BY ALL",
        "samples": "SELECT metric, series_key, ts, value FROM metric_samples ORDER BY ALL",
        "gpu": "SELECT * FROM gpu_samples ORDER BY ALL",
        "deployments": "SELECT * EXCLUDE (updated_at) FROM deployments ORDER BY ALL",
    }
    got = {}
    for db in (direct, pulled):
        con = duckdb.connect(str(db), read_only=True)
        try:
            got[db] = {k: con.execute(q).fetchall() for k, q in queries.items()}
        finally:
            con.close()
    for k in queries:
        assert got[direct][k] == got[pulled][k], k
    iv = got[direct]["intervals"]
    assert len(iv) > 600 and {r[0] for r in iv} == {"llama-3.1-8b-fp16-2xh100"}
    assert all(r[22] for r in iv)  # emulated (the column after energy_j; source excluded)
