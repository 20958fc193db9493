"""Fixtures for collector unit tests: a real migrated DuckDB file and the recorded fixtures."""

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
