"""Start and stop real OpenAI-compatible LLM servers for tests and perf scripts.

Why: unitcost load-tests inference servers, and mocks cannot show the quirks
that matter (where ``usage`` rides in the stream, whether ``[DONE]`` is sent,
``/metrics``). These helpers run the real thing on the tiny model from
:mod:`tests.support.tinymodel`:

* :func:`llama_server` -- llama.cpp's ``llama-server`` (binary cached by
  ``scripts/build_llama_server.sh``): usage in a final ``choices: []`` chunk,
  then ``data: [DONE]``; honours ``"ignore_eos": true``; Prometheus ``/metrics``.
* :func:`transformers_server` -- ``transformers serve``: usage on the chunk
  carrying ``finish_reason``, no ``[DONE]``; request ``model`` must equal the
  served id (the model directory path string).

Each server is ONE plain subprocess in its own session/process group, started
without a shell, so the recorded PID is the server itself (a shell wrapper
would leave the server holding its port after ``kill``). On exit exactly that
PID gets SIGTERM, then SIGKILL after a grace period. Output goes to a log file
whose tail is included in any startup error.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

LLAMA_CPP_VERSION = "0.3.36"
"""llama-cpp-python sdist whose vendored llama.cpp is built (keep in sync with the script)."""


@dataclass(frozen=True)
class Server:
    """A running server: where to send requests and how to find its output."""

    base_url: str
    """``http://127.0.0.1:PORT`` (append ``/v1/chat/completions`` etc.)."""
    model: str
    """The value to send as the request's ``model``."""
    pid: int
    """PID of the server process itself (not a shell)."""
    log_path: Path
    """Combined stdout/stderr of the server."""


def llama_cache_dir() -> Path:
    """Cache dir written by ``scripts/build_llama_server.sh`` (same default rule)."""
    root = os.environ.get("UNITCOST_CACHE") or str(Path.home() / ".cache" / "unitcost")
    return Path(root) / f"llama.cpp-{LLAMA_CPP_VERSION}"


def find_llama_server() -> Path | None:
    """Path of a usable ``llama-server`` binary, or None so tests can skip clearly.

    ``UNITCOST_LLAMA_SERVER`` wins (lets CI point at a prebuilt binary);
    otherwise the build script's cache location is used.
    """
    env = os.environ.get("UNITCOST_LLAMA_SERVER")
    candidate = Path(env) if env else llama_cache_dir() / "bin" / "llama-server"
    if candidate.is_file() and os.access(candidate, os.X_OK):
        return candidate
    return None


def free_port() -> int:
    """An unused TCP port on 127.0.0.1 (the OS picks it; tiny race accepted)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def log_tail(path: Path, limit: int = 4000) -> str:
    """Last ``limit`` characters of a log file ('' if unreadable)."""
    try:
        data = path.read_bytes()
    except OSError:
        return ""
    return data[-limit:].decode("utf-8", errors="replace")


def _stop(proc: subprocess.Popen[bytes], grace_s: float = 10.0) -> None:
    """SIGTERM exactly ``proc.pid``, then SIGKILL if it has not exited in time."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace_s)
        return
    except subprocess.TimeoutExpired:
        pass
    with contextlib.suppress(ProcessLookupError):
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=grace_s)


def _wait_healthy(
    proc: subprocess.Popen[bytes], url: str, log_path: Path, timeout_s: float, what: str
) -> None:
    """Poll ``url`` until it answers 200; fail fast if the process dies."""
    deadline = time.monotonic() + timeout_s
    last_err = "no attempt"
    while True:
        rc = proc.poll()
        if rc is not None:
            raise RuntimeError(
                f"{what} (pid {proc.pid}) exited with code {rc} before becoming healthy; "
                f"log {log_path}:\n{log_tail(log_path)}"
            )
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
                last_err = f"HTTP {resp.status}"
        except urllib.error.HTTPError as exc:  # e.g. 503 while llama-server loads
            last_err = f"HTTP {exc.code}"
        except (urllib.error.URLError, OSError) as exc:
            last_err = repr(exc)
        if time.monotonic() >= deadline:
            raise TimeoutError(
                f"{what} (pid {proc.pid}) not healthy at {url} after {timeout_s:.0f}s "
                f"(last: {last_err}); log {log_path}:\n{log_tail(log_path)}"
            )
        time.sleep(0.1)


