"""Prometheus text parsing on a real vLLM /metrics capture."""

from __future__ import annotations

from pathlib import Path

from unitcost.bench.scrape import parse_exposition, series_key

FIX = Path(__file__).resolve().parents[2] / "fixtures" / "bench"


def test_vllm_capture() -> None:
    text = (FIX / "vllm-datadog-fixture-v0-plus-v1-opt125m.txt").read_text()
    samples = parse_exposition(text)
    n_lines = sum(1 for ln in text.splitlines() if ln.strip() and not ln.startswith("#"))
    assert len(samples) == n_lines  # every sample line parsed, no comment taken as one
    names = {n for n, _, _ in samples}
    assert "vllm:prompt_tokens_total" in names and "vllm:generation_tokens_total" in names
    gen = [(lb, v) for n, lb, v in samples if n == "vllm:generation_tokens_total"]
    assert gen and all(lb.get("model_name") for lb, _ in gen)
    buckets = [lb for n, lb, _ in samples if n.endswith("_bucket")]
    assert any(lb.get("le") == "+Inf" for lb in buckets)


def test_labels_escapes_and_key() -> None:
    text = 'm{b="x\\"y",a="1"} 2.5 1700000000000\nn 3\n# TYPE z counter\nbad line here\n'
    assert parse_exposition(text) == [("m", {"b": 'x"y', "a": "1"}, 2.5), ("n", {}, 3.0)]
    assert series_key({"b": 'x"y', "a": "1"}) == 'a="1",b="x\\"y"'
    assert series_key({}) == ""
