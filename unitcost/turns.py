"""Whoever had to wait goes next: turns on a DuckDB file between processes.

DuckDB's file lock has no queue: a process that finds the file held can only try again later.
A process that takes the file back to back (a busy dashboard reading, a collector writing in a
loop) lets go of it for well under a millisecond between units of work, so another process
retrying with backoff almost never finds it free and waits for seconds (once: one write in six
seconds against a reader in a loop, on a loaded CI machine).

So a process whose try fails says that it waits, by holding an exclusive flock on a side file,
`<database>.wait`, until it has the database; and every unit of work, before its first try,
waits while someone else says so (up to its lock timeout; then it goes ahead: this orders
tries, it never guards the data, which DuckDB's own lock does). Work already running ends as
usual, the file falls free, and the waiter's next try gets it. Readers and writers alike
alternate so, and neither can starve the other. The side file holds no data; flock locks end
with the process that holds them, so one that dies leaves nothing held. Where flock does not
exist (Windows) processes only retry.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from types import ModuleType

fcntl: ModuleType | None
try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

#: How often a unit of work held back by a waiter looks again (waiters retry every 5-50 ms).
POLL_S = 0.002


def side_file(database: Path) -> Path:
    """Where those waiting for `database` say so."""
    return database.with_name(database.name + ".wait")


class Waiting:
    """One unit of work's "I am waiting": said at its first failed try, withdrawn once it has
    the file (or gives up). Several may wait at once and one saying so is enough, so one that
    cannot take the flock (another waiter has it, or someone is looking at that instant)
    simply says it again at its next try."""

    def __init__(self, database: Path) -> None:
        self._path = side_file(database)
        self._fd: int | None = None

    @property
    def said(self) -> bool:
        return self._fd is not None

    def say(self) -> None:
        if self._fd is not None or fcntl is None:
            return
        try:
            fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError:  # a directory we may not write: this one just retries
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return
        self._fd = fd

    def withdraw(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases its flock
            self._fd = None


def wait_turn(database: Path, deadline: float) -> None:
    """Return once nobody says they wait for `database`, or at `deadline` (time.monotonic())."""
    if fcntl is None:
        return
    try:
        fd = os.open(side_file(database), os.O_RDONLY)
    except OSError:  # nobody ever had to wait for this file
        return
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
                return  # released by the close below
            except BlockingIOError:  # someone is waiting
                if time.monotonic() >= deadline:
                    return
                time.sleep(POLL_S)
            except OSError:  # flock unsupported here (some network filesystems)
                return
    finally:
        os.close(fd)
