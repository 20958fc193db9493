"""Load shapes against a real local server: trace timing, capped open loop, warm-up, steady stop."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from unitcost.bench import metrics, runner
from unitcost.bench.client import ClientConfig
from unitcost.bench.preflight import calibrate_tokens_per_word
from unitcost.bench.profiles import LoadProfile
from unitcost.bench.spec import RunSpec
from unitcost.bench.tokens import TokenizeEndpoint
from unitcost.bench.workloads import WorkItem, mooncake_trace

from tests.integration.bench.faultserver import MODEL, FaultServer, running
from unitcost.config import Settings
from unitcost.store import Store

pytestmark = pytest.mark.integration


def spec(url: str, profile: LoadProfile, items: list[WorkItem], **kw: object) -> RunSpec:
    return RunSpec(
        client=ClientConfig(base_url=url, model=MODEL),
        profile=profile,
        items=items,
        flush_s=0.2,
        **kw,  # type: ignore[arg-type]
    )


def test_trace_replay_schedule(store: Store, tmp_path: Path) -> None:
    trace = tmp_path / "t.jsonl"
    stamps = [0, 150, 150, 400, 1000]
    trace.write_text(
        "\n".join(
            json.dumps(
                {"timestamp": 5000 + t, "input_length": 20, "output_length": 3, "hash_ids": [i]}
            )
            for i, t in enumerate(stamps)
        )
    )
    with running(FaultServer()) as srv:
        items = mooncake_trace(trace, TokenizeEndpoint(srv.base_url, MODEL), 0)
        run_id, s = runner.run(
            store, spec(srv.base_url, LoadProfile(kind="trace", concurrency=None), items)
        )
    rows = runner.fetch_requests(store, run_id)
    assert s["requests_ok"] == 5 and [r["output_tokens"] for r in rows] == [3] * 5
    t0 = rows[0]["scheduled_ns"]
    assert [(r["scheduled_ns"] - t0) // 1_000_000 for r in rows] == stamps  # exact plan
    assert max(r["dispatch_lag_ms"] for r in (metrics.request_metrics(x) for x in rows)) < 50  # type: ignore[misc]


def test_capped_open_loop_queues_and_warmup(store: Store) -> None:
    items = [WorkItem("a b c", 4, 3)]
    prof = LoadProfile(kind="rate", rate=200.0, arrival="constant", concurrency=2)
    with running(FaultServer(chunk_delay_s=0.02)) as srv:
        run_id, s = runner.run(
            store, spec(srv.base_url, prof, items, max_requests=30, warmup_requests=6)
        )
    rows = runner.fetch_requests(store, run_id)
    assert len(rows) == 30 and s["requests_excluded"]["warmup"] == 6
    assert s["requests_total"] == 24 == s["requests_ok"]
    # 200 req/s offered, ~2 x 12 req/s served: requests wait for a slot, and that is recorded
    assert s["queue_ms"]["max"] > 100 and s["dispatch_lag_ms"]["p99"] >= s["queue_ms"]["p99"]
    assert any("dispatch lag" in w for w in s["warnings"])
    assert all(r["dequeued_ns"] >= r["scheduled_ns"] for r in rows)


def test_until_steady_stops_by_itself(store: Store) -> None:
    items = [WorkItem("a b c", 4, 3)]
    with running(FaultServer(chunk_delay_s=0.005)) as srv:
        sp = spec(
            srv.base_url,
            LoadProfile(kind="concurrency", concurrency=2),
            items,
            steady=True,
            steady_window_s=1.0,
            steady_rel=0.2,
            duration_s=60.0,
        )
        _, s = runner.run(store, sp)
    assert s["status"] == "completed"
    assert 5.0 <= s["duration_s"] < 40.0  # >= 5 windows of 1 s, well before the 60 s cap
    assert s["requests_total"] == s["requests_ok"] > 50


def test_calibration_from_usage_without_tokenizer(store: Store) -> None:
    from unitcost.bench import spec as bench_spec

    with running(FaultServer(serve_tokenize=False)) as srv:
        cfg = ClientConfig(base_url=srv.base_url, model=MODEL)
        assert calibrate_tokens_per_word(cfg) == 1.5  # the server's 1.5 tokens/word
        counter = bench_spec.choose_counter(cfg, None)
        plan = bench_spec.plan(
            bench_spec.RunInput(
                endpoint=srv.base_url, model=MODEL, input_tokens="30", output_tokens="2", requests=3
            ),
            settings=Settings(),
            store=store,
        )
        items, meta = bench_spec.build_items(plan, counter, 3)
    assert meta["token_counter"] == "calibrated" and meta["exact_lengths"] is False
    assert meta["tokens_per_word"] == 1.5
    assert all(len(str(i.prompt).split()) == 20 for i in items)  # 30 tokens / 1.5 per word
