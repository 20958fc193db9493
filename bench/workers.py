"""`--workers N`: several client processes drive one run, and the parent is its one writer.

One Python process tops out at a few thousand streamed requests per second (the event loop is
single-threaded and the GIL is shared with the record writer). With N workers, each process
runs its own event loop and HTTP pool over a share of the load:

  schedule     one for the whole run: request i is due at the i-th arrival of the profile (or
               the i-th trace entry), and worker k sends requests k, k + N, k + 2N, ... So the
               workers interleave into exactly the arrival process asked for (constant, gamma
               or Poisson at the full rate, seeded by --seed), and request ids are global.
  concurrency  split as evenly as possible (worker k gets c // N, +1 for the first c % N),
               for a closed loop and for an open loop's cap alike.
  requests     worker k sends ids k, k + N, ... below the limit, so the limit in all.

Workers never open the DuckDB file: they send finished records (as Arrow batches), their `sent`
count and their event-loop lag samples through a pipe; the parent counts them for the live view
(Live.add_batch) and hands them to its RecordWriter, so the file keeps one writer. All workers
start their schedules at one instant chosen by the parent (perf_counter_ns is system-wide).

Stopping: workers are started with SIGINT blocked and then ignore it, so a Ctrl-C sent to the
whole process group reaches the parent only (no worker is ever interrupted inside an import).
The parent asks each ready worker to stop through its pipe; a worker records its in-flight
requests as cancelled, sends them and exits, so sent = ok + failed + cancelled holds across
workers. A worker still starting has nothing to keep and is terminated at once; one that has
not ended STOP_GRACE_S after the request is killed (the run says so in its warnings). A worker
whose parent has gone stops by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import multiprocessing as mp
import threading
import time
from multiprocessing import resource_tracker
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from unitcost.bench.engine import Load
from unitcost.bench.live import Live
from unitcost.bench.loop import arun, frozen_heap, ignore_sigint, sigint_blocked
from unitcost.bench.records import RecordWriter, to_arrow
from unitcost.bench.spec import RunSpec

from unitcost.errors import BenchError, InputError

_START_LEAD_NS = 50_000_000  # the common start is this far after the last worker is ready
STOP_GRACE_S = 10.0  # a stopped worker has this long to send what it has and exit


def share(total: int, k: int, n: int) -> int:
    """Worker k's share of `total` split over n workers (the first total % n get one more)."""
    return total // n + (1 if k < total % n else 0)


def worker_spec(spec: RunSpec, k: int, n: int) -> RunSpec:
    """The RunSpec worker k of n runs: its share of the concurrency; the whole run's schedule
    (engine.Load.offsets takes every n-th arrival from k)."""
    p = spec.profile
    conc = share(p.concurrency, k, n) if p.concurrency else p.concurrency
    profile = dataclasses.replace(p, concurrency=conc)
    return dataclasses.replace(spec, profile=profile, workers=1, metrics_url=None)


def validate(spec: RunSpec) -> None:
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


def _recv(conn: Connection) -> tuple[Any, ...]:
    """The next message, or ("eof", why) when the other side is gone."""
    try:
        msg = conn.recv()
    except (EOFError, OSError) as exc:
        return ("eof", repr(exc))
    return tuple(msg)


def _send(conn: Connection, msg: tuple[Any, ...]) -> bool:
    try:
        conn.send(msg)
    except OSError:  # the other side is gone
        return False
    return True


class _PipeWriter(RecordWriter):
    """A worker's writer: batches of records go to the parent instead of DuckDB."""

    def __init__(self, conn: Connection, flush_s: float, run: Load) -> None:
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
        self.send(("recs", self.run.live.sent, to_arrow(batch), self.run.lag.take_new()))
        self.written += len(batch)
        return len(batch)


class _WorkerRun(Load):
    async def serve(self, conn: Connection, writer: _PipeWriter) -> None:
        loop = asyncio.get_running_loop()
        writer.send(("ready",))
        go = await loop.run_in_executor(None, _recv, conn)
        if go[0] != "go":  # stopped (or the parent gone) before the start
            self.interrupted = True
            return
        self.start_at_ns = int(go[1])

        def watch() -> None:  # anything after "go" is a stop request, and so is EOF
            _recv(conn)
            with contextlib.suppress(RuntimeError):  # the loop closed: nothing to stop
                loop.call_soon_threadsafe(self.request_stop)

        threading.Thread(target=watch, name="unitcost-bench-stop", daemon=True).start()
        self._task = asyncio.create_task(self.load())
        try:
            await self._task
        except asyncio.CancelledError:
            if not self.interrupted:
                raise


def _worker_main(spec: RunSpec, run_id: str, k: int, n: int, conn: Connection) -> None:
    """Entry point of worker k (spawned): run its share, stream records to the parent."""
    ignore_sigint()  # the parent stops us through the pipe
    r = _WorkerRun(None, spec, run_id, Live())  # type: ignore[arg-type]  # no store
    r.id_offset, r.id_stride = k, n
    writer = _PipeWriter(conn, min(spec.flush_s, 0.25), r)
    r.writer = writer
    error = None
    try:
        writer.start()
        with frozen_heap():
            arun(r.serve(conn, writer))
    except BaseException as exc:  # reported to the parent, which fails the run
        error = f"worker {k}: {type(exc).__name__}: {exc}"
    finally:
        writer._stop.set()
        writer._wake.set()
        if writer._thread is not None:
            writer._thread.join()
        with contextlib.suppress(OSError):  # OSError: the parent is gone, nobody to tell
            writer.flush()
            writer.send(("end", r.live.sent, r.interrupted, error))
        conn.close()


