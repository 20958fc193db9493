"""Pytest fixtures that provide real LLM servers on a tiny, locally built model.

Why a plugin module: several test packages (integration tests, perf smoke
tests) need the same expensive, session-scoped resources -- the tiny model,
its GGUF export and running servers -- so they live here and are registered
once from ``tests/conftest.py`` with ``pytest_plugins = ["tests.support.fixtures"]``.

The model and its GGUF are built into pytest's tmp dir once per session
(~2-10 s on 2 cores). Set ``UNITCOST_TINY_MODEL_DIR`` to a persistent
directory to reuse one build across runs (it is rebuilt if the recipe
changed). Fixtures skip (with the reason) when ``llama-server`` has not been
built, rather than failing in an unrelated way.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest

from tests.support import tinymodel
from tests.support.servers import (
    Server,
    find_llama_server,
    llama_cache_dir,
    llama_server,
    transformers_server,
)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Directory of the tiny HF model (config, safetensors, tokenizer.json, chat template)."""
    persistent = os.environ.get("UNITCOST_TINY_MODEL_DIR")
    out_dir = (
        Path(persistent) if persistent else tmp_path_factory.mktemp("tinymodel") / "tiny-llama"
    )
    return tinymodel.build_tiny_model(out_dir)


def _missing(reason: str) -> NoReturn:
    """Skip, or fail when ``UNITCOST_REQUIRE_SERVERS=1`` (CI: a missing server is a bug)."""
    if os.environ.get("UNITCOST_REQUIRE_SERVERS") == "1":
        pytest.fail(f"{reason} (UNITCOST_REQUIRE_SERVERS=1)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def llama_server_bin() -> Path:
    """The ``llama-server`` binary, or skip with instructions."""
    exe = find_llama_server()
    if exe is None:
        _missing(
            "llama-server not built: run scripts/build_llama_server.sh "
            "(or set UNITCOST_LLAMA_SERVER)"
        )
    return exe


@pytest.fixture(scope="session")
def tiny_gguf(tiny_model_dir: Path, llama_server_bin: Path) -> Path:
    """The tiny model as an f32 GGUF, converted by the cached llama.cpp converter."""
    cache = llama_cache_dir()
    if not (cache / "convert_hf_to_gguf.py").is_file():
        _missing(f"llama.cpp converter not cached in {cache}: run scripts/build_llama_server.sh")
    return tinymodel.export_gguf(tiny_model_dir, tiny_model_dir / "tiny.f32.gguf", cache)


@pytest.fixture(scope="session")
def llama(
    tiny_gguf: Path, llama_server_bin: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """A running ``llama-server`` (4 slots, 4096 ctx) serving the tiny GGUF as ``tiny``."""
    logs = tmp_path_factory.mktemp("llama-server-logs")
    with llama_server(
        tiny_gguf, parallel=4, ctx=4096, binary=llama_server_bin, log_dir=logs
    ) as srv:
        yield srv


@pytest.fixture(scope="session")
def hf_server(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A running ``transformers serve`` (continuous batching) serving the tiny model."""
    logs = tmp_path_factory.mktemp("transformers-serve-logs")
    with transformers_server(tiny_model_dir, continuous_batching=True, log_dir=logs) as srv:
        yield srv


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``integration`` marker (harmless if pyproject already does).

    Keeps ``--strict-markers`` happy wherever this plugin is used.
    """
    config.addinivalue_line(
        "markers", "integration: talks to real LLM servers built and started by the tests"
    )
