"""Measure an emulated endpoint with the real `unitcost bench run`, as the issue asks.

Runs the CLI as a subprocess against a fresh DuckDB file and reads the run back with
`unitcost bench show --format json`, so the emulator is validated by exactly the code path a
user's benchmark takes (prompt lengths via the server's /tokenize, tokens from usage, and the
metric definitions of unitcost.bench.metrics).
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class BenchRun:
    """The fields of `bench show --format json` the emulator tests use."""

    summary: dict[str, Any]

    @property
    def ok(self) -> int:
        return int(self.summary["requests_ok"])

    @property
    def output_tokens(self) -> int:
        return int(self.summary["output_tokens"])

    @property
    def output_tok_s(self) -> float:
        return float(self.summary["output_tokens_per_s"])

    @property
    def duration_s(self) -> float:
        return float(self.summary["duration_s"])

    @property
    def ttft_p50_ms(self) -> float:
        return float(self.summary["ttft_ms"]["p50"])


def _uc(db: Path, *args: str) -> str:
    cmd = [sys.executable, "-m", "unitcost", "--db", str(db), *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=db.parent)
    assert proc.returncode == 0, f"{' '.join(args[:2])} failed:\n{proc.stderr[-3000:]}"
    return proc.stdout


def bench_run(
    base_url: str,
    workdir: Path,
    *,
    model: str,
    concurrency: int,
    requests: int,
    input_tokens: int,
    output_tokens: int,
) -> BenchRun:
    """Closed loop of `requests` streamed chat requests at `concurrency`, exact token lengths."""
    db = workdir / f"bench-{concurrency}-{requests}.duckdb"
    if not db.exists():
        _uc(db, "db", "init")
    out = _uc(
        db, "bench", "run", "--endpoint", base_url, "--model", model, "--api", "chat",
        "--concurrency", str(concurrency), "--requests", str(requests),
        "--input-tokens", str(input_tokens), "--output-tokens", str(output_tokens),
        "--ignore-eos", "--no-live", "--label", "target=unitcost-emulate",
    )  # fmt: skip
    run_id = out.strip().splitlines()[-1]
    return BenchRun(json.loads(_uc(db, "bench", "show", run_id, "--format", "json")))
