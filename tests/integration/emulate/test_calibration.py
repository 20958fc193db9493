"""The emulator against published measurements, measured by `unitcost bench run` over HTTP.

Published anchor (REFERENCE §5): Llama-3.1-8B FP16 on one H100 with vLLM serves about 122
output tok/s at concurrency 1 and about 1,384 at concurrency 16. The emulator must land within
±25%. Workload assumption (the anchor does not state one): 256 prompt tokens and 256 output
tokens with ignore_eos. `unitcost bench run` runs as a subprocess (prompt lengths exact via the
server's /tokenize, output tokens from usage) and the figure is its output_tokens_per_s.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from unitcost.emulate.catalog import load_catalog
from unitcost.emulate.physics import build_physics

from tests.integration.emulate.benchrun import bench_run

pytestmark = pytest.mark.integration
TOL = 0.25


@pytest.mark.parametrize(("concurrency", "requests", "published"), [(1, 3, 122), (16, 32, 1384)])
def test_llama31_8b_fp16_h100_vllm(
    emulator: Callable[..., Any], tmp_path: Path, concurrency: int, requests: int, published: float
) -> None:
    with emulator(
        "--model", "llama-3.1-8b", "--gpu", "h100", "--gpus", "1", "--quant", "fp16"
    ) as emu:
        m = bench_run(
            emu.base_url,
            tmp_path,
            model=emu.model,
            concurrency=concurrency,
            requests=requests,
            input_tokens=256,
            output_tokens=256,
        )
    assert m.ok == requests and m.summary["requests_failed"] == 0
    assert m.output_tokens == requests * 256
    assert m.summary["token_sources"] == {"usage": requests}
    err = (m.output_tok_s - published) / published
    print(
        f"\nc={concurrency}: `unitcost bench run` measured {m.output_tok_s:,.0f} output tok/s on "
        f"the emulator vs published {published:,} ({err:+.1%}); TTFT p50 {m.ttft_p50_ms:.0f} ms"
    )
    assert abs(err) <= TOL
    # and never above the roofline for this configuration at this batch and context
    phys = build_physics(load_catalog(), model="llama-3.1-8b", gpu="h100")
    assert m.output_tok_s <= phys.ceiling_decode_tok_s(concurrency, 256)
