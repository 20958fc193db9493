"""EVERY benchmark metric, derived in this one module from raw request records.

A record holds raw `time.perf_counter_ns()` stamps (see sql/migrations/0001 bench_requests).
Definitions (REFERENCE.md §1 says where peers differ; the choice made here is written beside each):

Request sets
  measured   requests of phase 'measure' (warm-up and cool-down requests are excluded).
  sent       measured requests that were written to the connection (every stored record).
  ok         status 'ok': HTTP 200 and the stream ended properly ([DONE] or a finish_reason).
  failed     status 'error' or 'timeout'.     cancelled: in flight when the run was stopped.
  Invariant: sent = ok + failed + cancelled.

Per request (ok requests only), in milliseconds
  ttft_ms    first_chunk - sent. The first chunk carrying non-empty text; a role-only delta is
             never content (vLLM counts it; guidellm and AIPerf do not; we do not).
  e2e_ms     last_chunk - sent: up to the last content chunk (vLLM, AIPerf), so a trailing
             usage chunk or slow connection close does not inflate it. No content: end - sent.
  tpot_ms    (last_chunk - first_chunk) / (output_tokens - 1), only when output_tokens > 1:
             time per output token EXCLUDING the first (vLLM's definition, not guidellm's).
  itl_ms     per-request mean gap between content chunks: (last - first) / (chunks - 1), only
             when chunks > 1. Chunks, not tokens: a server may send several tokens per chunk.
  itl_pooled_ms  every gap between consecutive content chunks of every ok request, pooled
             (vLLM's ITL): its percentiles weigh long requests more.
  ttft_error_bound_ms  first_chunk_late_ns: an upper bound on how late the first chunk was
             stamped because the client's event loop was busy (loop.StampingSelector: the data
             cannot have arrived before the loop's select two iterations earlier). The TTFT the
             host saw lies in [ttft_ms - bound, ttft_ms]. None on uvloop.
  queue_ms   dequeued - scheduled: time waiting for a concurrency slot in the client.
  dispatch_lag_ms  sent - scheduled: how late the client sent versus the load profile's plan
             (includes queue time). Large lag means the client, not the server, shaped the load.

Run level
  duration_s         max(end) - min(sent) over measured requests (the measured window).
  request_rate       ok / duration_s   (req/s)
  output_tokens_per_s  sum(output_tokens of ok) / duration_s
  total_tokens_per_s   sum(prompt_tokens + output_tokens of ok) / duration_s
  success_rate       ok / (ok + failed); cancelled requests are neither.
  goodput            requests per second that were ok AND met every SLO term (vLLM syntax
                     `ttft:500 tpot:50 e2el:5000`, ms; a term is met when value <= limit; a
                     1-token request has no TPOT and meets that term), i.e. good / duration_s.
  goodput_fraction   good / (ok + failed).
  good_output_tokens_per_s  output tokens of good requests / duration_s (cost "at the SLO").
  meets_slo          goodput_fraction >= slo_attainment (the run's target share, default 0.9);
                     None without an SLO.
  offered_rate       req/s the load profile offered: `rate` for an open loop at a rate (the
                     final rate of a ramp); for a trace, (scheduled requests - 1) / (last - first
                     scheduled time); None for a closed loop (it offers as fast as it completes).
  loop_lag_ms        the client's own event-loop lag: how late a 10 ms sleep woke, sampled all
                     run long in every worker process (loop.LagSampler). A response chunk
                     arriving while the loop is busy is stamped that late, so its percentiles
                     bound the receive-side error of TTFT, TPOT and ITL (dispatch lag is the
                     send side). Warned about when its p99 exceeds 1 ms and LAG_WARN_SHARE of
                     TTFT p50 or of pooled ITL p50.
  Statistics: mean, population std (ddof 0, as numpy/vLLM), percentiles by linear
  interpolation between closest ranks (numpy's default; keys p50, p99, p99.9 ...: PERCENTILES
  always, plus any the run asked for), min, max, count.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from unitcost.errors import InputError

NS_PER_MS = 1_000_000
NS_PER_S = 1_000_000_000
PERCENTILES = (50, 90, 95, 99)
SLO_KEYS = {"ttft": "ttft_ms", "tpot": "tpot_ms", "e2el": "e2e_ms"}
#: Dispatch lag p99 above this share of TTFT p50 (and above 1 ms) makes TTFT untrustworthy.
LAG_WARN_SHARE = 0.10


def parse_slo(text: str | None, *, flag: str = "--slo") -> dict[str, float]:
    """Parse vLLM's goodput syntax `ttft:500 tpot:50 e2el:5000` (milliseconds)."""
    if not text:
        return {}
    out: dict[str, float] = {}
    for part in text.replace(",", " ").split():
        key, sep, value = part.partition(":")
        if not sep or key not in SLO_KEYS:
            raise InputError(
                f"{flag} {text!r}: term {part!r} must be KEY:MS with KEY one of "
                f"{', '.join(SLO_KEYS)}"
            )
        try:
            ms = float(value)
        except ValueError:
            raise InputError(f"{flag} {text!r}: {value!r} is not a number of ms") from None
        if not ms > 0:
            raise InputError(f"{flag} {text!r}: {key} must be > 0 ms")
        out[key] = ms
    return out


