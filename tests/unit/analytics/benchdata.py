"""Stored bench runs with figures known in advance, for the capacity and recommend tests.

A closed loop of `concurrency` streams, each sending `per_stream` requests back to back: every
request takes TTFT + (output - 1) x TPOT, so the measured window is per_stream x e2e, the request
rate is exactly concurrency / e2e and the mean load in flight exactly `concurrency`. TTFTs cycle
through the given list, so a quantile can sit above or below an SLO on purpose.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime

import duckdb

NS_PER_MS = 1_000_000


def add_run(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    *,
    model: str = "meta-llama/Llama-3.1-8B-Instruct",
    quantization: str = "fp16",
    engine: str = "vllm",
    hardware: str = "H100",
    gpu_count: int = 1,
    price_ref: str | None = None,
    concurrency: int = 1,
    per_stream: int = 10,
    ttft_ms: Sequence[float] = (100.0,),
    tpot_ms: float = 10.0,
    input_tokens: int = 512,
    output_tokens: int = 101,
    failed_per_stream: int = 0,
    status: str = "completed",
    capacity_search: bool = False,
    emulated: bool = False,
    group_id: str | None = None,
) -> float:
    """Store one run; returns its request rate (ok req/s) as the bench would compute it."""
    summary = {"meets_slo": True} if capacity_search else {}
    con.execute(
        "INSERT INTO bench_runs (run_id, source, status, started_at, model, quantization, "
        "engine, hardware, gpu_count, price_ref, emulated, load_profile, tool_version, "
        "schema_version, summary, group_id) VALUES (?, 'unitcost', ?, ?, ?, ?, ?, ?, ?, ?, ?, "
        "?, 'test', 1, ?, ?)",
        [
            run_id, status, datetime(2026, 9, 1, tzinfo=UTC), model, quantization, engine,
            hardware, gpu_count, price_ref, emulated,
            json.dumps({"kind": "concurrency", "concurrency": concurrency}),
            json.dumps(summary), group_id,
        ],
    )  # fmt: skip
    rows = []
    rid = 0
    longest = 0
    for stream in range(concurrency):
        t = 0
        for i in range(per_stream + failed_per_stream):
            ttft = ttft_ms[(stream * per_stream + i) % len(ttft_ms)]
            e2e_ns = int((ttft + (output_tokens - 1) * tpot_ms) * NS_PER_MS)
            first = t + int(ttft * NS_PER_MS)
            failed = i >= per_stream
            rows.append(
                (
                    run_id, rid, "measure", t, t, t, None if failed else first,
                    None if failed else t + e2e_ns, t + e2e_ns, [], None if failed else 2,
                    input_tokens, None if failed else output_tokens, "usage",
                    500 if failed else 200, "error" if failed else "ok",
                    "http_500" if failed else None, None, None if failed else "length",
                )
            )  # fmt: skip
            rid += 1
            t += e2e_ns
        longest = max(longest, t)
    con.executemany(
        "INSERT INTO bench_requests (run_id, request_id, phase, scheduled_ns, dequeued_ns, "
        "sent_ns, first_chunk_ns, last_chunk_ns, end_ns, chunk_gaps_ns, content_chunks, "
        "prompt_tokens, output_tokens, token_source, http_status, status, error_class, "
        "error_message, finish_reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
        "?, ?, ?)",
        rows,
    )
    return concurrency * per_stream / (longest / 1e9)
