"""Peers' result files land in bench_runs with their figures mapped and definitions noted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from unitcost.bench import importers, report

from unitcost import prices
from unitcost.errors import InputError
from unitcost.store import Store

FIX = Path(__file__).resolve().parents[2] / "fixtures" / "bench"


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(tmp_path / "i.duckdb")
    s.migrate()
    with s.write() as con:
        prices.load_shipped(con)
    return s


def test_vllm(store: Store) -> None:
    (rid,) = importers.import_file(
        store, FIX / "vllm_save_result_example.json", price_ref="aws/us-east-1/g5.xlarge"
    )
    s = report.stored_or_fresh(store, rid)
    assert s["source"] == "vllm" and s["status"] == "imported"
    assert (s["requests_ok"], s["requests_failed"], s["requests_total"]) == (98, 2, 100)
    assert s["ttft_ms"]["mean"] == 45.1 and s["ttft_ms"]["p50"] == 41.0
    assert s["ttft_ms"]["p99"] == 80.2 and s["ttft_ms"]["p90"] is None
    assert s["itl_pooled_ms"]["mean"] == 12.1 and s["itl_ms"]["mean"] is None
    assert s["e2e_ms"]["p99"] == 1750.0 and s["output_tokens_per_s"] == 1003.52
    assert "role-only" in s["definitions_note"]
    od = s["price"]["on_demand_usd_per_hour"]
    assert s["usd_per_1m_output_tokens"] == pytest.approx(od / 3600 / 1003.52 * 1e6)
    with store.read() as con:
        row = con.execute(
            "SELECT source, status, notes FROM bench_runs WHERE run_id = ?", [rid]
        ).fetchone()
    assert row is not None and row[:2] == ("vllm", "imported") and "vLLM" in row[2]


def test_guidellm_two_benchmarks(store: Store) -> None:
    ids = importers.import_file(store, FIX / "guidellm_example.json")
    a, b = (report.stored_or_fresh(store, i) for i in ids)
    assert a["load_profile"]["kind"] == "synchronous" and b["load_profile"]["kind"] == "throughput"
    assert (a["requests_ok"], a["requests_failed"]) == (30, 1)
    assert b["requests_cancelled"] == 3 and b["requests_total"] == 203
    assert a["e2e_ms"]["p99"] == pytest.approx(1090.0)  # seconds converted to ms
    assert a["tpot_ms"]["mean"] == 7.6 and a["duration_s"] == 30.0
    assert "INCLUDING the first token" in a["definitions_note"]
    assert a["usd_per_1m_output_tokens"] is None  # no price given


def test_aiperf(store: Store) -> None:
    (rid,) = importers.import_file(store, FIX / "aiperf_profile_export_example.json")
    s = report.stored_or_fresh(store, rid)
    assert s["model"] == "openai/gpt-oss-20b" and s["requests_failed"] == 3
    assert s["ttft_ms"]["p50"] == 787.5 and s["tpot_ms"]["mean"] == 51.76
    assert s["duration_s"] == 15.2 and s["output_tokens_per_s"] == 1274.63
    assert s["load_profile"]["concurrency"] == 100


def test_rejects_unknown(tmp_path: Path, store: Store) -> None:
    f = tmp_path / "x.json"
    f.write_text(json.dumps({"hello": 1}))
    with pytest.raises(InputError, match="unrecognised"):
        importers.import_file(store, f)
    f.write_text("{nope")
    with pytest.raises(InputError, match="not JSON"):
        importers.import_file(store, f)
