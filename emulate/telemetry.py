"""Write offline telemetry (offline.py) as OpenMetrics text or into the store.

OpenMetrics: one family at a time, each series' points in time order, histogram points as
bucket lines then _count and _sum at one timestamp, `# EOF` last: what
`promtool tsdb create-blocks-from openmetrics` accepts. The DCGM energy counter has no `_total`
suffix (dcgm-exporter's name), which OpenMetrics only allows for type `unknown`, so it is
declared so; its series name is the same as on a live scrape.

Every series carries `emulated="true"` and `unitcost_deployment="<endpoint>"`, and an info
gauge `unitcost_emulated{unitcost_deployment, model, parameter_count, ..., gpu, gpu_count} 1`
describes the deployment, so a span backfilled into Prometheus and pulled back with
`collect prometheus` lands under the deployment `emulate offline` stands for, marked emulated.

Store: the same series go through the metric store (collectors.metric_store.write), source
`emulate-offline:<endpoint>`, a day per transaction: metric_series/metric_points, gpu_samples
from the DCGM series (host `emulated-<endpoint>`), metric_intervals derived in step, and the
deployment itself (labels emulated=true). Written into the store or pulled from Prometheus,
the same span gives the same intervals.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import numpy as np
from unitcost.collectors import metric_families as mf
from unitcost.collectors import metric_store
from unitcost.collectors.intervals import DEFAULT_INTERVAL_S, interval_for_step
from unitcost.collectors.metric_store import SampleBatch
from unitcost.emulate.fleet import EndpointConfig
from unitcost.emulate.metrics import ITL_BUCKETS, LATENCY_BUCKETS, TTFT_BUCKETS
from unitcost.emulate.offline import Point
from unitcost.emulate.physics import Physics

from unitcost import sqlfiles
from unitcost.store import Store

MIB = 1024 * 1024
_COUNTERS = (
    ("vllm:prompt_tokens", "prompt_tokens", None),
    ("vllm:generation_tokens", "generation_tokens", None),
    ("vllm:prefix_cache_queries", "prefix_queries", None),
    ("vllm:prefix_cache_hits", "prefix_hits", None),
)
_GAUGES = (
    ("vllm:num_requests_running", "running"),
    ("vllm:num_requests_waiting", "waiting"),
    ("vllm:kv_cache_usage_perc", "kv"),
)
_HISTS = (
    ("vllm:time_to_first_token_seconds", "ttft", TTFT_BUCKETS),
    ("vllm:inter_token_latency_seconds", "itl", ITL_BUCKETS),
    ("vllm:e2e_request_latency_seconds", "e2e", LATENCY_BUCKETS),
)


@dataclass
class Series:
    """One endpoint's points plus what labels them."""

    cfg: EndpointConfig
    phys: Physics
    points: list[Point]

    def labels(self) -> dict[str, str]:
        return {
            "model_name": self.cfg.served_model_name or self.phys.setup.model.name,
            "engine": "0",
            "job": "unitcost-emulate",
            "instance": f"{self.cfg.host}:{self.cfg.port}",
            "emulated": "true",
            "unitcost_deployment": self.cfg.name,
        }

    def info_labels(self) -> dict[str, str]:
        """The emulator's info gauge: what the deployment runs (the store registers it)."""
        st = self.phys.setup
        return {
            "model_name": self.cfg.served_model_name or st.model.name,
            "model": st.model.name,
            "parameter_count": str(int(st.model.params)),
            "active_parameter_count": str(int(st.model.active)),
            "quantization": st.quant.id,
            "serving_engine": st.engine.id,
            "gpu": st.gpu.id,
            "gpu_count": str(st.gpus),
            "job": "unitcost-emulate",
            "instance": f"{self.cfg.host}:{self.cfg.port}",
            "emulated": "true",
            "unitcost_deployment": self.cfg.name,
        }

    def gpu_labels(self, i: int) -> dict[str, str]:
        return {
            "gpu": str(i),
            "UUID": gpu_uuid(self.cfg.name, i),
            "device": f"nvidia{i}",
            "modelName": self.phys.setup.gpu.name,
            "Hostname": f"emulated-{self.cfg.name}",
            "job": "unitcost-emulate",
            "instance": f"{self.cfg.host}:{self.cfg.port}",
            "emulated": "true",
            "unitcost_deployment": self.cfg.name,
        }


def gpu_uuid(name: str, i: int) -> str:
    import hashlib

    d = hashlib.sha1(f"offline/{name}".encode()).hexdigest()
    return f"GPU-{d[:8]}-{d[8:12]}-{d[12:16]}-{i:04d}-emulated"


def _lab(labels: dict[str, str]) -> str:
    return ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))


Getter = Callable[[Point], float]


def _get(kind: str, key: str, index: int | None = None) -> Getter:
    """A value getter for one series: counters/gauges by key, histograms by key and index."""

    def get(p: Point) -> float:
        if kind == "hists":
            assert index is not None
            return p.hists[key][index]
        return p.counters[key] if kind == "counters" else p.gauges[key]

    return get


def _gpu(what: str, tp: int) -> Getter:
    def get(p: Point) -> float:
        if what == "util":
            return float(round(p.gpu_util * 100))
        if what == "power":
            return round(p.power_w, 3)
        return float(int(p.energy_mj / tp))

    return get


def _const(value: float) -> Getter:
    return lambda _p: value


