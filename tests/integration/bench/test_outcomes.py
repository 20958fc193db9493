"""What a script can read from `unitcost bench`: exit status, one-line errors before any
request, what a user asks for (headers, extra body, whole responses, percentiles), and
figures that say what they are (emulated targets, the price and its share, capacity)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.bench.faultserver import MODEL
from tests.integration.bench.test_cli import ROOT, _serve, served, uc
from tests.integration.emulate.servers import Emulator, run_emulator
from unitcost.store import Store

pytestmark = pytest.mark.integration
RUN = ["bench", "run", "--model", MODEL, "--input-tokens", "8", "--output-tokens", "3"]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "u.duckdb"
    uc(path, "db", "init")
    return path


@pytest.fixture
def mixed() -> Iterator[str]:
    """1 in 4 requests is an HTTP 500."""
    yield from _serve("final_usage,finish_usage,no_usage,http500", 0.0)


@pytest.fixture
def failing() -> Iterator[str]:
    yield from _serve("http500", 0.0)


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    log = tmp_path_factory.mktemp("emu") / "emulator.log"
    args = ("--model", "llama-3.1-8b", "--gpu", "l4", "--quant", "int4", "--engine", "sglang")
    with run_emulator(*args, log=log) as e:
        yield e


def hits(url: str) -> int:
    """Every request the fault server answered (GET /v1/models and /tokenize included)."""
    with urllib.request.urlopen(url + "/metrics", timeout=5) as r:
        line = [x for x in r.read().decode().splitlines() if x.startswith("fake:http_requests")]
    return int(float(line[0].split()[-1]))


def piped(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """As a script runs it: output piped, no COLUMNS (rich would default to 80 columns)."""
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    cmd = [sys.executable, "-m", "unitcost", "--db", str(db), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=ROOT, env=env)


def show(db: Path, run_id: str) -> dict:  # type: ignore[type-arg]
    return json.loads(uc(db, "bench", "show", run_id, "--format", "json").stdout)  # type: ignore[no-any-return]


def test_exit_status_says_how_the_run_went(db: Path, mixed: str, failing: str) -> None:
    p = uc(db, *RUN, "--endpoint", mixed, "--requests", "8", "--no-live")  # 2 of 8 fail
    assert p.returncode == 0 and "2 of 8 measured requests failed (25.0%)" in p.stderr
    run_id = p.stdout.strip().splitlines()[-1]
    p = uc(
        db, *RUN, "--endpoint", mixed, "--requests", "8", "--no-live", "--max-error-rate", "0.2",
        check=False,
    )  # fmt: skip
    assert p.returncode == 1 and "above --max-error-rate 0.2" in p.stderr
    assert p.stdout.strip().splitlines()[-1].startswith("20")  # the run id is still printed
    assert uc(*[db], *RUN, "--endpoint", mixed, "--requests", "8", "--no-live",
              "--max-error-rate", "0.3").returncode == 0  # fmt: skip
    p = uc(db, *RUN, "--endpoint", failing, "--requests", "4", "--no-live", check=False)
    assert p.returncode == 1 and "every measured request failed" in p.stderr
    failed_run = p.stdout.strip().splitlines()[-1]
    assert show(db, failed_run)["status"] == "completed"  # the run itself is stored as it went
    assert show(db, run_id)["status"] == "completed"
    helptext = " ".join(uc(db, "bench", "run", "--help").stdout.split())
    assert "(default: 1 when there is no --rate)" in helptext


def test_errors_come_before_any_request_and_fit_one_line(tmp_path: Path, mixed: str) -> None:
    h0 = hits(mixed)  # the fixture's own readiness probe
    db = tmp_path / "none.duckdb"
    p = piped(db, *RUN, "--endpoint", mixed, "--requests", "2")
    assert p.returncode == 1 and "unitcost db init" in p.stderr  # no store: nothing sent
    uc(db, "db", "init")
    cases = [  # more cases, in-process: tests/unit/bench/test_spec.py
        (["--price-ref", "aws/us-east-1/p5.48xlrge"], "closest: aws/us-east-1/p5.48xlarge"),
        (["--extra-body", '{"stream": false}'], "--extra-body: 'stream' is set by the harness"),
    ]
    for extra, needle in cases:
        p = piped(db, *RUN, "--endpoint", mixed, "--requests", "2", *extra)
        assert p.returncode == 1 and needle in p.stderr, (extra, p.stderr)
        lines = p.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: "), p.stderr  # one line, piped
    # a multi-GPU instance and no GPU count: refused after GET /v1/models, before any completion
    p = piped(db, *RUN, "--endpoint", mixed, "--requests", "2", "--price-ref",
              "aws/us-east-1/p5.48xlarge")  # fmt: skip
    assert p.returncode == 1 and "the instance has 8 GPUs" in p.stderr
    assert served(mixed) == 0 and hits(mixed) == h0 + 1  # the one GET /v1/models
    for url, needle in (
        ("ftp://127.0.0.1:1", "unsupported URL scheme 'ftp'"),
        ("localhost:8080", "neither a URL (http://host:port) nor a configured endpoint name"),
    ):
        p = piped(db, *RUN, "--endpoint", url, "--requests", "2")
        assert p.returncode == 1 and needle in p.stderr
    assert served(mixed) == 0 and hits(mixed) == h0 + 1
    with Store(db).read() as con:
        assert con.execute("SELECT count(*) FROM bench_runs").fetchone() == (0,)


def test_what_users_ask_for(db: Path, tmp_path: Path) -> None:
    from tests.integration.bench.faultserver import FaultServer, running

    with running(FaultServer()) as srv:
        p = uc(
            db, *RUN, "--endpoint", srv.base_url, "--requests", "6", "--no-live",
            "--header", "X-Route: blue", "--extra-body", '{"temperature": 0, "top_k": 1}',
            "--percentiles", "50,99.9", "--name", "my-run",
        )  # fmt: skip
        assert srv.last_headers.get("X-Route") == "blue"
        assert srv.last_body["temperature"] == 0 and srv.last_body["top_k"] == 1
        assert srv.last_body["stream"] is True
        run_id = p.stdout.strip().splitlines()[-1]
        s = show(db, run_id)
        assert s["percentiles"] == [50, 90, 95, 99, 99.9] and s["ttft_ms"]["p99.9"] is not None
        assert s["workload"]["extra_body"] == {"temperature": 0, "top_k": 1}
        assert s["workload"]["header_names"] == ["X-Route"]  # names only, never values
        assert "blue" not in uc(db, "bench", "export", run_id).stdout
        assert "p99.9" in p.stdout  # the table reports the asked percentiles
        p = uc(db, *RUN, "--endpoint", srv.base_url, "--requests", "4", "--no-live",
               "--no-stream", "--slo", "e2el:5000", "--name", "whole")  # fmt: skip
        assert srv.last_body["stream"] is False and "stream_options" not in srv.last_body
        plain = show(db, p.stdout.strip().splitlines()[-1])
    assert plain["requests_ok"] == 4 and plain["output_tokens"] == 12  # from the JSON usage
    assert plain["ttft_ms"]["count"] == 0 and plain["e2e_ms"]["count"] == 4
    assert plain["goodput_fraction"] == 1.0 and plain["meets_slo"] is True
    assert plain["workload"]["stream"] is False
    again = json.loads(
        uc(db, "bench", "show", run_id, "--format", "json", "--percentiles", "75").stdout
    )
    assert again["ttft_ms"]["p75"] is not None and again["percentiles"] == [50, 75, 90, 95, 99]
    cmp = piped(db, "bench", "compare", run_id, plain["run_id"]).stdout
    assert "my-run" in cmp and "whole" in cmp and "concurrency 1" in cmp
    listing = piped(db, "bench", "list").stdout  # piped, no COLUMNS: ids are never cut
    assert run_id in listing and plain["run_id"] in listing


def test_a_run_against_emulate_is_stored_as_emulated(db: Path, emu: Emulator) -> None:
    p = uc(
        db, "bench", "run", "--endpoint", emu.root, "--model", emu.model, "--requests", "4",
        "--input-tokens", "32", "--output-tokens", "8", "--no-live",
        "--price-ref", "aws/us-east-1/g6.xlarge",
    )  # fmt: skip
    s = show(db, p.stdout.strip().splitlines()[-1])
    assert s["emulated"] is True
    assert (s["hardware"], s["gpu_count"], s["quantization"], s["engine"]) == (
        "L4", 1, "int4", "sglang"
    )  # fmt: skip
    assert s["parameter_count"] > 7e9
    assert s["warnings"][0].startswith("EMULATED: the target is `unitcost emulate` modelling 1x L4")
    assert "EMULATED" in p.stdout  # the table says so too
    assert s["price"]["share"] == 1.0 and s["usd_per_1m_output_tokens"] is not None
    # a label that contradicts what the server emulates is an error before any load
    p = uc(db, "bench", "run", "--endpoint", emu.root, "--model", emu.model, "--requests", "2",
           "--hardware", "H100", "--no-live", check=False)  # fmt: skip
    assert p.returncode == 1 and "--hardware H100: the server at" in p.stderr
    assert "emulates hardware L4" in p.stderr


def test_price_share_and_config_prices(db: Path, tmp_path: Path, mixed: str) -> None:
    cfg = tmp_path / "unitcost.toml"
    cfg.write_text(
        f'db = "{db}"\n[[prices]]\nprovider = "aws"\nregion = "us-east-1"\n'
        'instance_type = "p5.48xlarge"\ngpu_model = "H100"\ngpu_count = 8\n'
        'on_demand_usd_per_hour = 55.04\nsource = "our rate"\nas_of = "2026-10-01"\n'
    )
    # no `db init` after editing the config: [[prices]] apply on the next command
    rows = json.loads(uc(db, "--config", str(cfg), "prices", "list", "--gpu", "H100",
                         "--format", "json").stdout)  # fmt: skip
    p5 = [
        r for r in rows if r["instance_type"] == "p5.48xlarge" and r["price_model"] == "on_demand"
    ]
    assert p5[0]["origin"] == "config" and float(p5[0]["on_demand_usd_per_hour"]) == 55.04
    base = [*RUN, "--endpoint", mixed, "--requests", "8", "--no-live",
            "--price-ref", "aws/us-east-1/p5.48xlarge"]  # fmt: skip
    shared = show(db, uc(db, "--config", str(cfg), *base, "--gpu-count", "2").stdout.split()[-1])
    whole = show(db, uc(db, "--config", str(cfg), *base, "--whole-instance").stdout.split()[-1])
    assert shared["price"]["share"] == 0.25 and whole["price"]["share"] == 1.0
    assert shared["price"]["charged_usd_per_hour"] == pytest.approx(55.04 / 4)
    assert shared["price"]["share_basis"] == "2 of the instance's 8 GPUs"
    assert shared["usd_per_1m_output_tokens"] == pytest.approx(
        55.04 / 4 / 3600 / shared["output_tokens_per_s"] * 1e6
    )
    # the shipped row (pre-cut list price) carries its caveat beside the cost
    p = uc(db, *base, "--gpu-count", "1")
    s = show(db, p.stdout.split()[-1])
    assert any("June 2025" in w for w in s["warnings"]) and "price caveat" in p.stdout


def test_a_killed_run_is_shown_and_closed(db: Path) -> None:
    from tests.integration.bench.faultserver import FaultServer, running

    with running(FaultServer(chunk_delay_s=0.05)) as srv:
        cmd = [sys.executable, "-m", "unitcost", "--db", str(db), *RUN, "--endpoint",
               srv.base_url, "--concurrency", "2", "--duration", "120", "--no-live"]  # fmt: skip
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while sum(srv.served.values()) < 20 and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.5)  # a flush or two of finished records
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    listing = uc(db, "bench", "list").stdout
    assert "running (" in listing and "process gone" in listing
    p = uc(db, "bench", "mark-interrupted")
    run_id = p.stdout.split(":")[0].strip()
    s = show(db, run_id)
    assert s["status"] == "interrupted" and s["requests_ok"] >= 10
    assert any("mark-interrupted" in w for w in s["warnings"])
    assert s["ended_at"] > s["started_at"]
    assert "no run to close" in uc(db, "bench", "mark-interrupted").stdout
    p = uc(db, "bench", "mark-interrupted", run_id, check=False)
    assert p.returncode == 1 and "not running" in p.stderr
