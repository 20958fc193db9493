"""Capacity by the emulator's physics, for configs nothing measured; roofline checks for those
something did. Every figure here is EMULATED, and says so.

A config maps to the emulator's catalog (unitcost.emulate.catalog) by name, case-insensitively:
model by catalog id or served name (e.g. `meta-llama/Llama-3.1-8B-Instruct`), GPU by id (`H100`
-> `h100`), quantization by id or a common alias (AWQ/GPTQ -> int4), engine by id. A config that
does not map has no emulated capacity.

Capacity at an SLO uses the fluid model of `emulate offline` (emulate/offline.py): with B
sequences decoding, one engine step lasts step(B) (steady_batch: decode plus the prompt tokens
of the arrivals that keep B steady, chunked into the steps), so

    TPOT = step(B)    TTFT = prefill(prompt) + step(B) / 2    E2E = TTFT + (output - 1) * step(B)
    requests/s = B / (output * step(B))

and the capacity is the largest B (at most max_num_seqs and what the KV cache holds) whose
TTFT, TPOT and E2E meet the SLO. The fluid model has no spread, so these are typical latencies,
not the tail: an emulated capacity is optimistic by the gap between a real server's p90 and its
mean, one more reason it is flagged.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from unitcost.analytics.evidence import ConfigKey
from unitcost.emulate.catalog import Catalog, ModelSpec, load_catalog
from unitcost.emulate.offline import steady_batch
from unitcost.emulate.physics import DoesNotFitError, Physics, Setup

#: Names users and servers give quantizations, mapped to the emulator's catalog ids.
QUANT_ALIASES = {
    "awq": "int4",
    "gptq": "int4",
    "w4a16": "int4",
    "w8a8": "int8",
    "w8a8-int8": "int8",
    "w8a8-fp8": "fp8",
    "fp8-dynamic": "fp8",
    "float16": "fp16",
    "half": "fp16",
    "bfloat16": "bf16",
    "none": "fp16",
}
ENGINE_ALIASES = {"tensorrt-llm": "trtllm", "trt-llm": "trtllm"}


@cache
def catalog() -> Catalog:
    """The shipped emulator catalog (loaded once per process)."""
    return load_catalog()


def find_model(name: str, cat: Catalog | None = None) -> ModelSpec | None:
    """The catalog model a config names, by id or served name; None when unknown."""
    cat = cat or catalog()
    key = name.lower()
    for m in cat.models.values():
        if key in (m.id.lower(), m.name.lower()):
            return m
    return None


class NoSetup(Exception):
    """The config does not map to the emulator's catalog (the message says which part)."""


def setup_for(config: ConfigKey, cat: Catalog | None = None) -> Setup:
    """The emulator Setup of a config; NoSetup names the part the catalog lacks."""
    cat = cat or catalog()
    c = config.norm()
    model = find_model(c.model, cat)
    if model is None:
        raise NoSetup(f"model {config.model!r} is not in the emulator's catalog")
    gpu = cat.gpus.get(c.hardware)
    if gpu is None:
        raise NoSetup(f"GPU {config.hardware!r} is not in the emulator's catalog")
    quant = cat.quants.get(QUANT_ALIASES.get(c.quantization, c.quantization))
    if quant is None:
        raise NoSetup(f"quantization {config.quantization!r} is not in the emulator's catalog")
    engine_id = ENGINE_ALIASES.get(c.engine, c.engine)
    engine = cat.engines.get("vllm" if engine_id == "unknown" else engine_id)
    if engine is None:
        raise NoSetup(f"engine {config.engine!r} is not in the emulator's catalog")
    return Setup(model, gpu, quant, engine, max(1, c.gpu_count))


@dataclass(frozen=True)
class EmulatedCapacity:
    """The physics' answer for one config at one SLO and token shape."""

    rps: float  # 0 when even one sequence misses the SLO
    output_tokens_per_s: float
    batch: int  # sequences decoding at that load
    max_batch: int  # max_num_seqs and KV cache limit
    tpot_ms: float
    ttft_ms: float
    e2e_ms: float


def _point(phys: Physics, b: int, prompt: int, out: int) -> tuple[float, float, float, float]:
    """(requests/s, TTFT ms, TPOT ms, E2E ms) with b sequences decoding."""
    _, step = steady_batch(phys, 1e9, prompt, out, b)
    ttft = phys.prefill_s(prompt) + step / 2
    return b / (out * step), ttft * 1e3, step * 1e3, (ttft + (out - 1) * step) * 1e3


def _meets(p: tuple[float, float, float, float], slo: Mapping[str, float]) -> bool:
    _, ttft, tpot, e2e = p
    got = {"ttft": ttft, "tpot": tpot, "e2el": e2e}
    return all(got[k] <= v for k, v in slo.items())


def emulated_capacity(
    config: ConfigKey, slo: Mapping[str, float], prompt: int, out: int
) -> EmulatedCapacity:
    """Capacity by physics; raises NoSetup or DoesNotFitError (with the memory arithmetic)."""
    phys = Physics(setup_for(config))
    bmax = min(phys.max_num_seqs, phys.kv_capacity_tokens // max(1, prompt + out))
    if bmax < 1 or prompt + out > phys.max_model_len:
        raise DoesNotFitError(
            f"{phys.setup.label}: a request of {prompt} + {out} tokens does not fit its KV cache "
            f"of {phys.kv_capacity_tokens} tokens (max_model_len {phys.max_model_len})"
        )
    lo_p = _point(phys, 1, prompt, out)
    if not _meets(lo_p, slo):
        return EmulatedCapacity(0.0, 0.0, 0, bmax, lo_p[2], lo_p[1], lo_p[3])
    lo, hi = 1, bmax  # latencies grow with B: bisect for the largest B that meets the SLO
    if _meets(_point(phys, hi, prompt, out), slo):
        lo = hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _meets(_point(phys, mid, prompt, out), slo):
            lo = mid
        else:
            hi = mid
    rps, ttft, tpot, e2e = _point(phys, lo, prompt, out)
    return EmulatedCapacity(rps, rps * out, lo, bmax, tpot, ttft, e2e)


def roofline_ceiling_tok_s(
    config: ConfigKey, load: float, prompt: float, out: float
) -> float | None:
    """Upper bound on output tokens/s at `load` sequences in flight (peak bandwidth and FLOPS,
    no overhead); None when the config does not map or does not fit."""
    try:
        phys = Physics(setup_for(config))
    except (NoSetup, DoesNotFitError):
        return None
    batch = max(1, math.ceil(load))
    return phys.ceiling_decode_tok_s(batch, prompt + out / 2)
