"""Run one benchmark: preflight, offer the load, record every request, summarize.

The event loop only schedules and reads streams; records go to a background writer thread
(records.py). SIGINT cancels the load: requests in flight are recorded as `cancelled`, the run
is marked `interrupted`, and everything that finished is already stored or flushed at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib
import importlib.util
import os
import platform
import signal
import statistics
import sys
import time
import uuid
from collections import deque
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import aiohttp
import msgspec
import pyarrow as pa
import pyarrow.compute as pc
from unitcost.bench import client, metrics
from unitcost.bench.client import ClientConfig
from unitcost.bench.profiles import LoadProfile, arrivals
from unitcost.bench.records import RecordWriter, RequestRecord, finish_run, insert_run
from unitcost.bench.scrape import Scraper
from unitcost.bench.sse import StreamState
from unitcost.bench.tokens import TokenCounter
from unitcost.bench.workloads import WorkItem

from unitcost import __version__, sqlfiles
from unitcost.errors import BenchError, UnitcostError
from unitcost.store import Store, fetch_dicts

T = TypeVar("T")
SCHEMA_VERSION = 1  # of the summary JSON (docs/bench.md) and of bench_runs rows we write


@dataclass
class RunSpec:
    """Everything one run needs; built by the CLI or a suite."""

    client: ClientConfig
    profile: LoadProfile
    items: list[WorkItem]
    max_requests: int | None = None
    duration_s: float | None = None
    steady: bool = False
    steady_window_s: float = 2.0
    steady_rel: float = 0.05
    warmup_s: float = 0.0
    warmup_requests: int = 0
    cooldown_s: float = 0.0
    slo: dict[str, float] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    name: str | None = None
    target: dict[str, Any] = field(default_factory=dict)  # parameter_count, engine, price_ref...
    workload: dict[str, Any] = field(default_factory=dict)
    counter: TokenCounter | None = None
    metrics_url: str | None = None
    scrape_interval_s: float = 5.0
    group_id: str | None = None
    flush_s: float = 1.0  # records reach DuckDB at least this often (each flush attaches it)
    slo_attainment: float | None = None  # suites: goodput fraction that "meets the SLO"
    summary_extra: dict[str, Any] = field(default_factory=dict)
    workers: int = 1  # client processes (workers.py); 1 = this process


@dataclass
class Live:
    """Counters for the live view, updated on the event loop."""

    started: float = field(default_factory=time.monotonic)
    sent: int = 0
    done: int = 0
    ok: int = 0
    failed: int = 0
    cancelled: int = 0
    output_tokens: int = 0
    ttft_ms: deque[float] = field(default_factory=lambda: deque(maxlen=500))
    errors: dict[str, int] = field(default_factory=dict)
    status: str = "running"

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def add_batch(self, table: pa.Table) -> None:
        """Count finished records that arrive as an Arrow batch (records.to_arrow: a worker's),
        by the rules _Run._finished applies to one record, vectorized: the parent of a
        multi-worker run does no per-record Python work. Tests hold the two in agreement."""
        status = table.column("status")
        ok = pc.equal(status, "ok")
        n_ok = int(pc.sum(ok).as_py() or 0)
        n_cancelled = int(pc.sum(pc.equal(status, "cancelled")).as_py() or 0)
        self.done += table.num_rows
        self.ok += n_ok
        self.cancelled += n_cancelled
        self.failed += table.num_rows - n_ok - n_cancelled
        self.output_tokens += int(pc.sum(table.column("output_tokens").filter(ok)).as_py() or 0)
        ttft = pc.divide(
            pc.subtract(table.column("first_chunk_ns"), table.column("sent_ns")).filter(ok), 1e6
        )
        self.ttft_ms.extend(ttft.drop_null().to_pylist())  # the deque keeps the latest
        if n_ok + n_cancelled < table.num_rows:
            failed = pc.invert(pc.is_in(status, pa.array(["ok", "cancelled"])))
            cls = table.column("error_class")
            key = pc.if_else(pc.fill_null(pc.not_equal(cls, ""), False), cls, status)
            for row in pc.value_counts(key.filter(failed)).to_pylist():
                self.errors[row["values"]] = self.errors.get(row["values"], 0) + row["counts"]


@contextlib.contextmanager
def frozen_heap() -> Iterator[None]:
    """Keep the cyclic garbage collector off the objects that exist before the load.

    A full collection walks every tracked object in the process: ~100k once pandas, pyarrow,
    duckdb and aiohttp are imported, 50-80 ms of CPU on this project's 2 shared cores, during
    which the event loop sends nothing. At 1,000 req/s one such pause was the whole dispatch-lag
    p99 (measured: a 77 ms gen-2 collection, 141 requests sent late). Frozen objects are skipped
    (gc.freeze); what the load itself creates is still collected; unfrozen afterwards.
    """
    gc.collect()  # what is garbage now is freed, not frozen
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def arun(coro: Coroutine[Any, Any, T]) -> T:
    """Run the load on the standard asyncio loop, or on uvloop when UNITCOST_BENCH_LOOP=uvloop
    and it is installed. uvloop is not the default: measured against tests/perf/bench's server
    on this project's 2-core machine it was no win for the harness (median 2,452 vs 2,647
    streams/s over 4 alternating rounds), so it is not a dependency either."""
    factory: Callable[[], asyncio.AbstractEventLoop] | None = None
    if loop_name() == "uvloop":
        factory = importlib.import_module("uvloop").new_event_loop
    with asyncio.Runner(loop_factory=factory) as r:
        return r.run(coro)


def loop_name() -> str:
    """The event loop arun() uses, stored with each run (bench_runs.notes)."""
    if os.environ.get("UNITCOST_BENCH_LOOP", "asyncio") != "uvloop":
        return "asyncio"
    return "uvloop" if importlib.util.find_spec("uvloop") is not None else "asyncio"


# ------------------------------------------------------------------ preflight
@dataclass(frozen=True)
class Probe:
    """What one small request told us about the server before any load."""

    has_usage: bool
    has_done: bool
    prompt_tokens: int | None
    served_models: list[str]


async def _preflight(cfg: ClientConfig) -> Probe:
    served: list[str] = []
    async with client.make_session(cfg, 2) as session:
        try:
            async with session.get(
                cfg.root + "/v1/models",
                timeout=aiohttp.ClientTimeout(total=cfg.connect_timeout_s + 10),
            ) as resp:
                body = await resp.text()
                if resp.status in (401, 403):
                    raise BenchError(
                        f"{cfg.root}/v1/models refused the credentials: "
                        f"HTTP {resp.status}: {body[:300]}"
                    )
                if resp.status == 200:
                    try:
                        served = [
                            str(m.get("id"))
                            for m in (await resp.json(content_type=None)).get("data", [])
                        ]
                    except (ValueError, AttributeError):
                        served = []
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise BenchError(
                f"cannot reach endpoint {cfg.root}: {exc or type(exc).__name__}"
            ) from exc
        rec = RequestRecord(run_id="preflight", request_id=0)
        st = StreamState()
        await client.send(session, cfg, client.build_payload(cfg, "Say hello.", 4), rec, st)
    if rec.status != "ok":
        hint = (
            f" (the server lists: {', '.join(served)})"
            if served and cfg.model not in served
            else ""
        )
        raise BenchError(
            f"{cfg.url} rejected a test request for model {cfg.model!r}{hint}: "
            f"{rec.error_class}: {rec.error_message}"
        )
    return Probe(st.output_tokens is not None, st.done, st.prompt_tokens, served)


async def _prompt_tokens(cfg: ClientConfig, words: int) -> int | None:
    from unitcost.bench.workloads import _WORDS

    text = " ".join(_WORDS[i % len(_WORDS)] for i in range(words))
    async with client.make_session(cfg, 1) as session:
        rec = RequestRecord(run_id="calibration", request_id=0)
        await client.send(session, cfg, client.build_payload(cfg, text, 1), rec)
    return rec.prompt_tokens if rec.status == "ok" else None


def calibrate_tokens_per_word(cfg: ClientConfig) -> float | None:
    """Tokens per prompt word from the server's own usage counts: two prompts of 20 and 220
    words; the difference cancels the chat template's fixed overhead. None if no usage."""

    async def both() -> tuple[int | None, int | None]:
        return await _prompt_tokens(cfg, 20), await _prompt_tokens(cfg, 220)

    try:
        a, b = asyncio.run(both())
    except (BenchError, OSError):
        return None
    if a is None or b is None or b <= a:
        return None
    return (b - a) / 200.0


