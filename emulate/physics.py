"""Roofline physics of LLM serving (REFERENCE §5), with efficiency factors and overheads.

One engine step processes `decode` sequences (one token each) plus `prefill` prompt tokens.
Its time is the larger of two bounds plus fixed costs:

    memory  = (weights read + KV cache read) / (bandwidth * efficiencies)
    compute = 2 * active parameters * tokens / (peak FLOPS of the math units * MFU)
    step    = max(memory, compute) + tensor-parallel all-reduce + scheduler overhead

Weights read: a dense model reads all of them each step. A mixture-of-experts model reads its
dense part plus the experts the step's tokens touch: with E experts and k per token, n tokens
touch a fraction 1 - (1 - k/E)^n of them (expected value, uniform routing). Memory holds all
experts; compute follows the active ones.

`ceiling_*` give the roofline with no efficiency loss and no overhead (peak bandwidth, peak
FLOPS, an MoE touching only k/E of its experts): an upper bound no emulated figure may exceed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from unitcost.emulate.catalog import Catalog, EngineSpec, GpuSpec, ModelSpec, QuantSpec

from unitcost.errors import ConfigError

GB = 1e9
RUNTIME_RESERVE_SHARE = 0.04  # of each GPU's memory: activations, CUDA graphs, allocator slack
MIN_KV_TOKENS = 1024  # below this a server cannot hold even one ordinary request


class DoesNotFitError(ConfigError):
    """The model's weights (plus a minimum KV cache) do not fit in the GPUs' memory."""


@dataclass(frozen=True)
class Setup:
    """One emulated deployment: engine x model x quantization x GPU type x GPU count."""

    model: ModelSpec
    gpu: GpuSpec
    quant: QuantSpec
    engine: EngineSpec
    gpus: int = 1
    gpu_memory_utilization: float | None = None
    max_num_seqs: int | None = None
    max_model_len: int | None = None

    @classmethod
    def from_catalog(
        cls,
        catalog: Catalog,
        *,
        model: str,
        gpu: str,
        quant: str = "fp16",
        engine: str = "vllm",
        gpus: int = 1,
        gpu_memory_utilization: float | None = None,
        max_num_seqs: int | None = None,
        max_model_len: int | None = None,
    ) -> Setup:
        if gpus < 1:
            raise ConfigError(f"--gpus {gpus}: need at least one GPU")
        if gpu_memory_utilization is not None and not 0 < gpu_memory_utilization <= 1:
            raise ConfigError(
                f"--gpu-memory-utilization {gpu_memory_utilization}: must be in (0, 1]"
            )
        return cls(
            catalog.model(model),
            catalog.gpu(gpu),
            catalog.quant(quant),
            catalog.engine(engine),
            gpus,
            gpu_memory_utilization,
            max_num_seqs,
            max_model_len,
        )

    @property
    def label(self) -> str:
        return f"{self.model.id} {self.quant.id} on {self.gpus}x {self.gpu.id} ({self.engine.id})"


class Physics:
    """Step times, memory plan and roofline ceilings of one Setup. Raises DoesNotFitError."""

    def __init__(self, setup: Setup) -> None:
        self.setup = setup
        m, g, q, e = setup.model, setup.gpu, setup.quant, setup.engine
        tp = setup.gpus
        self.tp = tp
        self.gmu = setup.gpu_memory_utilization or e.gpu_memory_utilization
        self.weight_bytes = m.params * q.weight_bytes
        self.dense_bytes = m.dense_params * q.weight_bytes
        self.expert_bytes = m.expert_params * q.weight_bytes
        self.kv_bytes_per_token = m.kv_elems_per_token * q.kv_bytes
        self.route_share = m.experts_per_token / m.experts if m.is_moe else 1.0
        # Math units: FP8/INT8 matmuls need FP8/INT8 units; without them weights are
        # dequantized and multiplied on FP16 units (weight-only), as vLLM does on A100.
        peak_tflops = {"fp16": g.fp16_tflops, "fp8": g.fp8_tflops, "int8": g.int8_tops}[q.math]
        self.math_units = q.math if peak_tflops > 0 else "fp16"
        peak_tflops = peak_tflops if peak_tflops > 0 else g.fp16_tflops
        self.peak_bw = g.bandwidth_gbs * GB * tp
        self.peak_flops = peak_tflops * 1e12 * tp
        tp_factor = e.tp_efficiency ** math.log2(tp) if tp > 1 else 1.0
        self.bw = self.peak_bw * e.bw_efficiency * q.kernel_efficiency * tp_factor
        self.flops = self.peak_flops * e.mfu * tp_factor
        self.allreduce_s = 2 * m.layers * e.allreduce_latency_s if tp > 1 else 0.0
        self.link_bw = g.interconnect_gbs * GB
        self.max_num_seqs = setup.max_num_seqs or e.max_num_seqs
        self.max_batched_tokens = e.max_batched_tokens
        self._plan_memory()

    # ------------------------------------------------------------------ memory
    def _plan_memory(self) -> None:
        s = self.setup
        mem = s.gpu.memory_gb * GB
        self.gpu_memory_bytes = mem
        self.claimed_per_gpu = mem * self.gmu
        self.reserve_per_gpu = mem * RUNTIME_RESERVE_SHARE
        self.weights_per_gpu = self.weight_bytes / self.tp
        kv_per_gpu = self.claimed_per_gpu - self.reserve_per_gpu - self.weights_per_gpu
        tokens = int(kv_per_gpu * self.tp / self.kv_bytes_per_token) if kv_per_gpu > 0 else 0
        if tokens < MIN_KV_TOKENS:
            raise DoesNotFitError(self._no_fit_message(kv_per_gpu))
        self.kv_capacity_tokens = tokens
        want = s.max_model_len or s.model.max_context
        self.max_model_len = min(want, s.model.max_context, tokens)

    def _no_fit_message(self, kv_per_gpu: float) -> str:
        s = self.setup
        need = (self.weights_per_gpu + self.reserve_per_gpu) / GB
        have = self.claimed_per_gpu / GB
        what = "leaves no room for the KV cache" if kv_per_gpu > 0 else "does not fit"
        return (
            f"{s.model.id} ({s.model.params / 1e9:.1f}B parameters) in {s.quant.id} needs "
            f"{self.weight_bytes / GB:.1f} GB of weights, {self.weights_per_gpu / GB:.1f} GB per "
            f"GPU across {self.tp}x {s.gpu.id}, plus {self.reserve_per_gpu / GB:.1f} GB runtime "
            f"({need:.1f} GB); each {s.gpu.id} offers {have:.1f} GB at gpu_memory_utilization "
            f"{self.gmu:.2f}: the model {what} (it needs room for at least {MIN_KV_TOKENS} "
            "tokens of KV cache)"
        )

    def memory_used_per_gpu(self) -> float:
        """Bytes a real engine holds per GPU: it claims gmu x memory up front (vLLM does)."""
        return self.claimed_per_gpu

    # ------------------------------------------------------------------ time
    def touched_share(self, tokens: int) -> float:
        """Expected share of routed experts `tokens` tokens touch in one layer."""
        if self.route_share >= 1.0 or tokens <= 0:
            return 1.0 if tokens > 0 else 0.0
        return 1.0 - (1.0 - self.route_share) ** tokens

    def step_parts(self, decode: int, context: int, prefill: int) -> tuple[float, float, float]:
        """(memory s, compute s, fixed s) of one step; context = sum of decoding contexts."""
        tokens = decode + prefill
        weights = self.dense_bytes + self.expert_bytes * self.touched_share(tokens)
        kv = (context + prefill) * self.kv_bytes_per_token
        mem_s = (weights + kv) / self.bw
        comp_s = 2.0 * self.setup.model.active * tokens / self.flops
        fixed = self.setup.engine.step_overhead_s + self.setup.engine.per_seq_overhead_s * decode
        if self.tp > 1:
            act = tokens * self.setup.model.hidden * 2 * 2 * self.setup.model.layers
            fixed += self.allreduce_s + act * (self.tp - 1) / self.tp / self.link_bw
        return mem_s, comp_s, fixed

    def step_s(self, decode: int, context: int, prefill: int = 0) -> float:
        """Emulated duration of one engine step (seconds)."""
        mem_s, comp_s, fixed = self.step_parts(decode, context, prefill)
        return max(mem_s, comp_s) + fixed

    def ceiling_step_s(self, decode: int, context: int, prefill: int = 0) -> float:
        """Roofline lower bound on a step: peak bandwidth and FLOPS, minimal expert reads."""
        tokens = decode + prefill
        share = self.route_share if tokens > 0 else 0.0
        weights = self.dense_bytes + self.expert_bytes * share
        kv = (context + prefill) * self.kv_bytes_per_token
        return max(
            (weights + kv) / self.peak_bw, 2.0 * self.setup.model.active * tokens / self.peak_flops
        )

    def ceiling_decode_tok_s(self, batch: int, mean_context: float) -> float:
        """Upper bound on decode throughput at `batch` sequences of mean context."""
        return batch / self.ceiling_step_s(batch, int(batch * mean_context))

    def single_stream_ceiling_tok_s(self) -> float:
        """BW / W: the REFERENCE §5 single-stream ceiling (reads of the active weights only)."""
        return self.peak_bw / (self.dense_bytes + self.expert_bytes * self.route_share)

    def prefill_s(self, tokens: int) -> float:
        """Emulated prefill time of `tokens` prompt tokens alone (TTFT without queueing)."""
        return self.step_s(0, 0, tokens)

    def power_w(self, busy: float, mem_s: float, comp_s: float, step: float) -> float:
        """Mean power per GPU over an interval busy for `busy` (0-1) of the time.

        A model, not a measurement: idle power plus the TDP headroom scaled by how busy the
        GPU is and how hard the busy time drives its bottleneck unit (60% floor when running).
        """
        g = self.setup.gpu
        intensity = 0.6 + 0.4 * (max(mem_s, comp_s) / step if step > 0 else 0.0)
        return g.idle_w + (g.tdp_w - g.idle_w) * max(0.0, min(1.0, busy)) * intensity


def build_physics(catalog: Catalog, **kw: Any) -> Physics:
    """Setup.from_catalog + Physics; a refusal names the nearest configurations that fit."""
    setup = Setup.from_catalog(catalog, **kw)
    try:
        return Physics(setup)
    except DoesNotFitError as exc:
        hints: list[str] = []
        for n in (2, 4, 8):
            if n > setup.gpus and _fits(replace(setup, gpus=n)):
                hints.append(f"--gpus {n}")
                break
        smaller = sorted(
            (q for q in catalog.quants.values() if q.weight_bytes < setup.quant.weight_bytes),
            key=lambda q: -q.weight_bytes,
        )
        for q in smaller:
            if _fits(replace(setup, quant=q)):
                hints.append(f"--quant {q.id}")
                break
        bigger = sorted(catalog.gpus.values(), key=lambda g: g.memory_gb)
        for g in bigger:
            if g.memory_gb > setup.gpu.memory_gb and _fits(replace(setup, gpu=g)):
                hints.append(f"--gpu {g.id}")
                break
        tail = f"; it would fit with {' or '.join(hints)}" if hints else ""
        raise DoesNotFitError(f"{exc}{tail}") from None


def _fits(setup: Setup) -> bool:
    try:
        Physics(setup)
    except DoesNotFitError:
        return False
    return True
