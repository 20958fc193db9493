"""Known metric families of inference servers and GPU exporters, and label normalization.

Pure data and functions. Each family maps an engine's metric onto one engine-independent
quantity (the columns of metric_intervals), with a unit scale and a rank: where an engine
renamed a metric (vLLM `time_per_output_token_seconds` -> `inter_token_latency_seconds`,
`gpu_cache_usage_perc` -> `kv_cache_usage_perc`) both are known, the new name has the better
rank, and only the best-ranked family present for a deployment and interval is used, so a
series is never counted twice.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Family:
    """One engine metric and the quantity it measures."""

    engine: str
    metric: str  # base name as exposed (histograms: without _bucket/_sum/_count)
    quantity: str  # metric_intervals column stem
    kind: str  # counter, gauge, histogram
    scale: float = 1.0  # multiply to get the quantity's unit
    rank: int = 0  # lower wins where an engine exposes old and new names
    ok_values: tuple[str, ...] = ()  # counters split by a reason label: values that are success
    reason_label: str = ""


F = Family
FAMILIES: list[Family] = [
    # vLLM (V0 and V1; V1 adds the `engine` label)
    F("vllm", "vllm:prompt_tokens_total", "input_tokens", "counter"),
    F("vllm", "vllm:generation_tokens_total", "output_tokens", "counter"),
    F(
        "vllm",
        "vllm:request_success_total",
        "requests",
        "counter",
        ok_values=("stop", "length"),
        reason_label="finished_reason",
    ),
    F("vllm", "vllm:time_to_first_token_seconds", "ttft", "histogram"),
    F("vllm", "vllm:inter_token_latency_seconds", "itl", "histogram", rank=0),
    F("vllm", "vllm:time_per_output_token_seconds", "itl", "histogram", rank=1),
    F("vllm", "vllm:kv_cache_usage_perc", "kv_cache_usage", "gauge", rank=0),
    F("vllm", "vllm:gpu_cache_usage_perc", "kv_cache_usage", "gauge", rank=1),
    F("vllm", "vllm:num_requests_running", "requests_running", "gauge"),
    F("vllm", "vllm:num_requests_waiting", "requests_waiting", "gauge"),
    F("vllm", "vllm:e2e_request_latency_seconds", "e2e", "histogram"),
    # prefix cache, in prompt tokens (V1 before 0.10 named them gpu_prefix_cache_*)
    F("vllm", "vllm:prefix_cache_queries_total", "prefix_cache_queries", "counter", rank=0),
    F("vllm", "vllm:gpu_prefix_cache_queries_total", "prefix_cache_queries", "counter", rank=1),
    F("vllm", "vllm:prefix_cache_hits_total", "prefix_cache_hits", "counter", rank=0),
    F("vllm", "vllm:gpu_prefix_cache_hits_total", "prefix_cache_hits", "counter", rank=1),
    # SGLang
    F("sglang", "sglang:prompt_tokens_total", "input_tokens", "counter"),
    F("sglang", "sglang:generation_tokens_total", "output_tokens", "counter"),
    F("sglang", "sglang:time_to_first_token_seconds", "ttft", "histogram"),
    F("sglang", "sglang:inter_token_latency_seconds", "itl", "histogram", rank=0),
    F("sglang", "sglang:time_per_output_token_seconds", "itl", "histogram", rank=1),
    F("sglang", "sglang:e2e_request_latency_seconds", "e2e", "histogram"),
    F("sglang", "sglang:token_usage", "kv_cache_usage", "gauge"),
    F("sglang", "sglang:num_running_reqs", "requests_running", "gauge"),
    F("sglang", "sglang:num_queue_reqs", "requests_waiting", "gauge"),
    # TGI (counters without _total; no TTFT; tokens from the generated-tokens histogram sum)
    F("tgi", "tgi_request_success", "requests_ok", "counter"),
    F("tgi", "tgi_request_failure", "requests_failed", "counter", reason_label="err"),
    F("tgi", "tgi_request_generated_tokens_sum", "output_tokens", "counter"),
    F("tgi", "tgi_request_input_length_sum", "input_tokens", "counter"),
    F("tgi", "tgi_queue_size", "requests_waiting", "gauge"),
    F("tgi", "tgi_batch_current_size", "requests_running", "gauge"),
    # llama.cpp server (--metrics)
    F("llamacpp", "llamacpp:prompt_tokens_total", "input_tokens", "counter"),
    F("llamacpp", "llamacpp:tokens_predicted_total", "output_tokens", "counter"),
    F("llamacpp", "llamacpp:requests_processing", "requests_running", "gauge"),
    F("llamacpp", "llamacpp:requests_deferred", "requests_waiting", "gauge"),
    F("llamacpp", "llamacpp:kv_cache_usage_ratio", "kv_cache_usage", "gauge"),
    # Triton and TensorRT-LLM
    F("triton", "nv_inference_request_success", "requests_ok", "counter"),
    F(
        "triton",
        "nv_inference_request_failure",
        "requests_failed",
        "counter",
        reason_label="reason",
    ),
    F("triton", "nv_gpu_utilization", "gpu_util", "gauge"),
    F("triton", "nv_gpu_memory_used_bytes", "gpu_mem_used_bytes", "gauge"),
    F("triton", "nv_gpu_power_usage", "power_w", "gauge"),
    F("triton", "nv_energy_consumption", "energy_j", "counter"),
    # LiteLLM proxy
    F("litellm", "litellm_input_tokens_metric_total", "input_tokens", "counter"),
    F("litellm", "litellm_output_tokens_metric_total", "output_tokens", "counter"),
    # DCGM exporter (percent -> fraction, MiB -> bytes, mJ -> J)
    F("dcgm", "DCGM_FI_DEV_GPU_UTIL", "gpu_util", "gauge", scale=0.01),
    F("dcgm", "DCGM_FI_DEV_FB_USED", "gpu_mem_used_bytes", "gauge", scale=1048576.0),
    F("dcgm", "DCGM_FI_DEV_POWER_USAGE", "power_w", "gauge"),
    F("dcgm", "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", "energy_j", "counter", scale=0.001),
]
del F

BY_METRIC: dict[str, Family] = {f.metric: f for f in FAMILIES}
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")
# Gauges whose per-series means add up over a deployment's series (GPUs, replicas); the others
# (utilization, KV-cache use: fractions) are averaged over series.
SUMMED_GAUGES = frozenset({"gpu_mem_used_bytes", "power_w", "requests_running", "requests_waiting"})
# Raw series kept in the store: the families above plus the extra info around them, and
# unitcost's own (the emulator's `unitcost_emulated` info gauge).
KNOWN_PREFIXES = (
    "vllm:",
    "sglang:",
    "tgi_",
    "llamacpp:",
    "nv_inference_",
    "nv_trt_llm_",
    "nv_gpu_",
    "nv_energy_",
    "litellm_",
    "DCGM_FI_",
    "unitcost_",
)
DCGM_SENTINEL = 1e18  # DCGM writes values above this for "unsupported"
# An emulated series says so (`emulated="true"`) and may name the deployment it was emulated
# for; `unitcost emulate` writes both, and the emulator's info gauge carries the deployment's
# model and hardware.
EMULATED_LABEL = "emulated"
DEPLOYMENT_LABEL = "unitcost_deployment"
EMULATED_INFO = "unitcost_emulated"

_LABEL_ALIASES = {
    "model_name": "model",
    "served_model_name": "model",
    "modelName": "gpu_model",
    "UUID": "gpu_uuid",
    "uuid": "gpu_uuid",
    "Hostname": "host",
    "hostname": "host",
    "gpu": "gpu_index",
    "exported_pod": "pod",
    "exported_namespace": "namespace",
    "kubernetes_namespace": "namespace",
    "kubernetes_pod_name": "pod",
}


def kept_by(name: str, labels: list[str]) -> bool:
    """Whether a series reduced to `labels` still carries the normalized label `name`."""
    if name in labels or name == "engine":  # engine: added from the metric's name
        return True
    return any(src in labels for src, dst in _LABEL_ALIASES.items() if dst == name)


def family_of(metric: str) -> tuple[Family, str] | None:
    """The family a sample belongs to and its histogram part ('' for plain series)."""
    f = BY_METRIC.get(metric)
    if f is not None:
        return f, ""
    for suffix in HISTOGRAM_SUFFIXES:
        if metric.endswith(suffix):
            f = BY_METRIC.get(metric[: -len(suffix)])
            if f is not None and f.kind == "histogram":
                return f, suffix
    return None


def sample_families() -> list[dict[str, object]]:
    """One row per sample name that feeds metric_intervals (histograms: their `_bucket`
    series), the relation `metric_family_map` the derivation SQL joins on."""
    return [
        {
            "metric": f.metric + ("_bucket" if f.kind == "histogram" else ""),
            "engine": f.engine,
            "quantity": f.quantity,
            "kind": f.kind,
            "scale": f.scale,
            "rank": f.rank,
            "ok_values": list(f.ok_values),
            "reason_label": f.reason_label,
            "summed": f.quantity in SUMMED_GAUGES,
        }
        for f in FAMILIES
    ]


def is_known(metric: str) -> bool:
    return metric.startswith(KNOWN_PREFIXES)


def engine_of(metric: str) -> str | None:
    found = family_of(metric)
    if found:
        return found[0].engine
    for prefix, engine in (
        ("vllm:", "vllm"),
        ("sglang:", "sglang"),
        ("tgi_", "tgi"),
        ("llamacpp:", "llamacpp"),
        ("nv_", "triton"),
        ("litellm_", "litellm"),
        ("DCGM_", "dcgm"),
    ):
        if metric.startswith(prefix):
            return engine
    return None


def normalize_labels(metric: str, labels: dict[str, str]) -> dict[str, str]:
    """Add the canonical names (model, engine, instance, pod, namespace, gpu_uuid, host).

    Additive and idempotent: the original labels stay, so nothing the source said is lost,
    and normalizing twice changes nothing.
    """
    out = {k: v for k, v in labels.items() if k != "__name__"}
    for src, dst in _LABEL_ALIASES.items():
        if src in out and out[src] != "" and dst not in out:
            out[dst] = out[src]
    engine = engine_of(metric)
    if engine and "engine" not in out:
        out["engine"] = engine
    elif engine and out.get("engine", "").isdigit():  # vLLM V1: `engine` is the engine index
        out["engine_index"] = out["engine"]
        out["engine"] = engine
    return out


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def series_key(metric: str, labels: dict[str, str]) -> str:
    """The one canonical key of a series: `metric{a="1",b="2"}`, the labels as exposed (not
    normalized), sorted by name, values escaped as in the text format. Every writer (Prometheus
    pulls, scrapes, bench, emulate) keys a series this way, so one series is stored once."""
    inner = ",".join(f'{k}="{_escape(v)}"' for k, v in sorted(labels.items()) if k != "__name__")
    return f"{metric}{{{inner}}}"