def preflight(cfg: ClientConfig) -> Probe:
    """Fail with the server's own message before any load if the endpoint or model is wrong."""
    return asyncio.run(_preflight(cfg))


# ------------------------------------------------------------------ the load
class _Run:
    def __init__(self, store: Store, spec: RunSpec, run_id: str, live: Live) -> None:
        self.store, self.spec, self.run_id, self.live = store, spec, run_id, live
        self.writer = RecordWriter(store, flush_s=spec.flush_s)
        self.stop = asyncio.Event()
        self.next_id = 0
        self.anchor_ns = time.perf_counter_ns()  # pairs with bench_runs.started_at
        self.start_ns = self.anchor_ns  # reset when the load itself starts (schedule origin)
        self.tasks: set[asyncio.Task[None]] = set()
        self.completions: list[tuple[int, float]] = []  # (end_ns, e2e_ms) of measured ok
        self.interrupted = False
        self.bodies: dict[int, bytes] = {}
        self.scraper: Scraper | None = None
        # A worker process (workers.py) takes request ids offset, offset + stride, ... and
        # starts its schedule at the instant the parent chose (perf_counter_ns is system-wide).
        self.id_offset, self.id_stride = 0, 1
        self.start_at_ns: int | None = None

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
            if rec.phase == "measure" and rec.sent_ns is not None and rec.end_ns is not None:
                stop = rec.last_chunk_ns or rec.end_ns
                self.completions.append((rec.end_ns, (stop - rec.sent_ns) / 1e6))
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

    async def _open(self, session: aiohttp.ClientSession) -> None:
        p = self.spec.profile
        sem = asyncio.Semaphore(p.concurrency) if p.concurrency else None
        if p.kind == "trace":
            mine = self.spec.items[self.id_offset :: self.id_stride]
            offsets = iter([it.arrival_s or 0.0 for it in mine])
        else:
            offsets = arrivals(p)
        for offset in offsets:
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
        w = self.spec.steady_window_s
        while not self.stop.is_set():
            await asyncio.sleep(w / 2)
            if not self.completions:
                continue
            start = self.completions[0][0]
            now = time.perf_counter_ns()
            n_windows = int((now - start) / 1e9 // w)
            windows: list[tuple[float, float]] = []
            for k in range(n_windows):
                lo, hi = start + int(k * w * 1e9), start + int((k + 1) * w * 1e9)
                lat = [e for t, e in self.completions if lo <= t < hi]
                if lat:
                    windows.append((len(lat) / w, statistics.median(lat)))
            if metrics.steady_state(windows, rel=self.spec.steady_rel):
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
        helpers = [asyncio.create_task(self._timer())]
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

    async def main(self, on_tick: Callable[[Live], None] | None) -> None:
        loop = asyncio.get_running_loop()
        scraper, scrape_session, scrape_task = None, None, None
        if self.spec.metrics_url:
            scraper = self.scraper = Scraper(
                self.store, self.spec.metrics_url, self.run_id, self.spec.scrape_interval_s
            )
            scrape_session = aiohttp.ClientSession()
            await scraper.once(scrape_session)  # before any load
            scrape_task = asyncio.create_task(scraper.loop(scrape_session))
        task = asyncio.create_task(self.load())

        def interrupt() -> None:
            self.interrupted = True
            self.live.status = "interrupted"
            task.cancel()

        loop.add_signal_handler(signal.SIGINT, interrupt)
        ticker = None
        if on_tick is not None:

            async def tick() -> None:
                while True:
                    on_tick(self.live)
                    await asyncio.sleep(0.25)

            ticker = asyncio.create_task(tick())
        try:
            await task
        except asyncio.CancelledError:
            if not self.interrupted:
                raise
        finally:
            loop.remove_signal_handler(signal.SIGINT)
            if ticker is not None:
                ticker.cancel()
                assert on_tick is not None
                on_tick(self.live)  # the final state, not the last 0.25 s tick
            if scraper is not None and scrape_session is not None:
                assert scrape_task is not None
                scrape_task.cancel()
                await asyncio.gather(scrape_task, return_exceptions=True)
                await scraper.once(scrape_session)  # after the load
                await scrape_session.close()


def _run_row(spec: RunSpec, run_id: str, anchor_ns: int) -> dict[str, Any]:
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
    }


