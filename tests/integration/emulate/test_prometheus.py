"""A real Prometheus (Debian's `prometheus`) scrapes an emulated endpoint under load.

Proves the exposition is valid for a real scraper and that the counter Prometheus stores
reconciles with the tokens `unitcost bench run` counted from `usage` (within 2%, the issue's
bound; in practice they are equal because both count the same generated tokens).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.integration.emulate.benchrun import bench_run
from tests.integration.emulate.servers import prom_query, run_prometheus

pytestmark = pytest.mark.integration


def _value(url: str, q: str) -> float | None:
    res = prom_query(url, q)
    return float(res[0]["value"][1]) if res else None  # type: ignore[index]


def _wait(cond: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.25)


def test_prometheus_token_rate_matches_client(emulator: Callable[..., Any], tmp_path: Path) -> None:
    with emulator("--model", "llama-3.1-8b", "--gpu", "h100") as emu:
        target = emu.root.removeprefix("http://")
        with run_prometheus([target], tmp_path) as prom:
            q = "vllm:generation_tokens_total"
            _wait(lambda: _value(prom.url, "up") == 1.0, 20, "up == 1")
            _wait(lambda: _value(prom.url, q) is not None, 20, "a first sample")
            before = _value(prom.url, q)
            assert before == 0.0
            info = prom_query(prom.url, "unitcost_emulated")
            assert info and info[0]["metric"]["gpu"] == "h100"  # type: ignore[index]
            m = bench_run(
                emu.base_url,
                tmp_path,
                model=emu.model,
                concurrency=16,
                requests=48,
                input_tokens=128,
                output_tokens=128,
            )
            assert m.ok == 48
            time.sleep(2.5)  # at least two scrapes after the last token
            _wait(lambda: (_value(prom.url, q) or 0) >= m.output_tokens * 0.98, 10, "final scrape")
            after = _value(prom.url, q)
            assert after is not None
            scraped = after - before
            client_rate = m.output_tokens / m.duration_s
            prom_rate = scraped / m.duration_s
            print(
                f"\n`unitcost bench run` counted {m.output_tokens} tokens ({client_rate:,.0f} "
                "tok/s); "
                f"Prometheus stored {scraped:.0f} ({prom_rate:,.0f} tok/s)"
            )
            assert abs(prom_rate - client_rate) / client_rate <= 0.02
            # Exactly: the server also saw bench's preflight request (max_tokens 4, ignore_eos),
            # sent before the measured load and not part of the run's records.
            assert scraped == m.output_tokens + 4
            # the same load, seen through Prometheus' own functions
            peak = _value(prom.url, "max_over_time(vllm:num_requests_running[1m])")
            assert peak is not None and 1 <= peak <= 16
            util = _value(prom.url, "max_over_time(DCGM_FI_DEV_GPU_UTIL[1m])")
            assert util is not None and util > 50
            ok = _value(prom.url, 'vllm:request_success_total{finished_reason="length"}')
            assert ok == 48 + 1  # the measured requests + bench's preflight request
