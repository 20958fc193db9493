"""A writer and a reader on one store file, each in a loop: how far each gets, with turns
(unitcost.turns) and without them (as where flock is missing, the processes only retry).

Without turns a process that takes the file back to back shuts the other out (CI once saw one
write in six seconds against a reader in a loop); with them both get their turns. Runs the
concurrency test's own writer and reader scripts.
Run: pytest -m perf -s tests/perf/core/test_turns_perf.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.core.test_concurrency import READER, WRITER
from unitcost.store import Store

SECONDS = os.environ.get("UNITCOST_PERF_TURNS_SECONDS", "6")
ROUNDS = int(os.environ.get("UNITCOST_PERF_ROUNDS", "3"))
NO_TURNS = "import unitcost.turns as _t; _t.fcntl = None\n"  # the no-flock path


def _race(tmp: Path, writer_kind: str, turns: bool) -> tuple[int, int]:
    tmp.mkdir()
    store = Store(tmp / "race.duckdb")
    store.migrate()
    prefix = "" if turns else NO_TURNS
    w = subprocess.Popen(
        [sys.executable, "-c", prefix + WRITER, str(store.path), SECONDS, writer_kind],
        stdout=subprocess.PIPE,
        text=True,
    )
    r = subprocess.Popen(
        [sys.executable, "-c", prefix + READER, str(store.path), SECONDS],
        stdout=subprocess.PIPE,
        text=True,
    )
    w_out, _ = w.communicate(timeout=120)
    r_out, _ = r.communicate(timeout=120)
    assert w.returncode == 0 and r.returncode == 0
    return int(w_out) // 50, len(json.loads(r_out))


@pytest.mark.perf
def test_writer_and_reader_loops_with_and_without_turns(tmp_path: Path) -> None:
    print(f"\n{SECONDS} s of a writer loop and a reader loop, {ROUNDS} rounds: min-max")
    print(f"{'writer':<14}{'turns':<7}{'writes':>12}{'reads':>14}")
    for kind in ("store", "batch_writer"):
        for turns in (False, True):
            got = [_race(tmp_path / f"{kind}-{turns}-{i}", kind, turns) for i in range(ROUNDS)]
            writes = [g[0] for g in got]
            reads = [g[1] for g in got]
            print(
                f"{kind:<14}{'yes' if turns else 'no':<7}"
                f"{f'{min(writes)}-{max(writes)}':>12}{f'{min(reads)}-{max(reads)}':>14}"
            )
            if turns:
                assert min(writes) >= 5 and min(reads) >= 5, "one side was shut out"
