"""Fixtures, as in tests/integration/emulate: a real `unitcost emulate` process per test."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.emulate.servers import run_emulator


@pytest.fixture
def emulator(tmp_path: Path) -> Callable[..., object]:
    def start(*args: str) -> object:
        return run_emulator(*args, log=tmp_path / f"emulator-{time.monotonic_ns()}.log")

    return start
