"""A real llama-server under load, scraped by a real Prometheus, pulled into the store.

Needs the shared test tooling (tests/support, the `llama` fixture from tests/conftest.py) and
the cached llama-server binary (scripts/build_llama_server.sh). Tokens reconcile to the counter:
the stored output tokens equal the increase of llama-server's own counter and the sum of the
`usage.completion_tokens` the server returned.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from unitcost.collectors import prometheus, scrape

from tests.integration.collectors.conftest import start_prometheus
from unitcost.config import Deployment, DeploymentMatch
from unitcost.store import Store

pytestmark = pytest.mark.integration
REQUESTS, MAX_TOKENS = 24, 32


def counter(base_url: str, name: str) -> float:
    text = requests.get(f"{base_url}/metrics", timeout=10).text
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in /metrics")


def complete(base_url: str, model: str, i: int) -> dict[str, Any]:
    r = requests.post(
        f"{base_url}/v1/completions",
        json={
            "model": model,
            "prompt": f"request {i}: def f(x):",
            "max_tokens": MAX_TOKENS,
            "ignore_eos": True,
            "temperature": 0,
        },
        timeout=120,
    )
    r.raise_for_status()
    usage: dict[str, Any] = r.json()["usage"]
    return usage


def wait_for_value(prom: str, query: str, want: float, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        res = requests.get(f"{prom}/api/v1/query", params={"query": query}, timeout=5).json()
        vals = res["data"]["result"]
        if vals and float(vals[0]["value"][1]) == want:
            return
        time.sleep(0.5)
    pytest.fail(f"prometheus never saw {query} == {want}")


def test_llama_server_tokens_reconcile(cstore: Store, tmp_path: Path, llama: Any) -> None:
    proc, prom, log = start_prometheus(tmp_path, {"llama": f"{llama.base_url}/metrics"})
    try:
        before = counter(llama.base_url, "llamacpp:tokens_predicted_total")
        prompt_before = counter(llama.base_url, "llamacpp:prompt_tokens_total")
        wait_for_value(prom, "llamacpp:tokens_predicted_total", before)
        since = datetime.now(UTC) - timedelta(seconds=5)
        with ThreadPoolExecutor(8) as pool:
            usages = list(
                pool.map(lambda i: complete(llama.base_url, llama.model, i), range(REQUESTS))
            )
        after = counter(llama.base_url, "llamacpp:tokens_predicted_total")
        prompt_after = counter(llama.base_url, "llamacpp:prompt_tokens_total")
        wait_for_value(prom, "llamacpp:tokens_predicted_total", after)
        # the pull's last step is the one before `until` (aligned down to the 1 s grid): 2 s on,
        # it evaluates after the scrape that saw the final value
        until = datetime.now(UTC) + timedelta(seconds=2)
        dep = Deployment(
            id="tiny",
            model="tiny",
            engine="llamacpp",
            match=DeploymentMatch(metric_labels={"job": "llama"}),
        )
        n = prometheus.collect(
            cstore,
            since=since,
            until=until,
            url=prom,
            step="1s",
            interval_s=3600,
            deployments=[dep],
        )
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()
    served = sum(u["completion_tokens"] for u in usages)
    assert served == REQUESTS * MAX_TOKENS
    assert after - before == served
    with cstore.read() as con:
        row = con.execute(
            "SELECT sum(output_tokens), sum(input_tokens), any_value(engine) "
            "FROM metric_intervals WHERE deployment_id = 'tiny'"
        ).fetchone()
    assert n > 0 and row is not None
    assert row[0] == served  # tokens to the counter
    # llama.cpp counts prompt tokens it evaluated: a prefix reused from its cache is not
    # counted again, so the counter (what we store) can be below the usage the client saw.
    assert row[1] == prompt_after - prompt_before
    assert 0 < row[1] <= sum(u["prompt_tokens"] for u in usages)
    assert row[2] == "llamacpp"


def test_llama_server_direct_scrape(cstore: Store, llama: Any) -> None:
    url = f"{llama.base_url}/metrics"
    n = scrape.collect(cstore, url=url, count=2, every_s=0.2)
    with cstore.read() as con:
        names = {r[0] for r in con.execute("SELECT DISTINCT metric FROM metric_samples").fetchall()}
    assert n > 0 and {"llamacpp:tokens_predicted_total", "llamacpp:prompt_tokens_total"} <= names


def test_bench_and_collect_scrape_store_one_series(cstore: Store, llama: Any) -> None:
    """The same /metrics scraped by a bench run's Scraper and by `collect scrape`: one set of
    series (one parser, one key, one store), all counted for the deployment the rules name
    (bench's copy used to be stored twice and land in 'unmapped'), the bench samples findable
    by run id through the metric_samples view."""
    import asyncio

    import aiohttp
    from unitcost.bench.scrape import Scraper
    from unitcost.collectors import deployments

    url = f"{llama.base_url}/metrics"
    dep = Deployment(
        id="tiny", model="tiny", match=DeploymentMatch(metric_labels={"engine": "llamacpp"})
    )
    deployments.sync(cstore, [dep])
    scraper = Scraper(cstore, url, "run-1", interval_s=60)

    async def bench_scrape() -> None:
        async with aiohttp.ClientSession() as session:
            await scraper.once(session)

    asyncio.run(bench_scrape())
    complete(llama.base_url, llama.model, 0)
    scrape.collect(cstore, url=url, count=1)
    complete(llama.base_url, llama.model, 1)
    asyncio.run(bench_scrape())
    assert scraper.errors == [] and scraper.scrapes == 2
    with cstore.read() as con:
        per_series = con.execute(
            "SELECT metric, count(*), count(run_id), list(DISTINCT deployment_id) "
            "FROM metric_samples WHERE metric LIKE 'llamacpp:%' GROUP BY ALL ORDER BY 1"
        ).fetchall()
        series = con.execute(
            "SELECT count(*), count(DISTINCT (metric, series_key)) FROM metric_series "
            "WHERE metric LIKE 'llamacpp:%'"
        ).fetchone()
        tokens = con.execute(
            "SELECT deployment_id, sum(output_tokens) FROM metric_intervals GROUP BY ALL"
        ).fetchall()
        bench_rows = con.execute(
            "SELECT count(*) FROM metric_samples WHERE run_id = 'run-1' "
            "AND metric = 'llamacpp:tokens_predicted_total'"
        ).fetchone()
    names = {m for m, *_ in per_series}
    assert {"llamacpp:tokens_predicted_total", "llamacpp:prompt_tokens_total"} <= names
    assert series is not None and series[0] == series[1] == len(per_series)  # each stored once
    for _metric, samples, from_bench, deps in per_series:
        assert samples == 3 and from_bench == 2 and deps == ["tiny"]  # 2 bench + 1 collect
    assert bench_rows == (2,)
    assert tokens == [("tiny", 2.0 * MAX_TOKENS)]  # the two requests, counted once
