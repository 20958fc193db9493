"""A simulated week (or any span) of production telemetry for a fleet, without waiting a week.

Demand per endpoint: `rps` at the daily peak, shaped by a diurnal curve (trough at 04:00 UTC,
peak at 16:00), weekends at 60%, and seeded bursts (about two a day, 10-30 min, 1.5-3x). Each
interval is solved as a fluid queue on the endpoint's physics: the batch B that Little's law
gives (B = arrival rate x latency at B), capped by max_num_seqs and the KV cache; beyond that
capacity the waiting queue grows and drains later. One incident per span (seeded): 45 minutes
in which 35% of requests abort and TTFT is 5x, then a restart: 5 minutes without samples and
counters reset to zero, as a crashed vLLM would look to Prometheus. Prefix caching: each
endpoint gets a seeded share of prompt tokens found in the cache (25-55%, a system prompt and
multi-turn history reused), varying a little per step and starting cold after the restart, in
vLLM's counters `prefix_cache_queries_total` / `prefix_cache_hits_total` (prompt tokens).

Output: the same series a live emulated endpoint exposes (vLLM and DCGM names), as OpenMetrics
text for `promtool tsdb create-blocks-from openmetrics`, and/or rows in the store
(metric_samples, gpu_samples, deployments). Every series carries `emulated="true"`.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from unitcost.emulate.fleet import EndpointConfig
from unitcost.emulate.metrics import ITL_BUCKETS, LATENCY_BUCKETS, TTFT_BUCKETS
from unitcost.emulate.physics import Physics

INCIDENT_S = 45 * 60
RESTART_GAP_S = 5 * 60
STOP_SHARE = 0.7  # of successful requests that end on EOS; the rest hit max_tokens
CACHE_HIT_RANGE = (0.25, 0.55)  # an endpoint's share of prompt tokens found in the prefix cache
CACHE_WARMUP_S = 30 * 60  # after a restart the cache fills again over about this long


@dataclass
class Point:
    """One endpoint's state at one scrape time: counters are cumulative since (re)start."""

    ts: float  # unix seconds
    counters: dict[str, float]
    gauges: dict[str, float]
    hists: dict[str, list[float]]  # cumulative bucket counts (last = +Inf), then sum appended
    gpu_util: float
    power_w: float
    energy_mj: float


@dataclass
class Incident:
    start: float
    end: float
    restart_end: float


@dataclass
class Track:
    """The cumulative state of one endpoint across the span."""

    counters: dict[str, float] = field(default_factory=dict)
    hists: dict[str, list[float]] = field(default_factory=dict)
    queue: float = 0.0
    energy_mj: float = 0.0


def demand(t: float, peak_rps: float, bursts: list[tuple[float, float, float]]) -> float:
    """Requests/s at unix time t: diurnal x weekday x bursts."""
    dt = datetime.fromtimestamp(t, UTC)
    hour = dt.hour + dt.minute / 60.0
    diurnal = 0.2 + 0.8 * math.pow(0.5 - 0.5 * math.cos(2 * math.pi * (hour - 4.0) / 24.0), 1.5)
    weekday = 0.6 if dt.weekday() >= 5 else 1.0
    burst = max((f for s, e, f in bursts if s <= t < e), default=1.0)
    return peak_rps * diurnal * weekday * burst


def _lognormal_cdf(x: float, median: float, sigma: float) -> float:
    if x <= 0 or median <= 0:
        return 0.0
    return 0.5 * (1.0 + math.erf(math.log(x / median) / (sigma * math.sqrt(2.0))))


def _spread(
    h: list[float], bounds: tuple[float, ...], n: float, median: float, sigma: float
) -> None:
    """Add n observations, lognormal around median, to cumulative buckets h (+Inf last, sum)."""
    for i, b in enumerate(bounds):
        h[i] += n * _lognormal_cdf(b, median, sigma)
    h[len(bounds)] += n
    h[len(bounds) + 1] += n * median * math.exp(sigma * sigma / 2)


def steady_batch(
    phys: Physics, rate: float, prompt: int, out: int, bmax: int
) -> tuple[float, float]:
    """(batch, step s) where B = rate x out x step(B): Little's law on the decode loop."""
    b = min(bmax, max(rate * out * phys.step_s(1, prompt), 0.0))
    for _ in range(30):
        step = _step(phys, b, prompt, out)
        nb = min(float(bmax), rate * out * step)
        if abs(nb - b) < 1e-3:
            break
        b = 0.5 * (b + nb)
    return b, _step(phys, max(b, 1.0), prompt, out)


def _step(phys: Physics, b: float, prompt: int, out: int) -> float:
    n = max(1, round(b))
    return phys.step_s(n, int(n * (prompt + out / 2)), int(n * prompt / out))


