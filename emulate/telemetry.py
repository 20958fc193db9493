"""Write offline telemetry (offline.py) as OpenMetrics text or into the store.

OpenMetrics: one family at a time, each series' points in time order, histogram points as
bucket lines then _count and _sum at one timestamp, `# EOF` last: what
`promtool tsdb create-blocks-from openmetrics` accepts. The DCGM energy counter has no `_total`
suffix (dcgm-exporter's name), which OpenMetrics only allows for type `unknown`, so it is
declared so; its series name is the same as on a live scrape.

Store: rows go to metric_samples (one per sample, series_key = sorted `k="v"` label string,
source `emulate-offline:<endpoint>`), gpu_samples (source `dcgm`) and deployments (labels
emulated=true), buffered and written in short transactions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import pandas as pd
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


def write_store(store: Store, series: list[Series], *, batch_rows: int = 200_000) -> int:
    """Insert the samples into metric_samples/gpu_samples and the deployments; returns rows."""
    total = 0
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
    buf: list[dict[str, Any]] = []
    for s in series:
        source = f"emulate-offline:{s.cfg.name}"
        for fam, _, name, labels, get in samples(s):
            if fam.startswith("DCGM_"):
                continue
            key = _lab(labels)
            for p in s.points:
                buf.append(
                    {
                        "source": source,
                        "metric": name,
                        "series_key": key,
                        "labels": labels,
                        "ts": datetime.fromtimestamp(p.ts, UTC),
                        "value": float(get(p)),
                    }
                )
            if len(buf) >= batch_rows:
                total += _flush(store, "emulate_metric_samples_insert", buf)
        total += _flush(store, "emulate_metric_samples_insert", buf)
        gbuf: list[dict[str, Any]] = []
        used = int(s.phys.memory_used_per_gpu() + 0.5e9)
        mem_total = int(s.phys.gpu_memory_bytes)
        for i in range(s.phys.tp):
            uuid = gpu_uuid(s.cfg.name, i)
            for p in s.points:
                gbuf.append(
                    {
                        "host": f"emulated-{s.cfg.name}",
                        "gpu_uuid": uuid,
                        "ts": datetime.fromtimestamp(p.ts, UTC),
                        "source": "dcgm",
                        "gpu_index": i,
                        "gpu_model": s.phys.setup.gpu.name,
                        "util_gpu": p.gpu_util,
                        "mem_used_bytes": used,
                        "mem_total_bytes": mem_total,
                        "power_w": p.power_w,
                        "energy_mj": p.energy_mj / s.phys.tp,
                    }
                )
        total += _flush(store, "emulate_gpu_samples_insert", gbuf)
    return total


def _flush(store: Store, query: str, buf: list[dict[str, Any]]) -> int:
    if not buf:
        return 0
    df = pd.DataFrame(buf)
    n = len(df)
    with store.write() as con:
        con.register("emulate_rows", df)
        con.execute(sqlfiles.load("queries", query))
        con.unregister("emulate_rows")
    buf.clear()
    return n


def write_openmetrics_file(series: list[Series], path: Path) -> int:
    with path.open("w") as f:
        return write_openmetrics(series, f)
