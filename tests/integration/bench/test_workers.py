"""`--workers N`: several client processes, one writer; accounting and Ctrl-C hold across them."""

from __future__ import annotations

import itertools
import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from unitcost.bench import runner
from unitcost.bench.profiles import LoadProfile

from tests.integration.bench.faultserver import MODEL, MODES, FaultServer, running
from tests.integration.bench.test_cli import ROOT, _serve, served, uc
from tests.integration.bench.test_faults import EXPECTED, _spec
from unitcost.errors import InputError
from unitcost.store import Store

pytestmark = pytest.mark.integration


def test_two_workers_account_for_every_fault(store: Store) -> None:
    with running(FaultServer(modes=MODES, stall_s=5)) as srv:
        spec = _spec(srv.base_url, 27, workers=2)
        run_id, s = runner.run(store, spec)
    assert sum(srv.served.values()) == 27 and set(srv.served.values()) == {3}
    rows = runner.fetch_requests(store, run_id)
    assert sorted(r["request_id"] for r in rows) == list(range(27))  # global ids, no overlap
    assert s["requests_total"] == 27
    assert s["requests_total"] == s["requests_ok"] + s["requests_failed"] + s["requests_cancelled"]
    assert (s["requests_ok"], s["requests_failed"], s["requests_cancelled"]) == (9, 18, 0)
    sig = [(r["status"], r["error_class"], r["token_source"]) for r in rows]
    for status, err, src in EXPECTED.values():
        if err is None and status == "error":  # reset: aiohttp's class name varies
            continue
        same = sum(1 for v in EXPECTED.values() if v == (status, err, src))
        assert sig.count((status, err, src)) == 3 * same
    with store.read() as con:
        status, notes = con.execute(
            "SELECT status, notes FROM bench_runs WHERE run_id = ?", [run_id]
        ).fetchone()
    assert status == "completed" and "2 worker process(es)" in notes


def test_open_loop_split_is_reproducible(store: Store) -> None:
    """Two runs with the same seed schedule the same arrivals (per request id) across workers."""
    offsets = []
    with running(FaultServer(modes=("final_usage",))) as srv:
        for _ in range(2):
            spec = _spec(srv.base_url, 40, workers=2)
            spec.profile = LoadProfile(kind="rate", rate=200.0, concurrency=None, seed=7)
            run_id, s = runner.run(store, spec)
            assert s["requests_total"] == s["requests_ok"] == 40
            rows = runner.fetch_requests(store, run_id)
            start = min(r["scheduled_ns"] for r in rows)
            offsets.append({r["request_id"]: r["scheduled_ns"] - start for r in rows})
    assert offsets[0].keys() == set(range(40))
    # Same plan both times, to within the clock's resolution (integer ns from float seconds).
    assert all(abs(offsets[0][i] - offsets[1][i]) <= 1000 for i in range(40))


def test_workers_flag_errors_before_load(tmp_path: Path) -> None:
    db = tmp_path / "u.duckdb"
    uc(db, "db", "init")
    p = uc(
        db,
        "bench",
        "run",
        "--endpoint",
        "http://127.0.0.1:9",
        "--model",
        "m",
        "--concurrency",
        "1",
        "--workers",
        "2",
        "--requests",
        "3",
        check=False,
    )
    assert p.returncode != 0 and "--workers 2 needs --concurrency >= 2" in p.stderr
    spec = _spec("http://127.0.0.1:9", 3, workers=0)
    with pytest.raises(InputError, match="--workers must be >= 1"):
        runner.run(Store(db), spec)


@pytest.fixture
def slow_server() -> Iterator[str]:
    yield from _serve("final_usage", 0.05)


def test_sigint_with_workers_keeps_finished(tmp_path: Path, slow_server: str) -> None:
    db = tmp_path / "u.duckdb"
    uc(db, "db", "init")
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
        "--workers",
        "2",
        "--requests",
        "100000",
        "--output-tokens",
        "20",
        "--input-tokens",
        "8",
    ]
    proc = subprocess.Popen(
        cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 90
    while served(slow_server) < 16 and time.monotonic() < deadline:
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)  # to the parent only: it must forward it to the workers
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err  # interrupted
    run_id = out.strip().splitlines()[-1]
    with Store(db).read() as con:
        status = con.execute("SELECT status FROM bench_runs WHERE run_id = ?", [run_id]).fetchone()
        counts = dict(
            con.execute(
                "SELECT status, count(*) FROM bench_requests WHERE run_id = ? GROUP BY ALL",
                [run_id],
            ).fetchall()
        )
    assert status == ("interrupted",)
    assert counts.get("ok", 0) >= 8
    assert 1 <= counts.get("cancelled", 0) <= 4  # the ones in flight, across both workers
    assert sum(counts.values()) == served(slow_server)  # every request the server saw is stored
    s = json.loads(uc(db, "bench", "show", run_id, "--format", "json").stdout)
    assert s["requests_total"] == s["requests_ok"] + s["requests_failed"] + s["requests_cancelled"]
    assert "sent" in err  # the live view ran (stderr) and counted across workers


def test_two_workers_offer_the_asked_arrival_process(store: Store) -> None:
    """Constant 200 req/s with 2 workers: one request every 5 ms across both processes (the
    workers used to send pairs at once every 10 ms), request i due at i x 5 ms."""
    with running(FaultServer(modes=("final_usage",))) as srv:
        spec = _spec(srv.base_url, 40, workers=2)
        spec.profile = LoadProfile(kind="rate", rate=200.0, arrival="constant", concurrency=None)
        run_id, s = runner.run(store, spec)
    assert s["requests_ok"] == 40 and s["offered_rate"] == 200.0
    rows = runner.fetch_requests(store, run_id)
    start = min(r["scheduled_ns"] for r in rows)
    assert all(abs(r["scheduled_ns"] - start - r["request_id"] * 5_000_000) <= 1_000 for r in rows)
    sched = sorted(r["scheduled_ns"] for r in rows)
    gaps = [b - a for a, b in itertools.pairwise(sched)]
    assert min(gaps) > 4_990_000 and max(gaps) < 5_010_000
