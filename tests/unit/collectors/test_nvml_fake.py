"""The NVML sampler's unit handling and GPM flow, against a stand-in pynvml module.

NVML cannot run without a GPU, so this is the one place a fake is used; the real library is
exercised by scripts/gpu_check.sh on a GPU machine.
"""

from __future__ import annotations

import sys
import types
from typing import Any

import pytest
from unitcost.collectors import gpu


class NVMLError(Exception):
    pass


def fake_pynvml(*, gpm: bool) -> types.ModuleType:
    m = types.ModuleType("pynvml")
    state: dict[str, Any] = {"freed": 0, "shutdown": False}

    class Metric:
        def __init__(self) -> None:
            self.metricId = 0
            self.value = 0.0

    class MetricsGet:
        def __init__(self) -> None:
            self.metrics = [Metric() for _ in range(3)]

    def metrics_get(mg: MetricsGet) -> MetricsGet:
        for metric in mg.metrics:
            metric.value = {2: 40.0, 5: 25.0, 10: 60.0}[metric.metricId]
        return mg

    def free(_s: object) -> None:
        state["freed"] += 1

    m.__dict__.update(
        NVMLError=NVMLError,
        NVML_CLOCK_SM=1,
        NVML_CLOCK_MEM=2,
        NVML_TEMPERATURE_GPU=0,
        NVML_GPM_METRIC_SM_UTIL=2,
        NVML_GPM_METRIC_ANY_TENSOR_UTIL=5,
        NVML_GPM_METRIC_DRAM_BW_UTIL=10,
        NVML_GPM_METRICS_GET_VERSION=1,
        nvmlInit=lambda: None,
        nvmlShutdown=lambda: state.update(shutdown=True),
        nvmlDeviceGetCount=lambda: 1,
        nvmlDeviceGetHandleByIndex=lambda i: f"h{i}",
        nvmlDeviceGetUUID=lambda h: "GPU-abc",
        nvmlDeviceGetName=lambda h: "NVIDIA H200",
        nvmlDeviceGetUtilizationRates=lambda h: types.SimpleNamespace(gpu=87, memory=40),
        nvmlDeviceGetMemoryInfo=lambda h: types.SimpleNamespace(used=2**30, total=141 * 2**30),
        nvmlDeviceGetPowerUsage=lambda h: 512_345,  # mW
        nvmlDeviceGetTotalEnergyConsumption=lambda h: 9_000_000,  # mJ
        nvmlDeviceGetClockInfo=lambda h, kind: 1980 if kind == 1 else 3201,
        nvmlDeviceGetTemperature=lambda h, kind: 51,
        nvmlGpmQueryDeviceSupport=lambda h: types.SimpleNamespace(isSupportedDevice=int(gpm)),
        nvmlGpmSampleAlloc=lambda: object(),
        nvmlGpmSampleGet=lambda h, s: s,
        nvmlGpmSampleFree=free,
        c_nvmlGpmMetricsGet_t=MetricsGet,
        nvmlGpmMetricsGet=metrics_get,
    )
    m.state = state  # type: ignore[attr-defined]
    return m


@pytest.mark.parametrize("gpm", [True, False])
def test_nvml_units_and_gpm(monkeypatch: pytest.MonkeyPatch, gpm: bool) -> None:
    fake = fake_pynvml(gpm=gpm)
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    sampler = gpu.NvmlSampler("host1")
    first, second = sampler.sample()[0], sampler.sample()[0]
    sampler.close()
    assert (first.util_gpu, first.util_mem, first.power_w) == (0.87, 0.40, 512.345)
    assert (first.mem_total_bytes, first.energy_mj, first.sm_clock_mhz) == (
        141 * 2**30,
        9_000_000,
        1980,
    )
    assert first.gpu_model == "NVIDIA H200" and first.temperature_c == 51
    assert first.sm_active is None  # GPM needs two samples
    if gpm:
        assert (second.sm_active, second.tensor_active, second.dram_active) == (0.4, 0.25, 0.6)
    else:
        assert second.sm_active is None and second.tensor_active is None
    assert fake.state["shutdown"]  # type: ignore[attr-defined]


def test_nvml_without_library_is_no_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = fake_pynvml(gpm=False)

    def fail() -> None:
        raise NVMLError("NVML Shared Library Not Found")

    fake.nvmlInit = fail  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    with pytest.raises(gpu.NoGpuError, match="NVML: NVML Shared Library Not Found"):
        gpu.NvmlSampler("h")
