"""Suites: standard scenarios across targets (placeholder until implemented)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from unitcost.errors import BenchError


def run_suite(app: Any, path: Path, *, show_live: bool, out: Any) -> list[str]:
    raise BenchError(f"--suite {path}: suites are not implemented yet")
