"""Stopping the child processes the demo starts (fleet, Prometheus, dashboard): one way."""

from __future__ import annotations

import subprocess
from typing import Any


def stop(proc: subprocess.Popen[Any], grace_s: float = 10.0) -> None:
    """Ask it to stop (SIGTERM), and kill it if it has not after grace_s; reaped either way."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
