"""Fixtures for collector integration tests: real DuckDB files, moto, Prometheus, aiohttp."""

from __future__ import annotations

from pathlib import Path

import pytest

from unitcost.store import Store

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "collectors"


@pytest.fixture
def cstore(tmp_path: Path) -> Store:
    """A fresh, migrated store in a real DuckDB file."""
    s = Store(tmp_path / "collect.duckdb", lock_timeout_s=10)
    s.migrate()
    return s


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def moto_url(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """A real moto server (S3 + Cost Explorer) on 127.0.0.1, with dummy credentials."""
    from moto.server import ThreadedMotoServer

    for k, v in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(k, v)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


METRIC_TEXTS = {
    "vllm": "vllm-datadog-fixture-v0-plus-v1-opt125m.txt",
    "sglang": "sglang-docs-production_metrics-llama3.1-8b.txt",
    "dcgm": "dcgm-exporter-datadog-fixture-t4-a10g.txt",
    "triton": "triton-trtllm-backend-readme-inflight-batcher.txt",
}


class MetricsServer:
    """An aiohttp server in a thread serving the recorded texts at /<name>, and /live: a llama.cpp
    style counter that grows by 10 per scrape and resets to zero after every fifth scrape."""

    def __init__(self) -> None:
        import asyncio
        import threading

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.live_hits = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def live_text(self) -> str:
        self.live_hits += 1
        value = 10 * (self.live_hits % 5)
        return (
            "# TYPE llamacpp:tokens_predicted_total counter\n"
            f"llamacpp:tokens_predicted_total {value}\n"
            "# TYPE llamacpp:requests_processing gauge\n"
            "llamacpp:requests_processing 2\n"
        )

    def _run(self) -> None:
        import asyncio

        from aiohttp import web

        async def recorded(request: web.Request) -> web.Response:
            name = request.match_info["name"]
            if name == "live":
                return web.Response(text=self.live_text(), content_type="text/plain")
            path = FIXTURES / "metrics" / METRIC_TEXTS[name]
            return web.Response(text=path.read_text(), content_type="text/plain")

        async def main() -> None:
            app = web.Application()
            app.router.add_get("/{name}", recorded)
            self._runner = web.AppRunner(app)
            await self._runner.setup()
            await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
            self._ready.set()

        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(main())
        self._loop.run_forever()

    def __enter__(self) -> MetricsServer:
        self._thread.start()
        assert self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        import asyncio

        fut = asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop)
        fut.result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


@pytest.fixture
def metrics_server():  # type: ignore[no-untyped-def]
    with MetricsServer() as server:
        yield server


def start_prometheus(  # type: ignore[no-untyped-def]
    tmp: Path, targets: dict[str, str], *, tsdb: Path | None = None, args: tuple[str, ...] = ()
):
    """Debian's prometheus on a free port, scraping `targets` (job -> URL) every second;
    `args` are extra flags (e.g. --query.lookback-delta)."""
    import shutil
    import subprocess
    import time

    import requests

    binary = shutil.which("prometheus")
    if binary is None:
        pytest.fail("prometheus is not installed: apt-get install -y prometheus")
    lines = ["global:", "  scrape_interval: 1s", "  scrape_timeout: 1s", "scrape_configs:"]
    for job, url in targets.items():
        hostport, _, path = url.removeprefix("http://").partition("/")
        lines += [
            f"  - job_name: {job}",
            f"    metrics_path: /{path}",
            "    static_configs:",
            f"      - targets: ['{hostport}']",
        ]
    cfg = tmp / "prometheus.yml"
    cfg.write_text("\n".join(lines) + "\n")
    port = free_port()
    data = tsdb or tmp / "tsdb"
    log = (tmp / "prometheus.log").open("w")
    proc = subprocess.Popen(
        [
            binary,
            f"--config.file={cfg}",
            f"--storage.tsdb.path={data}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--storage.tsdb.retention.time=100y",
            *args,
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/-/ready", timeout=1).status_code == 200:
                return proc, url, log
        except requests.RequestException:
            pass
        time.sleep(0.2)
    proc.kill()
    proc.wait()
    log.close()
    pytest.fail(f"prometheus did not become ready; see {tmp / 'prometheus.log'}")


class FaultyProxy:
    """A real HTTP proxy in front of Prometheus that fails on purpose: the statuses in `inject`
    answer the next requests (one each, before any is forwarded), and after `fail_after`
    forwarded requests every request gets `fail_status`. Counts what it saw."""

    def __init__(self, target: str) -> None:
        import asyncio
        import threading

        self.target = target
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.inject: list[int] = []
        self.fail_after: int | None = None
        self.fail_status = 400
        self.requests = 0
        self.forwarded = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import asyncio
        import json

        import aiohttp
        from aiohttp import web

        async def handle(request: web.Request) -> web.Response:
            self.requests += 1
            if self.inject:
                status = self.inject.pop(0)
                body = json.dumps({"status": "error", "errorType": "injected",
                                   "error": f"injected {status}"})  # fmt: skip
                return web.Response(
                    status=status, text=body, headers={"Retry-After": "0"},
                    content_type="application/json",
                )  # fmt: skip
            if self.fail_after is not None and self.forwarded >= self.fail_after:
                body = json.dumps({"status": "error", "errorType": "injected",
                                   "error": "injected failure after the first chunk"})  # fmt: skip
                return web.Response(
                    status=self.fail_status, text=body, content_type="application/json"
                )
            self.forwarded += 1
            async with (
                aiohttp.ClientSession() as session,
                session.get(self.target + request.path_qs) as resp,
            ):
                return web.Response(
                    status=resp.status, body=await resp.read(), content_type="application/json"
                )

        async def main() -> None:
            app = web.Application()
            app.router.add_get("/{tail:.*}", handle)
            self._runner = web.AppRunner(app)
            await self._runner.setup()
            await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
            self._ready.set()

        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(main())
        self._loop.run_forever()

    def __enter__(self) -> FaultyProxy:
        self._thread.start()
        assert self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        import asyncio

        fut = asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop)
        fut.result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


def backfill(tmp: Path, lines: list[str], name: str = "data") -> Path:
    """OpenMetrics lines (TYPE lines included, no EOF) -> a TSDB made by promtool."""
    import shutil
    import subprocess

    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool is not installed: apt-get install -y prometheus")
    om = tmp / f"{name}.om"
    om.write_text("\n".join([*lines, "# EOF"]) + "\n")
    tsdb = tmp / f"{name}-tsdb"
    subprocess.run(
        [promtool, "tsdb", "create-blocks-from", "openmetrics", str(om), str(tsdb)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    return tsdb
