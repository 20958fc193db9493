"""The command line: a fleet in one process, and a clear refusal when a model does not fit."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
import urllib.request
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from tests.integration.emulate.servers import free_port
from tests.integration.emulate.streamclient import measure

pytestmark = pytest.mark.integration


def test_sample_fleet_serves_every_endpoint_from_one_process(
    emulator: Callable[..., Any], tmp_path: Path
) -> None:
    sample = resources.files("unitcost.emulate") / "data" / "fleet.example.toml"
    raw = tomllib.loads(sample.read_text())
    text = sample.read_text()
    for ep in raw["endpoints"]:
        text = text.replace(f"port = {ep['port']}", f"port = {free_port()}")
    fleet = tmp_path / "fleet.toml"
    fleet.write_text(text)
    # --port is ignored with --fleet (each endpoint has its own); the fixture passes one anyway
    with emulator("--fleet", str(fleet)) as emu:
        log = next(tmp_path.glob("emulator-*.log")).read_text()
        ready = [json.loads(line[6:]) for line in log.splitlines() if line.startswith("READY ")]
        assert len(ready) == 3 and emu.pid > 0
        models = set()
        for r in ready:
            with urllib.request.urlopen(f"{r['url']}/models", timeout=5) as resp:
                card = json.loads(resp.read())["data"][0]
            assert card["emulated"] is True
            models.add((card["emulation"]["gpu"], card["emulation"]["quantization"]))
            m = measure(
                r["url"], model=card["id"], concurrency=2, requests=2, prompt_words=10, max_tokens=8
            )
            assert m.ok == 2 and m.output_tokens == 16
        assert models == {("h100", "fp16"), ("l4", "int4"), ("l40s", "bf16")}


def test_refuses_a_model_that_does_not_fit() -> None:
    exe = str(Path(sys.executable).with_name("unitcost"))
    r = subprocess.run(
        [exe, "emulate", "--model", "llama-2-70b", "--gpu", "l40s", "--gpus", "1", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert r.returncode == 1
    err = " ".join(r.stderr.split())
    assert err.startswith("Error: endpoint")
    assert "llama-2-70b" in err and "does not fit" in err and "it would fit with --gpus 4" in err


def test_bad_fleet_file_names_file_endpoint_and_field(tmp_path: Path) -> None:
    f = tmp_path / "f.toml"
    f.write_text('[[endpoints]]\nname = "a"\nmodel = "llama-3.1-8b"\ngpu = "h100"\nprot = 1\n')
    exe = str(Path(sys.executable).with_name("unitcost"))
    r = subprocess.run(
        [exe, "emulate", "--fleet", str(f)], capture_output=True, text=True, timeout=60, check=False
    )
    assert r.returncode == 1
    err = " ".join(r.stderr.split())
    assert "f.toml, endpoint 1 (a), column 'prot': unknown field" in err
