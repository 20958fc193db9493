"""How many simulated streams and chunks one emulator process sustains (printed, not asserted).

Run: pytest -m perf tests/perf/emulate -s

1. Engine only: the scheduler stepping a batch on simulated time (no sockets): the cost of the
   physics and bookkeeping per token.
2. Over HTTP: `unitcost emulate` in its own process on a fictional accelerator whose steps take
   microseconds (tests/fixtures/emulate/perf_catalog.toml), so the emulator process, not the
   physics, is the limit; a streaming client in this process drives it. On a 2-core machine the
   client competes for the same CPUs, so these are lower bounds on the emulator's capacity.
3. A realistic endpoint (Llama-3.1-8B on H100) at 64 streams: emulated vs virtual-time figure and
   the emulator's worst step lag, to show the emulator is not the bottleneck at real rates.
Baseline named in REFERENCE §1: guidellm reaches ~1,000 req/s against a no-op server (#136).
"""

from __future__ import annotations

import os
import re
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from unitcost.emulate.catalog import load_catalog
from unitcost.emulate.physics import build_physics
from unitcost.emulate.scheduler import simulate_closed

from tests.integration.emulate.streamclient import measure

pytestmark = pytest.mark.perf
FIXTURES = Path(__file__).parents[2] / "fixtures" / "emulate"


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _lag(root: str) -> float:
    with urllib.request.urlopen(f"{root}/metrics", timeout=5) as r:
        text = r.read().decode()
    m = re.search(r"^unitcost_emulator_lag_seconds\{[^}]*\} (\S+)$", text, re.M)
    return float(m.group(1)) if m else float("nan")


def test_engine_only_throughput() -> None:
    cat = load_catalog([FIXTURES / "perf_catalog.toml"])
    phys = build_physics(cat, model="llama-3.2-3b", gpu="hyper", engine="noop")
    t0 = time.perf_counter()
    _, seqs = simulate_closed(
        phys, concurrency=512, requests=4096, prompt_tokens=64, output_tokens=64
    )
    wall = time.perf_counter() - t0
    tokens = sum(s.generated for s in seqs)
    print(
        f"\nengine only: {len(seqs) / wall:,.0f} streams/s, {tokens / wall:,.0f} tokens/s "
        f"(4,096 streams x 64 tokens at batch 512, one core, no sockets)"
    )
    assert tokens == 4096 * 64


@pytest.mark.parametrize("concurrency", [64, 256])
def test_http_capacity(emulator: Callable[..., Any], concurrency: int) -> None:
    args = (
        "--model",
        "llama-3.2-3b",
        "--gpu",
        "hyper",
        "--engine",
        "noop",
        "--catalog",
        str(FIXTURES / "perf_catalog.toml"),
    )
    with emulator(*args) as emu:
        measure(
            emu.base_url, model=emu.model, concurrency=8, requests=16, prompt_words=8, max_tokens=8
        )  # warm-up
        cpu0 = _cpu_s(emu.pid)
        m = measure(
            emu.base_url,
            model=emu.model,
            concurrency=concurrency,
            requests=concurrency * 8,
            prompt_words=16,
            max_tokens=32,
        )
        cpu = max(_cpu_s(emu.pid) - cpu0, 1e-9)
    assert m.ok == concurrency * 8
    print(
        f"\nHTTP, {concurrency} concurrent streams: {m.ok / m.wall_s:,.0f} streams/s and "
        f"{m.content_chunks / m.wall_s:,.0f} chunks/s of wall time (client and emulator "
        f"share 2 cores); per emulator CPU-second: {m.ok / cpu:,.0f} streams, "
        f"{m.content_chunks / cpu:,.0f} chunks. Baseline: guidellm ~1,000 req/s against a "
        f"no-op server (guidellm#136)"
    )


def test_realistic_endpoint_is_not_the_bottleneck(emulator: Callable[..., Any]) -> None:
    phys = build_physics(load_catalog(), model="llama-3.1-8b", gpu="h100")
    t_sim, seqs = simulate_closed(
        phys, concurrency=64, requests=128, prompt_tokens=136, output_tokens=128
    )
    virtual = sum(s.generated for s in seqs) / t_sim
    with emulator("--model", "llama-3.1-8b", "--gpu", "h100") as emu:
        m = measure(
            emu.base_url,
            model=emu.model,
            concurrency=64,
            requests=128,
            prompt_words=128,
            max_tokens=128,
        )
        lag = _lag(emu.root)
    assert m.ok == 128
    print(
        f"\nLlama-3.1-8B/H100 at 64 streams: over HTTP {m.output_tok_s:,.0f} tok/s, "
        f"virtual time {virtual:,.0f} tok/s ({m.output_tok_s / virtual - 1:+.1%}); "
        f"{m.content_chunks / m.wall_s:,.0f} chunks/s; worst step lag {lag * 1000:.1f} ms"
    )
