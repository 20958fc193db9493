"""Every request against a misbehaving server is accounted for, with the right status."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from unitcost.bench import report, runner
from unitcost.bench.client import ClientConfig
from unitcost.bench.preflight import preflight
from unitcost.bench.profiles import LoadProfile
from unitcost.bench.spec import RunSpec
from unitcost.bench.tokens import TokenizeEndpoint
from unitcost.bench.workloads import WorkItem

from tests.integration.bench.faultserver import MODEL, MODES, FaultServer, running
from unitcost.store import Store

pytestmark = pytest.mark.integration

EXPECTED = {
    "final_usage": ("ok", None, "usage"),
    "finish_usage": ("ok", None, "usage"),
    "no_usage": ("ok", None, "tokenize_endpoint"),
    "http500": ("error", "HTTP500", None),
    "reset": ("error", None, None),
    "malformed": ("error", "MalformedStream", None),
    "stall_first": ("timeout", "FirstTokenTimeout", None),
    "stall_mid": ("timeout", "TotalTimeout", None),
    "truncated": ("error", "IncompleteStream", None),
}


def _spec(base_url: str, n: int, **kw: object) -> RunSpec:
    cfg = ClientConfig(
        base_url=base_url, model=MODEL, first_token_timeout_s=0.8, total_timeout_s=1.5
    )
    items = [WorkItem("one two three", 6, 3)]
    return RunSpec(
        client=cfg,
        profile=LoadProfile(kind="concurrency", concurrency=9),
        items=items,
        max_requests=n,
        counter=TokenizeEndpoint(cfg.root, MODEL),
        slo={"ttft": 500.0},
        flush_s=0.1,
        **kw,  # type: ignore[arg-type]
    )


def test_every_fault_accounted(store: Store) -> None:
    with running(FaultServer(modes=MODES, stall_s=5)) as srv:
        probe = preflight(ClientConfig(base_url=srv.base_url, model=MODEL))
        run_id, s = runner.run(store, _spec(srv.base_url, 27))
    assert probe.has_usage and probe.has_done
    assert sum(srv.served.values()) == 27 and set(srv.served.values()) == {3}
    rows = runner.fetch_requests(store, run_id)
    assert len(rows) == 27
    assert s["requests_total"] == 27
    assert s["requests_total"] == s["requests_ok"] + s["requests_failed"] + s["requests_cancelled"]
    assert (s["requests_ok"], s["requests_failed"], s["requests_cancelled"]) == (9, 18, 0)
    by_status = {r["status"] for r in rows}
    assert by_status == {"ok", "error", "timeout"}
    # each mode leaves its own signature; count them
    sig = [(r["status"], r["error_class"], r["token_source"]) for r in rows]
    for mode, (status, err, src) in EXPECTED.items():
        if err is None and status == "error":  # reset: aiohttp's class name varies by version
            continue
        same = sum(1 for v in EXPECTED.values() if v == (status, err, src))  # both usage styles
        assert sig.count((status, err, src)) == 3 * same, mode
    resets = [
        r
        for r in rows
        if r["status"] == "error"
        and r["error_class"] not in {"HTTP500", "MalformedStream", "IncompleteStream"}
    ]
    assert len(resets) == 3 and all(r["content_chunks"] == 2 for r in resets)
    http500 = [r for r in rows if r["error_class"] == "HTTP500"]
    assert all("injected failure" in r["error_message"] for r in http500)
    oks = [r for r in rows if r["status"] == "ok"]
    assert all(r["output_tokens"] == 6 and r["content_chunks"] == 6 for r in oks)
    assert all(r["first_chunk_ns"] > r["sent_ns"] for r in oks)  # role-only chunk is not TTFT
    assert s["errors"] == {
        **{
            e: 3
            for e in (
                "HTTP500",
                "MalformedStream",
                "FirstTokenTimeout",
                "TotalTimeout",
                "IncompleteStream",
            )
        },
        resets[0]["error_class"]: 3,
    }
    with store.read() as con:
        status = con.execute("SELECT status FROM bench_runs WHERE run_id = ?", [run_id]).fetchone()
    assert status == ("completed",)


def test_preflight_errors_quote_server() -> None:
    with running(FaultServer()) as srv:
        with pytest.raises(runner.BenchError, match="does not exist"):
            preflight(ClientConfig(base_url=srv.base_url, model="nope"))
        port = srv.port
    with pytest.raises(runner.BenchError, match="cannot reach endpoint"):
        preflight(ClientConfig(base_url=f"http://127.0.0.1:{port}", model=MODEL))


def test_api_key_sent_never_stored(
    store: Store, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    secret = "sk-unitcost-test-7f3a9b"
    monkeypatch.setenv("UC_BENCH_KEY", secret)
    cfg = ClientConfig(base_url="http://x", model=MODEL, api_key_env="UC_BENCH_KEY")
    with running(FaultServer(modes=("final_usage", "http500"))) as srv:
        spec = _spec(srv.base_url, 6)
        spec.client = ClientConfig(base_url=srv.base_url, model=MODEL, api_key_env=cfg.api_key_env)
        run_id, s = runner.run(store, spec)
    assert srv.auth[f"Bearer {secret}"] == 6
    assert s["requests_total"] == 6
    out = report.export(store, run_id, "json") + report.export(store, run_id, "csv")
    assert secret not in out and secret not in json.dumps(s)
    assert secret.encode() not in store.path.read_bytes()


def test_crash_keeps_finished_requests(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    from unitcost.bench import client as bench_client

    real_send = bench_client.send
    calls = {"n": 0}

    async def flaky_send(*args: object, **kw: object) -> object:
        calls["n"] += 1
        if calls["n"] > 10:
            raise RuntimeError("simulated harness crash")
        return await real_send(*args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(bench_client, "send", flaky_send)
    with (
        running(FaultServer(chunk_delay_s=0.01)) as srv,
        pytest.raises(RuntimeError, match="simulated"),
    ):
        runner.run(store, _spec(srv.base_url, 100))
    with store.read() as con:
        ((run_id, status),) = con.execute("SELECT run_id, status FROM bench_runs").fetchall()
    assert status == "failed"
    rows = runner.fetch_requests(store, run_id)
    assert len(rows) == 10  # every request that was sent is stored
    assert {r["status"] for r in rows} <= {"ok", "cancelled"}
    assert sum(r["status"] == "ok" for r in rows) >= 1
