"""GPU samples from NVML (nvidia-ml-py), with `nvidia-smi --query-gpu` CSV as the fallback.

Units stored (gpu_samples): utilization as 0-1 fractions, memory in bytes, power in W,
energy as NVML's cumulative millijoule counter, clocks in MHz, temperature in degrees C.
SM, tensor and DRAM activity come from GPM (Hopper and newer) and are NULL where unsupported.
On a machine without an NVIDIA GPU the collector raises NoGpuError, which the CLI reports as a
plain message with exit status 0: having no GPU is a fact about the machine, not a failure.
"""

from __future__ import annotations

import csv
import io
import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

import pyarrow as pa
from unitcost.collectors import rollups
from unitcost.collectors.base import collector_run, utc_session

from unitcost.errors import CollectorError
from unitcost.store import Store

SMI_FIELDS = [
    "timestamp",
    "index",
    "uuid",
    "name",
    "utilization.gpu",
    "utilization.memory",
    "memory.used",
    "memory.total",
    "power.draw",
    "clocks.sm",
    "clocks.mem",
    "temperature.gpu",
]
MIB = 1024 * 1024


class NoGpuError(CollectorError):
    """Neither NVML nor nvidia-smi found a GPU on this machine."""


@dataclass
class GpuSample:
    """One row of gpu_samples, in its column order."""

    host: str
    gpu_uuid: str
    ts: datetime
    source: str
    gpu_index: int | None = None
    gpu_model: str | None = None
    util_gpu: float | None = None
    util_mem: float | None = None
    mem_used_bytes: int | None = None
    mem_total_bytes: int | None = None
    power_w: float | None = None
    energy_mj: float | None = None
    sm_clock_mhz: float | None = None
    mem_clock_mhz: float | None = None
    temperature_c: float | None = None
    sm_active: float | None = None
    tensor_active: float | None = None
    dram_active: float | None = None
    pod: str | None = None
    namespace: str | None = None


_SCHEMA = pa.schema(
    [
        ("host", pa.string()),
        ("gpu_uuid", pa.string()),
        ("ts", pa.timestamp("us", tz="UTC")),
        ("source", pa.string()),
        ("gpu_index", pa.int32()),
        ("gpu_model", pa.string()),
        *((c, pa.float64()) for c in ("util_gpu", "util_mem")),
        *((c, pa.int64()) for c in ("mem_used_bytes", "mem_total_bytes")),
        *(
            (c, pa.float64())
            for c in (
                "power_w",
                "energy_mj",
                "sm_clock_mhz",
                "mem_clock_mhz",
                "temperature_c",
                "sm_active",
                "tensor_active",
                "dram_active",
            )
        ),
        ("pod", pa.string()),
        ("namespace", pa.string()),
    ]
)


# ---------------------------------------------------------------------------- nvidia-smi
def _smi_value(text: str) -> str | None:
    """`[N/A]`, `[Not Supported]`, `[Requested functionality ...]` and `N/A` are missing."""
    v = text.strip()
    if not v or v.startswith("[") or v in ("N/A", "Not Supported"):
        return None
    return v


def _num(text: str | None) -> float | None:
    """`81559 MiB`, `37 %`, `69.52 W` -> the number (units are fixed per column)."""
    if text is None:
        return None
    try:
        return float(text.split()[0])
    except (ValueError, IndexError):
        return None


def _smi_time(text: str | None, tz: tzinfo | None) -> datetime | None:
    """nvidia-smi's `timestamp` is the machine's local wall time, without a zone: read it in
    `tz` (None: this machine's zone, with its daylight-saving rule for that date), in UTC."""
    if text is None:
        return None
    for fmt in ("%Y/%m/%d %H:%M:%S.%f", "%Y/%m/%d %H:%M:%S"):
        try:
            local = datetime.strptime(text, fmt)
        except ValueError:
            continue
        aware = local.replace(tzinfo=tz) if tz is not None else local.astimezone()
        return aware.astimezone(UTC)
    return None


