"""nvidia-smi parsing on the recorded H100 capture; the collector without a GPU."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from unitcost.collectors import gpu

from tests.unit.collectors.conftest import FIXTURES
from unitcost.store import Store

CAPTURES = sorted((FIXTURES / "metrics").glob("nvidia-smi-capture-*.txt"))


def csv_block(capture: str, section: str) -> str:
    """The `--query-gpu` CSV printed under `# <section> :: query-gpu` in a capture."""
    lines = capture.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"# {section} :: query-gpu"))
    body = []
    for line in lines[start + 3 :]:
        if not line.strip() or line.startswith("#"):
            break
        body.append(line)
    return "\n".join(body)


@pytest.mark.parametrize("capture", CAPTURES, ids=lambda p: p.name)
def test_parse_query_gpu_idle_and_load(capture) -> None:  # type: ignore[no-untyped-def]
    text = capture.read_text()
    got = {}
    for section in ("idle", "load"):
        block = csv_block(text, section)
        (row,) = gpu.parse_smi_csv(block, host="h")
        ref = next(csv.DictReader(io.StringIO(block), skipinitialspace=True))
        assert row.gpu_uuid == ref["uuid"] and row.gpu_model == ref["name"]
        assert row.mem_total_bytes == int(ref["memory.total [MiB]"].split()[0]) * 1024 * 1024
        assert row.mem_used_bytes == int(ref["memory.used [MiB]"].split()[0]) * 1024 * 1024
        assert row.util_gpu == float(ref["utilization.gpu [%]"].split()[0]) / 100
        assert row.power_w == float(ref["power.draw [W]"].split()[0])
        assert row.sm_clock_mhz == float(ref["clocks.current.sm [MHz]"].split()[0])
        assert row.temperature_c == float(ref["temperature.gpu"])
        assert row.ts.tzinfo is not None and row.ts.year >= 2024
        got[section] = row
    assert "H100" in (got["idle"].gpu_model or "") or "H200" in (got["idle"].gpu_model or "")
    assert (got["load"].util_gpu or 0) > (got["idle"].util_gpu or 0)
    assert (got["load"].power_w or 0) > (got["idle"].power_w or 0)


def test_parse_nounits_and_missing_fields() -> None:
    text = (
        "timestamp, index, uuid, name, utilization.gpu, utilization.memory, memory.used, "
        "memory.total, power.draw, clocks.sm, clocks.mem, temperature.gpu\n"
        "2026/07/14 08:12:38.696, 0, GPU-1, NVIDIA H200, 87, 40, 1000, 143771, [N/A], 1980, "
        "3201, 51\n"
    )
    ts = datetime(2026, 1, 1, tzinfo=UTC)
    (row,) = gpu.parse_smi_csv(text, host="h", ts=ts)
    assert (row.util_gpu, row.util_mem, row.power_w, row.gpu_index, row.ts) == (
        0.87,
        0.40,
        None,
        0,
        ts,
    )
    assert row.mem_total_bytes == 143771 * 1024 * 1024


def test_samples_stored_with_units(cstore: Store) -> None:
    s = gpu.GpuSample(
        host="h",
        gpu_uuid="GPU-1",
        ts=datetime(2026, 1, 1, tzinfo=UTC),
        source="nvml",
        util_gpu=0.5,
        power_w=300.0,
        energy_mj=1e6,
    )
    assert gpu.write_samples(cstore, [s, s]) == 2
    with cstore.read() as con:
        assert con.execute("SELECT count(*), max(power_w) FROM gpu_samples").fetchone() == (
            1,
            300.0,
        )


def _has_gpu() -> bool:
    import shutil

    import pynvml

    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError:
        return shutil.which("nvidia-smi") is not None
    pynvml.nvmlShutdown()
    return True


def test_collect_here(cstore: Store) -> None:
    """Without a GPU: a plain NoGpuError naming both backends; with one: rows are written."""
    if _has_gpu():
        assert gpu.collect(cstore, count=2, every_s=0.1) >= 2
        return
    with pytest.raises(gpu.NoGpuError, match=r"no NVIDIA GPU found \(NVML: .*nvidia-smi"):
        gpu.collect(cstore, count=1)
    with cstore.read() as con:
        assert con.execute("SELECT count(*) FROM collector_runs").fetchone() == (0,)


def test_dcgm_text_becomes_gpu_samples() -> None:
    from unitcost.collectors import dcgm, scrape

    ts = datetime(2026, 1, 1, tzinfo=UTC)
    samples = scrape.parse_text(
        (FIXTURES / "metrics" / "dcgm-exporter-datadog-fixture-t4-a10g.txt").read_text(), ts
    )
    rows = dcgm.gpu_samples(samples)
    power = {
        s.labels["gpu_uuid"]: s.value for s in samples if s.metric == "DCGM_FI_DEV_POWER_USAGE"
    }
    fb = {s.labels["gpu_uuid"]: s.value for s in samples if s.metric == "DCGM_FI_DEV_FB_USED"}
    util = {s.labels["gpu_uuid"]: s.value for s in samples if s.metric == "DCGM_FI_DEV_GPU_UTIL"}
    seen = {
        s.labels["gpu_uuid"] for s in samples if s.metric in dcgm.FIELDS and "gpu_uuid" in s.labels
    }
    assert {r.gpu_uuid for r in rows} == seen and len(rows) == len(seen) >= 2
    assert set(power) <= seen
    for r in rows:
        assert r.source == "dcgm" and r.ts == ts and r.host
        assert r.power_w == power.get(r.gpu_uuid)
        if r.gpu_uuid in fb:
            assert r.mem_used_bytes == int(fb[r.gpu_uuid] * 1024 * 1024)
        if r.gpu_uuid in util:
            assert r.util_gpu == util[r.gpu_uuid] / 100


def test_parse_real_h200_query_recorded_by_device_check() -> None:
    """The exact command smi_sample() runs, as a real H200 answered it (nounits, idle)."""
    text = (FIXTURES / "metrics" / "nvidia-smi-query-h200-idle-580.159.04.csv").read_text()
    header = [h.split(" [", 1)[0] for h in text.splitlines()[0].split(", ")]
    # nvidia-smi answers alias fields (clocks.sm) under their canonical names (clocks.current.sm)
    assert len(header) == len(gpu.SMI_FIELDS) and header[:3] == list(gpu.SMI_FIELDS[:3])
    (row,) = gpu.parse_smi_csv(text, host="h200-box")
    assert row.gpu_model == "NVIDIA H200"
    assert row.gpu_uuid == "GPU-318eb115-59df-d31a-3373-156ffc6393ca"
    assert row.mem_total_bytes == 143771 * 1024 * 1024
    assert row.mem_used_bytes == 0 and row.util_gpu == 0.0
    assert row.power_w == 79.79 and row.sm_clock_mhz == 345.0 and row.temperature_c == 33.0
    assert row.ts == datetime(2026, 11, 28, 15, 38, 11, 942000, tzinfo=UTC)
