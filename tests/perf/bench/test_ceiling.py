"""Harness ceiling vs the barest aiohttp loop, and dispatch lag at 1,000 req/s (printed figures).

Run: pytest -m perf -s tests/perf/bench
Both clients stream the same responses from the same minimal server process in one session:
the bare loop posts, reads every line and counts `data:` lines, nothing else. The harness does
what a real run does (SSE decode, JSON parse, stamps, records to DuckDB in batches).
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from unitcost.bench import runner
from unitcost.bench.client import ClientConfig
from unitcost.bench.profiles import LoadProfile
from unitcost.bench.workloads import WorkItem

from tests.integration.bench.faultserver import free_port
from tests.perf.bench.fastsse import CHUNKS
from unitcost.store import Store

pytestmark = pytest.mark.perf
ROOT = Path(__file__).resolve().parents[3]
N = 4000
ROUNDS = 3
CONC = 32


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


async def bare(url: str, n: int, conc: int) -> tuple[float, int]:
    """The practical limit: aiohttp post + read every network chunk, count `data:`, no JSON."""
    body = {"model": "fast", "messages": [{"role": "user", "content": "x"}], "stream": True}
    left = n
    chunks = 0

    async def worker(s: aiohttp.ClientSession) -> None:
        nonlocal left, chunks
        while left > 0:
            left -= 1
            async with s.post(url + "/v1/chat/completions", json=body) as r:
                async for data in r.content.iter_any():
                    chunks += data.count(b"data:")

    conn = aiohttp.TCPConnector(limit=conc)
    async with aiohttp.ClientSession(connector=conn) as s:
        t = time.perf_counter()
        await asyncio.gather(*(worker(s) for _ in range(conc)))
        return time.perf_counter() - t, chunks


def harness(store: Store, url: str, profile: LoadProfile, **kw: object) -> dict[str, object]:
    spec = runner.RunSpec(
        client=ClientConfig(base_url=url, model="fast"),
        profile=profile,
        items=[WorkItem("x", CHUNKS, 1)],
        **kw,  # type: ignore[arg-type]
    )
    _, s = runner.run(store, spec)
    return s


def test_ceiling_and_dispatch_lag(fast_url: str, tmp_path: Path) -> None:
    store = Store(tmp_path / "perf.duckdb")
    store.migrate()
    asyncio.run(bare(fast_url, 500, CONC))  # warm both sides
    print(
        f"\n{'round':6}{'harness streams/s':>19}{'bare streams/s':>16}{'ratio':>7}"
        f"{'harness chunks/s':>18}{'bare chunks/s':>15}"
    )
    ratios = []
    for rnd in range(ROUNDS):  # alternate: the machine is shared, so noise hits both alike
        bare_s, bare_events = asyncio.run(bare(fast_url, N, CONC))
        prof = LoadProfile(kind="concurrency", concurrency=CONC)
        s = harness(store, fast_url, prof, max_requests=N)
        assert s["requests_ok"] == N  # every request completed and recorded
        h_rps = float(s["request_rate"])  # type: ignore[arg-type]
        b_rps = N / bare_s
        b_content = bare_events / bare_s * CHUNKS / (CHUNKS + 4)  # role/finish/usage/[DONE]
        ratios.append(h_rps / b_rps)
        print(
            f"{rnd + 1:<6}{h_rps:19.0f}{b_rps:16.0f}{h_rps / b_rps:7.2f}"
            f"{h_rps * CHUNKS:18.0f}{b_content:15.0f}"
        )
    print(
        f"median ratio {statistics.median(ratios):.2f} (concurrency {CONC}, {N} requests per "
        f"round, {CHUNKS} content chunks each; goal >= 0.8)"
    )
    lag = harness(
        store,
        fast_url,
        LoadProfile(kind="rate", rate=1000.0, arrival="poisson", concurrency=None),
        duration_s=5.0,
    )
    d = lag["dispatch_lag_ms"]
    print(
        f"open loop 1,000 req/s Poisson for 5 s: sent {lag['requests_total']}, ok "
        f"{lag['requests_ok']}, achieved {lag['request_rate']:.0f} req/s, dispatch lag "
        f"p50 {d['p50']:.2f} ms p99 {d['p99']:.2f} ms max {d['max']:.2f} ms"  # type: ignore[index]
    )
    assert lag["requests_total"] == lag["requests_ok"]
