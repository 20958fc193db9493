"""The bench_runs row of a run: what was asked, of what, by which client, written before load.

The row says everything a reader needs to recompute the run's summary from its records (SLO
and attainment, percentiles, the price share), and which process ran it (pid and host), so a
run left `running` by a killed process can be told from one still going.
"""

from __future__ import annotations

import os
import platform
import socket
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from unitcost.bench.loop import loop_name
from unitcost.bench.spec import RunSpec

from unitcost import __version__

SCHEMA_VERSION = 1  # of the summary JSON (docs/bench.md) and of bench_runs rows we write


def run_row(spec: RunSpec, run_id: str, anchor_ns: int) -> dict[str, Any]:
    """The row inserted (status 'running') before any load starts."""
    t = spec.target
    return {
        "run_id": run_id,
        "name": spec.name,
        "source": "unitcost",
        "status": "running",
        "started_at": datetime.now(UTC),
        "anchor_ns": anchor_ns,
        "endpoint_url": spec.client.root,
        "api": spec.client.api,
        "model": spec.client.model,
        "parameter_count": t.get("parameter_count"),
        "quantization": t.get("quantization"),
        "engine": t.get("engine"),
        "hardware": t.get("hardware"),
        "gpu_count": t.get("gpu_count"),
        "deployment_id": t.get("deployment_id"),
        "price_ref": t.get("price_ref"),
        "emulated": bool(t.get("emulated", False)),
        "load_profile": {
            **spec.profile.to_json(),
            "max_requests": spec.max_requests,
            "duration_s": spec.duration_s,
            "steady": spec.steady,
            "warmup_s": spec.warmup_s,
            "warmup_requests": spec.warmup_requests,
            "cooldown_s": spec.cooldown_s,
            "workers": spec.workers,
        },
        "workload": spec.workload,
        "slo": spec.slo or None,
        "labels": spec.labels,
        "tool_version": __version__,
        "schema_version": SCHEMA_VERSION,
        "python_version": sys.version.split()[0],
        "platform": platform.platform(),
        "notes": f"client: {loop_name()} event loop, {spec.workers} worker process(es)",
        "group_id": spec.group_id,
        "slo_attainment": spec.slo_attainment,
        "whole_instance": spec.whole_instance,
        "percentiles": list(spec.percentiles),
        "client_pid": os.getpid(),
        "client_host": socket.gethostname(),
        "client_start_ticks": process_start_ticks(os.getpid()),
    }


def process_start_ticks(pid: int) -> int | None:
    """When process `pid` started (clock ticks since boot, Linux /proc/PID/stat field 22);
    None where there is no /proc. With the pid it names one process, even after pid reuse."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[19])
