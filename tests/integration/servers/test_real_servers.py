"""Integration tests against REAL LLM servers serving the tiny local model.

Why: unitcost's client must cope with the stream styles real servers emit,
and these differ in ways a mock would paper over. These tests pin down what
the two servers we can run on CPU actually send, so a change in either (or in
our tooling that starts them) shows up here first:

* llama-server: content chunks, a finish chunk, then a separate chunk with
  ``"choices": []`` carrying ``usage``, then ``data: [DONE]``.
* transformers serve: ``usage`` rides on the chunk with ``finish_reason`` and
  the stream just ends -- no ``[DONE]``.

They also check the tooling itself: the tiny model build is cached, the GGUF
loads, and stopping a server really frees its PID and port.
"""

from __future__ import annotations

import json
import os
import socket
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.support import tinymodel
from tests.support.servers import Server, llama_server

pytestmark = pytest.mark.integration

MAX_TOKENS = 16


def stream_chat(
    server: Server, extra: dict[str, Any] | None = None, timeout: float = 120.0
) -> list[str]:
    """POST a streamed chat completion and return the raw SSE ``data:`` payloads in order."""
    body: dict[str, Any] = {
        "model": server.model,
        "messages": [{"role": "user", "content": "Say something about load testing."}],
        "max_tokens": MAX_TOKENS,
        "stream": True,
        "stream_options": {"include_usage": True},
        **(extra or {}),
    }
    req = urllib.request.Request(
        server.base_url + "/v1/chat/completions",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Accept": "text/event-stream"},
    )
    payloads: list[str] = []
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        assert resp.status == 200
        assert resp.headers.get_content_type() == "text/event-stream"
        for raw in resp:
            line = raw.decode("utf-8").rstrip("\r\n")
            if line.startswith("data:"):
                payloads.append(line[len("data:") :].strip())
    return payloads


def _chunks(payloads: list[str]) -> list[dict[str, Any]]:
    return [json.loads(p) for p in payloads if p != "[DONE]"]


def _content(chunks: list[dict[str, Any]]) -> str:
    return "".join(
        c["choices"][0]["delta"].get("content") or "" for c in chunks if c.get("choices")
    )


def test_tiny_model_build_is_cached(tiny_model_dir: Path) -> None:
    """A second build call reuses the finished build instead of rewriting it."""
    weights = tiny_model_dir / "model.safetensors"
    before = weights.stat().st_mtime_ns
    t0 = time.monotonic()
    assert tinymodel.build_tiny_model(tiny_model_dir) == tiny_model_dir
    assert time.monotonic() - t0 < 1.0
    assert weights.stat().st_mtime_ns == before
    assert (tiny_model_dir / "tokenizer.json").is_file()
    config = json.loads((tiny_model_dir / "config.json").read_text())
    assert config["architectures"] == ["LlamaForCausalLM"]
    assert config["hidden_size"] == 128 and config["num_hidden_layers"] == 2


def test_llama_server_stream_style(llama: Server) -> None:
    """llama-server: usage in a trailing ``choices: []`` chunk, then ``[DONE]``."""
    payloads = stream_chat(llama, {"ignore_eos": True})
    assert payloads[-1] == "[DONE]", payloads[-3:]
    assert payloads.count("[DONE]") == 1
    chunks = _chunks(payloads)
    usage_chunk = chunks[-1]
    assert usage_chunk["choices"] == []
    assert usage_chunk["usage"]["completion_tokens"] == MAX_TOKENS
    assert usage_chunk["usage"]["prompt_tokens"] > 0
    finish = [c for c in chunks if c["choices"] and c["choices"][0].get("finish_reason")]
    assert len(finish) == 1 and finish[0]["choices"][0]["finish_reason"] == "length"
    assert all(c.get("usage") is None for c in chunks[:-1])
    assert _content(chunks), "expected non-empty generated text"


def test_llama_server_metrics(llama: Server) -> None:
    """``--metrics`` exposes Prometheus counters that collectors scrape."""
    stream_chat(llama, {"ignore_eos": True})
    with urllib.request.urlopen(llama.base_url + "/metrics", timeout=10) as resp:
        text = resp.read().decode()
    assert "llamacpp:tokens_predicted_total" in text
    assert "llamacpp:prompt_tokens_total" in text


def test_transformers_serve_stream_style(hf_server: Server) -> None:
    """transformers serve: usage on the ``finish_reason`` chunk, no ``[DONE]``."""
    payloads = stream_chat(hf_server)
    assert "[DONE]" not in payloads
    chunks = _chunks(payloads)
    last = chunks[-1]
    assert last["choices"][0]["finish_reason"] == "length"
    assert last["usage"]["completion_tokens"] == MAX_TOKENS
    assert last["usage"]["prompt_tokens"] > 0
    assert all(c.get("usage") is None for c in chunks[:-1])
    assert _content(chunks), "expected non-empty generated text"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); treat it as gone.
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return False


def test_llama_server_stop_frees_pid_and_port(tiny_gguf: Path, llama_server_bin: Path) -> None:
    """Leaving the context manager terminates exactly the recorded PID and frees the port."""
    with llama_server(tiny_gguf, parallel=1, ctx=512, binary=llama_server_bin) as srv:
        pid = srv.pid
        port = int(srv.base_url.rsplit(":", 1)[1])
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            assert Path(fh.read().split(b"\0")[0].decode()).name == "llama-server"
    assert not _pid_alive(pid)
    with socket.socket() as sock:
        # SO_REUSEADDR tolerates TIME_WAIT from the health checks, never a live listener.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