def parse_smi_csv(
    text: str, *, host: str, ts: datetime | None = None, tz: tzinfo | None = None
) -> list[GpuSample]:
    """Pure: `nvidia-smi --query-gpu=... --format=csv` (header, units or not) -> samples.

    nvidia-smi prints its timestamp in the local time of the machine it ran on, without a zone:
    a capture's time is read in `tz` (default: this machine's zone) and stored in UTC. The
    sampler passes its own UTC time as `ts` instead.
    """
    rows = list(csv.reader(io.StringIO(text.strip()), skipinitialspace=True))
    if not rows:
        return []
    header = [h.split(" [", 1)[0].strip() for h in rows[0]]
    out = []
    for raw in rows[1:]:
        if len(raw) != len(header):
            raise CollectorError(
                f"nvidia-smi CSV: a row has {len(raw)} fields, the header {len(header)}"
            )
        r = {h: _smi_value(v) for h, v in zip(header, raw, strict=True)}
        uuid = r.get("uuid")
        if uuid is None:
            continue
        util, mem_util = _num(r.get("utilization.gpu")), _num(r.get("utilization.memory"))
        used, total = _num(r.get("memory.used")), _num(r.get("memory.total"))
        index = _num(r.get("index"))
        out.append(
            GpuSample(
                host=r.get("hostname") or host,
                gpu_uuid=uuid,
                ts=ts or _smi_time(r.get("timestamp"), tz) or datetime.now(UTC),
                source="nvidia-smi",
                gpu_index=int(index) if index is not None else None,
                gpu_model=r.get("name"),
                util_gpu=util / 100 if util is not None else None,
                util_mem=mem_util / 100 if mem_util is not None else None,
                mem_used_bytes=int(used * MIB) if used is not None else None,
                mem_total_bytes=int(total * MIB) if total is not None else None,
                power_w=_num(r.get("power.draw")),
                sm_clock_mhz=_num(r.get("clocks.sm") or r.get("clocks.current.sm")),
                mem_clock_mhz=_num(r.get("clocks.mem") or r.get("clocks.current.memory")),
                temperature_c=_num(r.get("temperature.gpu")),
            )
        )
    return out


