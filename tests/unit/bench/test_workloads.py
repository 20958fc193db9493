"""Prompts of exact token lengths, seeded, offline; datasets and traces parsed with clear errors."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from unitcost.bench.tokens import LocalTokenizer
from unitcost.bench.workloads import (
    LengthSpec,
    SyntheticSpec,
    jsonl_conversations,
    mooncake_trace,
    synthetic,
)

from unitcost.errors import InputError


@pytest.mark.parametrize("spec", ["64", "uniform:10-300", "normal:128,40"])
def test_exact_lengths(tokenizer_json: Path, spec: str) -> None:
    tok = LocalTokenizer(tokenizer_json)
    items = synthetic(
        SyntheticSpec(
            LengthSpec.parse(spec, flag="--input-tokens"), LengthSpec.parse("16", flag="x"), seed=3
        ),
        30,
        tok,
    )
    for it in items:
        assert isinstance(it.prompt, str)
        assert tok.count(it.prompt) == it.input_tokens
        assert it.max_tokens == 16
    lengths = {it.input_tokens for it in items}
    assert len(lengths) == (1 if spec == "64" else len(lengths)) and (
        spec == "64" or len(lengths) > 5
    )


def test_seeded_and_shared_prefix(tokenizer_json: Path) -> None:
    tok = LocalTokenizer(tokenizer_json)
    spec = SyntheticSpec(
        LengthSpec("fixed", 200), LengthSpec("fixed", 8), prefix_tokens=100, seed=7
    )
    a, b = synthetic(spec, 5, tok), synthetic(spec, 5, tok)
    assert [i.prompt for i in a] == [i.prompt for i in b]
    other = synthetic(SyntheticSpec(spec.input_tokens, spec.output_tokens, 100, seed=8), 5, tok)
    assert [i.prompt for i in a] != [i.prompt for i in other]
    prompts = [str(i.prompt) for i in a]
    assert len(set(prompts)) == 5
    common = prompts[0]
    for p in prompts[1:]:
        n = 0
        while n < min(len(p), len(common)) and p[n] == common[n]:
            n += 1
        common = common[:n]
    assert tok.count(common) >= 95  # ~100 shared tokens (boundary may split one word)
    assert all(tok.count(p) == 200 for p in prompts)


@pytest.mark.parametrize("bad", ["0", "uniform:5-2", "normal:x", "ten", "-3"])
def test_length_spec_errors_name_flag(bad: str) -> None:
    with pytest.raises(InputError, match="--input-tokens"):
        LengthSpec.parse(bad, flag="--input-tokens")


def test_length_distributions() -> None:
    rng = random.Random(0)
    u = [LengthSpec.parse("uniform:10-20", flag="x").draw(rng) for _ in range(2000)]
    assert min(u) == 10 and max(u) == 20
    n = [LengthSpec.parse("normal:100,10", flag="x").draw(rng) for _ in range(4000)]
    assert 99 < sum(n) / len(n) < 101


def test_jsonl(tmp_path: Path) -> None:
    f = tmp_path / "d.jsonl"
    f.write_text(
        json.dumps({"messages": [{"role": "user", "content": "hi"}], "max_tokens": 5})
        + "\n"
        + json.dumps({"prompt": "plain"})
        + "\n\n"
        + json.dumps({"conversations": [{"from": "human", "value": "sharegpt"}]})
        + "\n"
    )
    items = jsonl_conversations(f, LengthSpec("fixed", 9), 0)
    assert [i.max_tokens for i in items] == [5, 9, 9]
    assert items[0].prompt == [{"role": "user", "content": "hi"}]
    assert items[2].prompt == "sharegpt"
    f.write_text('{"prompt": "ok"}\n{oops\n')
    with pytest.raises(InputError, match=r"d.jsonl, row 2"):
        jsonl_conversations(f, None, 0)


def test_mooncake_trace(tokenizer_json: Path, tmp_path: Path) -> None:
    tok = LocalTokenizer(tokenizer_json)
    f = tmp_path / "trace.jsonl"
    rows = [
        {"timestamp": 1000, "input_length": 600, "output_length": 10, "hash_ids": [1, 2]},
        {"timestamp": 1500, "input_length": 1100, "output_length": 20, "hash_ids": [1, 3, 4]},
    ]
    f.write_text("\n".join(json.dumps(r) for r in rows))
    items = mooncake_trace(f, tok, 0)
    assert [i.arrival_s for i in items] == [0.0, 0.5]
    assert [i.max_tokens for i in items] == [10, 20]
    a, b = str(items[0].prompt), str(items[1].prompt)
    block1 = a.split(" ")[: len(a.split(" ")) // 2]
    assert b.startswith(" ".join(block1[:50]))  # shared hash id 1 -> same first block
    assert abs(tok.count(a) - 600) <= 2 and abs(tok.count(b) - 1100) <= 3
    f.write_text('{"timestamp": 1}\n')
    with pytest.raises(InputError, match="row 1"):
        mooncake_trace(f, tok, 0)
