"""Real servers for the emulator tests: `unitcost emulate` and Prometheus on free local ports."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest


def free_port() -> int:
    return free_ports(1)[0]


def free_ports(n: int) -> list[int]:
    """n distinct free ports: every socket stays bound until all are chosen, so the kernel
    cannot hand the same port out twice (separate free_port() calls can)."""
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in socks]
    finally:
        for s in socks:
            s.close()


@dataclass
class Emulator:
    base_url: str  # .../v1
    root: str  # http://127.0.0.1:port
    model: str
    pid: int
    ready: dict[str, object]


def _unitcost() -> str:
    exe = Path(sys.executable).with_name("unitcost")
    return str(exe) if exe.exists() else "unitcost"


@contextmanager
def run_emulator(*args: str, log: Path) -> Iterator[Emulator]:
    port = free_port()
    cmd = [_unitcost(), "emulate", *args, "--host", "127.0.0.1", "--port", str(port)]
    with log.open("w") as fh:
        proc = subprocess.Popen(
            cmd, stdout=fh, stderr=subprocess.STDOUT, env={**os.environ, "COLUMNS": "200"}
        )
    try:
        deadline = time.monotonic() + 30
        ready = None
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"emulator exited: {log.read_text()}")
            for line in log.read_text().splitlines():
                if line.startswith("READY "):
                    ready = json.loads(line[6:])
            if ready is not None:
                break
            time.sleep(0.05)
        assert ready is not None, log.read_text()
        root = str(ready["url"]).removesuffix("/v1")  # with --fleet: the first endpoint
        with urllib.request.urlopen(f"{root}/health", timeout=5) as r:
            assert r.status == 200
        yield Emulator(f"{root}/v1", root, str(ready["served_model_name"]), proc.pid, ready)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@dataclass
class Prometheus:
    url: str
    pid: int


@contextmanager
def run_prometheus(targets: list[str], tmp: Path, interval: str = "1s") -> Iterator[Prometheus]:
    exe = shutil.which("prometheus")
    if exe is None:
        pytest.fail("prometheus is not installed (apt-get install -y prometheus)")
    port = free_port()
    cfg = tmp / "prometheus.yml"
    cfg.write_text(
        "global:\n"
        f"  scrape_interval: {interval}\n"
        "scrape_configs:\n"
        "  - job_name: emulate\n"
        f"    scrape_interval: {interval}\n"
        "    static_configs:\n"
        f"      - targets: {json.dumps(targets)}\n"
    )
    log = (tmp / "prometheus.log").open("w")
    proc = subprocess.Popen(
        [
            exe,
            f"--config.file={cfg}",
            f"--storage.tsdb.path={tmp / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"{url}/-/ready", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError((tmp / "prometheus.log").read_text())
            time.sleep(0.1)
        yield Prometheus(url, proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def prom_query(url: str, q: str) -> list[dict[str, object]]:
    from urllib.parse import urlencode

    with urllib.request.urlopen(f"{url}/api/v1/query?{urlencode({'query': q})}", timeout=5) as r:
        body = json.loads(r.read())
    assert body["status"] == "success", body
    return list(body["data"]["result"])
