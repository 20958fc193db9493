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

from tests.integration.emulate.servers import free_ports
from tests.integration.emulate.streamclient import measure

pytestmark = pytest.mark.integration


def test_sample_fleet_serves_every_endpoint_from_one_process(
    emulator: Callable[..., Any], tmp_path: Path
) -> None:
    sample = resources.files("unitcost.emulate") / "data" / "fleet.example.toml"
    raw = tomllib.loads(sample.read_text())
    text = sample.read_text()
    ports = free_ports(len(raw["endpoints"]))
    for ep, port in zip(raw["endpoints"], ports, strict=True):
        text = text.replace(f"port = {ep['port']}", f"port = {port}")
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


def test_twenty_endpoints_in_one_process_start_cheaply() -> None:
    import asyncio
    import time

    import aiohttp
    from unitcost.emulate.catalog import load_catalog
    from unitcost.emulate.fleet import EndpointConfig, start_fleet, stop_fleet

    models = ["llama-3.2-3b", "llama-3.1-8b", "deepseek-llm-7b", "deepseek-v2-lite"]
    gpus = ["a100-40gb", "l40s", "a100-80gb", "h100", "h200"]
    configs = [
        EndpointConfig(name=f"e{i}", model=m, gpu=g, port=0)
        for i, (m, g) in enumerate((m, g) for m in models for g in gpus)
    ]

    async def main() -> None:
        t0 = time.perf_counter()
        running = await start_fleet(configs, load_catalog())
        started = time.perf_counter() - t0
        try:
            assert len({r.port for r in running}) == 20
            async with aiohttp.ClientSession() as s:
                for r in running:
                    async with s.post(
                        f"{r.base_url}/completions",
                        json={"prompt": "x", "max_tokens": 2, "ignore_eos": True},
                    ) as resp:
                        assert resp.status == 200
                        assert (await resp.json())["usage"]["completion_tokens"] == 2
        finally:
            await stop_fleet(running)
        print(f"\n20 endpoints started in {started * 1000:.0f} ms")
        assert started < 10

    asyncio.run(main())
