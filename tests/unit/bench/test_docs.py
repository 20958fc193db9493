"""Every `unitcost bench` command and flag is documented in docs/bench.md."""

from __future__ import annotations

from pathlib import Path

import click
from unitcost.bench.cli import bench

DOCS = (Path(__file__).resolve().parents[3] / "docs" / "bench.md").read_text()


def test_every_command_and_flag_documented() -> None:
    missing = []
    for name, cmd in bench.commands.items():
        if f"bench {name}" not in DOCS:
            missing.append(f"bench {name}")
        for p in cmd.params:
            if isinstance(p, click.Option):
                flag = max(p.opts, key=len)
                if flag not in DOCS:
                    missing.append(f"bench {name} {flag}")
    assert not missing, missing
