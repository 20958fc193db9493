"""`unitcost bench ...` as a user runs it: subprocesses against a fault server process."""

from __future__ import annotations

import csv
import io
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

from tests.integration.bench.faultserver import MODEL, free_port
from unitcost.store import Store

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def server() -> Iterator[str]:
    yield from _serve("final_usage,finish_usage,no_usage,http500", 0.0)


@pytest.fixture
def mixed_slow_server() -> Iterator[str]:
    yield from _serve("final_usage,finish_usage,no_usage,http500", 0.1)


@pytest.fixture
def slow_server() -> Iterator[str]:
    yield from _serve("final_usage", 0.05)


def _serve(modes: str, delay: float) -> Iterator[str]:
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "tests.integration.bench.serve_fault",
        str(port),
        modes,
        str(delay),
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(url + "/v1/models", timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("fault server did not start") from None
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def served(url: str) -> int:
    with urllib.request.urlopen(url + "/metrics", timeout=5) as r:
        line = [x for x in r.read().decode().splitlines() if x.startswith("fake:requests_total")]
    return int(float(line[0].split()[-1]))


def uc(db: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-c", "from unitcost.cli import main; main()", "--db", str(db), *args]
    env = {**os.environ, "COLUMNS": "250"}  # rich tables: no wrapping of run ids
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=ROOT, env=env)
    if check:
        assert p.returncode == 0, p.stderr
    return p


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "u.duckdb"
    uc(path, "db", "init")
    return path


def test_run_show_list_compare_export(db: Path, server: str) -> None:
    args = [
        "bench",
        "run",
        "--endpoint",
        server,
        "--model",
        MODEL,
        "--concurrency",
        "4",
        "--requests",
        "40",
        "--input-tokens",
        "12",
        "--output-tokens",
        "5",
        "--no-live",
        "--slo",
        "ttft:5000",
        "--label",
        "team=infra",
        "--price-ref",
        "aws/us-east-1/g5.xlarge",
    ]
    p = uc(db, *args)
    run_id = p.stdout.strip().splitlines()[-1]
    assert run_id.startswith("20") and " " not in run_id
    assert served(server) == 40
    s = json.loads(uc(db, "bench", "show", run_id, "--format", "json").stdout)
    assert s["schema"] == "unitcost.bench.summary" and s["schema_version"] == 1
    assert (s["requests_total"], s["requests_ok"], s["requests_failed"]) == (40, 30, 10)
    for key in ("ttft_ms", "tpot_ms", "itl_ms", "e2e_ms"):
        assert set(s[key]) >= {"mean", "p50", "p90", "p95", "p99"}
    assert s["errors"] == {"HTTP500": 10}
    assert s["token_sources"] == {"usage": 20, "tokenize_endpoint": 10}
    assert s["output_tokens"] == 150  # 30 ok x 5 tokens, from usage and /tokenize alike
    assert s["labels"] == {"team": "infra"}
    assert s["goodput"] is not None and s["goodput_fraction"] == 0.75
    assert s["usd_per_1m_output_tokens"] is not None and s["price"]["price_ref"].endswith(
        "g5.xlarge"
    )
    assert s["usd_per_1m_output_tokens"] == pytest.approx(
        s["price"]["on_demand_usd_per_hour"] / 3600 / s["output_tokens_per_s"] * 1e6
    )
    # the server's own counter, scraped before and after, agrees with the client's count
    with Store(db).read() as con:
        samples = con.execute(
            "SELECT value FROM metric_samples WHERE run_id = ? AND metric = 'fake:requests_total'"
            " ORDER BY ts",
            [run_id],
        ).fetchall()
    assert len(samples) >= 2 and samples[-1][0] - samples[0][0] == 40
    assert s["server_metrics"]["scrapes"] >= 2
    table = uc(db, "bench", "show", run_id[:12]).stdout
    assert "ttft" in table and run_id in table
    p2 = uc(db, *args[:-2])  # no price: cost is null
    run2 = p2.stdout.strip().splitlines()[-1]
    assert (
        json.loads(uc(db, "bench", "show", run2, "--format", "json").stdout)[
            "usd_per_1m_output_tokens"
        ]
        is None
    )
    listing = uc(db, "bench", "list").stdout
    assert run_id in listing and run2 in listing
    cmp = uc(db, "bench", "compare", run_id, run2).stdout
    assert run_id in cmp and run2 in cmp
    rows = list(
        csv.DictReader(io.StringIO(uc(db, "bench", "export", run_id, "--format", "csv").stdout))
    )
    assert len(rows) == 40 and {r["status"] for r in rows} == {"ok", "error"}
    exp = json.loads(uc(db, "bench", "export", run_id, "--format", "json").stdout)
    assert len(exp["requests"]) == 40 and exp["summary"]["run_id"] == run_id
    assert "Bearer" not in json.dumps(exp)


def test_sigint_mid_run_keeps_finished(db: Path, slow_server: str) -> None:
    cmd = [
        sys.executable,
        "-c",
        "from unitcost.cli import main; main()",
        "--db",
        str(db),
        "bench",
        "run",
        "--endpoint",
        slow_server,
        "--model",
        MODEL,
        "--concurrency",
        "4",
        "--requests",
        "100000",
        "--output-tokens",
        "20",
        "--input-tokens",
        "8",
        "--no-live",
    ]
    proc = subprocess.Popen(
        cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 60
    while served(slow_server) < 12 and time.monotonic() < deadline:
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err  # interrupted
    run_id = out.strip().splitlines()[-1]
    store = Store(db)
    with store.read() as con:
        status = con.execute("SELECT status FROM bench_runs WHERE run_id = ?", [run_id]).fetchone()
        counts = dict(
            con.execute(
                "SELECT status, count(*) FROM bench_requests WHERE run_id = ? GROUP BY ALL",
                [run_id],
            ).fetchall()
        )
    assert status == ("interrupted",)
    assert counts.get("ok", 0) >= 8
    assert 1 <= counts.get("cancelled", 0) <= 4  # the ones in flight
    assert sum(counts.values()) == served(slow_server)  # every request the server saw is stored
    s = json.loads(uc(db, "bench", "show", run_id, "--format", "json").stdout)
    assert s["status"] == "interrupted"
    assert s["requests_total"] == s["requests_ok"] + s["requests_failed"] + s["requests_cancelled"]


def test_clear_errors_before_load(db: Path, server: str) -> None:
    p = uc(
        db,
        "bench",
        "run",
        "--endpoint",
        server,
        "--model",
        "wrong-model",
        "--requests",
        "5",
        "--no-live",
        check=False,
    )
    assert p.returncode == 1 and "does not exist" in p.stderr and "wrong-model" in p.stderr
    assert served(server) == 0
    port = free_port()
    p = uc(
        db,
        "bench",
        "run",
        "--endpoint",
        f"http://127.0.0.1:{port}",
        "--model",
        MODEL,
        "--requests",
        "5",
        "--no-live",
        check=False,
    )
    assert p.returncode == 1 and "cannot reach endpoint" in p.stderr
    p = uc(
        db,
        "bench",
        "run",
        "--endpoint",
        server,
        "--model",
        MODEL,
        "--requests",
        "5",
        "--slo",
        "ttft=5",
        check=False,
    )
    assert p.returncode == 1 and "--slo" in p.stderr
    p = uc(
        db,
        "bench",
        "run",
        "--endpoint",
        server,
        "--model",
        MODEL,
        "--rate",
        "-1",
        "--requests",
        "5",
        check=False,
    )
    assert p.returncode == 1 and "--rate" in p.stderr
    with Store(db).read() as con:
        assert con.execute("SELECT count(*) FROM bench_runs").fetchone() == (0,)
    env_p = subprocess.run(
        [
            sys.executable,
            "-c",
            "from unitcost.cli import main; main()",
            "--db",
            str(db),
            "bench",
            "run",
            "--endpoint",
            server,
            "--model",
            MODEL,
            "--requests",
            "2",
            "--no-live",
            "--api-key-env",
            "UC_TEST_KEY",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if k != "UC_TEST_KEY"},
    )
    assert env_p.returncode == 1 and "UC_TEST_KEY" in env_p.stderr


def test_suite_across_targets(db: Path, server: str, tmp_path: Path) -> None:
    suite = tmp_path / "suite.toml"
    suite.write_text(f"""
[suite]
name = "mini"
slo_attainment = 0.7

[[scenarios]]
name = "chat"
input_tokens = "8"
output_tokens = "4"
slo = "ttft:5000"
concurrency = [1, 2]
requests = 8

[[targets]]
name = "a10g"
endpoint = "{server}"
model = "{MODEL}"
hardware = "A10G"
price_ref = "aws/us-east-1/g5.xlarge"
""")
    p = uc(db, "bench", "run", "--suite", str(suite), "--no-live")
    ids = p.stdout.strip().splitlines()[-1].split()
    assert len(ids) == 2
    assert "SLO capacity" in p.stdout and "a10g" in p.stdout
    sums = [json.loads(uc(db, "bench", "show", i, "--format", "json").stdout) for i in ids]
    assert sums[0]["group_id"] == sums[1]["group_id"] and sums[0]["group_id"].startswith("suite-")
    assert [s["suite"]["level"] for s in sums] == [1, 2]
    assert all(s["labels"]["scenario"] == "chat" and s["hardware"] == "A10G" for s in sums)
    # the server cycles 4 modes, one of them HTTP 500: 6 of 8 good = 0.75 >= 0.7
    assert all(s["goodput_fraction"] == 0.75 and s["meets_slo"] for s in sums)
    assert all(s["usd_per_1m_output_tokens"] is not None for s in sums)
    bad = tmp_path / "bad.toml"
    bad.write_text(suite.read_text().replace('slo = "ttft:5000"', 'slo = "ttft=5"'))
    p = uc(db, "bench", "run", "--suite", str(bad), check=False)
    assert p.returncode == 1 and "scenarios[0].slo" in p.stderr


def test_sweep_and_capacity(db: Path, mixed_slow_server: str) -> None:
    # Streams of ~0.5 s: 4 in flight beat 1 by far even on a busy 2-core machine, so the sweep's
    # throughput step always exceeds its synchronous step (with instant streams it may not).
    server = mixed_slow_server
    common = [
        "bench",
        "run",
        "--endpoint",
        server,
        "--model",
        MODEL,
        "--requests",
        "12",
        "--input-tokens",
        "8",
        "--output-tokens",
        "4",
        "--no-live",
        "--concurrency",
        "4",
    ]
    p = uc(db, *common, "--sweep", "2")
    ids = p.stdout.strip().splitlines()[-1].split()
    assert len(ids) == 4, p.stdout + p.stderr
    sums = [json.loads(uc(db, "bench", "show", i, "--format", "json").stdout) for i in ids]
    steps = [s["labels"]["sweep"] for s in sums]
    assert steps[:2] == ["synchronous", "throughput"] and steps[2].startswith("rate-")
    assert (
        sums[0]["load_profile"]["concurrency"] == 1 and sums[1]["load_profile"]["concurrency"] == 4
    )
    lo, hi = sums[0]["request_rate"], sums[1]["request_rate"]
    r1, r2 = (s["load_profile"]["rate"] for s in sums[2:])
    assert lo < r1 < r2 < hi and r1 - lo == pytest.approx((hi - lo) / 3)
    assert len({s["group_id"] for s in sums}) == 1
    # 1 in 4 requests is an HTTP 500: attainment 0.9 is never met, 0.7 always is
    p = uc(db, *common, "--capacity", "--slo", "ttft:5000", "--slo-attainment", "0.9")
    assert "none met" in p.stdout
    p = uc(db, *common, "--capacity", "--slo", "ttft:5000", "--slo-attainment", "0.7")
    ids = p.stdout.strip().splitlines()[-1].split()
    top = json.loads(uc(db, "bench", "show", ids[1], "--format", "json").stdout)
    assert len(ids) == 2 and f"concurrency 4 ({top['request_rate']:.3f} req/s measured)" in p.stdout
    # the decision is stored and shown with the run at capacity
    cap = top["capacity"]
    assert len(cap) == 1 and cap[0]["capacity_run_id"] == ids[1] and cap[0]["met"]
    assert cap[0]["capacity_offered_rate"] is None and cap[0]["capacity_concurrency"] == 4
    assert cap[0]["run_ids"] == ids and cap[0]["slo"] == {"ttft": 5000.0}
    assert "capacity" in uc(db, "bench", "list").stdout
    p = uc(db, *common, "--capacity", check=False)
    assert p.returncode == 1 and "--capacity needs --slo" in p.stderr


def test_trace_and_dataset_via_cli(db: Path, server: str, tmp_path: Path) -> None:
    trace = tmp_path / "trace.jsonl"
    trace.write_text(
        "\n".join(
            json.dumps({"timestamp": t, "input_length": 30, "output_length": 3, "hash_ids": [1]})
            for t in (0, 100, 200, 300)
        )
    )
    base = ["bench", "run", "--endpoint", server, "--model", MODEL, "--no-live"]
    run_id = uc(db, *base, "--trace", str(trace)).stdout.strip().splitlines()[-1]
    s = json.loads(uc(db, "bench", "show", run_id, "--format", "json").stdout)
    assert s["load_profile"]["kind"] == "trace" and s["requests_total"] == 4
    assert s["workload"]["kind"] == "mooncake_trace"
    p = uc(db, *base, "--trace", str(trace), "--rate", "5", check=False)
    assert p.returncode == 1 and "--trace" in p.stderr
    data = tmp_path / "d.jsonl"
    data.write_text("\n".join(json.dumps({"prompt": f"q{i}", "max_tokens": 2}) for i in range(3)))
    run_id = (
        uc(db, *base, "--dataset", str(data), "--requests", "6").stdout.strip().splitlines()[-1]
    )
    s = json.loads(uc(db, "bench", "show", run_id, "--format", "json").stdout)
    assert s["requests_total"] == 6 and s["workload"]["kind"] == "jsonl"
    assert s["load_profile"]["concurrency"] == 1
