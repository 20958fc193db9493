"""A fleet of emulated endpoints in one process, one port each, from a TOML file.

    [defaults]                # optional; any endpoint field
    engine = "vllm"
    host = "127.0.0.1"

    [[endpoints]]
    name = "chat-8b-h100"     # unique; also the Hostname of its DCGM series
    model = "llama-3.1-8b"    # catalog ids (unitcost emulate catalog)
    gpu = "h100"
    gpus = 1                  # tensor-parallel degree
    quant = "fp16"
    port = 8001

Other fields: served_model_name, seed, jitter, max_waiting, gpu_memory_utilization,
max_num_seqs, max_model_len, and for `emulate offline`: rps (peak requests/s), prompt_tokens,
output_tokens.
"""

from __future__ import annotations

import asyncio
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from aiohttp import web
from unitcost.emulate.catalog import Catalog
from unitcost.emulate.physics import DoesNotFitError, Physics, build_physics
from unitcost.emulate.server import Endpoint, EndpointOptions, start_endpoint

from unitcost.errors import ConfigError, InputError, input_error


@dataclass(frozen=True)
class EndpointConfig:
    """One endpoint of a fleet (or the single endpoint of the flags)."""

    name: str
    model: str
    gpu: str
    gpus: int = 1
    quant: str = "fp16"
    engine: str = "vllm"
    host: str = "127.0.0.1"
    port: int = 8000
    served_model_name: str | None = None
    seed: int = 0
    jitter: float = 0.0
    max_waiting: int = 0
    gpu_memory_utilization: float | None = None
    max_num_seqs: int | None = None
    max_model_len: int | None = None
    rps: float = 2.0
    prompt_tokens: int = 512
    output_tokens: int = 256

    def physics(self, catalog: Catalog) -> Physics:
        """The endpoint's physics; a refusal names the endpoint."""
        try:
            return build_physics(
                catalog,
                model=self.model,
                gpu=self.gpu,
                quant=self.quant,
                engine=self.engine,
                gpus=self.gpus,
                gpu_memory_utilization=self.gpu_memory_utilization,
                max_num_seqs=self.max_num_seqs,
                max_model_len=self.max_model_len,
            )
        except DoesNotFitError as exc:
            raise DoesNotFitError(f"endpoint {self.name!r}: {exc}") from None

    def options(self) -> EndpointOptions:
        return EndpointOptions(
            name=self.name,
            served_model_name=self.served_model_name,
            seed=self.seed,
            jitter=self.jitter,
            max_waiting=self.max_waiting,
        )


_FIELDS = {f.name: f for f in fields(EndpointConfig)}


def load_fleet(path: Path) -> list[EndpointConfig]:
    """Parse and validate a fleet file; errors name the file, the endpoint and the field."""
    try:
        raw = tomllib.loads(Path(path).read_text())
    except OSError as exc:
        raise InputError(f"{path}: cannot read fleet file: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not valid TOML: {exc}") from exc
    defaults = raw.get("defaults", {})
    entries = raw.get("endpoints")
    if not isinstance(entries, list) or not entries:
        raise input_error(str(path), msg="needs at least one [[endpoints]] table")
    out: list[EndpointConfig] = []
    for i, entry in enumerate(entries, start=1):
        merged = {**defaults, **entry}
        where = f"{path}, endpoint {i} ({merged.get('name', '?')})"
        for key, value in merged.items():
            if key not in _FIELDS:
                raise input_error(
                    where, column=key, msg=f"unknown field; allowed: {sorted(_FIELDS)}"
                )
            if isinstance(value, bool) or (
                value is not None and not isinstance(value, str | int | float)
            ):
                raise input_error(where, column=key, msg=f"bad value {value!r}")
        for req in ("name", "model", "gpu"):
            if req not in merged:
                raise input_error(where, column=req, msg="required field is missing")
        try:
            out.append(EndpointConfig(**merged))
        except TypeError as exc:
            raise input_error(where, msg=str(exc)) from None
    names = [e.name for e in out]
    ports = [(e.host, e.port) for e in out if e.port]
    if len(set(names)) != len(names):
        raise input_error(str(path), msg="endpoint names must be unique")
    if len(set(ports)) != len(ports):
        raise input_error(str(path), msg="two endpoints share a host and port")
    return out


@dataclass
class Running:
    """A started endpoint: what it is and where it listens."""

    config: EndpointConfig
    endpoint: Endpoint
    runner: web.AppRunner
    port: int

    @property
    def base_url(self) -> str:
        return f"http://{self.config.host}:{self.port}/v1"


async def start_fleet(configs: list[EndpointConfig], catalog: Catalog) -> list[Running]:
    """Build every endpoint's physics first (so a misfit refuses the whole fleet), then serve."""
    physics = [c.physics(catalog) for c in configs]
    started: list[Running] = []
    try:
        for cfg, phys in zip(configs, physics, strict=True):
            ep = Endpoint(phys, cfg.options())
            try:
                runner, port = await start_endpoint(ep, cfg.host, cfg.port)
            except OSError as exc:
                raise ConfigError(
                    f"endpoint {cfg.name!r}: cannot listen on {cfg.host}:{cfg.port}: {exc}"
                ) from exc
            started.append(Running(cfg, ep, runner, port))
    except BaseException:
        await stop_fleet(started)
        raise
    return started


async def stop_fleet(running: list[Running]) -> None:
    for r in running:
        await r.runner.cleanup()


async def serve_forever(
    configs: list[EndpointConfig],
    catalog: Catalog,
    on_ready: Callable[[list[Running]], None] | None = None,
) -> None:
    """Start the fleet, report it, and serve until cancelled (Ctrl-C)."""
    running = await start_fleet(configs, catalog)
    try:
        if on_ready is not None:
            on_ready(running)
        await asyncio.Event().wait()
    finally:
        await stop_fleet(running)


def describe(running: Running) -> dict[str, Any]:
    """One line of the start-up table."""
    p = running.endpoint.phys
    return {
        "name": running.config.name,
        "url": running.base_url,
        "served_model_name": running.endpoint.model_name,
        "setup": p.setup.label,
        "kv_capacity_tokens": p.kv_capacity_tokens,
        "max_model_len": p.max_model_len,
        "single_stream_tok_s": round(1.0 / p.step_s(1, 512), 1),
    }
