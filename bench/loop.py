"""The event loop a load runs on: its set-up, its interrupts, and a measure of its own lag.

- arun / loop_name: asyncio (or uvloop on request) in a fresh loop.
- frozen_heap: the pre-existing heap kept out of the cyclic GC while the load runs.
- Interrupts: SIGINT for the length of a run is counted and turned into a stop request on the
  loop; it never raises KeyboardInterrupt in the middle of a flush, a run-row write or an import.
- sigint_blocked: start child processes with SIGINT blocked, so a Ctrl-C sent to the whole
  process group cannot interrupt a worker while it imports (workers then ignore SIGINT and are
  stopped by their parent, through their pipe).
- LagSampler: how late the loop runs what is due (a 10 ms sleep's oversleep), sampled all run
  long. A response chunk that arrives while the loop is busy is read, and stamped, that late.
- StampingSelector / receive_late_ns: per read, an upper bound on how late it was stamped
  (each request's first chunk keeps it: first_chunk_late_ns).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib
import importlib.util
import os
import selectors
import signal
import socket
import threading
import time
from array import array
from collections.abc import Callable, Coroutine, Iterator
from types import FrameType
from typing import Any, TypeVar

T = TypeVar("T")


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


class StampingSelector(selectors.DefaultSelector):
    """The default selector, also remembering when its last three select() calls began.

    Data that reaches a socket is seen by some select (the first to start after it arrived,
    or the one waiting then), fed to its stream in that iteration's callbacks, and read by the
    waiting task in the iteration after (asyncio runs a woken task one iteration later). So a
    read stamped at `now` was seen by the select before the current iteration's, and holds
    data that arrived after the select before that one began: `now - marks[0]` bounds how
    late the stamp is (receive_late_ns). Marks are taken as select is entered, not as it
    returns: after epoll returns, the thread may wait for the GIL (the record writer holds it
    for milliseconds) or the CPU, and data arriving then would predate a return mark.
    Costs one clock read per loop iteration.
    """

    def __init__(self) -> None:
        super().__init__()
        self.marks = [0, 0, 0]

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        m = self.marks
        m[0], m[1], m[2] = m[1], m[2], time.perf_counter_ns()
        return super().select(timeout)


#: The select marks of the loop arun() is running in this process ([0, 0, 0]: none).
MARKS = [0, 0, 0]


def receive_late_ns(now_ns: int) -> int | None:
    """Upper bound on how late a read stamped `now_ns` was (StampingSelector); None when the
    loop does not stamp its selects (uvloop, or outside arun)."""
    start = MARKS[0]
    return now_ns - start if start else None


def arun(coro: Coroutine[Any, Any, T]) -> T:
    """Run the load on the standard asyncio loop (with a StampingSelector), or on uvloop when
    UNITCOST_BENCH_LOOP=uvloop and it is installed. uvloop is not the default: measured
    against tests/perf/bench's server on this project's 2-core machine it was no win for the
    harness (median 2,452 vs 2,647 streams/s over 4 alternating rounds), so it is not a
    dependency either; it gives no receive bound."""
    global MARKS
    factory: Callable[[], asyncio.AbstractEventLoop]
    selector: StampingSelector | None = None
    if loop_name() == "uvloop":
        factory = importlib.import_module("uvloop").new_event_loop
    else:
        selector = StampingSelector()
        factory = lambda: asyncio.SelectorEventLoop(selector)  # noqa: E731
    try:
        with asyncio.Runner(loop_factory=factory) as r:
            if selector is not None:
                MARKS = selector.marks
            return r.run(coro)
    finally:
        MARKS = [0, 0, 0]


def loop_name() -> str:
    """The event loop arun() uses, stored with each run (bench_runs.notes)."""
    if os.environ.get("UNITCOST_BENCH_LOOP", "asyncio") != "uvloop":
        return "asyncio"
    return "uvloop" if importlib.util.find_spec("uvloop") is not None else "asyncio"


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


class Interrupts:
    """SIGINT (Ctrl-C) during a run: counted, and a stop request on the run's loop.

    Installed for the whole run (`with Interrupts() as it:`), so a Ctrl-C at any moment, pressed
    once or several times, only ever asks the run to stop: it never raises KeyboardInterrupt
    inside the record writer's flush, the run row's final write or an import, which is what left
    runs `running` forever. While the load runs (`on_loop`), the signal also wakes the loop at
    once through a wakeup socket (the signal may land on another thread while the loop sleeps
    in its selector). Outside the main thread (a caller's own thread) it does nothing: SIGINT is
    then the caller's business.
    """

    def __init__(self) -> None:
        self.count = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._callback: Callable[[], None] | None = None
        self._prev: Any = None
        self._installed = False

    def __enter__(self) -> Interrupts:
        if _main_thread():
            self._prev = signal.signal(signal.SIGINT, self._handler)
            self._installed = True
        return self

    def __exit__(self, *exc: object) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, self._prev)
            self._installed = False

    def _handler(self, _signum: int, _frame: FrameType | None) -> None:
        self.count += 1
        loop, cb = self._loop, self._callback
        if loop is not None and cb is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(cb)

    @contextlib.contextmanager
    def on_loop(
        self, loop: asyncio.AbstractEventLoop, callback: Callable[[], None]
    ) -> Iterator[None]:
        """While the block runs, a SIGINT calls `callback` on `loop` (at once if one came
        before the loop was up)."""
        if not self._installed:
            yield
            return
        rsock, wsock = socket.socketpair()
        rsock.setblocking(False)
        wsock.setblocking(False)
        loop.add_reader(rsock.fileno(), _drain, rsock)
        prev_fd = signal.set_wakeup_fd(wsock.fileno(), warn_on_full_buffer=False)
        self._loop, self._callback = loop, callback
        if self.count:
            loop.call_soon(callback)
        try:
            yield
        finally:
            self._loop = self._callback = None
            signal.set_wakeup_fd(prev_fd)
            loop.remove_reader(rsock.fileno())
            rsock.close()
            wsock.close()


def _drain(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while sock.recv(256):
            pass


@contextlib.contextmanager
def sigint_blocked() -> Iterator[None]:
    """SIGINT blocked in this thread for the block: a child process started inside inherits the
    block (fork and exec keep the signal mask), so it cannot be interrupted before it decides
    what SIGINT means to it. A SIGINT meant for this process stays pending, or lands on another
    of its threads, and is not lost."""
    if not _main_thread():
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def ignore_sigint() -> None:
    """In a worker process started under sigint_blocked: SIGINT ignored (a pending one is
    dropped), then unblocked. The parent stops the worker through its pipe instead."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


class LagSampler:
    """The loop's own lag, sampled all run long: how late a 10 ms sleep wakes.

    A sleeping coroutine is woken the way a stream read is (a due callback, then the task's
    step, each waiting for whatever the loop is running), so its oversleep is the lag a
    response chunk's receive stamp suffers at that moment. Samples are kept raw (int64 ns) and
    summarized with the run's records (metrics.py: loop_lag_ms).
    """

    INTERVAL_S = 0.010

    def __init__(self) -> None:
        self.samples: array[int] = array("q")
        self._sent = 0  # samples already handed on (workers send them with their batches)

    async def run(self) -> None:
        interval_ns = int(self.INTERVAL_S * 1e9)
        clock = time.perf_counter_ns
        append = self.samples.append
        while True:
            t0 = clock()
            await asyncio.sleep(self.INTERVAL_S)
            append(max(0, clock() - t0 - interval_ns))

    def take_new(self) -> list[int]:
        """Samples not handed on yet."""
        new = self.samples[self._sent :].tolist()
        self._sent += len(new)
        return new
