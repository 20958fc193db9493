"""Bench's scrapes parse with the collectors' parser (prometheus_client) and key series the
collectors' way, on a real vLLM /metrics capture."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from unitcost.bench.scrape import parse
from unitcost.collectors import metric_families as mf

FIX = Path(__file__).resolve().parents[2] / "fixtures" / "bench"
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_vllm_capture() -> None:
    text = (FIX / "vllm-datadog-fixture-v0-plus-v1-opt125m.txt").read_text()
    batch = parse(text, T0)
    n_lines = sum(1 for ln in text.splitlines() if ln.strip() and not ln.startswith("#"))
    assert len(batch) == n_lines  # every sample line parsed, no comment taken as one
    names = set(batch.metrics)
    assert "vllm:prompt_tokens_total" in names and "vllm:generation_tokens_total" in names
    gen = [lab for m, lab in zip(batch.metrics, batch.labels, strict=True)
           if m == "vllm:generation_tokens_total"]  # fmt: skip
    assert gen and all(lab.get("model_name") for lab in gen)
    buckets = [
        lab for m, lab in zip(batch.metrics, batch.labels, strict=True) if m.endswith("_bucket")
    ]
    assert any(lab.get("le") == "+Inf" for lab in buckets)


def test_labels_escapes_and_key() -> None:
    text = 'm{b="x\\"y",a="1"} 2.5 1700000000000\nn 3\n# TYPE z counter\n'
    batch = parse(text, T0)
    series, ts, values = batch.arrays()
    got = [
        (batch.metrics[i], batch.labels[i], t, v)
        for i, t, v in zip(series, ts, values, strict=True)
    ]
    assert got == [
        ("m", {"b": 'x"y', "a": "1"}, 1_700_000_000.0, 2.5),  # the sample's own time (ms)
        ("n", {}, T0.timestamp(), 3.0),
    ]
    assert batch.keys() == [mf.series_key("m", {"b": 'x"y', "a": "1"}), "n{}"]
    assert batch.keys()[0] == 'm{a="1",b="x\\"y"}'
