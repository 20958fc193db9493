"""Offline telemetry: diurnal demand, bursts, an incident with aborts and a counter reset."""

from __future__ import annotations

import io
import itertools
from datetime import UTC, datetime

from unitcost.emulate.catalog import load_catalog
from unitcost.emulate.fleet import EndpointConfig
from unitcost.emulate.offline import pick_incident, simulate_endpoint
from unitcost.emulate.telemetry import Series, write_openmetrics

CAT = load_catalog()
START = datetime(2026, 11, 16, tzinfo=UTC)  # a Monday


def _run(days: float = 7, step: float = 300, rps: float = 6.0) -> tuple[list, object]:  # type: ignore[type-arg]
    cfg = EndpointConfig(name="e", model="llama-3.1-8b", gpu="h100", rps=rps)
    phys = cfg.physics(CAT)
    inc = pick_incident(START, days * 86400, 0)
    pts = list(simulate_endpoint(cfg, phys, START, days * 86400, step, inc, 0))
    return pts, inc


def test_week_has_diurnal_weekend_incident_and_reset() -> None:
    pts, inc = _run()
    assert inc is not None
    rates: dict[int, list[float]] = {}
    for a, b in itertools.pairwise(pts):
        d = b.counters["generation_tokens"] - a.counters["generation_tokens"]
        if d >= 0:  # skip the reset
            rates.setdefault(datetime.fromtimestamp(b.ts, UTC).hour, []).append(d)
    by_hour = {h: sum(v) / len(v) for h, v in rates.items()}
    assert by_hour[16] > 2.5 * by_hour[4]  # afternoon peak vs night trough
    weekday = [p for p in pts if datetime.fromtimestamp(p.ts, UTC).weekday() == 1]
    sunday = [p for p in pts if datetime.fromtimestamp(p.ts, UTC).weekday() == 6]
    assert max(p.gpu_util for p in weekday) >= max(p.gpu_util for p in sunday)
    # the incident: aborts only inside it, no samples in the restart gap, then counters restart
    aborts = [(p.ts, p.counters["abort"]) for p in pts]
    first_abort = next(t for t, a in aborts if a > 0)
    assert inc.start <= first_abort <= inc.end
    assert not [p for p in pts if inc.end <= p.ts < inc.restart_end]
    after = next(p for p in pts if p.ts >= inc.restart_end)
    before = [p for p in pts if p.ts < inc.end][-1]
    assert after.counters["generation_tokens"] < before.counters["generation_tokens"]
    assert after.counters["abort"] == 0
    # energy keeps rising (it is a GPU counter, not reset by the server restart)
    energies = [p.energy_mj for p in pts]
    assert energies == sorted(energies)


def test_overload_queues_and_saturates() -> None:
    pts, _ = _run(days=1, step=300, rps=200.0)  # far beyond one H100
    assert max(p.gauges["waiting"] for p in pts) > 0
    assert max(p.gauges["running"] for p in pts) <= 256
    assert max(p.gpu_util for p in pts) == 1.0


def test_openmetrics_is_grouped_and_ends_with_eof() -> None:
    cfg = EndpointConfig(name="e", model="deepseek-v2-lite", gpu="l40s", gpus=2, rps=1.0)
    phys = cfg.physics(CAT)
    pts = list(simulate_endpoint(cfg, phys, START, 3600, 600, None, 0))
    buf = io.StringIO()
    n = write_openmetrics([Series(cfg, phys, pts)], buf)
    text = buf.getvalue()
    assert text.endswith("# EOF\n")
    fams = [line.split()[2] for line in text.splitlines() if line.startswith("# TYPE")]
    assert len(fams) == len(set(fams))  # every family appears once, contiguous
    assert "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION" in fams
    assert n == sum(1 for line in text.splitlines() if line and not line.startswith("#"))
    assert text.count('gpu="1"') > 0  # one DCGM series per GPU of the tensor-parallel pair
    assert all('emulated="true"' in line for line in text.splitlines() if line[:1] not in "#")


def test_prefix_cache_counters_are_plausible_and_seeded() -> None:
    pts, inc = _run(days=2, step=300)
    assert inc is not None
    q = [p.counters["prefix_queries"] for p in pts]
    h = [p.counters["prefix_hits"] for p in pts]
    assert all(b <= a for a, b in zip(q, h, strict=True))  # never more hits than lookups
    before = [p for p in pts if p.ts < inc.end][-1]
    assert before.counters["prefix_queries"] == before.counters["prompt_tokens"]
    rate = before.counters["prefix_hits"] / before.counters["prefix_queries"]
    assert 0.2 < rate < 0.6
    after = [p for p in pts if p.ts >= inc.restart_end]
    assert after[0].counters["prefix_hits"] < after[0].counters["prefix_queries"] * rate  # cold
    again, _ = _run(days=2, step=300)
    assert [p.counters["prefix_hits"] for p in again] == h  # seeded: the same every run
