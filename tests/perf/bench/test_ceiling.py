"""Harness ceiling vs the barest aiohttp loop, and dispatch lag at 1,000 req/s (printed figures).

Run: pytest -m perf -s tests/perf/bench
Both clients stream the same responses from the same minimal server process, at the same
concurrency, on the same event loop (loop.arun; UNITCOST_BENCH_LOOP), in alternating rounds
(the machine is shared, so noise hits both alike); the median of the rounds is compared. The
bare loop posts pre-serialized bytes, reads every network chunk and counts `data:`, nothing
else. The harness does what a real run does (SSE decode, JSON parse of every event, stamps,
records to DuckDB in batches). With P processes, the bare loop runs P copies started at one
instant and the harness runs `--workers P`; streams/s is then all requests over the time from
the first start to the last end.
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import aiohttp
import msgspec
import pytest
from unitcost.bench import runner
from unitcost.bench.client import ClientConfig
from unitcost.bench.loop import arun, loop_name
from unitcost.bench.profiles import LoadProfile
from unitcost.bench.spec import RunSpec
from unitcost.bench.workloads import WorkItem

from tests.integration.bench.faultserver import free_port
from tests.perf.bench.fastsse import CHUNKS
from unitcost.store import Store

pytestmark = pytest.mark.perf
ROOT = Path(__file__).resolve().parents[3]
N = int(os.environ.get("UNITCOST_PERF_N", "6000"))
ROUNDS = int(os.environ.get("UNITCOST_PERF_ROUNDS", "7"))
CONC = 32
PROCS = (1, 2)
BODY = msgspec.json.encode(
    {
        "model": "fast",
        "messages": [{"role": "user", "content": "x"}],
        "stream": True,
        "stream_options": {"include_usage": True},
        "max_tokens": CHUNKS,
    }
)


@pytest.fixture(scope="module")
def fast_url() -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "tests.perf.bench.fastsse", str(port)], cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(url + "/v1/models", timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
    yield url
    proc.terminate()
    proc.wait(10)


async def bare(url: str, n: int, conc: int) -> tuple[float, float, int]:
    """The practical limit: aiohttp post + read every network chunk, count `data:`, no JSON.
    Returns (start, end) perf_counter seconds and the number of events seen."""
    left = n
    events = 0
    headers = {"Content-Type": "application/json"}

    async def worker(s: aiohttp.ClientSession) -> None:
        nonlocal left, events
        while left > 0:
            left -= 1
            async with s.post(url + "/v1/chat/completions", data=BODY, headers=headers) as r:
                async for data in r.content.iter_any():
                    events += data.count(b"data:")

    conn = aiohttp.TCPConnector(limit=conc)
    async with aiohttp.ClientSession(connector=conn) as s:
        t = time.perf_counter()
        await asyncio.gather(*(worker(s) for _ in range(conc)))
        return t, time.perf_counter(), events


def _bare_proc(url: str, n: int, conc: int, start_at: float) -> tuple[float, float, int]:
    time.sleep(max(0.0, start_at - time.perf_counter()))  # perf_counter is system-wide here
    return arun(bare(url, n, conc))


def bare_multi(pool: ProcessPoolExecutor, url: str, procs: int) -> tuple[float, int]:
    """`procs` bare loops splitting N and the concurrency, started at one instant."""
    start_at = time.perf_counter() + 0.2
    futs = [pool.submit(_bare_proc, url, N // procs, CONC // procs, start_at) for _ in range(procs)]
    res = [f.result() for f in futs]
    return max(r[1] for r in res) - min(r[0] for r in res), sum(r[2] for r in res)


def _harness_proc(
    db: Path, url: str, profile: LoadProfile, kw: dict[str, object]
) -> dict[str, object]:
    spec = RunSpec(
        client=ClientConfig(base_url=url, model="fast"),
        profile=profile,
        items=[WorkItem("x", CHUNKS, 1)],
        **kw,  # type: ignore[arg-type]
    )
    _, s = runner.run(Store(db), spec)
    return s


def harness(
    pool: ProcessPoolExecutor, db: Path, url: str, profile: LoadProfile, **kw: object
) -> dict[str, object]:
    """One `runner.run` in a fresh process of the pool, as `unitcost bench run` runs in its
    own: the bare loop runs in the same kind of process, not beside pytest's heap."""
    return pool.submit(_harness_proc, db, url, profile, kw).result()