def percentile(sorted_values: Sequence[float], p: float) -> float:
    """Linear interpolation between closest ranks (numpy's default 'linear' method)."""
    n = len(sorted_values)
    if n == 0:
        raise ValueError("no values")
    pos = (n - 1) * p / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, n - 1)
    frac = pos - lo
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * frac


def pkey(p: float) -> str:
    """The summary key of percentile p: p50, p99, p99.9."""
    return f"p{p:g}"


def stats(
    values: Iterable[float], percentiles: Sequence[float] = PERCENTILES
) -> dict[str, float | int | None]:
    """mean, std (population), the percentiles, min, max, count; None fields when empty."""
    vals = sorted(values)
    n = len(vals)
    out: dict[str, float | int | None] = {"count": n}
    if n == 0:
        for k in ("mean", "std", "min", "max", *(pkey(p) for p in percentiles)):
            out[k] = None
        return out
    mean = math.fsum(vals) / n
    out["mean"] = mean
    out["std"] = math.sqrt(math.fsum((v - mean) ** 2 for v in vals) / n)
    out["min"] = vals[0]
    out["max"] = vals[-1]
    for p in percentiles:
        out[pkey(p)] = percentile(vals, p)
    return out


def offered_rate(
    profile: Mapping[str, Any] | None, rows: Sequence[Mapping[str, Any]]
) -> float | None:
    """Requests per second the load profile offered (definition above)."""
    kind = (profile or {}).get("kind")
    if kind in ("rate", "ramp"):
        rate = (profile or {}).get("rate")
        return float(rate) if rate is not None else None
    if kind == "trace":
        sched = [int(r["scheduled_ns"]) for r in rows if r.get("scheduled_ns") is not None]
        if len(sched) > 1 and max(sched) > min(sched):
            return (len(sched) - 1) / ((max(sched) - min(sched)) / NS_PER_S)
    return None


def request_metrics(r: Mapping[str, Any]) -> dict[str, float | None]:
    """The per-request figures (ms) of one record, None where undefined."""
    sent, first, last, end = r["sent_ns"], r["first_chunk_ns"], r["last_chunk_ns"], r["end_ns"]
    out: dict[str, float | None] = dict.fromkeys(
        (
            "ttft_ms",
            "e2e_ms",
            "tpot_ms",
            "itl_ms",
            "queue_ms",
            "dispatch_lag_ms",
            "ttft_error_bound_ms",
        )
    )
    sched, deq = r.get("scheduled_ns"), r.get("dequeued_ns")
    if sched is not None and deq is not None:
        out["queue_ms"] = (deq - sched) / NS_PER_MS
    if sched is not None and sent is not None:
        out["dispatch_lag_ms"] = (sent - sched) / NS_PER_MS
    if r["status"] != "ok" or sent is None:
        return out
    if first is not None:
        out["ttft_ms"] = (first - sent) / NS_PER_MS
        late = r.get("first_chunk_late_ns")
        if late is not None:
            out["ttft_error_bound_ms"] = late / NS_PER_MS
    stop = last if last is not None else end
    if stop is not None:
        out["e2e_ms"] = (stop - sent) / NS_PER_MS
    n_out = r.get("output_tokens")
    if first is not None and last is not None and n_out is not None and n_out > 1:
        out["tpot_ms"] = (last - first) / (n_out - 1) / NS_PER_MS
    chunks = r.get("content_chunks") or 0
    if first is not None and last is not None and chunks > 1:
        out["itl_ms"] = (last - first) / (chunks - 1) / NS_PER_MS
    return out