def samples(s: Series) -> Iterable[tuple[str, str, str, dict[str, str], Getter]]:
    """(family, type, sample name, labels, value getter) for every series of one endpoint."""
    base = s.labels()
    yield mf.EMULATED_INFO, "gauge", mf.EMULATED_INFO, s.info_labels(), _const(1.0)
    for fam, key, _ in _COUNTERS:
        yield fam, "counter", f"{fam}_total", base, _get("counters", key)
    for reason in ("stop", "length", "abort"):
        lab = {**base, "finished_reason": reason}
        yield (
            "vllm:request_success",
            "counter",
            "vllm:request_success_total",
            lab,
            _get("counters", reason),
        )
    for fam, key in _GAUGES:
        yield fam, "gauge", fam, base, _get("gauges", key)
    for fam, key, bounds in _HISTS:
        for i, b in enumerate((*bounds, float("inf"))):
            le = "+Inf" if b == float("inf") else repr(float(b))
            yield (
                fam,
                "histogram",
                f"{fam}_bucket",
                {**base, "le": le},
                _get("hists", key, i),
            )
        n = len(bounds)
        yield fam, "histogram", f"{fam}_count", base, _get("hists", key, n)
        yield fam, "histogram", f"{fam}_sum", base, _get("hists", key, n + 1)
    tp = s.phys.tp
    used = s.phys.memory_used_per_gpu() + 0.5e9
    for i in range(tp):
        gl = s.gpu_labels(i)
        yield (
            "DCGM_FI_DEV_GPU_UTIL",
            "gauge",
            "DCGM_FI_DEV_GPU_UTIL",
            gl,
            _gpu("util", 1),
        )
        yield "DCGM_FI_DEV_FB_USED", "gauge", "DCGM_FI_DEV_FB_USED", gl, _const(int(used / MIB))
        yield (
            "DCGM_FI_DEV_POWER_USAGE",
            "gauge",
            "DCGM_FI_DEV_POWER_USAGE",
            gl,
            _gpu("power", 1),
        )
        yield (
            "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION",
            "unknown",
            ("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION"),
            gl,
            _gpu("energy", tp),
        )


def write_openmetrics(series: list[Series], out: IO[str]) -> int:
    """Write every family, grouped, in time order; returns the number of sample lines."""
    fams: dict[str, list[tuple[str, str, Series, dict[str, str], Callable[[Point], float]]]] = {}
    for s in series:
        for fam, kind, name, labels, get in samples(s):
            fams.setdefault(fam, []).append((kind, name, s, labels, get))
    n = 0
    for fam, rows in fams.items():
        kind = rows[0][0]
        out.write(f"# TYPE {fam} {kind}\n# HELP {fam} Emulated by unitcost (offline).\n")
        if kind == "histogram":
            n += _write_hist_family(rows, out)
            continue
        for _, name, s, labels, get in rows:
            lab = _lab(labels)
            for p in s.points:
                out.write(f"{name}{{{lab}}} {_num(get(p))} {p.ts:.3f}\n")
                n += 1
    out.write("# EOF\n")
    return n


def _write_hist_family(
    rows: list[tuple[str, str, Series, dict[str, str], Callable[[Point], float]]], out: IO[str]
) -> int:
    n = 0
    by_series: dict[int, list[tuple[str, dict[str, str], Callable[[Point], float]]]] = {}
    owners: dict[int, Series] = {}
    for _, name, s, labels, get in rows:
        by_series.setdefault(id(s), []).append((name, labels, get))
        owners[id(s)] = s
    for key, lines in by_series.items():
        prepared = [(name, _lab(labels), get) for name, labels, get in lines]
        for p in owners[key].points:
            for name, lab, get in prepared:
                out.write(f"{name}{{{lab}}} {_num(get(p))} {p.ts:.3f}\n")
                n += 1
    return n


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else repr(float(v))


def write_store(
    store: Store,
    series: list[Series],
    *,
    piece_s: float = 86_400.0,
    on_piece: Callable[[str, datetime, int], None] | None = None,
) -> int:
    """Register the deployments, then store every series through the metric store, a day of
    one endpoint per transaction (its samples, GPU rows and intervals); returns samples.
    on_piece(endpoint, piece end, samples) reports each transaction."""
    with store.write() as con:
        for s in series:
            con.execute(sqlfiles.load("queries", "emulate_deployment_delete"), [s.cfg.name])
            st = s.phys.setup
            con.execute(
                sqlfiles.load("queries", "emulate_deployment_insert"),
                [
                    s.cfg.name,
                    st.model.name,
                    int(st.model.params),
                    int(st.model.active),
                    st.quant.id,
                    st.engine.id,
                    st.gpu.id.upper(),
                    st.gpus,
                    {"emulated": "true", "endpoint": s.cfg.name},
                ],
            )
    total = 0
    for s in series:
        if not s.points:
            continue
        source = f"emulate-offline:{s.cfg.name}"
        rows = list(samples(s))
        ts = np.array([p.ts for p in s.points], dtype=np.float64)
        step_s = float(np.median(np.diff(ts))) if len(ts) > 1 else float(DEFAULT_INTERVAL_S)
        interval_s = interval_for_step(step_s)
        lo, end = ts[0], ts[-1] + 1e-3
        while lo < end:
            hi = min(lo + piece_s, end)
            a, b = (int(i) for i in np.searchsorted(ts, [lo, hi]))
            batch = SampleBatch()
            for _fam, _kind, name, labels, get in rows:
                batch.add(name, labels, ts[a:b], [float(get(p)) for p in s.points[a:b]])
            with store.write() as con:
                n = metric_store.write(
                    con,
                    batch,
                    source=source,
                    kind="emulate",
                    replace=(_utc(lo), _utc(hi)),
                    interval_s=interval_s,
                )
            total += n
            if on_piece is not None:
                on_piece(s.cfg.name, _utc(hi), n)
            lo = hi
    return total


def _utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def write_openmetrics_file(series: list[Series], path: Path) -> int:
    with path.open("w") as f:
        return write_openmetrics(series, f)
