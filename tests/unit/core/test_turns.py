"""Turns on the store's file (unitcost.turns): whoever had to wait goes next.

DuckDB's lock has no queue; without turns a process taking the file back to back shuts out
one that retries (CI once saw one write in six seconds against a reader in a loop). These
tests put a waiter in front of a process that would otherwise take the file again at once,
and check from the rows seen who went first."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from unitcost.store import Store
from unitcost.turns import Waiting, side_file, wait_turn


def _someone_waits(db: Path) -> bool:
    """True while a Waiting holds the side file's flock."""
    try:
        fd = os.open(side_file(db), os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


def _until(cond: Callable[[], bool], timeout_s: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.01)
    return False


def test_wait_turn_waits_while_someone_says_so(tmp_path: Path) -> None:
    db = tmp_path / "x.duckdb"
    start = time.monotonic()
    wait_turn(db, start + 5)  # no side file: nobody ever waited
    assert not side_file(db).exists()
    waiting = Waiting(db)
    waiting.say()
    waiting.say()  # saying it twice holds one flock
    assert waiting.said and _someone_waits(db)
    done = threading.Event()
    waiter = threading.Thread(target=lambda: (wait_turn(db, time.monotonic() + 30), done.set()))
    waiter.start()
    assert not done.wait(0.3)  # held back while someone waits
    waiting.withdraw()
    assert done.wait(10)  # and let go once they have withdrawn
    waiter.join()
    assert not _someone_waits(db)
    other = Waiting(db)
    other.say()
    try:
        before = time.monotonic()
        wait_turn(db, before + 0.2)  # a deadline ends the wait: turns order, never guard
        assert time.monotonic() - before >= 0.2
    finally:
        other.withdraw()


_WRITE = """
import sys
from pathlib import Path
from unitcost.store import Store
with Store(Path(sys.argv[1]), lock_timeout_s=60).write() as con:
    con.execute("INSERT INTO watermarks VALUES ('c', 'writer', now(), now())")
"""


def test_a_waiting_writer_goes_before_new_reads(store: Store) -> None:
    """While a read holds the file, a writer in another process waits and says so; a read
    that starts then waits for the writer instead of joining the read already running, so it
    sees the writer's row (without turns it joins at once and sees none)."""
    holding, release = threading.Event(), threading.Event()
    seen: list[object] = []

    def long_read() -> None:
        with store.read() as con:
            con.execute("SELECT 1").fetchall()
            holding.set()
            release.wait(30)

    def new_read() -> None:
        with store.read() as con:
            seen.append(con.execute("SELECT count(*) FROM watermarks").fetchone())

    first = threading.Thread(target=long_read)
    first.start()
    assert holding.wait(10)
    writer = subprocess.Popen([sys.executable, "-c", _WRITE, str(store.path)])
    try:
        assert _until(lambda: _someone_waits(store.path)), "the writer never said it waits"
        second = threading.Thread(target=new_read)
        second.start()
        second.join(0.5)
        assert second.is_alive() and seen == []  # held back behind the writer
    finally:
        release.set()
        first.join(10)
    assert writer.wait(60) == 0
    second.join(20)
    assert seen == [(1,)]


_WRITE_TWICE = """
import sys, time
from pathlib import Path
from unitcost.store import Store
store = Store(Path(sys.argv[1]), lock_timeout_s=60)
db = store.batch_writer()
with db.write() as con:
    con.execute("INSERT INTO watermarks VALUES ('c', 'first', now(), now())")
    print("holding", flush=True)
    time.sleep(float(sys.argv[2]))
with db.write() as con:  # attached again right after the DETACH: no window for others
    con.execute("INSERT INTO watermarks VALUES ('c', 'second', now(), now())")
db.close()
"""


def test_a_waiting_read_goes_before_the_writers_next_write(store: Store) -> None:
    """A batch writer writes twice back to back (ATTACH right after DETACH); a read that
    waited for the first write says so, and the second write lets it in first: it sees
    exactly the first write's row."""
    store.require_current()  # the schema check, a unit of work of its own, done beforehand
    writer = subprocess.Popen(
        [sys.executable, "-c", _WRITE_TWICE, str(store.path), "1.0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout is not None
    assert writer.stdout.readline().strip() == "holding"
    with store.read() as con:
        seen = con.execute("SELECT source FROM watermarks").fetchall()
    writer.communicate(timeout=60)
    assert writer.returncode == 0
    assert seen == [("first",)]


def test_a_read_nested_in_a_read_does_not_wait_for_its_own_turn(tmp_path: Path) -> None:
    """A read inside another on the same thread goes ahead even while a writer waits: the
    writer waits for the outer read, so waiting for the writer would wait for itself (until
    the lock timeout)."""
    store = Store(tmp_path / "x.duckdb", lock_timeout_s=60)
    store.migrate()
    with store.read() as outer:
        outer.execute("SELECT 1").fetchall()
        writer = subprocess.Popen([sys.executable, "-c", _WRITE, str(store.path)])
        assert _until(lambda: _someone_waits(store.path)), "the writer never said it waits"
        started = time.monotonic()
        with store.read() as inner:
            assert inner.execute("SELECT count(*) FROM watermarks").fetchone() == (0,)
        assert time.monotonic() - started < 30  # not held until the lock timeout
        assert _someone_waits(store.path)  # the writer still waits for the outer read
    assert writer.wait(60) == 0
    with store.read() as con:
        assert con.execute("SELECT count(*) FROM watermarks").fetchone() == (1,)
