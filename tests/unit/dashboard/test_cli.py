"""`unitcost dashboard`: what it checks before starting Streamlit, as one-line errors."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from unitcost.dashboard.cli import streamlit_args


def test_missing_store_is_one_line(run_cli: Any, tmp_path: Path) -> None:
    r = run_cli("dashboard", "--db", "nowhere.duckdb")
    assert r.returncode == 1
    assert r.stderr.startswith("Error: ") and "run `unitcost db init` first" in r.stderr
    assert "Traceback" not in r.stderr and r.stderr.count("\n") == 1


def test_password_mode_needs_its_variable(run_cli: Any, tmp_path: Path) -> None:
    assert run_cli("db", "init").returncode == 0
    r = run_cli("dashboard", "--auth", "password", "--password-env", "TEAM_DASH_PW")
    assert r.returncode == 1
    assert "--auth password: the environment variable TEAM_DASH_PW is not set" in r.stderr


def test_oidc_mode_names_what_it_needs(run_cli: Any, tmp_path: Path) -> None:
    assert run_cli("db", "init").returncode == 0
    r = run_cli("dashboard", "--auth", "oidc", "--port", "1")
    if importlib.util.find_spec("authlib") is None:
        assert r.returncode == 1 and "pip install 'streamlit[auth]'" in r.stderr
    else:  # with Authlib installed it gets as far as Streamlit, which cannot bind port 1
        assert "access control: oidc" in r.stdout


def test_streamlit_command_line() -> None:
    args = streamlit_args(host="0.0.0.0", port=9000)
    assert args[1:4] == ["-m", "unitcost.dashboard.serve", "run"]
    assert Path(args[4]).name == "streamlit_app.py" and Path(args[4]).is_file()
    flags = dict(zip(args[5::2], args[6::2], strict=True))
    assert flags["--server.address"] == "0.0.0.0" and flags["--server.port"] == "9000"
    assert flags["--browser.gatherUsageStats"] == "false"
    assert flags["--server.headless"] == "true"
