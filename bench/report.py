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
from unitcost.bench import capacity, cost, metrics

from unitcost import sqlfiles
from unitcost.display import percent
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


def emulated_note(row: dict[str, Any]) -> str:
    """The label every figure of a run against `unitcost emulate` carries."""
    what = f"{row.get('gpu_count') or '?'}x {row.get('hardware') or '?'}"
    extra = ", ".join(str(row[k]) for k in ("quantization", "engine") if row.get(k))
    return (
        f"EMULATED: the target is `unitcost emulate` modelling {what}"
        + (f" ({extra})" if extra else "")
        + "; every figure here is the emulator's prediction, not a measurement of that hardware"
    )


def build_summary(
    store: Store,
    run_id: str,
    *,
    percentiles: tuple[float, ...] | None = None,
    loop_lag_ns: list[int] | None = None,
) -> dict[str, Any]:
    """Metrics over the stored records (metrics.py), run facts, and cost (cost.py).

    `percentiles` overrides the run's own; `loop_lag_ns` the stored lag samples (the runner
    passes them before they are stored)."""
    row = get_run(store, run_id)
    if row["source"] != "unitcost" and row["summary"]:
        return dict(json.loads(row["summary"]))
    slo = json.loads(row["slo"]) if row["slo"] else {}
    profile = json.loads(row["load_profile"]) if row["load_profile"] else None
    with store.read() as con:
        reqs = fetch_dicts(
            con, sqlfiles.load("queries", "bench_run_requests"), {"run_id": row["run_id"]}
        )
        m = metrics.summarize(
            reqs,
            slo,
            percentiles=percentiles or tuple(row["percentiles"] or metrics.PERCENTILES),
            slo_attainment=row["slo_attainment"],
            profile=profile,
            loop_lag_ns=loop_lag_ns if loop_lag_ns is not None else row["loop_lag_ns"],
        )
        costs, cost_warnings = cost.run_cost(
            con, row["price_ref"], row["gpu_count"], bool(row["whole_instance"]), m
        )
    out: dict[str, Any] = {"schema": SCHEMA, "schema_version": SCHEMA_VERSION}
    out.update({k: row[k] for k in _RUN_KEYS})
    for k in ("load_profile", "workload", "labels"):
        out[k] = json.loads(row[k]) if row[k] else None
    out.update(m)
    out.update(costs)
    out["warnings"] = cost_warnings + out["warnings"]
    if row["emulated"]:
        out["warnings"].insert(0, emulated_note(row))
    return out


def stored_or_fresh(
    store: Store, run: str, *, percentiles: tuple[float, ...] | None = None
) -> dict[str, Any]:
    """The summary written at the end of the run, or recomputed for runs still going.
    `percentiles`: the latency statistics recomputed from the stored records at those."""
    row = get_run(store, run)
    if not (row["summary"] and row["status"] != "running"):
        return build_summary(store, row["run_id"], percentiles=percentiles)
    stored = dict(json.loads(row["summary"]))
    if percentiles and row["source"] == "unitcost":
        fresh = build_summary(store, row["run_id"], percentiles=percentiles)
        for key in (*(k for k, _ in LATENCIES), "percentiles"):
            stored[key] = fresh[key]
    return stored


def _ms(v: Any) -> str:
    return "" if v is None else f"{v:,.2f}"


def _num(v: Any, digits: int = 2) -> str:
    return "" if v is None else f"{v:,.{digits}f}"


def describe_load(lp: dict[str, Any] | None) -> str:
    """A load profile in a few words: `concurrency 8`, `rate 20/s poisson, cap 4`, ..."""
    lp = lp or {}
    kind = lp.get("kind")
    if kind == "concurrency":
        text = f"concurrency {lp.get('concurrency')}"
    elif kind in ("rate", "ramp"):
        arrival = lp.get("arrival", "poisson")
        if arrival == "gamma":
            arrival += f" (burstiness {lp.get('burstiness', 1):g})"
        text = (
            f"rate {lp.get('rate'):g}/s {arrival}"
            if kind == "rate"
            else f"ramp {lp.get('rate_start', 0):g}->{lp.get('rate'):g}/s over "
            f"{lp.get('ramp_s', 0):g}s"
        )
        if lp.get("concurrency"):
            text += f", cap {lp['concurrency']}"
    elif kind == "trace":
        text = "trace replay" + (f", cap {lp['concurrency']}" if lp.get("concurrency") else "")
    else:
        text = str(kind or "")
    if (lp.get("workers") or 1) > 1:
        text += f", {lp['workers']} workers"
    return text


def _pct(v: Any) -> str:
    return "" if v is None else percent(v, 2)


