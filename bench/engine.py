"""The load engine: offer one run's load on one event loop and record every request.

The event loop only schedules and reads streams; finished records go to a background writer
thread (records.py). A stop request (Ctrl-C, through loop.Interrupts) cancels the load: requests
in flight are recorded as `cancelled`. workers.py runs this same engine in each worker process.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import Callable, Iterator
from typing import Any

import aiohttp
import msgspec
from unitcost.bench import client
from unitcost.bench.live import Live
from unitcost.bench.loop import Interrupts, LagSampler
from unitcost.bench.profiles import arrivals
from unitcost.bench.records import RecordWriter, RequestRecord
from unitcost.bench.scrape import Scraper
from unitcost.bench.spec import RunSpec
from unitcost.bench.sse import StreamState
from unitcost.bench.steady import SteadyWindows
from unitcost.bench.workloads import WorkItem

from unitcost.store import Store

#: On a stop request the final scrape of /metrics gets this long (a hung server must not
#: hold Ctrl-C up); a normal end gets the scraper's own timeout.
_SCRAPE_AFTER_STOP_S = 3.0


class Load:
    """One run's load on this process's event loop."""

    def __init__(self, store: Store, spec: RunSpec, run_id: str, live: Live) -> None:
        self.store, self.spec, self.run_id, self.live = store, spec, run_id, live
        self.writer = RecordWriter(store, flush_s=spec.flush_s)
        self.stop = asyncio.Event()
        self.next_id = 0
        self.anchor_ns = time.perf_counter_ns()  # pairs with bench_runs.started_at
        self.start_ns = self.anchor_ns  # reset when the load itself starts (schedule origin)
        self.tasks: set[asyncio.Task[None]] = set()
        self.steady = SteadyWindows(spec.steady_window_s, spec.steady_rel) if spec.steady else None
        self.interrupted = False
        self.bodies: dict[int, bytes] = {}
        self.scraper: Scraper | None = None
        self.lag = LagSampler()
        self._task: asyncio.Task[None] | None = None
        # A worker process (workers.py) takes request ids offset, offset + stride, ... and
        # starts its schedule at the instant the parent chose (perf_counter_ns is system-wide).
        self.id_offset, self.id_stride = 0, 1
        self.start_at_ns: int | None = None

    # -- stopping
    def request_stop(self) -> None:
        """Ctrl-C: stop offering load and cancel what is in flight (recorded as cancelled)."""
        self.interrupted = True
        self.live.status = "interrupted"
        if self._task is not None:
            self._task.cancel()

    def lag_samples(self) -> list[int]:
        """The event-loop lag samples (ns) of the processes that ran the load."""
        return self.lag.samples.tolist()

    def run_warnings(self) -> list[str]:
        """What went wrong in the harness without failing the run (workers.py adds some)."""
        return []

    # -- bookkeeping
    def _take(self) -> tuple[int, WorkItem] | None:
        s = self.spec
        limit = s.max_requests
        if s.profile.kind == "trace":
            limit = min(limit or len(s.items), len(s.items))
        i = self.next_id * self.id_stride + self.id_offset
        if self.stop.is_set() or (limit is not None and i >= limit):
            self.stop.set()
            return None
        self.next_id += 1
        return i, s.items[i % len(s.items)]

    def _phase(self, i: int, scheduled_ns: int) -> str:
        s = self.spec
        offset = (scheduled_ns - self.start_ns) / 1e9
        if i < s.warmup_requests or offset < s.warmup_s:
            return "warmup"
        if s.duration_s is not None and s.cooldown_s and offset >= s.duration_s - s.cooldown_s:
            return "cooldown"
        return "measure"

    async def _one(
        self,
        session: aiohttp.ClientSession,
        sem: asyncio.Semaphore | None,
        i: int,
        item: WorkItem,
        scheduled_ns: int,
    ) -> None:
        s, live = self.spec, self.live
        rec = RequestRecord(
            run_id=self.run_id,
            request_id=i,
            phase=self._phase(i, scheduled_ns),
            scheduled_ns=scheduled_ns,
        )
        body = self._body(i, item)
        st = StreamState()
        try:
            if sem is not None:
                async with sem:
                    rec.dequeued_ns = time.perf_counter_ns()
                    live.sent += 1
                    await client.send(session, s.client, body, rec, st)
            else:
                rec.dequeued_ns = time.perf_counter_ns()
                live.sent += 1
                await client.send(session, s.client, body, rec, st)
            if rec.status == "ok" and rec.output_tokens is None and s.counter is not None:
                await self._count_tokens(rec, st, item)
        finally:
            if rec.sent_ns is not None:
                self._finished(rec)

    def _body(self, i: int, item: WorkItem) -> bytes:
        """Request bodies serialized once per distinct item (msgspec), not once per request."""
        k = i % len(self.spec.items)
        b = self.bodies.get(k)
        if b is None:
            b = msgspec.json.encode(
                client.build_payload(self.spec.client, item.prompt, item.max_tokens)
            )
            self.bodies[k] = b
        return b

    async def _count_tokens(self, rec: RequestRecord, st: StreamState, item: WorkItem) -> None:
        counter = self.spec.counter
        assert counter is not None
        loop = asyncio.get_running_loop()
        rec.output_tokens = await loop.run_in_executor(None, counter.count, st.text)
        prompt = (
            item.prompt
            if isinstance(item.prompt, str)
            else "\n".join(m.get("content", "") for m in item.prompt)
        )
        rec.prompt_tokens = (
            item.input_tokens
            if item.input_tokens is not None
            else await loop.run_in_executor(None, counter.count, prompt)
        )
        rec.token_source = counter.source

    def _finished(self, rec: RequestRecord) -> None:
        live = self.live
        live.done += 1
        if rec.status == "ok":
            live.ok += 1
            live.output_tokens += rec.output_tokens or 0
            if rec.first_chunk_ns is not None and rec.sent_ns is not None:
                live.ttft_ms.append((rec.first_chunk_ns - rec.sent_ns) / 1e6)
            if (
                self.steady is not None
                and rec.phase == "measure"
                and rec.sent_ns is not None
                and rec.end_ns is not None
            ):
                stop = rec.last_chunk_ns or rec.end_ns
                self.steady.add(rec.end_ns, (stop - rec.sent_ns) / 1e6)
        elif rec.status == "cancelled":
            live.cancelled += 1
        else:
            live.failed += 1
            key = rec.error_class or rec.status
            live.errors[key] = live.errors.get(key, 0) + 1
        self.writer.add(rec)

    def _spawn(self, coro: Any) -> None:
        t: asyncio.Task[None] = asyncio.create_task(coro)
        self.tasks.add(t)
        t.add_done_callback(self.tasks.discard)

    # -- load shapes
    async def _closed(self, session: aiohttp.ClientSession) -> None:
        async def worker() -> None:
            while (nxt := self._take()) is not None:
                now = time.perf_counter_ns()
                await self._one(session, None, nxt[0], nxt[1], now)

        n = self.spec.profile.concurrency or 1
        self.tasks |= {asyncio.create_task(worker()) for _ in range(n)}
        await asyncio.gather(*self.tasks)

    def offsets(self) -> Iterator[float]:
        """When this process's requests are due (seconds after the schedule's origin).

        One schedule for the whole run, whatever the number of worker processes: request i is
        due at the i-th arrival of the profile (or the i-th trace entry), and worker k of N
        takes arrivals k, k + N, ... So N workers interleave into exactly the arrival process
        asked for (constant 100 req/s with 4 workers: one request every 10 ms, not 4 at once
        every 40 ms), and a request's due time does not depend on N.
        """
        p = self.spec.profile
        if p.kind == "trace":
            every: Iterator[float] = (it.arrival_s or 0.0 for it in self.spec.items)
        else:
            every = arrivals(p)
        return itertools.islice(every, self.id_offset, None, self.id_stride)

    async def _open(self, session: aiohttp.ClientSession) -> None:
        p = self.spec.profile
        sem = asyncio.Semaphore(p.concurrency) if p.concurrency else None
        for offset in self.offsets():
            due = self.start_ns + int(offset * 1e9)
            delay = (due - time.perf_counter_ns()) / 1e9
            if delay > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stop.wait(), delay)
            nxt = self._take()
            if nxt is None:
                break
            self._spawn(self._one(session, sem, nxt[0], nxt[1], due))
            if delay <= 0:
                await asyncio.sleep(0)  # let sends start when we are behind
        while self.tasks:
            await asyncio.gather(*list(self.tasks))

    async def _timer(self) -> None:
        if self.spec.duration_s is not None:
            elapsed = (time.perf_counter_ns() - self.start_ns) / 1e9
            await asyncio.sleep(self.spec.duration_s - elapsed)  # from the schedule's origin
            self.stop.set()

    async def _steady(self) -> None:
        assert self.steady is not None
        while not self.stop.is_set():
            await asyncio.sleep(self.steady.window_s / 2)
            if self.steady.steady(time.perf_counter_ns()):
                self.stop.set()

    async def load(self) -> None:
        s = self.spec
        # Pool = the concurrency; an uncapped open loop gets an unlimited pool (0).
        pool = s.profile.concurrency if s.profile.concurrency else 0
        session = client.make_session(s.client, pool)
        # The schedule starts now, after the session and the event loop are up: otherwise the
        # first requests would be "late" by the start-up time and dispatch lag would show it.
        self.start_ns = self.start_at_ns or time.perf_counter_ns()
        if self.start_at_ns is not None and not s.profile.open_loop:
            await asyncio.sleep(max(0.0, (self.start_at_ns - time.perf_counter_ns()) / 1e9))
        helpers = [asyncio.create_task(self._timer()), asyncio.create_task(self.lag.run())]
        if s.steady:
            helpers.append(asyncio.create_task(self._steady()))
        try:
            if s.profile.open_loop:
                await self._open(session)
            else:
                await self._closed(session)
        except asyncio.CancelledError:
            for t in list(self.tasks):
                t.cancel()
            await asyncio.gather(*list(self.tasks), return_exceptions=True)
            raise
        finally:
            for h in helpers:
                h.cancel()
            await session.close()

    async def main(
        self, on_tick: Callable[[Live], None] | None, interrupts: Interrupts | None = None
    ) -> None:
        """Scrape /metrics before, offer the load, scrape after; Ctrl-C stops it cleanly."""
        loop = asyncio.get_running_loop()
        with (
            interrupts.on_loop(loop, self.request_stop) if interrupts else contextlib.nullcontext()
        ):
            await self._main(on_tick)

    async def _main(self, on_tick: Callable[[Live], None] | None) -> None:
        scraper, scrape_session, scrape_task = None, None, None
        ticker = None
        try:
            if self.spec.metrics_url:
                scraper = self.scraper = Scraper(
                    self.store, self.spec.metrics_url, self.run_id, self.spec.scrape_interval_s
                )
                scrape_session = aiohttp.ClientSession()
                await scraper.once(scrape_session)  # before any load
                scrape_task = asyncio.create_task(scraper.loop(scrape_session))
            if on_tick is not None:

                async def tick() -> None:
                    while True:
                        on_tick(self.live)
                        await asyncio.sleep(0.25)

                ticker = asyncio.create_task(tick())
            if not self.interrupted:
                self._task = asyncio.create_task(self.load())
                try:
                    await self._task
                except asyncio.CancelledError:
                    if not self.interrupted:
                        raise
        except asyncio.CancelledError:
            if not self.interrupted:
                raise
        finally:
            if ticker is not None:
                ticker.cancel()
                assert on_tick is not None
                on_tick(self.live)  # the final state, not the last 0.25 s tick
            if scraper is not None and scrape_session is not None:
                assert scrape_task is not None
                scrape_task.cancel()
                await asyncio.gather(scrape_task, return_exceptions=True)
                with contextlib.suppress(TimeoutError):  # after the load
                    if self.interrupted:
                        await asyncio.wait_for(scraper.once(scrape_session), _SCRAPE_AFTER_STOP_S)
                    else:
                        await scraper.once(scrape_session)
                await scrape_session.close()
