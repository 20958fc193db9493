"""The emulator against published measurements, through a real streaming client over HTTP.

Published anchor (REFERENCE §5): Llama-3.1-8B FP16 on one H100 with vLLM serves about 122
output tok/s at concurrency 1 and about 1,384 at concurrency 16. The emulator must land within
±25%. Workload assumption (the anchor does not state one): 256 prompt tokens (chat template
included, about 240 words), 256 output tokens with ignore_eos. Output tokens are counted from
the server's usage chunk, as `unitcost bench run` does; this client stands in for it until the
bench branch merges (streamclient.measure has the same inputs).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from unitcost.emulate.catalog import load_catalog
from unitcost.emulate.physics import build_physics

from tests.integration.emulate.streamclient import measure

pytestmark = pytest.mark.integration
TOL = 0.25


@pytest.mark.parametrize(("concurrency", "requests", "published"), [(1, 3, 122), (16, 32, 1384)])
def test_llama31_8b_fp16_h100_vllm(
    emulator: Callable[..., Any], concurrency: int, requests: int, published: float
) -> None:
    with emulator(
        "--model", "llama-3.1-8b", "--gpu", "h100", "--gpus", "1", "--quant", "fp16"
    ) as emu:
        m = measure(
            emu.base_url,
            model=emu.model,
            concurrency=concurrency,
            requests=requests,
            prompt_words=248,
            max_tokens=256,
        )
    assert m.ok == requests and set(m.statuses) == {200}
    assert m.output_tokens == requests * 256
    assert m.prompt_tokens == requests * 256  # 248 words + the chat frame (8 tokens)
    err = (m.output_tok_s - published) / published
    print(
        f"\nc={concurrency}: emulated {m.output_tok_s:,.0f} tok/s vs published {published:,} "
        f"({err:+.1%}); median TTFT {sorted(m.ttft_s)[len(m.ttft_s) // 2] * 1000:.0f} ms"
    )
    assert abs(err) <= TOL
    # and never above the roofline for this configuration at this batch and context
    phys = build_physics(load_catalog(), model="llama-3.1-8b", gpu="h100")
    assert m.output_tok_s <= phys.ceiling_decode_tok_s(concurrency, 256)
