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