def meets_slo(m: Mapping[str, float | None], slo: Mapping[str, float]) -> bool:
    """An ok request is good when every SLO term holds; an undefined TPOT meets its term."""
    for key, limit in slo.items():
        value = m.get(SLO_KEYS[key])
        if value is None:
            if key == "tpot":
                continue
            return False
        if value > limit:
            return False
    return True


def summarize(
    rows: Sequence[Mapping[str, Any]],
    slo: Mapping[str, float] | None = None,
    *,
    percentiles: Sequence[float] = PERCENTILES,
    slo_attainment: float | None = None,
    profile: Mapping[str, Any] | None = None,
    loop_lag_ns: Sequence[int] | None = None,
) -> dict[str, Any]:
    """All run-level metrics of a run's records (see the module docstring for definitions)."""
    slo = dict(slo or {})
    ps = tuple(sorted(set(PERCENTILES) | set(percentiles)))  # the defaults always
    measured = [r for r in rows if r["phase"] == "measure" and r["sent_ns"] is not None]
    by_status = Counter(r["status"] for r in measured)
    ok = [r for r in measured if r["status"] == "ok"]
    n_ok = by_status["ok"]
    n_failed = by_status["error"] + by_status["timeout"]
    n_cancelled = by_status["cancelled"]
    per = [request_metrics(r) for r in ok]
    all_per = [request_metrics(r) for r in measured]
    starts = [r["sent_ns"] for r in measured]
    ends = [r["end_ns"] for r in measured if r["end_ns"] is not None]
    duration_s = (max(ends) - min(starts)) / NS_PER_S if starts and ends else None
    out_tokens = sum(r["output_tokens"] or 0 for r in ok)
    in_tokens = sum(r["prompt_tokens"] or 0 for r in ok)
    missing_tokens = sum(1 for r in ok if r["output_tokens"] is None)
    good_flags = [meets_slo(m, slo) for m in per] if slo else None
    good = sum(good_flags) if good_flags is not None else None
    good_tokens = (
        sum(r["output_tokens"] or 0 for r, g in zip(ok, good_flags, strict=True) if g)
        if good_flags is not None
        else None
    )
    pooled = [g / NS_PER_MS for r in ok for g in (r["chunk_gaps_ns"] or [])]

    def rate(x: float | None) -> float | None:
        return x / duration_s if x is not None and duration_s else None

    def col(key: str, src: list[dict[str, float | None]]) -> list[float]:
        return [v for m in src if (v := m[key]) is not None]

    s: dict[str, Any] = {
        "requests_total": len(measured),
        "requests_ok": n_ok,
        "requests_failed": n_failed,
        "requests_cancelled": n_cancelled,
        "requests_timeout": by_status["timeout"],
        "requests_excluded": {
            "warmup": sum(1 for r in rows if r["phase"] == "warmup"),
            "cooldown": sum(1 for r in rows if r["phase"] == "cooldown"),
        },
        "success_rate": n_ok / (n_ok + n_failed) if n_ok + n_failed else None,
        "errors": dict(
            Counter(
                r["error_class"] or r["status"]
                for r in measured
                if r["status"] in ("error", "timeout")
            )
        ),
        "duration_s": duration_s,
        "request_rate": rate(float(n_ok)),
        "input_tokens": in_tokens,
        "output_tokens": out_tokens,
        "output_tokens_per_s": rate(float(out_tokens)),
        "total_tokens_per_s": rate(float(in_tokens + out_tokens)),
        "token_sources": dict(Counter(r["token_source"] or "none" for r in ok)),
        "requests_without_token_counts": missing_tokens,
        "ttft_ms": stats(col("ttft_ms", per), ps),
        "tpot_ms": stats(col("tpot_ms", per), ps),
        "itl_ms": stats(col("itl_ms", per), ps),
        "itl_pooled_ms": stats(pooled, ps),
        "e2e_ms": stats(col("e2e_ms", per), ps),
        "ttft_error_bound_ms": stats(col("ttft_error_bound_ms", per), ps),
        "queue_ms": stats(col("queue_ms", all_per), ps),
        "dispatch_lag_ms": stats(col("dispatch_lag_ms", all_per), ps),
        "loop_lag_ms": stats((v / NS_PER_MS for v in loop_lag_ns or ()), ps),
        "slo": slo or None,
        "goodput": rate(float(good)) if good is not None else None,
        "goodput_fraction": (good / (n_ok + n_failed))
        if good is not None and n_ok + n_failed
        else None,
        "requests_good": good,
        "good_output_tokens_per_s": rate(float(good_tokens)) if good_tokens is not None else None,
        "slo_attainment": slo_attainment if slo else None,
        "meets_slo": None,
        "offered_rate": offered_rate(profile, measured),
        "percentiles": list(ps),
        "warnings": [],
    }
    if slo and slo_attainment is not None:
        gf = s["goodput_fraction"]
        s["meets_slo"] = gf is not None and gf >= slo_attainment
    lag99, ttft50 = s["dispatch_lag_ms"]["p99"], s["ttft_ms"]["p50"]
    if lag99 is not None and ttft50 is not None and lag99 > 1.0 and lag99 > LAG_WARN_SHARE * ttft50:
        s["warnings"].append(
            f"dispatch lag p99 {lag99:.1f} ms is {lag99 / ttft50:.0%} of TTFT p50 {ttft50:.1f} ms: "
            "the client could not send on schedule, so the offered load and TTFT are distorted "
            "(use fewer requests/s, more --workers, or a faster client machine)"
        )
    s["warnings"] += loop_lag_warnings(s)
    if missing_tokens:
        s["warnings"].append(
            f"{missing_tokens} ok requests have no token counts (no usage in the stream and no "
            "tokenizer): token throughput undercounts; pass --tokenizer or use /tokenize"
        )
    return s