def _read_pipe(
    k: int, conn: Connection, loop: asyncio.AbstractEventLoop, inbox: asyncio.Queue[Any]
) -> None:
    """Worker k's messages onto the parent's loop, until its end. A plain blocking read in a
    daemon thread: an event loop's add_reader may make the pipe non-blocking (large batches
    then arrive in pieces Connection.recv cannot resume), and a daemon thread never holds the
    process up at exit (a pool thread blocked on a dead pipe did)."""
    while True:
        msg = _recv(conn)
        try:
            loop.call_soon_threadsafe(inbox.put_nowait, (k, msg))
        except RuntimeError:  # the loop closed
            return
        if msg[0] in ("end", "eof"):
            return


class MultiRun(Load):
    """The parent: starts the workers, stops them on request, stores what they send."""

    def __init__(self, *a: Any, **kw: Any) -> None:
        super().__init__(*a, **kw)
        self.sent: dict[int, int] = {}
        self.errors: list[str] = []
        self.warnings: list[str] = []
        self.lag_ns: list[int] = []
        self._inbox: asyncio.Queue[Any] | None = None

    def request_stop(self) -> None:
        self.interrupted = True
        self.live.status = "interrupted"
        if self._inbox is not None:
            self._inbox.put_nowait((-1, ("interrupt",)))

    def lag_samples(self) -> list[int]:
        return self.lag_ns

    def run_warnings(self) -> list[str]:
        return self.warnings

    async def load(self) -> None:
        n = self.spec.workers
        self.live.add_batch(to_arrow([]))  # pyarrow.compute's lazy set-up, before the load
        ctx = mp.get_context("spawn")  # no fork of a process that has threads and a loop
        loop = asyncio.get_running_loop()
        self._inbox = inbox = asyncio.Queue[Any]()
        procs: list[BaseProcess] = []
        conns: list[Connection] = []
        # Started first, with SIGINT blocked by multiprocessing itself: starting it inside our
        # block would unblock SIGINT (resource_tracker.ensure_running does) before the workers.
        resource_tracker.ensure_running()
        with sigint_blocked():  # inherited: a worker ignores SIGINT before it imports anything
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
                conns.append(mine)
        for k, c in enumerate(conns):
            threading.Thread(
                target=_read_pipe, args=(k, c, loop, inbox), name=f"unitcost-bench-pipe-{k}",
                daemon=True,
            ).start()  # fmt: skip
        try:
            await self._serve(procs, conns, inbox)
        finally:
            await self._reap(procs)
            for c in conns:
                c.close()
        if self.errors:
            raise BenchError("; ".join(self.errors))

    async def _serve(
        self, procs: list[BaseProcess], conns: list[Connection], inbox: asyncio.Queue[Any]
    ) -> None:
        n = len(procs)
        loop = asyncio.get_running_loop()
        ready: set[int] = set()
        ended: set[int] = set()
        terminated: set[int] = set()  # stopped while starting: their EOF is expected
        stopping = False
        kill_at: float | None = None

        def stop_all() -> None:
            nonlocal stopping, kill_at
            stopping = True
            kill_at = loop.time() + STOP_GRACE_S
            for k, proc in enumerate(procs):
                if k in ended:
                    continue
                if k in ready:
                    _send(conns[k], ("stop",))
                else:
                    proc.terminate()  # still starting: it has sent nothing, keeps nothing
                    terminated.add(k)

        while len(ended) < n:
            if self.interrupted and not stopping:
                stop_all()
            timeout = None if kill_at is None else max(0.0, kill_at - loop.time())
            try:
                k, msg = await asyncio.wait_for(inbox.get(), timeout)
            except TimeoutError:
                for k, proc in enumerate(procs):
                    if k not in ended and proc.is_alive():
                        proc.kill()
                        self.warnings.append(
                            f"worker {k} had not stopped {STOP_GRACE_S:g} s after the stop "
                            "request and was killed: what it had not sent yet is lost"
                        )
                return
            kind = msg[0]
            if kind == "ready":
                ready.add(k)
                if len(ready) == n and not stopping:
                    self.start_ns = time.perf_counter_ns() + _START_LEAD_NS
                    for c in conns:
                        _send(c, ("go", self.start_ns))
            elif kind == "recs":
                self.sent[k] = msg[1]
                self.live.sent = sum(self.sent.values())
                self.live.add_batch(msg[2])
                self.writer.add_table(msg[2])
                self.lag_ns.extend(msg[3])
            elif kind == "end":
                ended.add(k)
                self.sent[k] = msg[1]
                self.live.sent = sum(self.sent.values())
                if msg[3]:
                    self.errors.append(msg[3])
                    if not stopping:
                        stop_all()
            elif kind == "eof":
                ended.add(k)
                if k not in terminated:
                    self.errors.append(f"worker {k} exited without reporting its end ({msg[1]})")
                    if not stopping:
                        stop_all()

    async def _reap(self, procs: list[BaseProcess]) -> None:
        """Every worker process has exited when the run ends (killed if it must be)."""
        loop = asyncio.get_running_loop()
        for proc in procs:
            await loop.run_in_executor(None, proc.join, STOP_GRACE_S)
            if proc.is_alive():
                proc.kill()
                await loop.run_in_executor(None, proc.join, 5)
