"""`unitcost bench import FILE`: peers' result files into the same tables, definitions noted.

Formats (detected from the keys):
  vllm      `vllm bench serve --save-result` JSON (mean_/median_/std_/pNN_{ttft,tpot,itl,e2el}_ms)
  guidellm  `guidellm benchmark` JSON ("benchmarks": [...], metrics with successful/errored
            distributions); one run per benchmark in the file
  aiperf    AIPerf `profile_export_aiperf.json` (time_to_first_token {unit, avg, pNN, ...})
Each becomes one bench_runs row with source = the tool, status 'imported', and `summary` in our
schema (version 1) holding the peer's own figures; per-request rows are not imported. Where the
peer's definition differs from ours (REFERENCE.md §1), `definitions_note` says how.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from unitcost.bench import cost
from unitcost.bench.records import finish_run, insert_run
from unitcost.bench.report import SCHEMA, SCHEMA_VERSION

from unitcost import __version__
from unitcost.errors import InputError
from unitcost.store import Store

NOTES = {
    "vllm": "vLLM: TTFT ends at the first SSE message with non-empty choices (a role-only chat "
    "delta counts; ours does not); ITL is pooled chunk gaps (ours: itl_pooled_ms); TPOT and E2E "
    "match ours; token counts from server usage or its tokenizer.",
    "guidellm": "guidellm: TPOT is (last - start) / output_tokens, INCLUDING the first token "
    "(ours excludes it); ITL is the per-request mean (our itl_ms); E2E runs until the stream "
    "closes (ours: last content chunk); request_latency converted from s to ms.",
    "aiperf": "AIPerf: ITL = (e2e - ttft) / (osl - 1) per request, which is our TPOT "
    "definition, so it is reported as tpot_ms and itl_ms alike; TTFT at the first chunk with "
    "content (as ours); tokens counted by a client tokenizer by default (ours: server usage).",
}
_STAT_KEYS = ("count", "mean", "std", "min", "max", "p50", "p90", "p95", "p99")


def _stats(**kw: Any) -> dict[str, Any]:
    return {
        k: (float(kw[k]) if kw.get(k) is not None and k != "count" else kw.get(k))
        for k in _STAT_KEYS
    }


def detect(obj: Any) -> str:
    if isinstance(obj, dict):
        if "benchmarks" in obj:
            return "guidellm"
        if "time_to_first_token" in obj or (
            "request_throughput" in obj and isinstance(obj.get("request_throughput"), dict)
        ):
            return "aiperf"
        if "mean_ttft_ms" in obj or "request_throughput" in obj:
            return "vllm"
    raise InputError(
        "unrecognised result file: expected vLLM --save-result JSON, guidellm "
        "JSON or AIPerf profile_export_aiperf.json"
    )


def _vllm(o: dict[str, Any]) -> list[dict[str, Any]]:
    def st(m: str) -> dict[str, Any]:
        return _stats(
            mean=o.get(f"mean_{m}_ms"),
            std=o.get(f"std_{m}_ms"),
            p50=o.get(f"median_{m}_ms", o.get(f"p50_{m}_ms")),
            p90=o.get(f"p90_{m}_ms"),
            p95=o.get(f"p95_{m}_ms"),
            p99=o.get(f"p99_{m}_ms"),
        )

    completed = int(o.get("completed") or 0)
    failed = int(o.get("failed") or 0) or sum(1 for e in o.get("errors") or [] if e)
    return [
        {
            "model": o.get("model_id"),
            "started_at": o.get("date"),
            "load_profile": {
                "kind": "rate"
                if o.get("request_rate") not in (None, "inf", float("inf"))
                else "concurrency",
                "rate": o.get("request_rate"),
                "burstiness": o.get("burstiness"),
                "concurrency": o.get("max_concurrency"),
            },
            "requests_ok": completed,
            "requests_failed": failed,
            "duration_s": o.get("duration"),
            "request_rate": o.get("request_throughput"),
            "output_tokens_per_s": o.get("output_throughput"),
            "total_tokens_per_s": o.get("total_token_throughput"),
            "input_tokens": o.get("total_input_tokens"),
            "output_tokens": o.get("total_output_tokens"),
            "goodput": o.get("request_goodput"),
            "ttft_ms": st("ttft"),
            "tpot_ms": st("tpot"),
            "itl_pooled_ms": st("itl"),
            "itl_ms": _stats(),
            "e2e_ms": st("e2el"),
        }
    ]


def _gl_dist(metrics: dict[str, Any], key: str, scale: float = 1.0) -> dict[str, Any]:
    d = (metrics.get(key) or {}).get("successful") or {}
    pct = d.get("percentiles") or {}

    def sc(v: Any) -> Any:
        return None if v is None else float(v) * scale

    return _stats(
        count=d.get("count"),
        mean=sc(d.get("mean")),
        std=sc(d.get("std_dev")),
        min=sc(d.get("min")),
        max=sc(d.get("max")),
        p50=sc(pct.get("p50", d.get("median"))),
        p90=sc(pct.get("p90")),
        p95=sc(pct.get("p95")),
        p99=sc(pct.get("p99")),
    )


def _gl_mean(metrics: dict[str, Any], key: str) -> Any:
    return ((metrics.get(key) or {}).get("successful") or {}).get("mean")


def _guidellm(o: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for b in o["benchmarks"]:
        m = b.get("metrics") or {}
        tot = b.get("request_totals") or {}
        duration = b.get("duration")
        if duration is None and b.get("start_time") and b.get("end_time"):
            duration = float(b["end_time"]) - float(b["start_time"])
        args = b.get("args") or {}
        out.append(
            {
                "model": (b.get("worker") or {}).get("backend_model") or o.get("model"),
                "started_at": b.get("start_time"),
                "load_profile": {"kind": str((args.get("strategy") or {}).get("type_", "unknown"))},
                "requests_ok": int(tot.get("successful") or 0),
                "requests_failed": int(tot.get("errored") or 0),
                "requests_cancelled": int(tot.get("incomplete") or 0),
                "duration_s": duration,
                "request_rate": ((m.get("requests_per_second") or {}).get("successful") or {}).get(
                    "mean"
                ),
                "output_tokens_per_s": (
                    (m.get("output_tokens_per_second") or {}).get("successful") or {}
                ).get("mean"),
                "total_tokens_per_s": (
                    (m.get("tokens_per_second") or {}).get("successful") or {}
                ).get("mean"),
                "ttft_ms": _gl_dist(m, "time_to_first_token_ms"),
                "tpot_ms": _gl_dist(m, "time_per_output_token_ms"),
                "itl_ms": _gl_dist(m, "inter_token_latency_ms"),
                "itl_pooled_ms": _stats(),
                "e2e_ms": _gl_dist(m, "request_latency", 1000.0),
            }
        )
    return out


def _aiperf(o: dict[str, Any]) -> list[dict[str, Any]]:
    def st(key: str) -> dict[str, Any]:
        d = o.get(key) or {}
        scale = 1000.0 if d.get("unit") in ("sec", "s") else 1.0
        return _stats(
            **{
                k: (None if d.get(src) is None else float(d[src]) * scale)
                for k, src in (
                    ("mean", "avg"),
                    ("std", "std"),
                    ("min", "min"),
                    ("max", "max"),
                    ("p50", "p50"),
                    ("p90", "p90"),
                    ("p95", "p95"),
                    ("p99", "p99"),
                )
            }
        )

    def val(key: str) -> Any:
        d = o.get(key)
        return d.get("avg") if isinstance(d, dict) else d

    cfg = o.get("input_config") or {}
    models = (cfg.get("endpoint") or {}).get("model_names") or [None]
    n = val("request_count")
    errors = val("error_request_count") or sum(
        e.get("count", 0) for e in o.get("error_summary") or []
    )
    itl = st("inter_token_latency")
    return [
        {
            "model": models[0],
            "started_at": o.get("start_time"),
            "load_profile": {
                "kind": str((cfg.get("loadgen") or {}).get("request_rate_mode", "unknown")),
                "concurrency": (cfg.get("loadgen") or {}).get("concurrency"),
            },
            "requests_ok": int(n or 0),
            "requests_failed": int(errors or 0),
            "duration_s": val("benchmark_duration"),
            "request_rate": val("request_throughput"),
            "output_tokens_per_s": val("output_token_throughput"),
            "total_tokens_per_s": None,
            "input_tokens": val("total_isl"),
            "output_tokens": val("total_osl"),
            "ttft_ms": st("time_to_first_token"),
            "tpot_ms": itl,
            "itl_ms": itl,
            "itl_pooled_ms": _stats(),
            "e2e_ms": st("request_latency"),
            "goodput": val("goodput"),
        }
    ]


def import_file(
    store: Store,
    path: Path,
    *,
    price_ref: str | None = None,
    gpu_count: int | None = None,
    whole_instance: bool = False,
    labels: dict[str, str] | None = None,
) -> list[str]:
    """Store each benchmark of a peer's result file as an imported run; return run ids."""
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"{path}: {exc.strerror}") from exc
    except ValueError as exc:
        raise InputError(f"{path}: not JSON: {exc}") from exc
    tool = detect(obj)
    parsed = {"vllm": _vllm, "guidellm": _guidellm, "aiperf": _aiperf}[tool](obj)
    ids = []
    for i, p in enumerate(parsed):
        run_id = f"{tool}-" + datetime.now(UTC).strftime("%Y%m%dT%H%M%S-") + uuid.uuid4().hex[:8]
        ok, failed = p.pop("requests_ok"), p.pop("requests_failed")
        cancelled = p.pop("requests_cancelled", 0)
        started_raw, model, profile = p.pop("started_at"), p.pop("model"), p.pop("load_profile")
        row = {
            "run_id": run_id,
            "name": f"{path.name}#{i}",
            "source": tool,
            "status": "imported",
            "started_at": datetime.now(UTC),
            "anchor_ns": None,
            "endpoint_url": None,
            "api": None,
            "model": model,
            "parameter_count": None,
            "quantization": None,
            "engine": None,
            "hardware": None,
            "gpu_count": gpu_count,
            "deployment_id": None,
            "price_ref": price_ref,
            "emulated": False,
            "load_profile": profile,
            "workload": {"kind": "imported", "file": str(path)},
            "slo": None,
            "labels": labels or {},
            "tool_version": __version__,
            "schema_version": SCHEMA_VERSION,
            "python_version": None,
            "platform": None,
            "notes": NOTES[tool],
            "group_id": None,
            "whole_instance": whole_instance,
        }
        insert_run(store, row)
        summary: dict[str, Any] = {
            "schema": SCHEMA,
            "schema_version": SCHEMA_VERSION,
            "run_id": run_id,
            "name": row["name"],
            "source": tool,
            "status": "imported",
            "started_at": str(started_raw) if started_raw is not None else None,
            "ended_at": None,
            "model": model,
            "price_ref": price_ref,
            "load_profile": profile,
            "labels": labels or {},
            "requests_total": ok + failed + cancelled,
            "requests_ok": ok,
            "requests_failed": failed,
            "requests_cancelled": cancelled,
            "requests_timeout": None,
            "success_rate": ok / (ok + failed) if ok + failed else None,
            "errors": {},
            "queue_ms": _stats(),
            "dispatch_lag_ms": _stats(),
            "goodput_fraction": None,
            "good_output_tokens_per_s": None,
            "definitions_note": NOTES[tool],
            "imported_from": str(path),
            "warnings": [],
        }
        summary.update({k: v for k, v in p.items()})
        summary.setdefault("goodput", None)
        with store.read() as con:
            costs, warnings = cost.run_cost(con, price_ref, gpu_count, whole_instance, summary)
        summary.update(costs)
        summary["warnings"] = warnings + summary["warnings"]
        finish_run(store, run_id, "imported", datetime.now(UTC), summary)
        ids.append(run_id)
    return ids
