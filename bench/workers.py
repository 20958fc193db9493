"""`--workers N`: several client processes drive one run, and the parent is its one writer.

One Python process tops out at a few thousand streamed requests per second (the event loop is
single-threaded and the GIL is shared with the record writer). With N workers, each process
runs its own event loop and HTTP pool over a share of the load profile:

  concurrency  split as evenly as possible (worker k gets c // N, +1 for the first c % N);
  rate / ramp  every rate divided by N, arrivals seeded `seed * 1000 + k`, so the run is
               reproducible (N Poisson streams at r/N are one Poisson stream at r);
  trace        worker k replays entries k, k + N, k + 2N, ... at their own timestamps;
  requests     request ids are global: worker k sends ids k, k + N, ... below the limit.

Workers never open the DuckDB file: they send finished records (as Arrow batches) and their
`sent` count through a pipe, and the parent counts them for the live view (Live.add_batch) and
hands them to its RecordWriter, so the file keeps one writer using short transactions (see
records.py). All workers start their schedules at one instant
chosen by the parent (perf_counter_ns is system-wide on Linux). A SIGINT to the parent is
forwarded to every worker; each records its in-flight requests as cancelled and sends them
before it exits, so sent = ok + failed + cancelled holds across workers.
"""

from __future__ import annotations

import asyncio
import dataclasses
import multiprocessing as mp
import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from typing import Any

from unitcost.bench import runner
from unitcost.bench.records import RecordWriter, to_arrow

from unitcost.errors import BenchError, InputError

_START_LEAD_NS = 50_000_000  # the common start is this far after the last worker is ready


def share(total: int, k: int, n: int) -> int:
    """Worker k's share of `total` split over n workers (the first total % n get one more)."""
    return total // n + (1 if k < total % n else 0)


def worker_spec(spec: runner.RunSpec, k: int, n: int) -> runner.RunSpec:
    """The RunSpec worker k of n runs: its share of the load, seeded per worker."""
    p = spec.profile
    conc = share(p.concurrency, k, n) if p.concurrency else p.concurrency
    profile = dataclasses.replace(
        p,
        concurrency=conc,
        rate=p.rate / n if p.rate else p.rate,
        rate_start=p.rate_start / n,
        seed=p.seed * 1000 + k,
    )
    return dataclasses.replace(spec, profile=profile, workers=1, metrics_url=None)


def validate(spec: runner.RunSpec) -> None:
    """Flag errors before any process starts."""
    n, p = spec.workers, spec.profile
    if n < 1:
        raise InputError("--workers must be >= 1")
    if n == 1:
        return
    if p.concurrency is not None and p.concurrency < n:
        raise InputError(f"--workers {n} needs --concurrency >= {n} (each worker takes a share)")
    if spec.steady:
        raise InputError("--until-steady needs --workers 1 (the stability rule sees one stream)")


class _PipeWriter(RecordWriter):
    """A worker's writer: batches of record tuples go to the parent instead of DuckDB."""

    def __init__(self, conn: Connection, flush_s: float, run: runner._Run) -> None:
        super().__init__(None, flush_s=flush_s)  # type: ignore[arg-type]
        self.conn, self.run = conn, run
        self.send_lock = threading.Lock()

    def send(self, msg: tuple[Any, ...]) -> None:
        with self.send_lock:
            self.conn.send(msg)

    def flush(self) -> int:
        with self._lock:
            batch, self._buf = self._buf, []
        # As Arrow (built here, in parallel with the other workers, and pickled as Arrow IPC):
        # the parent counts and stores the batch with no per-record Python work.
        self.send(("recs", self.run.live.sent, to_arrow(batch)))
        self.written += len(batch)
        return len(batch)


class _WorkerRun(runner._Run):
    async def serve(self, conn: Connection, writer: _PipeWriter) -> None:
        loop = asyncio.get_running_loop()
        task: asyncio.Task[None] | None = None

        def interrupt() -> None:
            self.interrupted = True
            if task is not None:
                task.cancel()

        def on_signal(_sig: int, _frame: object) -> None:
            try:
                loop.call_soon_threadsafe(interrupt)
            except RuntimeError:  # the loop has closed: nothing left to cancel
                self.interrupted = True

        signal.signal(signal.SIGINT, on_signal)
        writer.send(("ready",))
        go = await loop.run_in_executor(None, conn.recv)
        if go[0] != "go" or self.interrupted:
            return
        self.start_at_ns = int(go[1])
        task = asyncio.create_task(self.load())
        try:
            await task
        except asyncio.CancelledError:
            if not self.interrupted:
                raise


