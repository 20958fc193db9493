"""vLLM-compatible Prometheus metrics and DCGM-style GPU metrics of one emulated endpoint.

The vLLM families carry vLLM's names, types, labels (`model_name`, `engine`) and histogram
buckets (vllm/v1/metrics/loggers.py; REFERENCE §2). They are kept as plain numbers updated once
per engine step, not per token, and rendered by a prometheus_client collector at scrape time,
so metrics never slow the emulator down. DCGM families mirror dcgm-exporter's text (its energy
counter has no `_total` suffix, which prometheus_client cannot produce, so those few lines are
written directly). `unitcost_emulated 1` marks every scrape of an emulated endpoint.

Prefix caching is emulated in the counters only (`vllm:prefix_cache_queries_total` /
`_hits_total`, prompt tokens, vLLM's names): each request's share of prompt tokens found in the
cache is drawn from a generator seeded by the endpoint (25-55%, in 16-token blocks as vLLM
caches them), counted when its prefill completes. The physics still prefills every token, so
the emulated cache changes no latency; it gives the cache-hit-rate figures something to show.
"""

from __future__ import annotations

import bisect
import hashlib
import random
from collections import deque
from collections.abc import Iterator, Sequence

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from unitcost.emulate.physics import Physics
from unitcost.emulate.scheduler import Scheduler, Seq, StepPlan, StepResult

TTFT_BUCKETS = (
    0.001,
    0.005,
    0.01,
    0.02,
    0.04,
    0.06,
    0.08,
    0.1,
    0.25,
    0.5,
    0.75,
    1.0,
    2.5,
    5.0,
    7.5,
    10.0,
    20.0,
    40.0,
    80.0,
    160.0,
    640.0,
    2560.0,
)
ITL_BUCKETS = (
    0.01,
    0.025,
    0.05,
    0.075,
    0.1,
    0.15,
    0.2,
    0.3,
    0.4,
    0.5,
    0.75,
    1.0,
    2.5,
    5.0,
    7.5,
    10.0,
    20.0,
    40.0,
    80.0,
)
LATENCY_BUCKETS = (
    0.3,
    0.5,
    0.8,
    1.0,
    1.5,
    2.0,
    2.5,
    5.0,
    10.0,
    15.0,
    20.0,
    30.0,
    40.0,
    50.0,
    60.0,
    120.0,
    240.0,
    480.0,
    960.0,
    1920.0,
    7680.0,
)
FINISH_REASONS = ("stop", "length", "abort")
UTIL_WINDOW_S = 1.0  # DCGM samples utilization over about a second
CACHE_HIT_RANGE = (0.25, 0.55)  # a request's share of prompt tokens found in the prefix cache
CACHE_BLOCK = 16  # vLLM's block size: hits come in whole blocks


def build_1_2_5_buckets(max_value: int) -> tuple[float, ...]:
    """vLLM's token-count buckets: 1, 2, 5, 10, 20, 50, ... up to max_value."""
    out: list[float] = []
    exp = 0
    while True:
        for m in (1, 2, 5):
            v = m * 10**exp
            if v > max_value:
                return tuple(out)
            out.append(float(v))
        exp += 1


class Hist:
    """A cumulative histogram that takes `count` identical observations in one call."""

    __slots__ = ("bounds", "counts", "total")

    def __init__(self, bounds: Sequence[float]) -> None:
        self.bounds = tuple(bounds)
        self.counts = [0] * (len(self.bounds) + 1)
        self.total = 0.0

    def observe(self, value: float, count: int = 1) -> None:
        self.counts[bisect.bisect_left(self.bounds, value)] += count
        self.total += value * count

    def buckets(self) -> list[tuple[str, float]]:
        out: list[tuple[str, float]] = []
        acc = 0
        for b, c in zip((*self.bounds, float("inf")), self.counts, strict=True):
            acc += c
            out.append(("+Inf" if b == float("inf") else repr(float(b)), float(acc)))
        return out


