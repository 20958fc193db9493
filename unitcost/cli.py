"""The `unitcost` command: thin. Parse flags, build validated settings, call the library.

One handler turns any UnitcostError into `Error: ...` and a non-zero exit; `--debug` shows the
traceback instead. Only commands that work are registered.
"""

from __future__ import annotations

import importlib
import json
import signal
import sys
import threading
import traceback
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from unitcost import __version__, prices
from unitcost.config import LoadedSettings, load_settings, redact
from unitcost.display import new_console
from unitcost.errors import StoreError, UnitcostError
from unitcost.store import Store

# Piped output is not squeezed into 80 columns: tables stay readable in files and CI logs.
console = new_console(width=None if sys.stdout.isatty() else 160)
err_console = new_console(stderr=True)
_state = {"debug": False}


@dataclass
class App:
    """What every command needs: the effective settings and the store they point at."""

    loaded: LoadedSettings

    @cached_property
    def store(self) -> Store:
        """One Store per command, so its schema check (a database open) runs once, not per use."""
        s = self.loaded.settings
        return Store(s.db, lock_timeout_s=s.lock_timeout_s)


pass_app = click.make_pass_decorator(App)

#: Command groups of the subpackages, imported only when used so `unitcost db ...` and
#: `unitcost --help` do not pay for pandas, aiohttp and boto3.
# name -> (module, attribute, its one-line help). The help is repeated here so that
# `unitcost --help` lists these groups without importing them (aiohttp, pandas, boto3: ~2 s);
# a test keeps it equal to each command's own.
LAZY_COMMANDS = {
    "bench": (
        "unitcost.bench.cli",
        "bench",
        "Load-test OpenAI-compatible endpoints; results go to the DuckDB store.",
    ),
    "collect": (
        "unitcost.collectors.cli",
        "collect",
        "Collect billing, Prometheus, /metrics scrapes and GPU samples into the store.",
    ),
    "emulate": (
        "unitcost.emulate.cli",
        "emulate",
        "Serve OpenAI-compatible endpoints that behave like the chosen GPUs would (EMULATED).",
    ),
    "kpi": (
        "unitcost.analytics.kpi_cli",
        "kpi",
        "Cost per token, utilization and success rate for a period (--period, --by, --grain).",
    ),
    "recommend": (
        "unitcost.analytics.recommend_cli",
        "recommend",
        "Choose the cheapest fleet (model, quantization, GPU type, spot) per scenario at its SLO.",
    ),
    "dashboard": (
        "unitcost.dashboard.cli",
        "dashboard",
        "Serve the dashboard (Streamlit) on the store; read-only, collectors keep writing.",
    ),
    "export": (
        "unitcost.dashboard.review.cli",
        "export",
        "Export reports from the store (the quarterly review as PDF, HTML, XLSX).",
    ),
    "demo": (
        "unitcost.demo.cli",
        "demo",
        "See every part of unitcost work on generated data (no GPU, cloud or Prometheus needed).",
    ),
}