@contextlib.contextmanager
def run_server(
    cmd: Sequence[str],
    *,
    port: int,
    model: str,
    name: str,
    health_path: str = "/health",
    timeout_s: float = 60.0,
    env: dict[str, str] | None = None,
    log_dir: Path | None = None,
) -> Iterator[Server]:
    """Run ``cmd`` as one subprocess, wait for health, yield a :class:`Server`, stop it.

    The log file is kept after exit (it lives in ``log_dir`` or a fresh temp
    dir) so a failing test can point at it.
    """
    log_root = (
        Path(log_dir) if log_dir is not None else Path(tempfile.mkdtemp(prefix=f"unitcost-{name}-"))
    )
    log_root.mkdir(parents=True, exist_ok=True)
    log_path = log_root / f"{name}-{port}.log"
    base_url = f"http://127.0.0.1:{port}"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            list(cmd),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            # Own session/process group: a Ctrl-C in the test runner's terminal
            # is not also delivered to the server; we stop it ourselves.
            start_new_session=True,
        )
    try:
        _wait_healthy(proc, base_url + health_path, log_path, timeout_s, name)
        yield Server(base_url=base_url, model=model, pid=proc.pid, log_path=log_path)
    finally:
        _stop(proc)


@contextlib.contextmanager
def llama_server(
    gguf: Path,
    *,
    parallel: int = 4,
    ctx: int = 4096,
    threads: int = 2,
    alias: str = "tiny",
    binary: Path | None = None,
    timeout_s: float = 60.0,
    log_dir: Path | None = None,
) -> Iterator[Server]:
    """Serve ``gguf`` with llama.cpp's ``llama-server`` on a free port.

    ``ctx`` is the total KV context, shared by ``parallel`` slots (so each
    request gets ``ctx // parallel`` tokens). ``--metrics`` is on so collectors
    can scrape ``/metrics``. The request ``model`` is ``alias``.
    """
    exe = binary or find_llama_server()
    if exe is None:
        raise FileNotFoundError(
            "llama-server not built: run scripts/build_llama_server.sh "
            "(or set UNITCOST_LLAMA_SERVER)"
        )
    port = free_port()
    cmd = [
        str(exe), "-m", str(gguf), "--alias", alias,
        "--host", "127.0.0.1", "--port", str(port),
        "-c", str(ctx), "-np", str(parallel), "-t", str(threads),
        "--metrics", "--no-webui",
    ]  # fmt: skip
    with run_server(
        cmd, port=port, model=alias, name="llama-server", timeout_s=timeout_s, log_dir=log_dir
    ) as srv:
        yield srv


def find_transformers_cli() -> Path | None:
    """The ``transformers`` console script of the running interpreter's environment."""
    beside = Path(sys.executable).parent / "transformers"
    if beside.is_file():
        return beside
    found = shutil.which("transformers")
    return Path(found) if found else None


@contextlib.contextmanager
def transformers_server(
    model_dir: Path,
    *,
    continuous_batching: bool = True,
    cb_num_blocks: int = 512,
    cb_block_size: int = 32,
    timeout_s: float = 180.0,
    log_dir: Path | None = None,
) -> Iterator[Server]:
    """Serve ``model_dir`` with ``transformers serve --device cpu`` on a free port.

    Continuous batching is what makes concurrent requests run together; the
    block limit matters, since without it the KV cache grows to ~11 GB. The
    served model id is the path string, which is also what requests must send
    as ``model``. Hub access is switched off (nothing can be downloaded here
    and a lookup would only stall startup).
    """
    cli = find_transformers_cli()
    if cli is None:
        raise FileNotFoundError("`transformers` CLI not found: pip install 'transformers[serving]'")
    port = free_port()
    model_id = str(model_dir)
    cmd = [
        str(cli),
        "serve",
        model_id,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--device",
        "cpu",
    ]
    if continuous_batching:
        cmd += [
            "--continuous-batching",
            "--cb-num-blocks",
            str(cb_num_blocks),
            "--cb-block-size",
            str(cb_block_size),
        ]
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
    }
    with run_server(
        cmd,
        port=port,
        model=model_id,
        name="transformers-serve",
        timeout_s=timeout_s,
        env=env,
        log_dir=log_dir,
    ) as srv:
        yield srv