class EndpointMetrics(Collector):
    """Counters, gauges and histograms of one endpoint, fed by its engine loop."""

    def __init__(self, *, served_name: str, physics: Physics, scheduler: Scheduler, host: str):
        self.name = served_name
        self.phys = physics
        self.sched = scheduler
        self.host = host
        self.prompt_tokens = 0
        self.generation_tokens = 0
        self.prefix_queries = 0
        self.prefix_hits = 0
        self._cache_rng = random.Random(f"prefix-cache/{host}/{served_name}")
        self.success = dict.fromkeys(FINISH_REASONS, 0)
        self.ttft = Hist(TTFT_BUCKETS)
        self.itl = Hist(ITL_BUCKETS)
        self.e2e = Hist(LATENCY_BUCKETS)
        self.queue = Hist(LATENCY_BUCKETS)
        token_buckets = build_1_2_5_buckets(physics.max_model_len)
        self.req_prompt = Hist(token_buckets)
        self.req_gen = Hist(token_buckets)
        # GPU accounting on the driver's clock
        self.energy_mj = 0.0
        self.energy_t: float | None = None
        self.busy_total = 0.0
        self.busy_log: deque[tuple[float, float]] = deque()  # (step end, busy_total after)
        self.last_intensity = 0.0
        self.lag_s = 0.0  # set by the engine loop
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(self)

    # ------------------------------------------------------------------ updates
    def on_step(self, plan: StepPlan, res: StepResult, end: float) -> None:
        """Account one engine step: tokens, first-token and inter-token latencies, energy."""
        self.prompt_tokens += sum(n for _, n in plan.prefill)
        self.generation_tokens += len(res.emitted)
        later = len(res.emitted) - len(res.first)
        if later:
            self.itl.observe(plan.duration, later)
        for seq in res.first:
            assert seq.first_token is not None
            self.ttft.observe(seq.first_token - seq.arrival)
            self.on_prefilled(seq)
        for seq in res.finished:
            self.on_finish(seq)
        start = end - plan.duration
        self._account_idle(start)
        n = self.phys.tp
        intensity = max(plan.mem_s, plan.comp_s) / plan.duration if plan.duration > 0 else 0.0
        power = self.phys.power_w(1.0, plan.mem_s, plan.comp_s, plan.duration)
        self.energy_mj += power * n * plan.duration * 1000.0
        self.energy_t = end
        self.last_intensity = intensity
        self.busy_total += plan.duration
        self.busy_log.append((end, self.busy_total))
        while len(self.busy_log) > 2 and self.busy_log[1][0] < end - UTIL_WINDOW_S:
            self.busy_log.popleft()

    def on_prefilled(self, seq: Seq) -> None:
        """Prefix-cache lookup of a request whose prompt is in (see the module docstring)."""
        share = self._cache_rng.uniform(*CACHE_HIT_RANGE)
        self.prefix_queries += seq.prompt_tokens
        self.prefix_hits += int(seq.prompt_tokens * share) // CACHE_BLOCK * CACHE_BLOCK

    def on_finish(self, seq: Seq) -> None:
        reason = seq.finish_reason or "abort"
        self.success[reason] = self.success.get(reason, 0) + 1
        assert seq.finished is not None
        self.e2e.observe(seq.finished - seq.arrival)
        self.queue.observe(
            (seq.admitted if seq.admitted is not None else seq.finished) - seq.arrival
        )
        self.req_prompt.observe(seq.prompt_tokens)
        self.req_gen.observe(seq.generated)

    def _account_idle(self, until: float) -> None:
        if self.energy_t is not None and until > self.energy_t:
            self.energy_mj += (
                self.phys.setup.gpu.idle_w * self.phys.tp * (until - self.energy_t) * 1e3
            )
        self.energy_t = until if self.energy_t is None else max(self.energy_t, until)

    def gpu_util(self, now: float) -> float:
        """0-1 share of the last second the simulated GPUs were running a step."""
        if not self.busy_log:
            return 0.0
        t_last, b_last = self.busy_log[-1]
        lo = now - UTIL_WINDOW_S
        b_lo = 0.0
        for t, b in self.busy_log:
            if t <= lo:
                b_lo = b
        busy = b_last - b_lo - max(0.0, t_last - now)
        return max(0.0, min(1.0, busy / UTIL_WINDOW_S))

    # ------------------------------------------------------------------ exposition
    def collect(self) -> Iterator[Metric]:
        labels = ["model_name", "engine"]
        lv = [self.name, "0"]
        s = self.phys.setup

        def counter(name: str, doc: str, value: float) -> CounterMetricFamily:
            c = CounterMetricFamily(name, doc, labels=labels)
            c.add_metric(lv, value)
            return c

        def gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
            g = GaugeMetricFamily(name, doc, labels=labels)
            g.add_metric(lv, value)
            return g

        def hist(name: str, doc: str, h: Hist) -> HistogramMetricFamily:
            m = HistogramMetricFamily(name, doc, labels=labels)
            m.add_metric(lv, h.buckets(), h.total)
            return m

        info = GaugeMetricFamily(
            "unitcost_emulated",
            "1: every figure this endpoint reports is emulated by `unitcost emulate`.",
            labels=["model_name", "model", "gpu", "gpu_count", "quantization", "serving_engine"],
        )
        info.add_metric([self.name, s.model.id, s.gpu.id, str(s.gpus), s.quant.id, s.engine.id], 1)
        yield info
        cache = GaugeMetricFamily(
            "vllm:cache_config_info",
            "Information of the LLMEngine CacheConfig",
            labels=["block_size", "gpu_memory_utilization", "num_gpu_blocks", "engine"],
        )
        cache.add_metric(
            ["16", f"{self.phys.gmu}", str(self.phys.kv_capacity_tokens // 16), "0"], 1
        )
        yield cache
        lag = GaugeMetricFamily(
            "unitcost_emulator_lag_seconds",
            "Worst delay of an emulated step behind its simulated end: > 0 means the emulator "
            "process, not the emulated GPU, limited throughput.",
            labels=["model_name"],
        )
        lag.add_metric([self.name], self.lag_s)
        yield lag
        yield gauge(
            "vllm:num_requests_running",
            "Number of requests in model execution batches.",
            len(self.sched.running),
        )
        yield gauge(
            "vllm:num_requests_waiting",
            "Number of requests waiting to be processed.",
            len(self.sched.waiting),
        )
        yield gauge(
            "vllm:kv_cache_usage_perc",
            "KV-cache usage. 1 means 100 percent usage.",
            self.sched.kv_usage(),
        )
        yield counter("vllm:num_preemptions", "Cumulative number of preemption from the engine.", 0)
        yield counter(
            "vllm:prompt_tokens", "Number of prefill tokens processed.", self.prompt_tokens
        )
        yield counter(
            "vllm:generation_tokens",
            "Number of generation tokens processed.",
            self.generation_tokens,
        )
        yield counter(
            "vllm:prefix_cache_queries",
            "Prefix cache queries, in terms of number of queried tokens.",
            self.prefix_queries,
        )
        yield counter(
            "vllm:prefix_cache_hits",
            "Prefix cache hits, in terms of number of cached tokens.",
            self.prefix_hits,
        )
        succ = CounterMetricFamily(
            "vllm:request_success",
            "Count of successfully processed requests.",
            labels=[*labels, "finished_reason"],
        )
        for reason, n in self.success.items():
            succ.add_metric([*lv, reason], n)
        yield succ
        yield hist(
            "vllm:time_to_first_token_seconds",
            "Histogram of time to first token in seconds.",
            self.ttft,
        )
        yield hist(
            "vllm:inter_token_latency_seconds",
            "Histogram of inter-token latency in seconds.",
            self.itl,
        )
        yield hist(
            "vllm:e2e_request_latency_seconds",
            "Histogram of e2e request latency in seconds.",
            self.e2e,
        )
        yield hist(
            "vllm:request_queue_time_seconds",
            "Histogram of time spent in WAITING phase for request.",
            self.queue,
        )
        yield hist(
            "vllm:request_prompt_tokens", "Number of prefill tokens processed.", self.req_prompt
        )
        yield hist(
            "vllm:request_generation_tokens", "Number of generation tokens processed.", self.req_gen
        )

    def dcgm_text(self, now: float) -> str:
        """DCGM-exporter-style lines, one series per simulated GPU."""
        self._account_idle(now)
        s = self.phys.setup
        util = self.gpu_util(now)
        power = self.phys.setup.gpu.idle_w + (s.gpu.tdp_w - s.gpu.idle_w) * util * (
            0.6 + 0.4 * self.last_intensity
        )
        mib = 1024 * 1024
        used = self.phys.memory_used_per_gpu() + 0.5e9  # + CUDA context
        total = self.phys.gpu_memory_bytes
        fams = (
            ("DCGM_FI_DEV_GPU_UTIL", "gauge", "GPU utilization (in %).", round(util * 100)),
            ("DCGM_FI_DEV_FB_USED", "gauge", "Framebuffer memory used (in MiB).", int(used / mib)),
            (
                "DCGM_FI_DEV_FB_FREE",
                "gauge",
                "Framebuffer memory free (in MiB).",
                int(max(0.0, total - used) / mib),
            ),
            ("DCGM_FI_DEV_POWER_USAGE", "gauge", "Power draw (in W).", round(power, 3)),
            (
                "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION",
                "counter",
                "Total energy consumption since boot (in mJ).",
                None,
            ),
        )
        lines: list[str] = []
        digest = hashlib.sha1(f"{self.host}/{self.name}".encode()).hexdigest()
        per_gpu_energy = int(self.energy_mj / self.phys.tp)
        for name, kind, doc, value in fams:
            lines.append(f"# HELP {name} {doc}")
            lines.append(f"# TYPE {name} {kind}")
            for i in range(self.phys.tp):
                uuid = f"GPU-{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{i:04d}-emulated"
                lab = (
                    f'gpu="{i}",UUID="{uuid}",device="nvidia{i}",'
                    f'modelName="{s.gpu.name}",Hostname="{self.host}"'
                )
                v = per_gpu_energy if value is None else value
                lines.append(f"{name}{{{lab}}} {v}")
        return "\n".join(lines) + "\n"

    def render(self, now: float) -> bytes:
        """The whole /metrics body: vLLM families, then DCGM families."""
        return generate_latest(self.registry) + self.dcgm_text(now).encode()