def run(
    store: Store, spec: RunSpec, on_tick: Callable[[Live], None] | None = None
) -> tuple[str, dict[str, Any]]:
    """Offer the load, store every request, and return (run_id, summary)."""
    if (
        spec.max_requests is None
        and spec.duration_s is None
        and not spec.steady
        and spec.profile.kind != "trace"
    ):
        raise BenchError("say when to stop: --requests N, --duration S or --until-steady")
    run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S-") + uuid.uuid4().hex[:8]
    live = Live()
    from unitcost.bench import workers

    workers.validate(spec)
    if spec.workers > 1:
        r: _Run = workers.MultiRun(store, spec, run_id, live)
    else:
        r = _Run(store, spec, run_id, live)
    insert_run(store, _run_row(spec, run_id, r.anchor_ns))
    r.writer.start()
    status = "failed"
    try:
        with frozen_heap():
            arun(r.main(on_tick))
        status = "interrupted" if r.interrupted else "completed"
    finally:
        try:
            r.writer.close()
        except BaseException:
            status = "failed"  # records could not all be stored
            raise
        finally:
            # Whatever happened, the run row is closed: a crash leaves 'failed', not 'running'.
            ended = datetime.now(UTC)
            summary = None
            if status != "failed":
                try:
                    summary = summarize_run(store, run_id)
                except UnitcostError:
                    status = "failed"
            if summary is not None:
                summary["status"] = status
                summary["ended_at"] = str(ended)
                summary.update(spec.summary_extra)
                if spec.slo_attainment is not None and spec.slo:
                    gf = summary.get("goodput_fraction")
                    summary["meets_slo"] = gf is not None and gf >= spec.slo_attainment
                if r.scraper is not None:
                    summary["server_metrics"] = {
                        "url": r.scraper.url,
                        "scrapes": r.scraper.scrapes,
                        "samples": r.scraper.samples,
                    }
                    summary["warnings"] += [f"scrape failed: {e}" for e in r.scraper.errors[:5]]
            finish_run(store, run_id, status, ended, summary)
    live.status = status
    return run_id, summary or {}


def summarize_run(store: Store, run_id: str) -> dict[str, Any]:
    """The versioned summary of a stored run: metrics.py over its records, plus cost."""
    from unitcost.bench import report

    return report.build_summary(store, run_id)


def fetch_requests(store: Store, run_id: str) -> list[dict[str, Any]]:
    with store.read() as con:
        return fetch_dicts(con, sqlfiles.load("queries", "bench_run_requests"), {"run_id": run_id})
