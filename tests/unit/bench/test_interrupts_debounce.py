"""A Ctrl-C pressed twice is one stop request: the second one, landing while the CLI prints the
interrupted run's summary and id, must not cut them short (it did: no run id on stdout)."""

from __future__ import annotations

import os
import signal

import pytest
from unitcost.bench import loop


def _ctrl_c() -> None:
    os.kill(os.getpid(), signal.SIGINT)


def test_second_ctrl_c_right_after_an_interrupted_run_is_ignored() -> None:
    before = signal.getsignal(signal.SIGINT)
    try:
        with loop.Interrupts() as it:
            _ctrl_c()
        assert it.count == 1
        _ctrl_c()  # within DEBOUNCE_S: part of the same stop request, no KeyboardInterrupt
    finally:
        signal.signal(signal.SIGINT, before)


def test_later_ctrl_c_reaches_the_callers_handler(monkeypatch: pytest.MonkeyPatch) -> None:
    before = signal.getsignal(signal.SIGINT)
    monkeypatch.setattr(loop, "DEBOUNCE_S", 0.0)
    try:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        with loop.Interrupts():
            _ctrl_c()
        with pytest.raises(KeyboardInterrupt):
            _ctrl_c()
    finally:
        signal.signal(signal.SIGINT, before)


def test_uninterrupted_run_gives_the_handler_back_as_it_was() -> None:
    before = signal.getsignal(signal.SIGINT)
    with loop.Interrupts():
        pass
    assert signal.getsignal(signal.SIGINT) is before
