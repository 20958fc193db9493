"""nvidia-smi parsing on the recorded H100 capture; the collector without a GPU."""

from __future__ import annotations

import csv
import io
import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from unitcost.collectors import gpu, rollups

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


def test_parse_real_h200_query_recorded_by_device_check() -> None:
    """The exact command smi_sample() runs, as a real H200 answered it (nounits, idle)."""
    text = (FIXTURES / "metrics" / "nvidia-smi-query-h200-idle-580.159.04.csv").read_text()
    header = [h.split(" [", 1)[0] for h in text.splitlines()[0].split(", ")]
    # nvidia-smi answers alias fields (clocks.sm) under their canonical names (clocks.current.sm)
    assert len(header) == len(gpu.SMI_FIELDS) and header[:3] == list(gpu.SMI_FIELDS[:3])
    (row,) = gpu.parse_smi_csv(text, host="h200-box", tz=UTC)  # recorded on a UTC machine
    assert row.gpu_model == "NVIDIA H200"
    assert row.gpu_uuid == "GPU-318eb115-59df-d31a-3373-156ffc6393ca"
    assert row.mem_total_bytes == 143771 * 1024 * 1024
    assert row.mem_used_bytes == 0 and row.util_gpu == 0.0
    assert row.power_w == 79.79 and row.sm_clock_mhz == 345.0 and row.temperature_c == 33.0
    assert row.ts == datetime(2026, 11, 28, 15, 38, 11, 942000, tzinfo=UTC)


def test_smi_timestamp_is_local_time() -> None:
    """nvidia-smi prints the machine's local wall time: read in its zone, stored in UTC."""
    text = (FIXTURES / "metrics" / "nvidia-smi-query-h200-idle-580.159.04.csv").read_text()
    (ny,) = gpu.parse_smi_csv(text, host="h", tz=ZoneInfo("America/New_York"))  # EST in Nov
    assert ny.ts == datetime(2026, 11, 28, 20, 38, 11, 942000, tzinfo=UTC)
    summer = text.replace("2026/11/28", "2026/07/28")
    (dst,) = gpu.parse_smi_csv(summer, host="h", tz=ZoneInfo("America/New_York"))  # EDT
    assert dst.ts == datetime(2026, 7, 28, 19, 38, 11, 942000, tzinfo=UTC)


def test_smi_timestamp_default_is_this_machines_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    text = (FIXTURES / "metrics" / "nvidia-smi-query-h200-idle-580.159.04.csv").read_text()
    monkeypatch.setenv("TZ", "Asia/Kolkata")
    time.tzset()
    try:
        (row,) = gpu.parse_smi_csv(text, host="h")
    finally:
        monkeypatch.undo()
        time.tzset()
    assert row.ts == datetime(2026, 11, 28, 10, 8, 11, 942000, tzinfo=UTC)  # UTC+05:30


def test_hourly_energy_is_a_counter_across_hours_and_resets(cstore: Store) -> None:
    """Energy counted like any counter: an hour gets the increase since the sample before it
    (across the hour boundary), and a counter reset (driver reload) is not a negative hour."""
    samples = [  # (minutes after 10:00, cumulative mJ)
        (0, 1_000_000),
        (30, 1_900_000),  # 10:xx: +900 J
        (70, 3_100_000),  # 11:10: +1200 J, most of it used in the 10:xx hour's last 30 minutes
        (100, 3_400_000),  # 11:40: +300 J
        (130, 200_000),  # 12:10: reset: the counter restarted, 200 J since
        (150, 500_000),  # 12:30: +300 J
    ]
    with cstore.write() as con:
        for minutes, mj in samples:
            con.execute(
                "INSERT INTO gpu_samples (host, gpu_uuid, ts, source, energy_mj) VALUES "
                "('h', 'GPU-1', TIMESTAMPTZ '2025-03-01 10:00:00+00' + INTERVAL (?) MINUTE, "
                "'nvml', ?)",
                [minutes, mj],
            )
        con.execute(
            "INSERT INTO gpu_samples (host, gpu_uuid, ts, source, power_w) VALUES "
            "('h', 'GPU-1', TIMESTAMPTZ '2025-03-01 11:20:00+00', 'nvidia-smi', 300)"
        )
        rollups.rebuild(con)  # rows written without the collectors: their rollup, once
    with cstore.read() as con:
        got = con.execute(
            "SELECT source, hour(hour), energy_j, samples FROM gpu_utilization_hourly ORDER BY 1, 2"
        ).fetchall()
    assert got == [
        ("nvidia-smi", 11, None, 1),  # no counter: NULL, never 0
        ("nvml", 10, 900.0, 2),
        ("nvml", 11, 1500.0, 2),
        ("nvml", 12, 500.0, 2),
    ]
    total = sum(e for _, _, e, _ in got if e is not None)
    assert total == (3_400_000 - 1_000_000 + 500_000) / 1000  # every joule, once