HEADLINE: tuple[tuple[str, Callable[[dict[str, Any]], str]], ...] = (
    ("requests ok / total", lambda s: f"{s['requests_ok']} / {s['requests_total']}"),
    ("failed / cancelled", lambda s: f"{s['requests_failed']} / {s['requests_cancelled']}"),
    ("success rate", lambda s: _pct(s["success_rate"])),
    ("duration s", lambda s: _num(s["duration_s"])),
    ("offered rate /s", lambda s: _num(s.get("offered_rate"), 3)),
    ("request rate /s", lambda s: _num(s["request_rate"], 3)),
    ("output tokens/s", lambda s: _num(s["output_tokens_per_s"], 1)),
    ("total tokens/s", lambda s: _num(s["total_tokens_per_s"], 1)),
    ("goodput req/s", lambda s: _num(s["goodput"], 3)),
    ("goodput fraction", lambda s: _pct(s.get("goodput_fraction"))),
    (
        "meets SLO",
        lambda s: (
            ""
            if s.get("meets_slo") is None
            else f"{'yes' if s['meets_slo'] else 'no'} (target {s['slo_attainment']:.0%})"
        ),
    ),
    ("USD / 1M output tok", lambda s: _num(s["usd_per_1m_output_tokens"], 4)),
    ("USD / 1M total tok", lambda s: _num(s["usd_per_1m_total_tokens"], 4)),
)
LATENCIES = (
    ("ttft_ms", "ttft"),
    ("tpot_ms", "tpot"),
    ("itl_ms", "itl"),
    ("itl_pooled_ms", "itl_pooled"),
    ("e2e_ms", "e2e"),
    ("queue_ms", "queue"),
    ("dispatch_lag_ms", "dispatch_lag"),
    ("loop_lag_ms", "client loop lag"),
    ("ttft_error_bound_ms", "ttft error bound"),
)


def summary_tables(s: dict[str, Any]) -> list[Table]:
    """The run's headline figures (with the price used and its caveat), then its latencies."""
    tag = ", EMULATED" if s.get("emulated") else ""
    head = Table(
        "metric", "value", title=f"run {s['run_id']} ({s['status']}, {s.get('model')}{tag})"
    )
    head.add_row("load", describe_load(s.get("load_profile")))
    for label, fn in HEADLINE:
        head.add_row(label, fn(s))
    if s.get("usd_per_1m_output_tokens_spot_low") is not None:
        head.add_row(
            "USD / 1M output tok spot",
            f"{s['usd_per_1m_output_tokens_spot_low']:,.4f}-"
            f"{s['usd_per_1m_output_tokens_spot_high']:,.4f}",
        )
    price = s.get("price")
    if price:
        head.add_row("price", cost.describe_price(price))
        if price.get("caveat"):
            head.add_row("price caveat", f"[yellow]{price['caveat']}[/]")
    if s.get("errors"):
        head.add_row("errors", ", ".join(f"{k}: {v}" for k, v in sorted(s["errors"].items())))
    pcts = [metrics.pkey(p) for p in s.get("percentiles") or metrics.PERCENTILES]
    lat = Table("ms", "mean", "std", *pcts, "n", title="latency")
    for key, label in LATENCIES:
        st = s.get(key) or {}
        lat.add_row(
            label,
            *(_ms(st.get(k)) for k in ("mean", "std", *pcts)),
            str(st.get("count", "")),
        )
    return [head, lat]


def compare_table(summaries: list[dict[str, Any]]) -> Table:
    """Runs side by side: what each was (name, load, target), then its headline figures."""
    t = Table("metric", title="comparison")
    for s in summaries:
        t.add_column(s["run_id"], no_wrap=True)
    t.add_row("name", *(s.get("name") or "" for s in summaries))
    t.add_row("status", *(s.get("status") or "" for s in summaries))
    t.add_row("load", *(describe_load(s.get("load_profile")) for s in summaries))
    t.add_row(
        "target",
        *(
            " ".join(
                str(x)
                for x in (
                    s.get("model"),
                    f"{s.get('gpu_count') or '?'}x {s.get('hardware') or '?'}",
                    "EMULATED" if s.get("emulated") else "",
                )
                if x
            )
            for s in summaries
        ),
    )
    for label, fn in HEADLINE:
        t.add_row(label, *(fn(s) for s in summaries))
    for key in ("ttft_ms", "tpot_ms", "itl_ms", "e2e_ms", "loop_lag_ms"):
        for p in ("p50", "p99"):
            t.add_row(f"{key[:-3]} {p} ms", *(_ms((s.get(key) or {}).get(p)) for s in summaries))
    caveats = sorted({(s.get("price") or {}).get("caveat") or "" for s in summaries} - {""})
    if caveats:
        t.caption = "price caveats: " + "; ".join(caveats)
    return t


def capacity_table(decisions: list[capacity.Decision], title: str) -> Table:
    """Per target and scenario: the SLO capacity load, and throughput and cost there."""
    t = Table(
        "target",
        "scenario",
        "SLO",
        "capacity",
        "good %",
        "out tok/s",
        "USD/1M out",
        "USD/1M out spot",
        title=title,
    )
    for d in decisions:
        s = d.at[1] if d.at else {}
        lp = s.get("load_profile") or {}
        if d.at is None:
            where = "none met"
        elif s.get("offered_rate") is not None:
            where = f"{s['offered_rate']:.3g} req/s"
        else:
            where = f"concurrency {lp.get('concurrency')}"
        spot = ""
        if s.get("usd_per_1m_output_tokens_spot_low") is not None:
            spot = (
                f"{s['usd_per_1m_output_tokens_spot_low']:.4f}-"
                f"{s['usd_per_1m_output_tokens_spot_high']:.4f}"
            )
        t.add_row(
            d.target,
            d.scenario,
            " ".join(f"{k}:{v:g}" for k, v in d.slo.items()),
            where,
            "" if not s else _pct(s.get("goodput_fraction")),
            "" if not s else _num(s.get("output_tokens_per_s"), 1),
            "" if not s else _num(s.get("usd_per_1m_output_tokens"), 4),
            spot,
        )
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