def smi_sample(host: str) -> list[GpuSample]:
    """One `nvidia-smi --query-gpu` call; NoGpuError when it is missing or finds no GPU."""
    exe = shutil.which("nvidia-smi")
    if exe is None:
        raise NoGpuError("nvidia-smi is not on PATH")
    proc = subprocess.run(
        [exe, f"--query-gpu={','.join(SMI_FIELDS)}", "--format=csv,nounits"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if proc.returncode != 0:
        raise NoGpuError(f"nvidia-smi failed: {proc.stderr.strip() or proc.stdout.strip()}")
    return parse_smi_csv(proc.stdout, host=host, ts=datetime.now(UTC))


# ---------------------------------------------------------------------------- NVML
class NvmlSampler:
    """NVML handles opened once; `sample()` reads every GPU, GPM where supported."""

    def __init__(self, host: str) -> None:
        import pynvml  # type: ignore[import-untyped]

        self.nv = pynvml
        self.host = host
        try:
            pynvml.nvmlInit()
        except pynvml.NVMLError as exc:
            raise NoGpuError(f"NVML: {exc}") from exc
        n = pynvml.nvmlDeviceGetCount()
        if n == 0:
            pynvml.nvmlShutdown()
            raise NoGpuError("NVML found no GPU")
        self.handles = [pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(n)]
        self.gpm_prev: dict[int, Any] = {}

    def close(self) -> None:
        for s in self.gpm_prev.values():
            self._try(self.nv.nvmlGpmSampleFree, s)
        self.nv.nvmlShutdown()

    def _try(self, fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return fn(*args)
        except self.nv.NVMLError:
            return None
        except (AttributeError, TypeError):  # an older nvidia-ml-py without this call
            return None

    def _gpm(self, i: int, h: Any) -> tuple[float | None, float | None, float | None]:
        """SM, tensor and DRAM activity (0-1) between this call and the previous one."""
        nv = self.nv
        support = self._try(nv.nvmlGpmQueryDeviceSupport, h)
        if support is None or not getattr(support, "isSupportedDevice", 0):
            return None, None, None
        cur = self._try(nv.nvmlGpmSampleAlloc)
        if cur is None:
            return None, None, None
        if self._try(nv.nvmlGpmSampleGet, h, cur) is None:  # returns the sample on success
            self._try(nv.nvmlGpmSampleFree, cur)
            return None, None, None
        prev = self.gpm_prev.get(i)
        self.gpm_prev[i] = cur
        if prev is None:
            return None, None, None
        ids = [
            nv.NVML_GPM_METRIC_SM_UTIL,
            nv.NVML_GPM_METRIC_ANY_TENSOR_UTIL,
            nv.NVML_GPM_METRIC_DRAM_BW_UTIL,
        ]
        mg = nv.c_nvmlGpmMetricsGet_t()
        mg.version = nv.NVML_GPM_METRICS_GET_VERSION
        mg.numMetrics = len(ids)
        mg.sample1, mg.sample2 = prev, cur
        for k, mid in enumerate(ids):
            mg.metrics[k].metricId = mid
        got = self._try(nv.nvmlGpmMetricsGet, mg)
        self._try(nv.nvmlGpmSampleFree, prev)
        if got is None:
            return None, None, None
        vals = [float(mg.metrics[k].value) / 100 for k in range(len(ids))]
        return vals[0], vals[1], vals[2]

    def sample(self) -> list[GpuSample]:
        nv, ts = self.nv, datetime.now(UTC)
        out = []
        for i, h in enumerate(self.handles):
            uuid = self._try(nv.nvmlDeviceGetUUID, h)
            util = self._try(nv.nvmlDeviceGetUtilizationRates, h)
            mem = self._try(nv.nvmlDeviceGetMemoryInfo, h)
            power = self._try(nv.nvmlDeviceGetPowerUsage, h)
            sm, tensor, dram = self._gpm(i, h)
            out.append(
                GpuSample(
                    host=self.host,
                    gpu_uuid=str(uuid or f"index-{i}"),
                    ts=ts,
                    source="nvml",
                    gpu_index=i,
                    gpu_model=self._try(nv.nvmlDeviceGetName, h),
                    util_gpu=util.gpu / 100 if util is not None else None,
                    util_mem=util.memory / 100 if util is not None else None,
                    mem_used_bytes=int(mem.used) if mem is not None else None,
                    mem_total_bytes=int(mem.total) if mem is not None else None,
                    power_w=power / 1000 if power is not None else None,
                    energy_mj=self._try(nv.nvmlDeviceGetTotalEnergyConsumption, h),
                    sm_clock_mhz=self._try(nv.nvmlDeviceGetClockInfo, h, nv.NVML_CLOCK_SM),
                    mem_clock_mhz=self._try(nv.nvmlDeviceGetClockInfo, h, nv.NVML_CLOCK_MEM),
                    temperature_c=self._try(
                        nv.nvmlDeviceGetTemperature, h, nv.NVML_TEMPERATURE_GPU
                    ),
                    sm_active=sm,
                    tensor_active=tensor,
                    dram_active=dram,
                )
            )
        return out


def write_samples(store: Store, samples: list[GpuSample]) -> int:
    """One transaction; a sample already stored (same host, GPU, time and source) is replaced."""
    if not samples:
        return 0
    table = pa.Table.from_pylist([asdict(s) for s in samples], schema=_SCHEMA)
    with store.write() as con:
        utc_session(con)
        rollups.store_gpu_samples(con, table)
    return len(samples)


def collect(
    store: Store,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    client: Any = None,
    every_s: float = 1.0,
    count: int | None = 10,
    backend: str = "auto",
    on_sample: Callable[[int], None] | None = None,
) -> int:
    """Sample every GPU `count` times (None: until `until` or Ctrl-C), one transaction each.

    backend: auto (NVML, else nvidia-smi), nvml, nvidia-smi. `client` may be a ready sampler
    (anything with sample() -> list[GpuSample]). Raises NoGpuError where there is no GPU.
    """
    del since
    host = socket.gethostname()
    sampler: Any = client
    reasons = []
    if sampler is None and backend in ("auto", "nvml"):
        try:
            sampler = NvmlSampler(host)
        except NoGpuError as exc:
            reasons.append(str(exc))
            if backend == "nvml":
                raise
    if sampler is None:
        try:
            smi_sample(host)
        except NoGpuError as exc:
            reasons.append(str(exc))
            raise NoGpuError("no NVIDIA GPU found (" + "; ".join(reasons) + ")") from exc
        sampler = _SmiSampler(host)
    source = "nvml" if isinstance(sampler, NvmlSampler) else "nvidia-smi"
    try:
        with collector_run(store, "gpu", f"{source}@{host}") as run:
            n = 0
            while count is None or n < count:
                if until is not None and datetime.now(UTC) >= until:
                    break
                t = time.monotonic()
                run.rows += write_samples(store, sampler.sample())
                n += 1
                if on_sample is not None:
                    on_sample(run.rows)
                if count is None or n < count:
                    time.sleep(max(0.0, every_s - (time.monotonic() - t)))
            return run.rows
    finally:
        if isinstance(sampler, NvmlSampler):
            sampler.close()


class _SmiSampler:
    def __init__(self, host: str) -> None:
        self.host = host

    def sample(self) -> list[GpuSample]:
        return smi_sample(self.host)
