"""DCGM exporter samples (from Prometheus or a direct scrape) as gpu_samples rows.

So GPUs watched by DCGM in a cluster and GPUs sampled locally through NVML land in one table
with one set of units (see collectors.gpu). Pure: samples in, rows out.
"""

from __future__ import annotations

from collections.abc import Iterable

from unitcost.collectors.gpu import MIB, GpuSample
from unitcost.collectors.intervals import Sample
from unitcost.collectors.metric_families import DCGM_SENTINEL

# DCGM field -> (GpuSample attribute, scale to our unit)
FIELDS: dict[str, tuple[str, float]] = {
    "DCGM_FI_DEV_GPU_UTIL": ("util_gpu", 0.01),
    "DCGM_FI_DEV_MEM_COPY_UTIL": ("util_mem", 0.01),
    "DCGM_FI_DEV_FB_USED": ("mem_used_bytes", MIB),
    "DCGM_FI_DEV_FB_TOTAL": ("mem_total_bytes", MIB),
    "DCGM_FI_DEV_POWER_USAGE": ("power_w", 1.0),
    "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION": ("energy_mj", 1.0),
    "DCGM_FI_DEV_SM_CLOCK": ("sm_clock_mhz", 1.0),
    "DCGM_FI_DEV_MEM_CLOCK": ("mem_clock_mhz", 1.0),
    "DCGM_FI_DEV_GPU_TEMP": ("temperature_c", 1.0),
    "DCGM_FI_PROF_SM_ACTIVE": ("sm_active", 1.0),
    "DCGM_FI_PROF_PIPE_TENSOR_ACTIVE": ("tensor_active", 1.0),
    "DCGM_FI_PROF_DRAM_ACTIVE": ("dram_active", 1.0),
}
_INTS = {"mem_used_bytes", "mem_total_bytes"}


def gpu_samples(samples: Iterable[Sample]) -> list[GpuSample]:
    """One GpuSample per (host, GPU UUID, time) seen in DCGM series; unsupported values NULL."""
    rows: dict[tuple[str, str, object], GpuSample] = {}
    for s in samples:
        field = FIELDS.get(s.metric)
        uuid = s.labels.get("gpu_uuid")
        if field is None or not uuid:
            continue
        host = s.labels.get("host") or s.labels.get("instance") or ""
        key = (host, uuid, s.ts)
        row = rows.get(key)
        if row is None:
            index = s.labels.get("gpu_index")
            row = rows[key] = GpuSample(
                host=host,
                gpu_uuid=uuid,
                ts=s.ts,
                source="dcgm",
                gpu_index=int(index) if index and index.isdigit() else None,
                gpu_model=s.labels.get("gpu_model"),
                pod=s.labels.get("pod") or None,
                namespace=s.labels.get("namespace") or None,
            )
        if s.value >= DCGM_SENTINEL:
            continue
        attr, scale = field
        value = s.value * scale
        setattr(row, attr, int(value) if attr in _INTS else value)
    return sorted(rows.values(), key=lambda r: (r.host, r.gpu_uuid, r.ts))
