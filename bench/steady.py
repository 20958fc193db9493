"""`--until-steady`: completions binned into fixed windows as they finish, checked as they close.

The signal is one, written once: per window of `window_s` seconds (counted from the first
measured completion), the completed requests per second and the median E2E latency of the
measured ok requests that completed in it; empty windows are skipped. metrics.steady_state
decides on the last windows. Adding a completion is O(1); a check looks at the last windows
only (the run's earlier completions are never rescanned), so the rule costs the event loop
nothing that grows with the run.
"""

from __future__ import annotations

import statistics

from unitcost.bench import metrics


class SteadyWindows:
    """Completions by window, and the steady-state rule over the last complete ones."""

    MIN_WINDOWS = 5

    def __init__(self, window_s: float, rel: float) -> None:
        self.window_ns = int(window_s * 1e9)
        self.window_s = window_s
        self.rel = rel
        self.origin_ns: int | None = None
        self.lat: dict[int, list[float]] = {}  # window index -> E2E ms of its completions

    def add(self, end_ns: int, e2e_ms: float) -> None:
        """One measured ok request that completed at `end_ns` (perf_counter_ns)."""
        if self.origin_ns is None:
            self.origin_ns = end_ns
        k = max(0, (end_ns - self.origin_ns) // self.window_ns)
        bucket = self.lat.get(k)
        if bucket is None:
            self.lat[k] = [e2e_ms]
        else:
            bucket.append(e2e_ms)

    def windows(self, now_ns: int) -> list[tuple[float, float]]:
        """(requests/s, median E2E ms) of the last MIN_WINDOWS non-empty windows complete at
        `now_ns`, oldest first."""
        if self.origin_ns is None:
            return []
        complete = (now_ns - self.origin_ns) // self.window_ns
        keys = sorted(k for k in self.lat if k < complete)[-self.MIN_WINDOWS :]
        for k in [k for k in self.lat if k < complete and k not in keys]:
            del self.lat[k]  # older windows are never looked at again
        return [(len(self.lat[k]) / self.window_s, statistics.median(self.lat[k])) for k in keys]

    def steady(self, now_ns: int) -> bool:
        return metrics.steady_state(
            self.windows(now_ns), min_windows=self.MIN_WINDOWS, rel=self.rel
        )
