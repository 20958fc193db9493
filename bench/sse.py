"""Server-sent-event parsing for OpenAI-compatible streams, kept pure so it is tested on bytes.

Real servers disagree on how a stream ends and where token usage rides (RECIPES.md):
  1. llama-server, vLLM: content chunks, a final chunk with `choices: []` and `usage`, then
     `data: [DONE]`;
  2. `transformers serve`: `usage` on the chunk carrying `finish_reason`, and no `[DONE]` (the
     connection just closes);
  3. llama-cpp-python and others: no `usage` at all (tokens are then counted by a tokenizer).
`StreamState` accepts all three. A chunk counts as *content* only when it carries non-empty text
(`delta.content`, `delta.reasoning_content`/`reasoning`, or completions' `text`): a role-only
first delta is never content, so it never ends TTFT.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


class MalformedStream(Exception):
    """An SSE event whose data is neither JSON nor `[DONE]`."""


class StreamErrorEvent(Exception):
    """The server sent an error object inside the stream (e.g. `{"error": {...}}`)."""


@dataclass
class StreamState:
    """What one stream has delivered so far; timestamps are perf_counter_ns values."""

    first_chunk_ns: int | None = None
    last_chunk_ns: int | None = None
    chunk_gaps_ns: list[int] = field(default_factory=list)
    content_chunks: int = 0
    text_parts: list[str] = field(default_factory=list)
    prompt_tokens: int | None = None
    output_tokens: int | None = None
    finish_reason: str | None = None
    done: bool = False  # `[DONE]` seen
    events: int = 0

    @property
    def text(self) -> str:
        return "".join(self.text_parts)

    def feed(self, data: bytes, now_ns: int) -> None:
        """Apply one event's data (the bytes after `data:`), seen at `now_ns`."""
        self.events += 1
        data = data.strip()
        if data == b"[DONE]":
            self.done = True
            return
        try:
            obj = json.loads(data)
        except ValueError as exc:
            raise MalformedStream(f"SSE data is not JSON: {data[:200]!r}") from exc
        if not isinstance(obj, dict):
            raise MalformedStream(f"SSE data is not a JSON object: {data[:200]!r}")
        if obj.get("error"):
            err = obj["error"]
            msg = err.get("message", err) if isinstance(err, dict) else err
            raise StreamErrorEvent(str(msg)[:500])
        usage = obj.get("usage")
        if isinstance(usage, dict):
            pt, ct = usage.get("prompt_tokens"), usage.get("completion_tokens")
            if isinstance(pt, int):
                self.prompt_tokens = pt
            if isinstance(ct, int):
                self.output_tokens = ct
        choices = obj.get("choices")
        if not choices or not isinstance(choices, list):
            return
        choice = choices[0]
        if not isinstance(choice, dict):
            raise MalformedStream(f"SSE choice is not an object: {data[:200]!r}")
        text = _choice_text(choice)
        if choice.get("finish_reason"):
            self.finish_reason = str(choice["finish_reason"])
        if text:
            if self.last_chunk_ns is None:
                self.first_chunk_ns = now_ns
            else:
                self.chunk_gaps_ns.append(now_ns - self.last_chunk_ns)
            self.last_chunk_ns = now_ns
            self.content_chunks += 1
            self.text_parts.append(text)

    @property
    def complete(self) -> bool:
        """Did the stream end properly (`[DONE]` or a finish_reason), not just stop?"""
        return self.done or self.finish_reason is not None


def _choice_text(choice: dict[str, Any]) -> str:
    delta = choice.get("delta")
    if isinstance(delta, dict):
        parts = [delta.get(k) for k in ("content", "reasoning_content", "reasoning")]
        return "".join(p for p in parts if isinstance(p, str))
    text = choice.get("text")
    return text if isinstance(text, str) else ""


class SSEDecoder:
    """Turns lines into event data per the SSE spec (data lines joined, blank line dispatches)."""

    __slots__ = ("_data", "_event")

    def __init__(self) -> None:
        self._data: list[bytes] = []
        self._event = b""

    def line(self, raw: bytes) -> tuple[bytes, bytes] | None:
        """Feed one line; return (event_name, data) when an event is complete."""
        line = raw.rstrip(b"\r\n")
        if not line:
            return self.flush()
        if line.startswith(b"data:"):
            self._data.append(line[5:].lstrip(b" "))
        elif line.startswith(b"event:"):
            self._event = line[6:].strip()
        elif line.startswith(b":"):
            pass  # comment / keep-alive
        elif line.startswith((b"id:", b"retry:")):
            pass
        else:
            raise MalformedStream(f"not an SSE line: {line[:200]!r}")
        return None

    def flush(self) -> tuple[bytes, bytes] | None:
        """The pending event at a blank line or at end of stream, if any."""
        if not self._data:
            self._event = b""
            return None
        out = (self._event, b"\n".join(self._data))
        self._data = []
        self._event = b""
        return out
