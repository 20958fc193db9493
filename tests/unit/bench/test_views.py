"""The bench_run_summary view: literal rows in, exact figures out."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from unitcost.store import Store


def test_bench_run_summary(tmp_path: Path) -> None:
    store = Store(tmp_path / "v.duckdb")
    store.migrate()
    summary = {
        "requests_total": 10,
        "requests_ok": 8,
        "requests_failed": 1,
        "requests_cancelled": 1,
        "success_rate": 8 / 9,
        "request_rate": 2.5,
        "output_tokens_per_s": 320.0,
        "ttft_ms": {"p50": 41.5, "p99": 90.0},
        "usd_per_1m_output_tokens": 0.87,
        "goodput_fraction": None,
        "meets_slo": True,
    }
    with store.write() as con:
        for rid, summ in (("a", summary), ("b", None)):
            con.execute(
                "INSERT INTO bench_runs (run_id, status, started_at, tool_version, "
                "schema_version, load_profile, summary) VALUES (?, 'completed', ?, 't', 1, "
                "?::JSON, ?::JSON)",
                [
                    rid,
                    datetime(2026, 1, 1, tzinfo=UTC),
                    json.dumps({"kind": "rate", "rate": 4.0}),
                    json.dumps(summ) if summ else None,
                ],
            )
    with store.read() as con:
        rows = con.execute(
            "SELECT run_id, load_kind, rate, requests_ok, request_rate, ttft_p50_ms, ttft_p99_ms,"
            " usd_per_1m_output_tokens, goodput_fraction, meets_slo, tpot_p50_ms "
            "FROM bench_run_summary ORDER BY run_id"
        ).fetchall()
    assert rows[0] == ("a", "rate", 4.0, 8, 2.5, 41.5, 90.0, 0.87, None, True, None)
    assert rows[1][0] == "b" and rows[1][3:] == (None,) * 8


def test_bench_run_summary_new_columns(tmp_path: Path) -> None:
    """Columns added with migration 0008: offered rate, loop lag, price share, caveat."""
    store = Store(tmp_path / "v.duckdb")
    store.migrate()
    summary = {
        "offered_rate": 12.5,
        "loop_lag_ms": {"p50": 0.2, "p99": 3.5},
        "price": {"share": 0.125, "charged_usd_per_hour": 12.29, "caveat": "pre-cut"},
    }
    with store.write() as con:
        con.execute(
            "INSERT INTO bench_runs (run_id, name, status, started_at, tool_version, "
            "schema_version, load_profile, summary, emulated, slo_attainment, whole_instance) "
            "VALUES ('a', 'n', 'completed', ?, 't', 1, ?::JSON, ?::JSON, true, 0.9, false)",
            [datetime(2026, 1, 1, tzinfo=UTC), json.dumps({"kind": "rate", "workers": 2}),
             json.dumps(summary)],
        )  # fmt: skip
    with store.read() as con:
        row = con.execute(
            "SELECT name, emulated, offered_rate, slo_attainment, loop_lag_p50_ms, "
            "loop_lag_p99_ms, price_share, whole_instance, charged_usd_per_hour, price_caveat, "
            "workers FROM bench_run_summary"
        ).fetchone()
    assert row == ("n", True, 12.5, 0.9, 0.2, 3.5, 0.125, False, 12.29, "pre-cut", 2)
