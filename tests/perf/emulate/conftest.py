"""The perf benchmarks start emulators the same way the integration tests do."""

from __future__ import annotations

from tests.integration.emulate.conftest import emulator

__all__ = ["emulator"]
