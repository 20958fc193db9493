"""The server's own view of a run: its Prometheus `/metrics`, scraped before, during and after.

Samples go to the metric store with the run's id, so engine-side counters (tokens generated,
requests finished) can be set beside the client's figures (read them by run_id from the
metric_samples view). Parsing and storing are the collectors' (collectors.scrape.parse_text,
collectors.metric_store.write): one parser, one series key, and metric_intervals derived from
these samples as from any other, so a server scraped by bench and by `collect scrape` is one
set of series. Everything the server exposes is kept, not only the known families. A scrape
that fails is logged in the run's summary warnings, never fatal: the load test is what was
asked for.
"""

from __future__ import annotations

import asyncio
import urllib.request
from datetime import UTC, datetime

import aiohttp
from unitcost.collectors import metric_store
from unitcost.collectors.metric_store import SampleBatch
from unitcost.collectors.scrape import parse_text

from unitcost.errors import CollectorError
from unitcost.store import Store


def parse(text: str, ts: datetime) -> SampleBatch:
    """Every sample of an exposition text, at `ts` (or the sample's own timestamp)."""
    return parse_text(text, ts, known_only=False)


def write_samples(store: Store, url: str, batch: SampleBatch, run_id: str | None) -> int:
    """One transaction: the samples, and the metric_intervals they change."""
    if not len(batch):
        return 0
    with store.write() as con:
        return metric_store.write(con, batch, source=url, kind="scrape", run_id=run_id)


def looks_like_metrics(url: str, timeout_s: float = 3.0) -> bool:
    """Does `url` answer with Prometheus text? (Used to find /metrics without a flag.)"""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as resp:
            head = resp.read(64 * 1024).decode("utf-8", "replace")
    except (OSError, ValueError):
        return False
    if "# TYPE" in head:
        return True
    try:
        return len(parse(head.rsplit("\n", 1)[0], datetime.now(UTC))) > 0
    except CollectorError:
        return False


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
        now = datetime.now(UTC)
        loop = asyncio.get_running_loop()
        try:
            batch = parse(text, now)
        except CollectorError as exc:
            self.errors.append(f"{self.url}: {exc}")
            return
        self.samples += await loop.run_in_executor(
            None, write_samples, self.store, self.url, batch, self.run_id
        )
        self.scrapes += 1

    async def loop(self, session: aiohttp.ClientSession) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            await self.once(session)