def _worker_main(spec: runner.RunSpec, run_id: str, k: int, n: int, conn: Connection) -> None:
    """Entry point of worker k (spawned): run its share, stream records to the parent."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # until serve() installs its own handler
    r = _WorkerRun(None, spec, run_id, runner.Live())  # type: ignore[arg-type]  # no store
    r.id_offset, r.id_stride = k, n
    writer = _PipeWriter(conn, min(spec.flush_s, 0.25), r)
    r.writer = writer
    writer.start()
    error = None
    try:
        with runner.frozen_heap():
            runner.arun(r.serve(conn, writer))
    except BaseException as exc:  # reported to the parent, which fails the run
        error = f"worker {k}: {type(exc).__name__}: {exc}"
    finally:
        writer._stop.set()
        writer._wake.set()
        if writer._thread is not None:
            writer._thread.join()
        writer.flush()
        writer.send(("end", r.live.sent, r.interrupted, error))
        conn.close()


class MultiRun(runner._Run):
    """The parent: starts the workers, forwards SIGINT, stores what they send."""

    def __init__(self, *a: Any, **kw: Any) -> None:
        super().__init__(*a, **kw)
        self.sent: dict[int, int] = {}
        self.errors: list[str] = []

    async def _pump(self, k: int, conn: Connection, state: dict[str, Any]) -> None:
        """Read worker k's messages until its end. Blocking reads run in a thread: an event
        loop's add_reader may make the pipe non-blocking, and large batches then arrive in
        pieces that Connection.recv cannot resume."""
        loop = asyncio.get_running_loop()
        while True:
            try:
                msg = await loop.run_in_executor(state["readers"], conn.recv)
            except (EOFError, OSError) as exc:
                self.errors.append(f"worker {k} exited without reporting its end ({exc!r})")
                msg = ("end", self.sent.get(k, 0), False, None)
            if msg[0] == "ready":
                state["ready"].add(k)
                if len(state["ready"]) == self.spec.workers:
                    self.start_ns = time.perf_counter_ns() + _START_LEAD_NS
                    cmd = ("stop",) if self.interrupted else ("go", self.start_ns)
                    for c in state["conns"]:
                        c.send(cmd)
                continue
            self.sent[k] = msg[1]
            self.live.sent = sum(self.sent.values())
            if msg[0] == "recs":
                self.live.add_batch(msg[2])
                self.writer.add_table(msg[2])
                continue
            # "end"
            if msg[2]:
                self.interrupted = True
            if msg[3]:
                self.errors.append(msg[3])
            return

    async def load(self) -> None:
        n = self.spec.workers
        self.live.add_batch(to_arrow([]))  # pyarrow.compute's lazy set-up, before the load
        ctx = mp.get_context("spawn")  # no fork of a process that has threads and a loop
        loop = asyncio.get_running_loop()
        # One reading thread per worker (its own pool: the default one may be smaller than N).
        readers = ThreadPoolExecutor(n, thread_name_prefix="unitcost-bench-pipe")
        state: dict[str, Any] = {"ready": set(), "conns": [], "readers": readers}
        procs, pumps = [], []
        for k in range(n):
            mine, theirs = ctx.Pipe(duplex=True)
            proc = ctx.Process(
                target=_worker_main,
                args=(worker_spec(self.spec, k, n), self.run_id, k, n, theirs),
                name=f"unitcost-bench-worker-{k}",
                daemon=True,
            )
            proc.start()
            theirs.close()
            procs.append(proc)
            state["conns"].append(mine)
        # Started after every pipe exists: the last "ready" answers all workers at once.
        pumps = [
            asyncio.ensure_future(self._pump(k, c, state)) for k, c in enumerate(state["conns"])
        ]
        done = asyncio.gather(*pumps)
        try:
            try:
                await asyncio.shield(done)
            except asyncio.CancelledError:
                # SIGINT: ready workers get it too; the others are told to stop at "go".
                self.interrupted = True
                for k, proc in enumerate(procs):
                    if k in state["ready"] and proc.pid is not None and proc.is_alive():
                        os.kill(proc.pid, signal.SIGINT)
                await done
                raise
        finally:
            for proc in procs:
                await loop.run_in_executor(None, proc.join, 30)
            for c in state["conns"]:
                c.close()
            readers.shutdown(wait=False)
        if self.errors:
            raise BenchError("; ".join(self.errors))