def loop_lag_warnings(s: Mapping[str, Any]) -> list[str]:
    """The client's receive-side lag, when it is a visible share of what it times."""
    lag99 = (s.get("loop_lag_ms") or {}).get("p99")
    if lag99 is None or lag99 <= 1.0:
        return []
    out = []
    for key, what in (("ttft_ms", "TTFT"), ("itl_pooled_ms", "ITL")):
        ref = (s.get(key) or {}).get("p50")
        if ref and lag99 > LAG_WARN_SHARE * ref:
            out.append(
                f"client event-loop lag p99 {lag99:.1f} ms is {lag99 / ref:.0%} of {what} p50 "
                f"{ref:.1f} ms: response chunks were stamped up to that late, so {what} "
                "reads high; use fewer streams per worker (lower --concurrency, or more "
                "--workers), or run the client on another host"
            )
    return out


# ------------------------------------------------------------------ steady state
#: Two-sided 95% Student t quantiles by degrees of freedom (df > 30 uses 1.96).
_T95 = {
    1: 12.706,
    2: 4.303,
    3: 3.182,
    4: 2.776,
    5: 2.571,
    6: 2.447,
    7: 2.365,
    8: 2.306,
    9: 2.262,
    10: 2.228,
    12: 2.179,
    15: 2.131,
    20: 2.086,
    25: 2.060,
    30: 2.042,
}


def t95(df: int) -> float:
    """95% two-sided t quantile, rounded down to the nearest tabulated df (conservative)."""
    if df > 30:
        return 1.96
    return _T95[max(k for k in _T95 if k <= df)]


def ci_halfwidth_rel(values: Sequence[float]) -> float | None:
    """Half-width of the 95% CI of the mean, relative to the mean (batch means method)."""
    n = len(values)
    if n < 2:
        return None
    mean = math.fsum(values) / n
    if mean == 0:
        return None
    sd = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1))
    return t95(n - 1) * sd / math.sqrt(n) / abs(mean)


def steady_state(
    windows: Sequence[tuple[float, float]], *, min_windows: int = 5, rel: float = 0.05
) -> bool:
    """Stable when, over the last `min_windows` windows, both the window throughput and the
    window median latency have a 95% CI half-width within `rel` of their mean.

    windows: (completed requests per second, median E2E latency ms) per fixed-length window,
    E2E as defined above (e2e_ms) of measured ok requests, binned by when they completed
    (steady.SteadyWindows builds them incrementally during the run).
    """
    if len(windows) < min_windows:
        return False
    last = windows[-min_windows:]
    a = ci_halfwidth_rel([w[0] for w in last])
    b = ci_halfwidth_rel([w[1] for w in last])
    return a is not None and b is not None and a <= rel and b <= rel
