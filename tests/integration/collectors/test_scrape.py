"""Direct scrapes of a real HTTP /metrics endpoint into the same tables as Prometheus pulls."""

from __future__ import annotations

import pytest
from unitcost.collectors import scrape

from tests.integration.collectors.conftest import MetricsServer, free_port
from unitcost.config import Deployment, DeploymentMatch
from unitcost.errors import CollectorError
from unitcost.store import Store

pytestmark = pytest.mark.integration


def test_scrape_live_counter_with_reset(cstore: Store, metrics_server: MetricsServer) -> None:
    url = f"{metrics_server.url}/live"
    dep = Deployment(
        id="tiny", model="tiny", match=DeploymentMatch(metric_labels={"engine": "llamacpp"})
    )
    seen: list[int] = []
    n = scrape.collect(
        cstore,
        url=url,
        every_s=0.05,
        count=7,
        interval_s=3600,
        deployments=[dep],
        on_scrape=seen.append,
    )
    assert seen == [2] * 7 and n == 14
    with cstore.read() as con:
        values = [
            r[0]
            for r in con.execute(
                "SELECT value FROM metric_samples WHERE metric = 'llamacpp:tokens_predicted_total' "
                "ORDER BY ts"
            ).fetchall()
        ]
        rows = con.execute(
            "SELECT sum(output_tokens), max(requests_running), any_value(engine) "
            "FROM metric_intervals WHERE deployment_id = 'tiny'"
        ).fetchone()
    assert values == [10, 20, 30, 40, 0, 10, 20]
    assert rows == (50.0, 2.0, "llamacpp")  # 10+10+10, reset to 0 (+0), then 10+10


def test_scrape_recorded_triton_keeps_exposed_names(
    cstore: Store, metrics_server: MetricsServer
) -> None:
    url = f"{metrics_server.url}/triton"
    scrape.collect(cstore, url=url, count=1)
    with cstore.read() as con:
        names = {r[0] for r in con.execute("SELECT DISTINCT metric FROM metric_samples").fetchall()}
    assert "nv_inference_request_success" in names  # as Prometheus stores it, no `_total` added


def test_scrape_unreachable_names_url(cstore: Store) -> None:
    url = f"http://127.0.0.1:{free_port()}/metrics"
    with pytest.raises(CollectorError, match=rf"^{url}: scrape failed"):
        scrape.collect(cstore, url=url, count=1)


def test_scrape_of_live_emulator_is_emulated_with_a_cache_hit_rate(cstore: Store) -> None:
    """A live `unitcost emulate` endpoint, scraped: its series are marked emulated (its info
    gauge says so, unlabelled series included) and its prefix-cache counters give a hit rate."""
    import asyncio
    import threading

    import requests
    from unitcost.emulate.catalog import load_catalog
    from unitcost.emulate.physics import build_physics
    from unitcost.emulate.server import Endpoint, EndpointOptions, start_endpoint

    loop = asyncio.new_event_loop()
    phys = build_physics(load_catalog(), model="llama-3.2-3b", gpu="h100", max_model_len=4096)
    ep = Endpoint(phys, EndpointOptions(name="emu"))
    runner, port = loop.run_until_complete(start_endpoint(ep, "127.0.0.1", 0))
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        scrape.collect(cstore, url=f"{url}/metrics", count=1)
        for i in range(6):
            r = requests.post(
                f"{url}/v1/completions",
                json={"model": ep.model_name, "prompt": "word " * (200 + 50 * i),
                      "max_tokens": 8, "ignore_eos": True},
                timeout=30,
            )  # fmt: skip
            r.raise_for_status()
        scrape.collect(cstore, url=f"{url}/metrics", count=1)
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
    with cstore.read() as con:
        flags = con.execute("SELECT DISTINCT emulated FROM metric_series").fetchall()
        row = con.execute(
            "SELECT bool_and(emulated), sum(input_tokens), sum(prefix_cache_queries), "
            "sum(prefix_cache_hits), sum(output_tokens) FROM metric_intervals"
        ).fetchone()
    assert flags == [(True,)]
    assert row is not None
    emulated, prompt, queries, hits, out = row
    assert emulated and out == 6 * 8
    assert queries == prompt > 0  # every prompt token looked up once
    assert 0.2 * queries <= hits <= 0.55 * queries and hits % 16 == 0  # whole 16-token blocks
