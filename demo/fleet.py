"""The demo's emulated fleet: `unitcost emulate --fleet FILE` in a child process.

The fleet file lists one endpoint per configuration to benchmark, each on a free port; the
child prints one `READY {json}` line per endpoint when it listens. The child is stopped when
the demo ends, Ctrl-C included.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from unitcost.demo import processes
from unitcost.demo.benchmarks import Target
from unitcost.demo.matrix import Config

from unitcost.errors import UnitcostError

READY_TIMEOUT_S = 120.0


def fleet_text(configs: Sequence[Config]) -> str:
    """A fleet file for `unitcost emulate --fleet` (every port chosen by the system)."""
    head = (
        "# Written by `unitcost demo`: the configurations it benchmarks (EMULATED).\n"
        '[defaults]\nengine = "vllm"\nhost = "127.0.0.1"\nport = 0\nseed = 0\n'
    )
    body = "".join(
        f'\n[[endpoints]]\nname = "{c.name}"\nmodel = "{c.model}"\ngpu = "{c.gpu}"\n'
        f'quant = "{c.quant}"\n'
        for c in configs
    )
    return head + body


@contextmanager
def serving(work: Path, configs: Sequence[Config]) -> Iterator[list[Target]]:
    """Start the fleet, yield its endpoints as bench targets, stop it on the way out."""
    path = work / "fleet.toml"
    path.write_text(fleet_text(configs))
    log = (work / "fleet.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "unitcost", "emulate", "--fleet", str(path)],
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    try:
        yield _ready(proc, configs, work / "fleet.log")
    finally:
        processes.stop(proc)
        log.close()


def _ready(proc: subprocess.Popen[str], configs: Sequence[Config], log: Path) -> list[Target]:
    by_name = {c.name: c for c in configs}
    found: list[Target] = []
    deadline = time.monotonic() + READY_TIMEOUT_S
    assert proc.stdout is not None
    while len(found) < len(configs):
        line = proc.stdout.readline()
        if not line:
            raise UnitcostError(
                f"the emulated fleet stopped before it was ready (exit {proc.poll()}): see {log}"
            )
        if line.startswith("READY "):
            card = json.loads(line[len("READY ") :])
            found.append(Target(by_name[card["name"]], card["url"], card["served_model_name"]))
        if time.monotonic() > deadline:
            raise UnitcostError(f"the emulated fleet was not ready in {READY_TIMEOUT_S:g}s: {log}")
    return found
