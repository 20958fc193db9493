"""A simulated quarter of production telemetry for the demo's current deployments.

`emulate offline` simulates each deployment's quarter (diurnal demand, bursts, one incident
with a restart), and the samples go in through the real collector paths: `emulate offline
--to-store` writes them through the metric store and, where this machine has Prometheus
(`prometheus` and `promtool` on PATH) and the demo is not --quick, the quarter's last
PROMETHEUS_DAYS are written as OpenMetrics instead, backfilled with `promtool tsdb
create-blocks-from openmetrics` into a short-lived local Prometheus and pulled with `collect
prometheus`. Only those days: promtool reads its whole input once per 2-hour block, so a
quarter (1,100 blocks) takes over half an hour on two cores, two days take seconds.

The two parts share one sample, the last stored one: counters then increase across the seam
within the pulled part (no tokens lost between the parts, none counted twice: intervals are
derived between a source's own samples), and GPU samples are upserted by (GPU, time).
Either way metric_intervals, GPU samples and rollups follow, and every series is labelled
emulated and with its deployment.
"""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import requests
from unitcost.analytics.period import Period
from unitcost.collectors import prometheus
from unitcost.demo import processes
from unitcost.demo.matrix import CURRENT
from unitcost.emulate import telemetry
from unitcost.emulate.catalog import load_catalog
from unitcost.emulate.offline import pick_incident, simulate_endpoint

from unitcost.errors import UnitcostError
from unitcost.store import Store

#: Seconds between simulated samples (a quarter at this step is ~2M samples for three
#: deployments; the intervals are as long as the step).
STEP_S = {False: 900, True: 1800}
#: Days at the end of the quarter that go through Prometheus (when it is used).
PROMETHEUS_DAYS = 2


def has_prometheus() -> bool:
    return shutil.which("prometheus") is not None and shutil.which("promtool") is not None


def _series(quarter: Period, step_s: float) -> list[telemetry.Series]:
    catalog = load_catalog()
    begin = datetime(quarter.start.year, quarter.start.month, quarter.start.day, tzinfo=UTC)
    span = quarter.days * 86400.0
    out = []
    for i, cur in enumerate(CURRENT):
        cfg = cur.endpoint()
        phys = cfg.physics(catalog)
        incident = pick_incident(begin, span, 0) if i == 0 else None  # one, on demo-chat
        points = list(simulate_endpoint(cfg, phys, begin, span, step_s, incident, i))
        out.append(telemetry.Series(cfg, phys, points))
    return out


def load(
    store: Store,
    quarter: Period,
    work: Path,
    *,
    quick: bool,
    via_prometheus: bool,
    log: Callable[[str], None],
) -> tuple[int, str | None]:
    """Simulate and load the quarter; returns (samples, the Prometheus URL used or None)."""
    step = STEP_S[quick]
    series = _series(quarter, step)
    whole = quarter.days * 86400.0 + step  # one transaction per deployment: the fastest way
    if not via_prometheus:
        return telemetry.write_store(store, series, piece_s=whole), None
    end = datetime.combine(quarter.end, datetime.min.time(), UTC)
    cut = end.timestamp() - PROMETHEUS_DAYS * 86400.0
    head = [dataclasses.replace(s, points=[p for p in s.points if p.ts < cut]) for s in series]
    seam = cut - step  # the last stored sample, shared (see the module doc)
    tail = [dataclasses.replace(s, points=[p for p in s.points if p.ts >= seam]) for s in series]
    stored = telemetry.write_store(store, head, piece_s=whole)
    om = work / "telemetry.om"
    tsdb = work / "prometheus"
    shutil.rmtree(tsdb, ignore_errors=True)
    n = telemetry.write_openmetrics_file(tail, om)
    log(f"  last {PROMETHEUS_DAYS} days: {n:,} samples as OpenMetrics, backfilled with promtool")
    subprocess.run(
        ["promtool", "tsdb", "create-blocks-from", "openmetrics", str(om), str(tsdb)],
        check=True,
        capture_output=True,
        timeout=900,
    )
    om.unlink()
    proc, url = _start_prometheus(work, tsdb, step)
    try:
        log(f"  pulling from {url} with `collect prometheus`")
        pulled = prometheus.collect(
            store,
            since=datetime.fromtimestamp(seam, UTC),
            until=end,
            url=url,
            step=f"{step}s",
        )
    finally:
        processes.stop(proc, grace_s=30)
    return stored + pulled, url


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_prometheus(work: Path, tsdb: Path, step: float) -> tuple[subprocess.Popen[bytes], str]:
    """Prometheus on the backfilled TSDB. Its lookback is under the step, so it never repeats
    a sample into the restart gap (backfilled data has no staleness markers)."""
    cfg = work / "prometheus.yml"
    cfg.write_text("global:\n  scrape_interval: 1m\nscrape_configs: []\n")
    port = _free_port()
    with (work / "prometheus.log").open("w") as log:  # the child keeps its own descriptor
        proc = _popen_prometheus(cfg, tsdb, port, step, log)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    ready = False
    try:
        while not ready and time.monotonic() < deadline and proc.poll() is None:
            with contextlib.suppress(requests.RequestException):
                ready = requests.get(f"{url}/-/ready", timeout=1).status_code == 200
            if not ready:
                time.sleep(0.2)
    finally:
        if not ready:  # not up in time, or Ctrl-C meanwhile: never leave it running
            processes.stop(proc, grace_s=30)
    if not ready:
        raise UnitcostError(f"the demo's Prometheus did not start: see {work / 'prometheus.log'}")
    return proc, url


def _popen_prometheus(
    cfg: Path, tsdb: Path, port: int, step: float, log: IO[str]
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            "prometheus",
            f"--config.file={cfg}",
            f"--storage.tsdb.path={tsdb}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--storage.tsdb.retention.time=100y",
            f"--query.lookback-delta={int(step) - 1}s",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
