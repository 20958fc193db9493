"""`unitcost bench run` against real LLM servers on the tiny local model.

llama-server streams usage in a final `choices: []` chunk then [DONE] and serves /metrics;
`transformers serve` puts usage on the finish chunk and sends no [DONE]. Both runs must account
for every request, count tokens from usage, and (llama-server) reconcile the client's output
token count with the server's own `llamacpp:tokens_predicted_total` counter.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from unitcost.store import Store

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[3]

# Servers and the tiny model come from tests/support/fixtures.py (registered in tests/conftest.py):
# `llama` and `hf_server` fail instead of skipping when UNITCOST_REQUIRE_SERVERS=1 (CI).


def uc(db: Path, *args: str) -> str:
    cmd = [sys.executable, "-c", "from unitcost.cli import main; main()", "--db", str(db), *args]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert p.returncode == 0, p.stderr
    return p.stdout


def run(db: Path, base_url: str, model: str, tokenizer: Path, *extra: str) -> dict[str, object]:
    out = uc(
        db,
        "bench",
        "run",
        "--endpoint",
        base_url,
        "--model",
        model,
        "--concurrency",
        "4",
        "--requests",
        "24",
        "--input-tokens",
        "64",
        "--output-tokens",
        "16",
        "--tokenizer",
        str(tokenizer),
        "--no-live",
        *extra,
    )
    run_id = out.strip().splitlines()[-1]
    return dict(json.loads(uc(db, "bench", "show", run_id, "--format", "json")))


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "u.duckdb"
    uc(path, "db", "init")
    return path


def test_llama_server(db: Path, llama: Any, tiny_model_dir: Path) -> None:
    s = run(db, llama.base_url, llama.model, tiny_model_dir / "tokenizer.json", "--ignore-eos")
    assert (s["requests_total"], s["requests_ok"]) == (24, 24), s["errors"]
    assert s["token_sources"] == {"usage": 24}
    assert s["output_tokens"] == 24 * 16  # ignore_eos honoured, counted from usage
    assert s["ttft_ms"]["p50"] > 0 and s["tpot_ms"]["count"] == 24  # type: ignore[index]
    assert s["output_tokens_per_s"] > 0  # type: ignore[operator]
    with Store(db).read() as con:
        vals = con.execute(
            "SELECT value FROM metric_samples WHERE run_id = ? "
            "AND metric = 'llamacpp:tokens_predicted_total' ORDER BY ts",
            [s["run_id"]],
        ).fetchall()
    assert len(vals) >= 2
    assert vals[-1][0] - vals[0][0] == 24 * 16  # the server's counter agrees with ours


def test_transformers_serve(db: Path, hf_server: Any, tiny_model_dir: Path) -> None:
    # transformers serve rejects ignore_eos (HTTP 422); the tiny model suppresses EOS itself
    tok = tiny_model_dir / "tokenizer.json"
    s = run(db, hf_server.base_url, hf_server.model, tok, "--api", "chat")
    assert (s["requests_total"], s["requests_ok"]) == (24, 24), s["errors"]
    assert s["token_sources"] == {"usage": 24}
    assert s["output_tokens"] == 24 * 16
    assert s["ttft_ms"]["p50"] > 0  # type: ignore[index]
