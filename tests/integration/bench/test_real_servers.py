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
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from unitcost.store import Store

support = pytest.importorskip("tests.support.servers", reason="shared server tooling not here")
tinymodel = pytest.importorskip("tests.support.tinymodel", reason="shared tiny model not here")

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return Path(tinymodel.build_tiny_model(tmp_path_factory.mktemp("tiny") / "tiny-llama"))


@pytest.fixture(scope="module")
def llama(model_dir: Path) -> Iterator[object]:
    exe = support.find_llama_server()
    cache = support.llama_cache_dir()
    if exe is None or not (cache / "convert_hf_to_gguf.py").is_file():
        pytest.skip("llama-server not built: run scripts/build_llama_server.sh")
    gguf = tinymodel.export_gguf(model_dir, model_dir / "tiny.f32.gguf", cache)
    with support.llama_server(gguf, parallel=4, ctx=4096) as srv:
        yield srv


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


def test_llama_server(db: Path, llama: object, model_dir: Path) -> None:
    srv: Any = llama
    s = run(db, srv.base_url, srv.model, model_dir / "tokenizer.json", "--ignore-eos")
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


def test_transformers_serve(db: Path, model_dir: Path) -> None:
    if support.find_transformers_cli() is None:
        pytest.skip("transformers[serving] not installed")
    with support.transformers_server(model_dir) as srv:
        # transformers serve rejects ignore_eos (HTTP 422); the tiny model suppresses EOS itself
        s = run(db, srv.base_url, srv.model, model_dir / "tokenizer.json", "--api", "chat")
    assert (s["requests_total"], s["requests_ok"]) == (24, 24), s["errors"]
    assert s["token_sources"] == {"usage": 24}
    assert s["output_tokens"] == 24 * 16
    assert s["ttft_ms"]["p50"] > 0  # type: ignore[index]
