"""Fixtures every test tier shares: a migrated DuckDB file and a way to run the real CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from unitcost.store import Store

# Real LLM servers on a tiny model the tests build themselves (llama-server, transformers serve).
pytest_plugins = ["tests.support.fixtures"]

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def store(tmp_path: Path) -> Store:
    """A fresh, migrated store in a real DuckDB file."""
    s = Store(tmp_path / "unitcost.duckdb", lock_timeout_s=10)
    s.migrate()
    return s


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def clean_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """Environment for CLI subprocesses: no UNITCOST_* leaking in from the developer's shell."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("UNITCOST_")}
    env["COLUMNS"] = "200"
    yield env


@pytest.fixture
def run_cli(tmp_path: Path, clean_env: dict[str, str]):  # type: ignore[no-untyped-def]
    """Run the installed `unitcost` entry point in tmp_path, as a user would."""

    def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> CliResult:
        proc = subprocess.run(
            [sys.executable, "-m", "unitcost", *args],
            capture_output=True,
            text=True,
            cwd=cwd or tmp_path,
            env={**clean_env, **(env or {})},
            timeout=120,
        )
        return CliResult(proc.returncode, proc.stdout, proc.stderr)

    return run
