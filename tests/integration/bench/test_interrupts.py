"""Ctrl-C at every moment of a `--workers 2` run against `unitcost emulate`, with real processes.

SIGINT goes to the `unitcost bench run` process alone, or to its whole process group (what a
terminal's Ctrl-C does), while the workers start, early in the load, late in the load, and twice.
Each time: every process ends within seconds, the exit status is 130, nothing is printed as a
traceback, the run is `interrupted` (never `failed` or left `running`), every finished request
is kept and sent = ok + failed + cancelled holds.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.integration.emulate.servers import Emulator, run_emulator
from unitcost.store import Store

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[3]
EXIT_S = 20.0  # "within a few seconds", with slack for this shared 2-core machine
BAD = ("Traceback", "KeyboardInterrupt", "BrokenPipeError", "Error:")


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    log = tmp_path_factory.mktemp("emu") / "emulator.log"
    with run_emulator("--model", "llama-3.2-3b", "--gpu", "h100", log=log) as e:
        yield e


def metric(root: str, name: str) -> float:
    """Sum of a metric's samples on the emulator's /metrics."""
    with urllib.request.urlopen(root + "/metrics", timeout=5) as r:
        text = r.read().decode()
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith(name + "{") or line.startswith(name + " ")
    )


def children(pid: int) -> set[int]:
    """Live child processes of `pid` (Linux /proc)."""
    out = set()
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            out.add(int(d.name))
    return out


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def wait_for(cond: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def start(db: Path, emu: Emulator, tmp: Path, workers: int) -> subprocess.Popen[bytes]:
    data = tmp / "prompts.jsonl"  # a dataset: no prompt needs sizing, so the load starts at once
    data.write_text("".join(json.dumps({"prompt": f"q{i} " * 40}) + "\n" for i in range(16)))
    cmd = [
        sys.executable, "-m", "unitcost", "--db", str(db), "bench", "run",
        "--endpoint", emu.root, "--model", emu.model, "--concurrency", "8",
        "--duration", "300", "--dataset", str(data), "--output-tokens", "256",
        "--ignore-eos", "--workers", str(workers), "--no-live", "--no-scrape",
    ]  # fmt: skip
    with (tmp / "out.txt").open("wb") as out, (tmp / "err.txt").open("wb") as err:
        return subprocess.Popen(
            cmd,
            cwd=ROOT,
            stdout=out,
            stderr=err,
            start_new_session=True,  # its own process group, as a shell job
            env={**os.environ, "COLUMNS": "200"},
        )


MOMENTS = ("worker-start", "early-load", "late-load", "twice")
CASES = [(m, to, 2) for m in MOMENTS for to in ("process", "group")] + [
    ("early-load", "group", 1),  # one process: the load runs in the CLI's own event loop
    ("twice", "process", 1),
]


@pytest.mark.parametrize(("moment", "to", "workers"), CASES)
def test_ctrl_c_at_any_moment(
    emu: Emulator, tmp_path: Path, moment: str, to: str, workers: int
) -> None:
    db = tmp_path / "u.duckdb"
    subprocess.run(
        [sys.executable, "-m", "unitcost", "--db", str(db), "db", "init"], check=True, cwd=ROOT,
        capture_output=True,
    )  # fmt: skip
    base_ok = metric(emu.root, "vllm:request_success_total")
    proc = start(db, emu, tmp_path, workers)
    pids: set[int] = set()

    def seen_workers() -> bool:  # the resource tracker, then the first worker, appear
        pids.update(children(proc.pid))
        return len(pids) >= 2 or proc.poll() is not None

    def send() -> None:
        pids.update(children(proc.pid))
        if to == "group":
            os.killpg(proc.pid, signal.SIGINT)
        else:
            os.kill(proc.pid, signal.SIGINT)

    if moment == "worker-start":
        wait_for(seen_workers, 60, "worker processes")
    else:
        wait_for(lambda: metric(emu.root, "vllm:num_requests_running") >= 4, 90, "the load")
        seen_workers()
        if moment == "late-load":
            wait_for(
                lambda: metric(emu.root, "vllm:request_success_total") - base_ok >= 24,
                90,
                "24 finished requests",
            )
    done_before = metric(emu.root, "vllm:request_success_total") - base_ok
    send()
    t0 = time.monotonic()
    if moment == "twice":
        time.sleep(0.3)
        send()
    try:
        rc = proc.wait(EXIT_S)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    took = time.monotonic() - t0
    err = (tmp_path / "err.txt").read_text()
    out = (tmp_path / "out.txt").read_text()
    assert rc == 130, err
    assert not [b for b in BAD if b in err], err
    assert took < EXIT_S
    wait_for(lambda: not any(alive(p) for p in pids), 5, "every worker process to end")
    # the server has no request of ours left running
    wait_for(lambda: metric(emu.root, "vllm:num_requests_running") == 0, 10, "server idle")
    run_id = out.strip().splitlines()[-1]
    with Store(db).read() as con:
        status, summary = con.execute(
            "SELECT status, summary FROM bench_runs WHERE run_id = ?", [run_id]
        ).fetchone()
        counts = dict(
            con.execute(
                "SELECT status, count(*) FROM bench_requests WHERE run_id = ? GROUP BY ALL",
                [run_id],
            ).fetchall()
        )
    s = json.loads(summary)
    assert status == "interrupted" and s["status"] == "interrupted"
    assert s["requests_total"] == s["requests_ok"] + s["requests_failed"] + s["requests_cancelled"]
    assert s["requests_failed"] == 0
    assert sum(counts.values()) == s["requests_total"]
    assert counts.get("cancelled", 0) <= 8  # at most the requests in flight
    # every request the server had finished before the signal was kept (the client may still
    # have been reading the last of up to 8 of them: those are kept as cancelled)
    assert counts.get("ok", 0) >= done_before - 8
    if moment == "worker-start":
        assert sum(counts.values()) == 0
    if moment == "late-load":
        assert counts.get("ok", 0) >= 16