def simulate_endpoint(
    cfg: EndpointConfig,
    phys: Physics,
    start: datetime,
    span_s: float,
    step_s: float,
    incident: Incident | None,
    seed: int,
) -> Iterator[Point]:
    """Yield one Point per step for one endpoint (none during the restart gap)."""
    rng = random.Random(seed)
    t0 = start.timestamp()
    bursts: list[tuple[float, float, float]] = []
    for day in range(int(span_s // 86400) + 1):
        for _ in range(rng.choice((1, 2, 2, 3))):
            s = t0 + day * 86400 + rng.uniform(0, 86400)
            bursts.append((s, s + rng.uniform(600, 1800), rng.uniform(1.5, 3.0)))
    p, o = cfg.prompt_tokens, cfg.output_tokens
    hit_share = rng.uniform(*CACHE_HIT_RANGE)
    cache_since = t0  # when the prefix cache last started empty
    bmax = min(phys.max_num_seqs, max(1, phys.kv_capacity_tokens // (p + o)))
    _, step_at_max = steady_batch(phys, 1e9, p, o, bmax)
    capacity_rps = bmax / (o * step_at_max)
    tr = Track()
    _reset(tr)
    t = t0
    while t < t0 + span_s:
        in_incident = incident is not None and incident.start <= t < incident.end
        if incident is not None and incident.end <= t < incident.restart_end:
            t += step_s
            if t >= incident.restart_end:
                _reset(tr)
                cache_since = t
            continue
        lam = demand(t, cfg.rps, bursts)
        want = lam * step_s + tr.queue
        served = min(want, capacity_rps * step_s)
        tr.queue = max(0.0, want - served)
        rate = served / step_s
        batch, step = steady_batch(phys, rate, p, o, bmax)
        queue_wait = tr.queue / capacity_rps if tr.queue > 0 else 0.0
        ttft = queue_wait + phys.prefill_s(p) + step / 2
        if in_incident:
            ttft *= 5.0
        abort = 0.35 * served if in_incident else 0.0
        ok = served - abort
        c = tr.counters
        c["prompt_tokens"] += served * p
        c["generation_tokens"] += ok * o + abort * o / 4
        c["stop"] += ok * STOP_SHARE
        c["length"] += ok * (1 - STOP_SHARE)
        c["abort"] += abort
        warm = min(1.0, (t - cache_since) / CACHE_WARMUP_S)
        share = max(0.0, min(1.0, hit_share * warm + rng.gauss(0.0, 0.02)))
        c["prefix_queries"] += served * p
        c["prefix_hits"] += served * p * share
        if served > 0:
            _spread(tr.hists["ttft"], TTFT_BUCKETS, served, ttft, 0.5)
            _spread(tr.hists["itl"], ITL_BUCKETS, served * (o - 1), step, 0.15)
            _spread(tr.hists["e2e"], LATENCY_BUCKETS, served, ttft + (o - 1) * step, 0.3)
        util = min(1.0, batch) if served > 0 else 0.0
        mem_s, comp_s, _ = phys.step_parts(max(1, round(batch)), int(batch * (p + o / 2)), 0)
        power = phys.power_w(util, mem_s, comp_s, step)
        tr.energy_mj += power * step_s * 1000.0
        gauges = {
            "running": round(batch, 3),
            "waiting": round(tr.queue, 3),  # requests queued at the end of the interval
            "kv": min(1.0, batch * (p + o / 2) / phys.kv_capacity_tokens),
        }
        yield Point(
            t,
            {k: float(round(v)) for k, v in c.items()},
            gauges,
            {k: [float(round(x)) for x in v[:-1]] + [round(v[-1], 6)] for k, v in tr.hists.items()},
            util,
            power,
            tr.energy_mj,
        )
        t += step_s


def _reset(tr: Track) -> None:
    tr.counters = dict.fromkeys(
        (
            "prompt_tokens",
            "generation_tokens",
            "stop",
            "length",
            "abort",
            "prefix_queries",
            "prefix_hits",
        ),
        0.0,
    )
    tr.hists = {
        "ttft": [0.0] * (len(TTFT_BUCKETS) + 2),
        "itl": [0.0] * (len(ITL_BUCKETS) + 2),
        "e2e": [0.0] * (len(LATENCY_BUCKETS) + 2),
    }
    tr.queue = 0.0


def pick_incident(start: datetime, span_s: float, seed: int) -> Incident:
    """A seeded incident in the middle third of the span, during working hours."""
    rng = random.Random(seed + 7919)
    day = start + timedelta(seconds=span_s * rng.uniform(0.34, 0.66))
    s = day.replace(hour=14 if span_s >= 86400 else day.hour, minute=0, second=0).timestamp()
    s = max(start.timestamp(), min(s, start.timestamp() + span_s - INCIDENT_S - RESTART_GAP_S))
    return Incident(s, s + INCIDENT_S, s + INCIDENT_S + RESTART_GAP_S)
