"""The built wheel installs into a fresh virtual environment and works from anywhere; the
top-level folders exist only under the `unitcost` namespace."""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]


def _run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=600)


@pytest.mark.integration
def test_wheel_in_fresh_venv(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    built = _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(REPO)],
        tmp_path,
    )
    assert built.returncode == 0, built.stderr
    wheel = next(dist.glob("unitcost-*.whl"))
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    py = env_dir / "bin" / "python"
    inst = _run([str(py), "-m", "pip", "install", "-q", str(wheel)], tmp_path)
    assert inst.returncode == 0, inst.stderr
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for bare in ("analytics", "bench", "collectors", "dashboard", "demo", "emulate", "sql"):
        r = _run([str(py), "-c", f"import {bare}"], elsewhere)
        assert r.returncode != 0 and "ModuleNotFoundError" in r.stderr, bare
    ok = _run(
        [
            str(py),
            "-c",
            "import unitcost.analytics, unitcost.bench, unitcost.collectors, unitcost.dashboard\n"
            "import unitcost.emulate\n"
            "from unitcost import sqlfiles\n"
            "print(len(sqlfiles.names('migrations')))",
        ],
        elsewhere,
    )
    assert ok.returncode == 0, ok.stderr
    assert int(ok.stdout) >= 1
    init = _run([str(env_dir / "bin" / "unitcost"), "--db", "w.duckdb", "db", "init"], elsewhere)
    assert init.returncode == 0, init.stderr
    listed = _run(
        [
            str(env_dir / "bin" / "unitcost"),
            "--db",
            "w.duckdb",
            "prices",
            "list",
            "--format",
            "csv",
        ],
        elsewhere,
    )
    assert listed.returncode == 0 and "p5.48xlarge" in listed.stdout
    # package data of the subpackages travels too: the emulator's catalogs, the bench suite
    catalog = _run([str(env_dir / "bin" / "unitcost"), "emulate", "catalog"], elsewhere)
    assert catalog.returncode == 0 and "llama-3" in catalog.stdout, catalog.stderr
    suite = _run(
        [
            str(py),
            "-c",
            "from importlib.resources import files; "
            "print(files('unitcost.bench').joinpath('suite_files/standard.toml').is_file())",
        ],
        elsewhere,
    )
    assert suite.stdout.strip() == "True", suite.stderr
    # the dashboard's router, its pages and the review's template
    dash = _run(
        [
            str(py),
            "-c",
            "from importlib.resources import files; d = files('unitcost.dashboard'); "
            "print(all(d.joinpath(p).is_file() for p in ('streamlit_app.py', "
            "'app_pages/overview.py', 'app_pages/sources.py', 'review/templates/review.html.j2')))",
        ],
        elsewhere,
    )
    assert dash.stdout.strip() == "True", dash.stderr
