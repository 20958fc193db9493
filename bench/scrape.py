"""The server's own view of a run: its Prometheus `/metrics`, scraped before, during and after.

Samples go to metric_samples with the run's id, so engine-side counters (tokens generated,
requests finished) can be set beside the client's figures. `series_key` is the Prometheus
canonical label string (labels sorted by name: `a="1",b="2"`). A scrape that fails is logged
in the run's summary warnings, never fatal: the load test is what was asked for.
"""

from __future__ import annotations

import asyncio
import math
import re
import urllib.request
from datetime import UTC, datetime
from typing import Any

import aiohttp

from unitcost import sqlfiles
from unitcost.store import Store

_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)(?:\s+(-?\d+))?\s*$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?')


def _unescape(v: str) -> str:
    return v.replace("\\\\", "\x00").replace('\\"', '"').replace("\\n", "\n").replace("\x00", "\\")


def parse_exposition(text: str) -> list[tuple[str, dict[str, str], float]]:
    """(metric, labels, value) for every sample line of Prometheus text format 0.0.4."""
    out: list[tuple[str, dict[str, str], float]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        if m is None:
            continue
        name, raw_labels, raw_value = m.group(1), m.group(2), m.group(3)
        try:
            value = float(raw_value)
        except ValueError:
            continue
        if math.isnan(value):
            continue
        labels = (
            {k: _unescape(v) for k, v in _LABEL.findall(raw_labels[1:-1])} if raw_labels else {}
        )
        out.append((name, labels, value))
    return out


def series_key(labels: dict[str, str]) -> str:
    """Prometheus' canonical form: labels sorted by name, values quoted and escaped."""
    esc = {
        k: v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        for k, v in labels.items()
    }
    return ",".join(f'{k}="{esc[k]}"' for k in sorted(esc))


def rows_for(url: str, text: str, ts: datetime, run_id: str | None) -> list[tuple[Any, ...]]:
    return [
        (url, name, series_key(labels), list(labels), list(labels.values()), ts, value, run_id)
        for name, labels, value in parse_exposition(text)
    ]


def write_samples(store: Store, rows: list[tuple[Any, ...]]) -> int:
    if not rows:
        return 0
    with store.write() as con:
        con.executemany(sqlfiles.load("queries", "bench_insert_metric_sample"), rows)
    return len(rows)


def looks_like_metrics(url: str, timeout_s: float = 3.0) -> bool:
    """Does `url` answer with Prometheus text? (Used to find /metrics without a flag.)"""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as resp:
            head = resp.read(64 * 1024).decode("utf-8", "replace")
    except (OSError, ValueError):
        return False
    return "# TYPE" in head or bool(parse_exposition(head))


class Scraper:
    """Scrapes once at start, every `interval_s`, and once at the end of the run."""

    def __init__(self, store: Store, url: str, run_id: str, interval_s: float) -> None:
        self.store, self.url, self.run_id, self.interval_s = store, url, run_id, interval_s
        self.scrapes = 0
        self.samples = 0
        self.errors: list[str] = []

    async def once(self, session: aiohttp.ClientSession) -> None:
        try:
            async with session.get(self.url, timeout=aiohttp.ClientTimeout(total=10)) as resp:
                text = await resp.text()
                if resp.status != 200:
                    raise OSError(f"HTTP {resp.status}")
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            self.errors.append(f"{self.url}: {exc or type(exc).__name__}")
            return
        rows = rows_for(self.url, text, datetime.now(UTC), self.run_id)
        loop = asyncio.get_running_loop()
        self.samples += await loop.run_in_executor(None, write_samples, self.store, rows)
        self.scrapes += 1

    async def loop(self, session: aiohttp.ClientSession) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            await self.once(session)