def test_ceiling_and_dispatch_lag(fast_url: str, tmp_path: Path) -> None:
    db = tmp_path / "perf.duckdb"
    Store(db).migrate()
    pool = ProcessPoolExecutor(max(PROCS), mp_context=mp.get_context("spawn"))
    for f in [pool.submit(_bare_proc, fast_url, 200, 8, 0.0) for _ in range(max(PROCS))]:
        f.result()  # warm the pool's processes and the server
    print(
        f"\nevent loop: {loop_name()}; {os.cpu_count()} CPUs (shared); concurrency {CONC}, "
        f"{N} requests per round, {CHUNKS} content chunks + role, finish, usage, [DONE] each"
    )
    print(
        f"{'procs':6}{'round':6}{'harness streams/s':>19}{'bare streams/s':>16}{'ratio':>7}"
        f"{'harness chunks/s':>18}{'bare chunks/s':>15}"
    )
    ratios: dict[int, list[float]] = {p: [] for p in PROCS}
    rates: dict[int, list[tuple[float, float]]] = {p: [] for p in PROCS}
    for rnd in range(ROUNDS):
        for procs in PROCS:
            bare_s, bare_events = bare_multi(pool, fast_url, procs)
            prof = LoadProfile(kind="concurrency", concurrency=CONC)
            s = harness(pool, db, fast_url, prof, max_requests=N, workers=procs)
            assert s["requests_ok"] == N  # every request completed and recorded
            h_rps = float(s["request_rate"])  # type: ignore[arg-type]
            b_rps = (N // procs) * procs / bare_s
            b_content = bare_events / bare_s * CHUNKS / (CHUNKS + 4)
            ratios[procs].append(h_rps / b_rps)
            rates[procs].append((h_rps, b_rps))
            print(
                f"{procs:<6}{rnd + 1:<6}{h_rps:19.0f}{b_rps:16.0f}{h_rps / b_rps:7.2f}"
                f"{h_rps * CHUNKS:18.0f}{b_content:15.0f}"
            )
    for procs in PROCS:
        h = statistics.median(r[0] for r in rates[procs])
        b = statistics.median(r[1] for r in rates[procs])
        print(
            f"{procs} process(es): median harness {h:.0f} streams/s ({h * CHUNKS:.0f} chunks/s), "
            f"bare {b:.0f} streams/s ({b * CHUNKS:.0f} chunks/s), median ratio "
            f"{statistics.median(ratios[procs]):.2f} (goal >= 0.8)"
        )
    for procs in PROCS:
        lag = harness(
            pool,
            db,
            fast_url,
            LoadProfile(kind="rate", rate=1000.0, arrival="poisson", concurrency=None),
            duration_s=5.0,
            workers=procs,
        )
        d, ll, eb = lag["dispatch_lag_ms"], lag["loop_lag_ms"], lag["ttft_error_bound_ms"]
        print(
            f"open loop 1,000 req/s Poisson for 5 s, {procs} worker(s): sent "
            f"{lag['requests_total']}, ok {lag['requests_ok']}, achieved "
            f"{lag['request_rate']:.0f} req/s, dispatch lag p50 {d['p50']:.2f} ms "  # type: ignore[index]
            f"p99 {d['p99']:.2f} ms max {d['max']:.2f} ms; loop lag p50 {ll['p50']:.2f} "  # type: ignore[index]
            f"p99 {ll['p99']:.2f} ms; TTFT error bound p50 {eb['p50']:.2f} p99 {eb['p99']:.2f} ms"  # type: ignore[index]
        )
        assert lag["requests_total"] == lag["requests_ok"]
    pool.shutdown()