class LazyGroup(click.Group):
    """A click group that imports a subcommand's module on first use (click's documented way)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *LAZY_COMMANDS])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in LAZY_COMMANDS:
            module, attr, _ = LAZY_COMMANDS[cmd_name]
            command = getattr(importlib.import_module(module), attr)
            assert isinstance(command, click.Command)
            return command
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """click's listing, but lazy groups show their stored help instead of being imported."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max((len(n) for n in names), default=0)
        rows = []
        for name in names:
            if name in LAZY_COMMANDS:
                stub = click.Command(name, help=LAZY_COMMANDS[name][2])  # truncated as click does
                rows.append((name, stub.get_short_help_str(limit)))
                continue
            cmd = super().get_command(ctx, name)
            if cmd is not None and not cmd.hidden:
                rows.append((name, cmd.get_short_help_str(limit)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="UNITCOST_DB",
    help="DuckDB file (env UNITCOST_DB; default ./unitcost.duckdb).",
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(path_type=Path),
    help="Config file (env UNITCOST_CONFIG; default ./unitcost.toml if present).",
)
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@click.version_option(__version__, prog_name="unitcost")
@click.pass_context
def cli(ctx: click.Context, db: Path | None, config_file: Path | None, debug: bool) -> None:
    """unitcost: what a token of LLM inference really costs, and where to run it cheaper."""
    _state["debug"] = debug
    # UNITCOST_DB is read by load_settings from the environment; only a real flag counts as one.
    flag_db = (
        db if ctx.get_parameter_source("db") == click.core.ParameterSource.COMMANDLINE else None
    )
    ctx.obj = App(load_settings(config_file, flags={"db": flag_db}))


# ---------------------------------------------------------------------------- db
@cli.group()
def db() -> None:
    """Create, migrate and inspect the DuckDB store."""


def _apply(app: App, *, create: bool) -> None:
    store = app.store
    if not create and not store.exists():
        raise StoreError(f"{store.path}: no database here; run `unitcost db init` first")
    store.path.parent.mkdir(parents=True, exist_ok=True)
    applied = store.migrate()
    with store.write() as con:
        n_shipped = prices.load_shipped(con)
        n_config = prices.sync_config(con, app.loaded.settings.prices)
    st = store.status()
    for name in applied:
        console.print(f"applied migration [bold]{name}[/]")
    if not applied:
        console.print("schema already current")
    console.print(
        f"{store.path}: schema version {st.current}; price catalog: {n_shipped} shipped rows, "
        f"{n_config} from config"
    )


@db.command("init")
@pass_app
def db_init(app: App) -> None:
    """Create the database (or bring it up to date) and load the shipped price catalog."""
    _apply(app, create=True)


@db.command("migrate")
@pass_app
def db_migrate(app: App) -> None:
    """Apply pending migrations, each in its own transaction; running it twice changes nothing."""
    _apply(app, create=False)


@db.command("status")
@pass_app
def db_status(app: App) -> None:
    """Schema version, pending migrations and row counts."""
    store = app.store
    st = store.status()
    console.print(f"database: {store.path} ({'exists' if store.exists() else 'missing'})")
    console.print(f"schema version: {st.current} (this unitcost ships {st.latest})")
    if st.pending:
        console.print(f"pending migrations: {', '.join(st.pending)}")
        return
    table = Table("table", "rows")
    for name, n in store.table_counts().items():
        table.add_row(name, str(n))
    console.print(table)


# ---------------------------------------------------------------------------- config
@cli.group()
def config() -> None:
    """Inspect the effective configuration."""


@config.command("show")
@click.option("--format", "fmt", type=click.Choice(["json", "table"]), default="table")
@pass_app
def config_show(app: App, fmt: str) -> None:
    """Effective settings after file, environment and flags; secrets redacted."""
    loaded = app.loaded
    data = redact(loaded.settings.model_dump(mode="json"))
    if fmt == "json":
        click.echo(
            json.dumps(
                {
                    "config_file": str(loaded.config_file) if loaded.config_file else None,
                    "settings": data,
                    "origins": loaded.origins,
                },
                indent=2,
            )
        )
        return
    console.print(f"config file: {loaded.config_file or '(none)'}")
    table = Table("setting", "value", "from")
    for key, value in _flatten(data):
        top = key.split("[")[0].split(".")[0]
        origin = (
            loaded.origins.get(key)
            or loaded.origins.get(top)
            or (str(loaded.config_file) if loaded.config_file else "default")
        )
        table.add_row(key, json.dumps(value), origin)
    console.print(table)


def _flatten(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    if isinstance(value, dict) and value:
        out: list[tuple[str, Any]] = []
        for k, v in value.items():
            out.extend(_flatten(v, f"{prefix}.{k}" if prefix else k))
        return out
    if isinstance(value, list) and value:
        return [kv for i, v in enumerate(value) for kv in _flatten(v, f"{prefix}[{i}]")]
    return [(prefix, value)]


# ---------------------------------------------------------------------------- prices
@cli.group("prices")
def prices_group() -> None:
    """The GPU price catalog (shipped, imported, and from config)."""


@prices_group.command("list")
@click.option("--gpu", help="Only this GPU model (e.g. H100).")
@click.option("--provider", help="Only this provider (e.g. aws).")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table")
@pass_app
def prices_list(app: App, gpu: str | None, provider: str | None, fmt: str) -> None:
    """Effective prices per instance; stale or unverified rows are flagged."""
    prices.apply_config(app.store, app.loaded.settings.prices)  # [[prices]] edited since init
    with app.store.read() as con:
        rows = prices.list_prices(con, gpu=gpu, provider=provider)
    if fmt == "json":
        click.echo(json.dumps(rows, default=str, indent=2))
        return
    if fmt == "csv":
        import csv

        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(rows[0].keys() if rows else prices.CATALOG_COLUMNS)
        for r in rows:
            w.writerow(["" if v is None else v for v in r.values()])
        return
    table = Table(title="GPU price catalog")
    table.add_column("price_ref", no_wrap=True)
    for col in ("GPUs", "pricing", "USD/h", "USD/GPU-h", "spot USD/h", "as of", "verified"):
        table.add_column(col)
    for r in rows:
        spot = ""
        if r["spot_usd_per_hour_low"] is not None:
            spot = f"{r['spot_usd_per_hour_low']:.2f}"
            if r["spot_usd_per_hour_high"] != r["spot_usd_per_hour_low"]:
                spot += f"-{r['spot_usd_per_hour_high']:.2f}"
        mark = " [yellow]*[/]" if r["caveat"] else ""
        mark += "" if r["origin"] == "shipped" else f" ({r['origin']})"
        table.add_row(
            f"{r['provider']}/{r['region']}/{r['instance_type']}{mark}",
            f"{r['gpu_count']}x {r['gpu_model']}",
            r["price_model"].replace("_", " "),
            _fmt_money(r["on_demand_usd_per_hour"]),
            _fmt_money(r["on_demand_usd_per_gpu_hour"]),
            spot,
            r["as_of"],
            r["verified"],
        )
    console.print(table)
    caveats = sorted({r["caveat"] for r in rows if r["caveat"]})
    for c in caveats:
        console.print(f"[yellow]*[/] {c}")
    console.print(
        "USD/h: on-demand list price of the whole instance; USD/GPU-h = USD/h / GPUs. "
        "Prices are dated facts from the named source, not quotes. VM-only rows hold no GPU "
        "and never price a GPU cost."
    )


def _fmt_money(value: Any) -> str:
    return "" if value is None else f"{value:.4f}"


@prices_group.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@pass_app
def prices_import(app: App, file: Path) -> None:
    """Add or override catalog rows from a CSV (catalog or snapshot format); all or nothing."""
    with app.store.write() as con:
        n = prices.import_prices(con, file)
    console.print(f"imported {n} price rows from {file}")


# ---------------------------------------------------------------------------- entry point
def main(argv: list[str] | None = None) -> None:
    """Entry point: one place that turns errors into messages and exit codes."""
    try:
        cli.main(args=argv, prog_name="unitcost", standalone_mode=False)
    except SystemExit as exc:
        if exc.code == 130:
            _stopping()
        raise
    except click.exceptions.Abort:
        _stopping()
        err_console.print("Aborted.")
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except UnitcostError as exc:
        if _state["debug"]:
            traceback.print_exc()
        # soft_wrap: one line even when stderr is piped (rich would wrap at 80 columns)
        err_console.print(f"Error: {exc}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(1)
    except KeyboardInterrupt:
        _stopping()
        err_console.print("Interrupted.")
        sys.exit(130)


def _stopping() -> None:
    """Interrupted, and on the way out: a second Ctrl-C while the interpreter shuts down would
    end the process by SIGINT (exit -2) instead of 130, so further ones are ignored."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
