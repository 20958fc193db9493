"""Stored benchmark runs, reduced once to what capacity at any SLO needs.

Every figure comes from the bench's own definitions (unitcost.bench.metrics): `summarize` for
the run-level figures (request rate, measured window, token counts), `request_metrics` for each
request's TTFT/TPOT/E2E, `meets_slo` for whether a request is good, `percentile` for quantiles.
The per-request metrics are computed once per run and kept, so asking the same runs about ten
SLOs costs ten cheap passes, not ten summaries.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import duckdb
from unitcost.bench import metrics

from unitcost import sqlfiles
from unitcost.store import fetch_dicts


@dataclass(frozen=True)
class ConfigKey:
    """What a capacity belongs to: model x quantization x engine x GPU type x GPUs.

    Names compare case-insensitively and a missing one reads as 'unknown', as the SQL does.
    """

    model: str
    quantization: str = "unknown"
    engine: str = "unknown"
    hardware: str = "unknown"
    gpu_count: int = 1

    def norm(self) -> ConfigKey:
        return ConfigKey(
            self.model.lower(),
            (self.quantization or "unknown").lower(),
            (self.engine or "unknown").lower(),
            (self.hardware or "unknown").lower(),
            int(self.gpu_count or 1),
        )

    def label(self) -> str:
        return (
            f"{self.model} {self.quantization} on {self.gpu_count}x {self.hardware} ({self.engine})"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "quantization": self.quantization,
            "engine": self.engine,
            "hardware": self.hardware,
            "gpu_count": self.gpu_count,
        }


@dataclass(frozen=True)
class RunEvidence:
    """One completed run: SLO-independent figures, and each ok request's metrics."""

    run_id: str
    config: ConfigKey  # as the run names it (original case)
    group_id: str | None
    from_capacity_search: bool
    emulated: bool
    price_ref: str | None
    parameter_count: int | None
    load: float  # mean requests in flight over the measured window (Little's law)
    request_rate: float  # ok requests per second (metrics.summarize)
    output_tokens_per_s: float
    requests_ok: int
    requests_failed: int
    mean_input_tokens: float  # per ok request
    mean_output_tokens: float
    per_request: tuple[Mapping[str, float | None], ...]  # request_metrics of each ok request

    def goodput_fraction(self, slo: Mapping[str, float]) -> float:
        """metrics.summarize's goodput_fraction at `slo`: good / (ok + failed)."""
        total = self.requests_ok + self.requests_failed
        if not total:
            return 0.0
        good = sum(1 for m in self.per_request if metrics.meets_slo(m, slo))
        return good / total

    def attains(self, slo: Mapping[str, float], attainment: float) -> bool:
        """goodput_fraction(slo) >= attainment, with each request judged by metrics.meets_slo
        and the pass stopped as soon as the rest cannot change the answer."""
        total = self.requests_ok + self.requests_failed
        if not total:
            return attainment <= 0.0
        good = 0
        left = len(self.per_request)
        for m in self.per_request:
            if good / total >= attainment:
                return True
            if (good + left) / total < attainment:
                return False
            good += metrics.meets_slo(m, slo)
            left -= 1
        return good / total >= attainment

    def quantile(self, term: str, q: float) -> float | None:
        """The q-quantile (0-1) of an SLO term's values over ok requests, in ms."""
        key = metrics.SLO_KEYS[term]
        vals = sorted(v for m in self.per_request if (v := m.get(key)) is not None)
        return metrics.percentile(vals, q * 100.0) if vals else None


def _reduce(meta: Mapping[str, Any], rows: list[dict[str, Any]]) -> RunEvidence | None:
    s = metrics.summarize(rows)
    ok = int(s["requests_ok"])
    duration = s["duration_s"]
    if not ok or not duration:
        return None
    measured = [r for r in rows if r["phase"] == "measure" and r["sent_ns"] is not None]
    busy_ns = sum(r["end_ns"] - r["sent_ns"] for r in measured if r["end_ns"] is not None)
    per = tuple(metrics.request_metrics(r) for r in measured if r["status"] == "ok")
    return RunEvidence(
        run_id=str(meta["run_id"]),
        config=ConfigKey(
            meta["model"], meta["quantization"], meta["engine"], meta["hardware"], meta["gpu_count"]
        ),
        group_id=meta["group_id"],
        from_capacity_search=bool(meta["from_capacity_search"]),
        emulated=bool(meta["emulated"]),
        price_ref=meta["price_ref"],
        parameter_count=meta["parameter_count"],
        load=busy_ns / metrics.NS_PER_S / duration,
        request_rate=float(s["request_rate"]),
        output_tokens_per_s=float(s["output_tokens_per_s"] or 0.0),
        requests_ok=ok,
        requests_failed=int(s["requests_failed"]),
        mean_input_tokens=s["input_tokens"] / ok,
        mean_output_tokens=s["output_tokens"] / ok,
        per_request=per,
    )


def load_evidence(
    con: duckdb.DuckDBPyConnection, config: ConfigKey | None = None
) -> dict[ConfigKey, list[RunEvidence]]:
    """Completed runs of one config (or of every config), grouped by normalised config."""
    c = config.norm() if config is not None else None
    runs = fetch_dicts(
        con,
        sqlfiles.load("queries", "capacity_bench_runs"),
        {
            "model": c.model if c else None,
            "quantization": c.quantization if c else None,
            "engine": c.engine if c else None,
            "hardware": c.hardware if c else None,
            "gpu_count": c.gpu_count if c else None,
        },
    )
    if not runs:
        return {}
    by_run: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in fetch_dicts(
        con,
        sqlfiles.load("queries", "capacity_run_requests"),
        {"run_ids": [r["run_id"] for r in runs]},
    ):
        by_run[r["run_id"]].append(r)
    out: dict[ConfigKey, list[RunEvidence]] = defaultdict(list)
    for meta in runs:
        ev = _reduce(meta, by_run.get(meta["run_id"], []))
        if ev is None:
            continue
        out[ev.config.norm()].append(ev)
    return dict(out)


def mean_shape(runs: Iterable[RunEvidence]) -> tuple[float, float]:
    """Mean (input, output) tokens per ok request over runs, weighted by requests."""
    rs = list(runs)
    n = sum(r.requests_ok for r in rs)
    if not n:
        return 0.0, 0.0
    return (
        sum(r.mean_input_tokens * r.requests_ok for r in rs) / n,
        sum(r.mean_output_tokens * r.requests_ok for r in rs) / n,
    )
