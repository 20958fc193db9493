"""End to end on real parts: `unitcost emulate` serving two GPU types, `unitcost bench run
--capacity` against each, then `unitcost recommend`, whose figures must equal sums this test
computes on its own from the stored request records (plain SQL, not unitcost.bench.metrics)
and a brute-force search over fleets.
"""

from __future__ import annotations

import itertools
import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.integration.emulate.servers import free_ports, run_emulator

pytestmark = pytest.mark.integration

CATALOG = Path(__file__).parents[2] / "fixtures" / "analytics" / "e2e_catalog.toml"
MODEL = "acme/chat-1b"
PRICES = {"slowgpu": 1.00, "fastgpu": 3.00}  # USD/hour, 1-GPU instances, on demand only
SLO = {"ttft": 3000.0, "tpot": 500.0}  # ms; attainment 0.9 (the default of both commands)

# Per run, from raw records only: ok requests per second over the measured window and the share
# of requests (ok + failed) that are ok with TTFT and TPOT within the SLO.
RUN_FIGURES = """
SELECT r.run_id, lower(r.hardware) AS hw,
       count(*) FILTER (q.status = 'ok') / ((max(q.end_ns) - min(q.sent_ns)) / 1e9) AS rate,
       count(*) FILTER (q.status = 'ok'
                        AND (q.first_chunk_ns - q.sent_ns) / 1e6 <= $ttft
                        AND (q.output_tokens <= 1 OR (q.last_chunk_ns - q.first_chunk_ns)
                             / (q.output_tokens - 1) / 1e6 <= $tpot))
         / count(*) FILTER (q.status IN ('ok', 'error', 'timeout')) AS good_share
FROM bench_runs r JOIN bench_requests q USING (run_id)
WHERE r.status = 'completed' AND q.phase = 'measure'
GROUP BY r.run_id, r.hardware
"""


def _uc(cwd: Path, *args: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "unitcost", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=600,
    )
    assert proc.returncode == 0, f"{' '.join(args[:2])}: {proc.stderr[-3000:]}"
    return proc.stdout


def _config(tmp: Path, peak: float | None) -> None:
    text = 'db = "u.duckdb"\n'
    for gpu, usd in PRICES.items():
        text += (
            f'[[prices]]\nprovider = "test"\nregion = "lab"\ninstance_type = "{gpu}-1"\n'
            f'gpu_model = "{gpu}"\ngpu_count = 1\non_demand_usd_per_hour = {usd}\n'
            'source = "test"\nas_of = "2026-09"\n'
        )
    if peak is not None:
        text += (
            '[[scenarios]]\nname = "chat"\ninput_tokens = 256\noutput_tokens = 16\n'
            f"slo_ttft_ms = {SLO['ttft']}\nslo_tpot_ms = {SLO['tpot']}\npeak_rps = {peak}\n"
            f'allowed_models = ["{MODEL}"]\n'
        )
    (tmp / "unitcost.toml").write_text(text)


def test_recommend_agrees_with_independent_sums(tmp_path: Path) -> None:
    ports = free_ports(2)
    fleet = tmp_path / "fleet.toml"
    fleet.write_text(
        "".join(
            f'[[endpoints]]\nname = "{gpu}"\nmodel = "acme-chat-1b"\ngpu = "{gpu}"\n'
            f'quant = "fp16"\nport = {port}\n'
            for gpu, port in zip(PRICES, ports, strict=True)
        )
    )
    _config(tmp_path, None)
    _uc(tmp_path, "db", "init")
    log = tmp_path / "emulator.log"
    with run_emulator("--fleet", str(fleet), "--catalog", str(CATALOG), log=log):
        for gpu, port in zip(PRICES, ports, strict=True):
            _uc(
                tmp_path, "bench", "run", "--endpoint", f"http://127.0.0.1:{port}/v1",
                "--model", MODEL, "--api", "chat", "--input-tokens", "256",
                "--output-tokens", "16", "--ignore-eos", "--requests", "24",
                "--concurrency", "8", "--capacity", "--search-steps", "2",
                "--slo", f"ttft:{SLO['ttft']:g} tpot:{SLO['tpot']:g}", "--hardware", gpu,
                "--gpu-count", "1", "--quantization", "fp16", "--engine", "vllm",
                "--no-live", "--no-scrape",
            )  # fmt: skip
    # Independent sums: each GPU type's capacity is its fastest run with >= 90% good requests.
    with duckdb.connect(str(tmp_path / "u.duckdb"), read_only=True) as con:
        runs = con.execute(RUN_FIGURES, SLO).fetchall()
    cap: dict[str, float] = {}
    for _, hw, rate, share in runs:
        if share >= 0.9:
            cap[hw] = max(cap.get(hw, 0.0), rate)
    assert set(cap) == set(PRICES), runs
    # A peak between one and two slow replicas, so the choice is not trivial.
    peak = round(1.6 * cap["slowgpu"], 3)
    fleets = [
        (PRICES["slowgpu"] * a + PRICES["fastgpu"] * b, a, b)
        for a, b in itertools.product(range(8), range(8))
        if a * cap["slowgpu"] + b * cap["fastgpu"] >= peak and a + b >= 1
    ]
    best = min(fleets)
    _config(tmp_path, peak)
    out: dict[str, Any] = json.loads(_uc(tmp_path, "recommend", "--format", "json"))
    s = out["scenarios"][0]
    assert s["status"] == "optimal", json.dumps(s["rejected"])
    assert s["usd_per_hour"] == pytest.approx(best[0], abs=1e-6)
    got = {c["candidate"]["hardware"].lower(): c for c in s["choice"]}
    want = {hw: n for hw, n in (("slowgpu", best[1]), ("fastgpu", best[2])) if n}
    assert {hw: c["replicas_on_demand"] for hw, c in got.items()} == want
    for hw, c in got.items():
        assert c["capacity_rps_per_replica"] == pytest.approx(cap[hw], rel=1e-6)
        assert c["candidate"]["capacity_method"] == "bench --capacity search"
        assert c["usd_per_hour"] == pytest.approx(PRICES[hw] * c["replicas_on_demand"])
    # Per 1M output tokens at the peak: USD/hour / (peak x 16 tokens x 3600) x 1e6.
    assert s["usd_per_1m_output_tokens"] == pytest.approx(best[0] / (peak * 16 * 3600) * 1e6)
    # The other type, if not chosen, costs more by its own cheapest fleet minus the optimum.
    for hw in set(PRICES) - set(got):
        alone = PRICES[hw] * math.ceil(peak / cap[hw] - 1e-9)
        rej = next(r for r in s["rejected"] if r["candidate"]["hardware"].lower() == hw)
        assert rej["reason"].startswith(f"costs more by {alone - best[0]:.2f} USD/hour")
    # Stored with its run time, and read back as the latest answer.
    with duckdb.connect(str(tmp_path / "u.duckdb"), read_only=True) as con:
        stored = con.execute("SELECT run_id, status FROM recommendations").fetchall()
    assert stored == [(out["run_id"], "optimal")]
