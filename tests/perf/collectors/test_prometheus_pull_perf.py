"""Prometheus pull throughput (samples/s), ours vs the raw HTTP range queries alone.

A real Prometheus is started on a TSDB backfilled with promtool (SERIES vLLM-like counter
series x POINTS points at 15 s). Ours = prometheus.collect (queries, parsing, normalization,
writes, intervals); baseline = the same chunked query_range calls with requests, JSON decoded
and discarded. Run: pytest -m perf tests/perf/collectors -s
"""

from __future__ import annotations

import os
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from unitcost.collectors import prometheus

from tests.integration.collectors.conftest import start_prometheus
from unitcost.store import Store

SERIES = int(os.environ.get("UNITCOST_PERF_SERIES", "100"))
POINTS = int(os.environ.get("UNITCOST_PERF_POINTS", "20000"))
STEP_S = 15


def _backfill(tmp: Path) -> tuple[Path, datetime, datetime]:
    end = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
    start = end - timedelta(seconds=STEP_S * (POINTS - 1))
    om = tmp / "data.om"
    with om.open("w") as fh:
        fh.write("# TYPE vllm:generation_tokens counter\n")
        for s in range(SERIES):
            for p in range(POINTS):
                ts = start.timestamp() + p * STEP_S
                fh.write(
                    f'vllm:generation_tokens_total{{model_name="m{s % 5}",pod="p{s}"}} '
                    f"{p * 7 + s} {ts:.0f}\n"
                )
        fh.write("# EOF\n")
    tsdb = tmp / "tsdb"
    subprocess.run(
        ["promtool", "tsdb", "create-blocks-from", "openmetrics", str(om), str(tsdb)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    om.unlink()
    return tsdb, start, end


@pytest.mark.perf
@pytest.mark.timeout(3600)
def test_prometheus_pull_throughput(tmp_path: Path) -> None:
    t = time.perf_counter()
    tsdb, start, end = _backfill(tmp_path)
    print(f"\nbackfilled {SERIES * POINTS:,} samples in {time.perf_counter() - t:.1f}s")
    proc, url, log = start_prometheus(tmp_path, {}, tsdb=tsdb)
    try:
        until = end + timedelta(seconds=1)
        t = time.perf_counter()
        fetched = 0
        for a, b in prometheus.chunks(start, until, STEP_S):
            r = requests.get(
                f"{url}/api/v1/query_range",
                params={
                    "query": prometheus.QUERIES[0],
                    "start": a.timestamp(),
                    "end": b.timestamp(),
                    "step": f"{STEP_S}s",
                },
                timeout=120,
            )
            fetched += sum(len(s["values"]) for s in r.json()["data"]["result"])
        base = time.perf_counter() - t
        store = Store(tmp_path / "p.duckdb")
        store.migrate()
        t = time.perf_counter()
        n = prometheus.collect(
            store, since=start, until=until, url=url, step=f"{STEP_S}s", interval_s=3600
        )
        ours = time.perf_counter() - t
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()
    assert n == fetched and n >= SERIES * (POINTS - 1)
    print(f"{'pull':24} {'seconds':>8} {'samples/s':>12}")
    print(f"{'HTTP query_range only':24} {base:8.2f} {fetched / base:12,.0f}")
    print(f"{'unitcost collect':24} {ours:8.2f} {n / ours:12,.0f}  ({n:,} samples stored)")
