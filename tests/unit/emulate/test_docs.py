"""Every flag and fleet field of `unitcost emulate` is documented in docs/emulate.md."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import click
from unitcost.emulate.cli import emulate
from unitcost.emulate.fleet import EndpointConfig

DOC = (Path(__file__).parents[3] / "docs" / "emulate.md").read_text()


def _flags(cmd: click.Command) -> set[str]:
    out = set()
    for p in cmd.params:
        if isinstance(p, click.Option):
            out.update(o for o in p.opts if o.startswith("--"))
    return out


def test_every_flag_is_documented() -> None:
    assert isinstance(emulate, click.Group)
    cmds = [emulate, *emulate.commands.values()]
    missing = sorted(f for c in cmds for f in _flags(c) if f"`{f}" not in DOC)
    assert not missing, f"docs/emulate.md lacks {missing}"
    for name in emulate.commands:
        assert f"unitcost emulate {name}" in DOC


def test_every_fleet_field_is_documented() -> None:
    missing = [f.name for f in fields(EndpointConfig) if f"`{f.name}`" not in DOC]
    assert not missing, f"docs/emulate.md lacks fleet fields {missing}"
