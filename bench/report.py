"""The versioned run summary (`bench show --format json`), tables, comparison and export.

Schema `unitcost.bench.summary` version 1 is documented field by field in docs/bench.md; a
field is only ever added within a version, never renamed or removed.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from typing import Any

from rich.table import Table
from unitcost.bench import cost, metrics

from unitcost import sqlfiles
from unitcost.errors import BenchError
from unitcost.store import Store, fetch_dicts

SCHEMA = "unitcost.bench.summary"
SCHEMA_VERSION = 1
_RUN_KEYS = (
    "run_id",
    "name",
    "source",
    "status",
    "started_at",
    "ended_at",
    "endpoint_url",
    "api",
    "model",
    "parameter_count",
    "quantization",
    "engine",
    "hardware",
    "gpu_count",
    "deployment_id",
    "price_ref",
    "emulated",
    "tool_version",
    "python_version",
    "platform",
    "group_id",
    "notes",
)


def get_run(store: Store, run: str) -> dict[str, Any]:
    """A bench_runs row by id or unique prefix, with an error naming the argument."""
    with store.read() as con:
        rows = fetch_dicts(con, sqlfiles.load("queries", "bench_run_get"), {"prefix": run})
    if not rows:
        raise BenchError(f"RUN {run!r}: no such run (see `unitcost bench list`)")
    exact = [r for r in rows if r["run_id"] == run]
    if len(rows) > 1 and not exact:
        raise BenchError(f"RUN {run!r}: prefix matches {len(rows)} runs; give more of the id")
    return exact[0] if exact else rows[0]


def build_summary(store: Store, run_id: str) -> dict[str, Any]:
    """Metrics over the stored records (metrics.py), run facts, and cost (cost.py)."""
    row = get_run(store, run_id)
    if row["source"] != "unitcost" and row["summary"]:
        return dict(json.loads(row["summary"]))
    with store.read() as con:
        reqs = fetch_dicts(
            con, sqlfiles.load("queries", "bench_run_requests"), {"run_id": row["run_id"]}
        )
        price = cost.price_for(con, row["price_ref"])
    slo = json.loads(row["slo"]) if row["slo"] else {}
    m = metrics.summarize(reqs, slo)
    out: dict[str, Any] = {"schema": SCHEMA, "schema_version": SCHEMA_VERSION}
    out.update({k: row[k] for k in _RUN_KEYS})
    for k in ("load_profile", "workload", "labels"):
        out[k] = json.loads(row[k]) if row[k] else None
    out.update(m)
    out.update(cost.cost_figures(price, m))
    return out


def stored_or_fresh(store: Store, run: str) -> dict[str, Any]:
    """The summary written at the end of the run, or recomputed for runs still going."""
    row = get_run(store, run)
    if row["summary"] and row["status"] != "running":
        return dict(json.loads(row["summary"]))
    return build_summary(store, row["run_id"])


def _ms(v: Any) -> str:
    return "" if v is None else f"{v:,.2f}"


def _num(v: Any, digits: int = 2) -> str:
    return "" if v is None else f"{v:,.{digits}f}"


HEADLINE: tuple[tuple[str, Callable[[dict[str, Any]], str]], ...] = (
    ("requests ok / total", lambda s: f"{s['requests_ok']} / {s['requests_total']}"),
    ("failed / cancelled", lambda s: f"{s['requests_failed']} / {s['requests_cancelled']}"),
    ("success rate", lambda s: "" if s["success_rate"] is None else f"{s['success_rate']:.2%}"),
    ("duration s", lambda s: _num(s["duration_s"])),
    ("request rate /s", lambda s: _num(s["request_rate"], 3)),
    ("output tokens/s", lambda s: _num(s["output_tokens_per_s"], 1)),
    ("total tokens/s", lambda s: _num(s["total_tokens_per_s"], 1)),
    ("goodput req/s", lambda s: _num(s["goodput"], 3)),
    (
        "goodput fraction",
        lambda s: "" if s.get("goodput_fraction") is None else f"{s['goodput_fraction']:.2%}",
    ),
    ("USD / 1M output tok", lambda s: _num(s["usd_per_1m_output_tokens"], 4)),
    ("USD / 1M total tok", lambda s: _num(s["usd_per_1m_total_tokens"], 4)),
)
LATENCIES = (
    "ttft_ms",
    "tpot_ms",
    "itl_ms",
    "itl_pooled_ms",
    "e2e_ms",
    "queue_ms",
    "dispatch_lag_ms",
)


def summary_tables(s: dict[str, Any]) -> list[Table]:
    head = Table("metric", "value", title=f"run {s['run_id']} ({s['status']}, {s.get('model')})")
    for label, fn in HEADLINE:
        head.add_row(label, fn(s))
    if s.get("errors"):
        head.add_row("errors", ", ".join(f"{k}: {v}" for k, v in sorted(s["errors"].items())))
    lat = Table("ms", "mean", "std", "p50", "p90", "p95", "p99", "n", title="latency")
    for key in LATENCIES:
        st = s.get(key) or {}
        lat.add_row(
            key[:-3],
            *(_ms(st.get(k)) for k in ("mean", "std", "p50", "p90", "p95", "p99")),
            str(st.get("count", "")),
        )
    return [head, lat]


def compare_table(summaries: list[dict[str, Any]]) -> Table:
    t = Table("metric", *(s["run_id"] for s in summaries), title="comparison")
    for label, fn in HEADLINE:
        t.add_row(label, *(fn(s) for s in summaries))
    for key in ("ttft_ms", "tpot_ms", "itl_ms", "e2e_ms"):
        for p in ("p50", "p99"):
            t.add_row(f"{key[:-3]} {p} ms", *(_ms((s.get(key) or {}).get(p)) for s in summaries))
    return t


def export(store: Store, run: str, fmt: str) -> str:
    """JSON: {"summary": ..., "requests": [...]}; CSV: one row per request, raw + derived ms."""
    s = stored_or_fresh(store, run)
    with store.read() as con:
        reqs = fetch_dicts(
            con, sqlfiles.load("queries", "bench_run_requests"), {"run_id": s["run_id"]}
        )
    for r in reqs:
        r.update(metrics.request_metrics(r))
    if fmt == "json":
        return json.dumps({"summary": s, "requests": reqs}, default=str, indent=2)
    buf = io.StringIO()
    cols = ["run_id", *reqs[0].keys()] if reqs else ["run_id"]
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(cols)
    for r in reqs:
        gaps = r.get("chunk_gaps_ns")
        r["chunk_gaps_ns"] = " ".join(str(g) for g in gaps) if gaps else ""
        w.writerow([s["run_id"], *("" if v is None else v for v in r.values())])
    return buf.getvalue()
