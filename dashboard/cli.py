"""`unitcost dashboard`: serve the Streamlit app on the configured store.

The command checks what it can before starting Streamlit (the store exists and is current, the
access-control settings are complete), so a mistake is one line here and not a broken page in a
browser. The app reads the same settings as every other command: the store and config file are
handed to the Streamlit process through UNITCOST_DB and UNITCOST_CONFIG.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import click
from unitcost.dashboard import auth

from unitcost.errors import ConfigError

APP = Path(__file__).resolve().parent / "streamlit_app.py"


def streamlit_args(*, host: str, port: int) -> list[str]:
    """The `streamlit run` command line (through dashboard.serve, which imports the app's
    heavy modules first): headless, no telemetry, no file watcher."""
    return [
        sys.executable,
        "-m",
        "unitcost.dashboard.serve",
        "run",
        str(APP),
        "--server.headless",
        "true",
        "--server.address",
        host,
        "--server.port",
        str(port),
        "--server.fileWatcherType",
        "none",
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "minimal",
    ]


def _check_auth(mode: str, password_env: str) -> dict[str, str]:
    """Environment for the app's access gate; errors name the flag and what is missing."""
    env = {auth.MODE_ENV: mode, auth.PASSWORD_ENV_NAME: password_env}
    if mode == "password" and not os.environ.get(password_env):
        raise ConfigError(
            f"--auth password: the environment variable {password_env} is not set "
            "(it holds the dashboard password; choose another with --password-env)"
        )
    if mode == "oidc" and importlib.util.find_spec("authlib") is None:
        raise ConfigError(
            "--auth oidc: Streamlit's login needs Authlib: pip install 'streamlit[auth]' "
            "(and an [auth] section in .streamlit/secrets.toml, see docs/dashboard.md)"
        )
    return env


@click.command("dashboard")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8501, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="DuckDB file to read (default: the global --db / UNITCOST_DB / config).",
)
@click.option(
    "--auth",
    "auth_mode",
    type=click.Choice(["auto", "none", "password", "oidc"]),
    default="auto",
    show_default=True,
    help="Access control: a password from an environment variable, or Streamlit's OIDC "
    "login; auto = password when that variable is set, else none.",
)
@click.option(
    "--password-env",
    default=auth.DEFAULT_PASSWORD_ENV,
    show_default=True,
    help="Name of the environment variable holding the dashboard password.",
)
@click.pass_context
def dashboard(
    ctx: click.Context,
    host: str,
    port: int,
    db_path: Path | None,
    auth_mode: str,
    password_env: str,
) -> None:
    """Serve the dashboard (Streamlit) on the store; read-only, collectors keep writing."""
    from unitcost.store import Store

    loaded = ctx.obj.loaded
    settings = loaded.settings
    db = (db_path or settings.db).resolve()
    Store(db, lock_timeout_s=settings.lock_timeout_s).require_current()
    if auth_mode == "auto":
        auth_mode = "password" if os.environ.get(password_env) else "none"
    env = {**os.environ, **_check_auth(auth_mode, password_env), "UNITCOST_DB": str(db)}
    if auth_mode != "password":
        env.pop(password_env, None)  # the app requires a password whenever one is set
    if loaded.config_file is not None:
        env["UNITCOST_CONFIG"] = str(Path(loaded.config_file).resolve())
    where = f"http://{'localhost' if host in ('127.0.0.1', '0.0.0.0') else host}:{port}"
    click.echo(f"unitcost dashboard on {db}: {where} (access control: {auth_mode}; Ctrl-C stops)")
    if auth_mode == "none" and host not in ("127.0.0.1", "localhost", "::1"):
        click.echo(
            f"warning: listening on {host} without access control; anyone who can reach it "
            "sees every figure (see --auth)",
            err=True,
        )
    sys.stdout.flush()
    # Streamlit replaces this process: Ctrl-C, SIGTERM and the PID a service manager
    # records all reach the server itself, and no child is left behind.
    args = streamlit_args(host=host, port=port)
    os.execve(args[0], args, env)
