"""`unitcost emulate`: serve emulated endpoints, or write a simulated week of telemetry."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.table import Table
from unitcost.emulate.catalog import Catalog, load_catalog

from unitcost.display import new_console
from unitcost.errors import ConfigError

if TYPE_CHECKING:
    from unitcost.emulate.fleet import EndpointConfig, Running

console = new_console()

_catalog_opt = click.option(
    "--catalog",
    "catalogs",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Extra catalog TOML ([models.<id>], [gpus.<id>], ...); repeatable.",
)


def _single(
    model: str | None,
    gpu: str,
    gpus: int,
    quant: str,
    engine: str,
    host: str,
    port: int,
    **extra: object,
) -> list[EndpointConfig]:
    from unitcost.emulate.fleet import EndpointConfig

    if model is None:
        raise ConfigError("give --model (with --gpu, --gpus, --quant) or --fleet FILE")
    kw = {k: v for k, v in extra.items() if v is not None}
    return [
        EndpointConfig(
            name=f"{model}-{quant}-{gpus}x{gpu}",
            model=model,
            gpu=gpu,
            gpus=gpus,
            quant=quant,
            engine=engine,
            host=host,
            port=port,
            **kw,  # type: ignore[arg-type]
        )
    ]


@click.group(invoke_without_command=True)
@click.option("--model", help="Model id from the catalog, e.g. llama-3.1-8b.")
@click.option("--gpu", default="h100", show_default=True, help="GPU id, e.g. h100, l4, a100-80gb.")
@click.option("--gpus", default=1, show_default=True, help="GPUs per endpoint (tensor parallel).")
@click.option(
    "--quant", default="fp16", show_default=True, help="fp16, bf16, fp8, fp8-kv8, int8, int4."
)
@click.option(
    "--engine", default="vllm", show_default=True, help="Engine profile: vllm, sglang, trtllm."
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, help="0 picks a free port.")
@click.option("--served-model-name", help="Name clients send as `model` (default: the HF name).")
@click.option("--seed", default=0, show_default=True, help="Seed for output lengths and jitter.")
@click.option(
    "--jitter", default=0.0, show_default=True, help="Relative step-time noise (e.g. 0.05)."
)
@click.option(
    "--max-waiting", default=0, show_default=True, help="429 beyond this many waiting (0 = never)."
)
@click.option("--gpu-memory-utilization", type=float, help="Share of GPU memory the engine claims.")
@click.option("--max-num-seqs", type=int, help="Largest batch (default from the engine profile).")
@click.option("--max-model-len", type=int, help="Longest prompt + output accepted.")
@click.option(
    "--fleet", type=click.Path(dir_okay=False, path_type=Path), help="Fleet TOML: many endpoints."
)
@_catalog_opt
@click.pass_context
def emulate(
    ctx: click.Context, /, fleet: Path | None, catalogs: tuple[Path, ...], **kw: object
) -> None:
    """Serve OpenAI-compatible endpoints that behave like the chosen GPUs would (EMULATED)."""
    if ctx.invoked_subcommand is not None:
        return
    # aiohttp and the server load only when serving, not on every `unitcost` command
    from unitcost.emulate.fleet import load_fleet, serve_forever

    catalog = load_catalog(list(catalogs))
    configs = load_fleet(fleet) if fleet else _single(**kw)  # type: ignore[arg-type]
    try:
        asyncio.run(serve_forever(configs, catalog, on_ready=_announce))
    except KeyboardInterrupt:
        console.print("stopped")


def _announce(running: list[Running]) -> None:
    from unitcost.emulate.fleet import describe

    table = Table(
        "endpoint",
        "url",
        "model name",
        "emulates",
        "KV tokens",
        "1-stream tok/s",
        title="unitcost emulate: every figure these endpoints report is EMULATED",
    )
    for r in running:
        d = describe(r)
        table.add_row(
            d["name"],
            d["url"],
            d["served_model_name"],
            d["setup"],
            str(d["kv_capacity_tokens"]),
            str(d["single_stream_tok_s"]),
        )
    console.print(table)
    for r in running:  # one machine-readable line per endpoint, for scripts and tests
        click.echo("READY " + json.dumps(describe(r)), nl=True)


@emulate.command("catalog")
@_catalog_opt
def catalog_cmd(catalogs: tuple[Path, ...]) -> None:
    """List the models, GPUs, quantizations and engine profiles the emulator knows."""
    cat = load_catalog(list(catalogs))
    _print_catalog(cat)


def _print_catalog(cat: Catalog) -> None:
    t = Table("model", "name", "params (B)", "active (B)", "layers", "KV heads", "max context")
    for m in cat.models.values():
        t.add_row(
            m.id,
            m.name,
            f"{m.params / 1e9:.1f}",
            f"{m.active / 1e9:.1f}",
            str(m.layers),
            str(m.kv_heads),
            str(m.max_context),
        )
    console.print(t)
    t = Table(
        "gpu", "name", "memory GB", "BW GB/s", "FP16 TFLOPS", "FP8 TFLOPS", "INT8 TOPS", "TDP W"
    )
    for g in cat.gpus.values():
        t.add_row(
            g.id,
            g.name,
            f"{g.memory_gb:g}",
            f"{g.bandwidth_gbs:g}",
            f"{g.fp16_tflops:g}",
            f"{g.fp8_tflops:g}",
            f"{g.int8_tops:g}",
            f"{g.tdp_w:g}",
        )
    console.print(t)
    t = Table("quant", "name", "bytes/weight", "math units", "KV bytes")
    for q in cat.quants.values():
        t.add_row(q.id, q.name, f"{q.weight_bytes:g}", q.math, f"{q.kv_bytes:g}")
    console.print(t)
    t = Table("engine", "name", "BW eff.", "MFU", "max seqs")
    for e in cat.engines.values():
        t.add_row(e.id, e.name, f"{e.bw_efficiency:g}", f"{e.mfu:g}", str(e.max_num_seqs))
    console.print(t)


@emulate.command("offline")
@click.option("--fleet", type=click.Path(dir_okay=False, path_type=Path), help="Fleet TOML.")
@click.option("--model", help="Single endpoint instead of a fleet: model id.")
@click.option("--gpu", default="h100", show_default=True)
@click.option("--gpus", default=1, show_default=True)
@click.option("--quant", default="fp16", show_default=True)
@click.option("--engine", default="vllm", show_default=True)
@click.option("--rps", type=float, help="Peak requests/s (single endpoint; fleet files set rps).")
@click.option("--days", default=7.0, show_default=True, help="Length of the simulated span.")
@click.option("--start", help="Span start, ISO UTC (default: 7 days before today 00:00 UTC).")
@click.option("--step", default=60.0, show_default=True, help="Seconds between samples.")
@click.option("--seed", default=0, show_default=True)
@click.option("--no-incident", is_flag=True, help="Leave out the incident.")
@click.option(
    "--out",
    "out_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write OpenMetrics text here (for promtool tsdb create-blocks-from openmetrics).",
)
@click.option("--to-store", is_flag=True, help="Write samples into the DuckDB store (--db).")
@_catalog_opt
@click.pass_context
def offline_cmd(
    ctx: click.Context,
    fleet: Path | None,
    model: str | None,
    gpu: str,
    gpus: int,
    quant: str,
    engine: str,
    rps: float | None,
    days: float,
    start: str | None,
    step: float,
    seed: int,
    no_incident: bool,
    out_file: Path | None,
    to_store: bool,
    catalogs: tuple[Path, ...],
) -> None:
    """Write a simulated span of production telemetry (diurnal demand, bursts, an incident)."""
    from unitcost.emulate import telemetry
    from unitcost.emulate.fleet import load_fleet
    from unitcost.emulate.offline import pick_incident, simulate_endpoint

    if out_file is None and not to_store:
        raise ConfigError("give --out FILE (OpenMetrics) and/or --to-store")
    if step <= 0 or days <= 0:
        raise ConfigError("--step and --days must be > 0")
    catalog = load_catalog(list(catalogs))
    configs = (
        load_fleet(fleet)
        if fleet
        else _single(model, gpu, gpus, quant, engine, "127.0.0.1", 8000, rps=rps)
    )
    begin = _parse_start(start)
    span = days * 86400
    incident = None if no_incident else pick_incident(begin, span, seed)
    series = []
    for i, cfg in enumerate(configs):
        phys = cfg.physics(catalog)
        inc = incident if i == 0 else None  # one incident, on the first endpoint
        pts = list(simulate_endpoint(cfg, phys, begin, span, step, inc, seed + i))
        series.append(telemetry.Series(cfg, phys, pts))
    if out_file is not None:
        n = telemetry.write_openmetrics_file(series, out_file)
        console.print(f"{out_file}: {n} samples (OpenMetrics, emulated)")
    if to_store:
        from unitcost.cli import App

        app = ctx.find_object(App)
        if app is None:
            raise ConfigError("--to-store needs the unitcost command's --db")
        n = telemetry.write_store(
            app.store,
            series,
            on_piece=lambda name, end, k: console.print(
                f"  {name}: {k:,} samples up to {end:%Y-%m-%d %H:%M}Z"
            ),
        )
        console.print(f"{app.store.path}: {n} emulated rows written")
    if incident is not None:
        console.print(
            f"incident on {configs[0].name}: {_iso(incident.start)} to {_iso(incident.end)}, "
            f"restart gap until {_iso(incident.restart_end)}"
        )


def _parse_start(start: str | None) -> datetime:
    if start is None:
        today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        return today - timedelta(days=7)
    try:
        dt = datetime.fromisoformat(start.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ConfigError(f"--start {start!r}: not an ISO date/time") from exc
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
