"""The CLI as a user runs it: a real process, a real DuckDB file, real exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from unitcost.prices import CATALOG_COLUMNS
from unitcost.store import available_migrations


def test_init_list_and_status(run_cli: Any, tmp_path: Path) -> None:
    r = run_cli("db", "init")
    assert r.returncode == 0, r.stderr
    assert "applied migration 0001_data_model" in r.stdout
    assert (tmp_path / "unitcost.duckdb").is_file()
    again = run_cli("db", "migrate")
    assert again.returncode == 0 and "schema already current" in again.stdout
    listed = run_cli("prices", "list", "--gpu", "H200", "--format", "json")
    rows = json.loads(listed.stdout)
    assert {r["instance_type"] for r in rows} == {"p5en.48xlarge", "p5e.48xlarge"}
    table = run_cli("prices", "list")
    assert "p5.48xlarge" in table.stdout and "June 2025" in table.stdout
    status = run_cli("db", "status")
    latest = available_migrations()[-1].version
    assert f"schema version: {latest} " in status.stdout and "price_catalog" in status.stdout


def test_db_flag_and_env(run_cli: Any, tmp_path: Path) -> None:
    assert run_cli("--db", "x/flag.duckdb", "db", "init").returncode == 0
    assert (tmp_path / "x" / "flag.duckdb").is_file()
    assert run_cli("db", "init", env={"UNITCOST_DB": str(tmp_path / "env.duckdb")}).returncode == 0
    assert (tmp_path / "env.duckdb").is_file()


def test_errors_are_one_line_and_nonzero(run_cli: Any, tmp_path: Path) -> None:
    r = run_cli("prices", "list")
    assert r.returncode == 1
    assert r.stderr.startswith("Error: ") and "unitcost db init" in r.stderr
    assert "Traceback" not in r.stderr
    dbg = run_cli("--debug", "prices", "list")
    assert dbg.returncode == 1 and "Traceback" in dbg.stderr


def test_bad_import_exits_nonzero_and_keeps_catalog(run_cli: Any, tmp_path: Path) -> None:
    assert run_cli("db", "init").returncode == 0
    bad = tmp_path / "bad.csv"
    bad.write_text(
        ",".join(CATALOG_COLUMNS) + "\naws,us-east-1,x,on_demand,H100,8,80,abc,,,s,2025,true,\n"
    )
    r = run_cli("prices", "import", str(bad))
    assert r.returncode == 1
    assert f"{bad}, row 2, column 'on_demand_usd_per_hour'" in r.stderr
    rows = json.loads(run_cli("prices", "list", "--format", "json").stdout)
    assert len(rows) == 19 and all(r["origin"] == "shipped" for r in rows)


def test_bad_config_names_file_and_key(run_cli: Any, tmp_path: Path) -> None:
    (tmp_path / "unitcost.toml").write_text("lock_timeout_s = -1\n")
    r = run_cli("db", "status")
    assert r.returncode == 1
    assert "unitcost.toml: lock_timeout_s:" in r.stderr


def test_config_show_redacts_and_names_origins(run_cli: Any, tmp_path: Path) -> None:
    (tmp_path / "unitcost.toml").write_text(
        '[[prometheus]]\nname = "p"\nurl = "http://admin:s3cret@prom:9090"\n'
        'bearer_token_env = "PROM_TOKEN"\n'
    )
    r = run_cli(
        "config",
        "show",
        "--format",
        "json",
        env={"PROM_TOKEN": "tok-xyz", "UNITCOST_AWS__REGION": "eu-west-1"},
    )
    assert r.returncode == 0, r.stderr
    assert "s3cret" not in r.stdout and "tok-xyz" not in r.stdout
    out = json.loads(r.stdout)
    assert out["settings"]["prometheus"][0]["bearer_token_env"] == "PROM_TOKEN"
    assert out["settings"]["aws"]["region"] == "eu-west-1"
    assert out["origins"]["aws.region"] == "environment variable UNITCOST_AWS__REGION"


def test_lazy_groups_help_matches_their_own_and_help_imports_none() -> None:
    """`unitcost --help` lists bench/collect/emulate from stored one-line help, without
    importing them; the stored text must stay what each group says of itself."""
    import importlib
    import subprocess
    import sys

    from unitcost.cli import LAZY_COMMANDS

    for name, (module, attr, short) in LAZY_COMMANDS.items():
        command = getattr(importlib.import_module(module), attr)
        assert command.get_short_help_str(limit=500) == short, name
    code = (
        "import sys\nfrom click.testing import CliRunner\nfrom unitcost.cli import cli\n"
        "out = CliRunner().invoke(cli, ['--help']).output\n"
        "loaded = [m for m in ('unitcost.bench.cli', 'unitcost.collectors.cli', "
        "'unitcost.emulate.cli') if m in sys.modules]\n"
        "print(loaded)\nprint(out)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.startswith("[]\n")
    for name in LAZY_COMMANDS:
        assert f"\n  {name} " in out
