"""How late the client stamps first chunks, beside what it reports (printed figures).

Run: pytest -m perf -s tests/perf/bench/test_timing_error.py
Against tests/integration/bench/stampserver.py (it stamps, on this host's monotonic clock, when
it wrote each first chunk, 50 ms after reading the request; then 20 chunks 10 ms apart), at
several concurrencies and worker counts, it prints per run: TTFT p50/p99 as reported and as the
server saw it (first write - client send), the true receive delay (client stamp - server write)
p50/p99/max, the reported per-request bound (ttft_error_bound_ms) p50/p99 and the client's
event-loop lag (loop_lag_ms) p50/p99, and how many requests exceeded their bound (by more than
1 ms). The integration test (tests/integration/bench/test_timing.py) asserts the bound; this
prints the sizes, e.g. for docs/bench.md.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from unitcost.bench import metrics, runner
from unitcost.bench.client import ClientConfig
from unitcost.bench.profiles import LoadProfile
from unitcost.bench.spec import RunSpec
from unitcost.bench.workloads import WorkItem

from tests.integration.bench.faultserver import free_port
from unitcost.store import Store

pytestmark = pytest.mark.perf
ROOT = Path(__file__).resolve().parents[3]
CASES = [(16, 1), (64, 1), (256, 1), (256, 2), (256, 4)]


def test_receive_delay_against_a_stamping_server(tmp_path: Path) -> None:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.integration.bench.stampserver", str(port)], cwd=ROOT
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(url + "/v1/models", timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
    store = Store(tmp_path / "t.duckdb")
    store.migrate()
    print(
        f"\n{os.cpu_count()} CPUs (shared); ms; conc/workers: reported TTFT p50 p99 | "
        "server-seen TTFT p50 p99 | receive delay p50 p99 max | bound p50 p99 | "
        "loop lag p50 p99 | over bound"
    )
    try:
        for conc, workers in CASES:
            n = conc * 4
            tag = f"c{conc}w{workers}-"
            spec = RunSpec(
                client=ClientConfig(base_url=url, model="stamp"),
                profile=LoadProfile(kind="concurrency", concurrency=conc),
                items=[WorkItem(f"{tag}{i}", 20, 4) for i in range(n)],
                max_requests=n,
                workers=workers,
            )
            run_id, s = runner.run(store, spec)
            with urllib.request.urlopen(url + "/stamps", timeout=10) as r:
                written = {k: v[1] for k, v in json.loads(r.read()).items()}
            rows = [r for r in runner.fetch_requests(store, run_id) if r["status"] == "ok"]
            delay = sorted(
                (r["first_chunk_ns"] - written[f"{tag}{r['request_id']}"]) / 1e6 for r in rows
            )
            seen = sorted((written[f"{tag}{r['request_id']}"] - r["sent_ns"]) / 1e6 for r in rows)
            over = sum(
                1 for r in rows
                if r["first_chunk_ns"] - written[f"{tag}{r['request_id']}"]
                > (r["first_chunk_late_ns"] or 0) + 1_000_000
            )  # fmt: skip

            def p(v: list[float], q: float) -> float:
                return metrics.percentile(v, q)

            t, b, lag = s["ttft_ms"], s["ttft_error_bound_ms"], s["loop_lag_ms"]
            print(
                f"{conc:>4}/{workers}: {t['p50']:7.1f} {t['p99']:7.1f} | {p(seen, 50):7.1f} "
                f"{p(seen, 99):7.1f} | {p(delay, 50):6.2f} {p(delay, 99):7.2f} {delay[-1]:7.2f} | "
                f"{b['p50']:6.2f} {b['p99']:7.2f} | {lag['p50']:6.2f} {lag['p99']:7.2f} | "
                f"{over}/{n}"
            )
            assert s["requests_ok"] == n
    finally:
        server.terminate()
        server.wait(10)
