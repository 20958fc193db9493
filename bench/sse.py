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

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, NoReturn, TypeAlias

import msgspec


class MalformedStream(Exception):
    """An SSE event whose data is neither JSON nor `[DONE]`."""


class StreamErrorEvent(Exception):
    """The server sent an error object inside the stream (e.g. `{"error": {...}}`)."""


@dataclass(slots=True)
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
    stale_connection: bool = False  # failed before any response on a reused connection

    @property
    def text(self) -> str:
        return "".join(self.text_parts)

    def feed(self, data: bytes, now_ns: int) -> None:
        """Apply one event's data (the bytes after `data:`), seen at `now_ns`."""
        self.feed_events(((b"", data),), now_ns)

    def feed_read(self, buf: SSEBuffer, data: bytes, now_ns: int) -> None:
        """Apply one network read (raw bytes, split by `buf`), stamped `now_ns`: the client's
        per-read call. Reads made only of plain `data: ...` events (every server's usual shape)
        are decoded in one call (feed_joined); anything else goes through the full SSE decoder."""
        joined = buf.feed_joined(data)
        if joined is None:
            self.feed_events(buf.feed(data), now_ns)
        elif joined:
            self.feed_joined(joined, now_ns)

    def feed_joined(self, region: bytes, now_ns: int) -> None:
        """Apply `data: A\n\ndata: B...` (complete single-line events, SSEBuffer.feed_joined).

        The hot path. When every event is a JSON object (`{...}`, a final `[DONE]` aside),
        the region becomes one JSON array (`[A,B]`: the separators swapped for commas, one
        C-level replace) that msgspec decodes into typed chunks in a single call, instead of
        one split and one decode call per event. Strictness is kept: the decoded array must
        hold exactly as many objects as there were events, so an event that is not JSON on its
        own (a cut-off object that the next event would seem to complete) is caught; then, and
        for any other shape or type mismatch, the events are applied one by one (feed_datas),
        which names the bad one. (What this check cannot see: in one read, a malformed event
        holding two objects *and* a pair of cut-off events completing each other.)
        """
        n = region.count(b"\n\ndata: ") + 1
        done = region.endswith(b"data: [DONE]") and (n == 1 or region.endswith(b"\n\ndata: [DONE]"))
        body = region[6 : -14 if n > 1 else 6] if done else region[6:]
        objects = n - 1 if done else n
        chunks: list[_Item] | None = None
        if objects and body[:1] == b"{" and body[-1:] == b"}":
            if body.count(b"}\n\ndata: {") == objects - 1:
                try:
                    decoded = _decode_chunks(b"[" + body.replace(b"\n\ndata: ", b",") + b"]")
                except (msgspec.ValidationError, msgspec.DecodeError):
                    decoded = None
                if decoded is not None and len(decoded) == objects:
                    chunks = list(decoded)
        elif not objects:
            chunks = []
        if chunks is None:  # one by one: the lenient reading or the error naming the event
            self.feed_datas([d[6:] for d in region.split(b"\n\n")], now_ns)
            return
        if done:
            chunks.append(None)
        self._apply(chunks, now_ns)

    def feed_events(self, events: Iterable[tuple[bytes, bytes]], now_ns: int) -> None:
        """Apply (event_name, data) pairs that arrived in one network read, stamped `now_ns`.

        An `error` event raises after the events before it are applied (unless `[DONE]` came
        first); every other event is applied by feed_datas.
        """
        datas: list[bytes] = []
        for name, data in events:
            if name and name == b"error":
                self.feed_datas(datas, now_ns)
                if self.done:
                    return
                self.events += 1
                raise StreamErrorEvent(data.decode("utf-8", "replace")[:500])
            datas.append(data)
        self.feed_datas(datas, now_ns)

    def feed_datas(self, datas: list[bytes], now_ns: int) -> None:
        """Apply the data of unnamed events that arrived in one read, stamped `now_ns`, one
        event at a time. Each is decoded by msgspec straight into the typed `_Chunk` (C code
        validates the whole object); an event that is valid JSON of another shape takes
        `_loose`, the lenient dict walk, so both give the same answer (tests compare them).
        Every event is fully parsed, so a malformed one is always caught, after the events
        before it are applied. Events after `[DONE]` are ignored.
        """
        self._apply(self._decoded(datas), now_ns)

    def _decoded(self, datas: list[bytes]) -> Iterator[_Item]:
        """Each event as a typed chunk, as (text, finish) read by `_loose`, or None: `[DONE]`.
        A generator: an event is decoded only once those before it are applied."""
        for data in datas:
            if data[:1] != b"{" and _is_done(data):
                yield None
                return
            try:
                yield _decode_chunk(data)
            except msgspec.ValidationError:
                yield self._loose(data)
            except (msgspec.DecodeError, ValueError) as exc:
                raise MalformedStream(f"SSE data is not JSON: {data[:200]!r}") from exc

    def _apply(self, items: Iterable[_Item], now_ns: int) -> None:
        """Apply decoded events in order (None = `[DONE]`: the rest is ignored). One loop, the
        stream's counters held in locals and written back once, even when an event raises."""
        n, chunks, last = self.events, self.content_chunks, self.last_chunk_ns
        gaps, parts = self.chunk_gaps_ns, self.text_parts
        text: str | None
        finish: str | None
        try:
            for c in items:
                n += 1
                if c is None:
                    self.done = True
                    return
                if type(c) is tuple:
                    text, finish = c
                else:
                    assert isinstance(c, _Chunk)
                    if c.error or c.usage is not None:
                        self._typed_extras(c)
                    choices = c.choices
                    if not choices:
                        continue
                    choice = choices[0]
                    d = choice.delta
                    text = (
                        (d.content or d.reasoning_content or d.reasoning)
                        if d is not None
                        else choice.text
                    )
                    finish = choice.finish_reason
                if finish:
                    self.finish_reason = finish
                if text:
                    if last is None:
                        self.first_chunk_ns = now_ns
                    else:
                        gaps.append(now_ns - last)
                    last = now_ns
                    chunks += 1
                    parts.append(text)
        finally:
            self.events, self.content_chunks, self.last_chunk_ns = n, chunks, last

    def _typed_extras(self, c: _Chunk) -> None:
        """A typed chunk's error (raised) and usage counts (kept)."""
        if c.error:
            _raise_error(c.error)
        u = c.usage
        if u is not None:
            if u.prompt_tokens is not None:
                self.prompt_tokens = u.prompt_tokens
            if u.completion_tokens is not None:
                self.output_tokens = u.completion_tokens

    def _loose(self, data: bytes) -> tuple[str | None, str | None]:
        """(text, finish_reason) of valid JSON that is not a plain `_Chunk`, read leniently
        from dicts: odd value types (a list as content, a float token count) are ignored, as
        before typed decoding; a shape no chunk can have is a MalformedStream."""
        obj = msgspec.json.decode(data)
        if type(obj) is not dict:
            raise MalformedStream(f"SSE data is not a JSON object: {data[:200]!r}")
        if obj.get("error"):
            _raise_error(obj["error"])
        usage = obj.get("usage")
        if usage and isinstance(usage, dict):
            pt, ct = usage.get("prompt_tokens"), usage.get("completion_tokens")
            if isinstance(pt, int):
                self.prompt_tokens = pt
            if isinstance(ct, int):
                self.output_tokens = ct
        choices = obj.get("choices")
        if not choices:
            return None, None
        try:
            choice = choices[0]
            text = _choice_text(choice)
            finish = choice.get("finish_reason")
        except (AttributeError, TypeError, KeyError) as exc:
            raise MalformedStream(f"SSE chunk has an unexpected shape: {data[:200]!r}") from exc
        return text, str(finish) if finish else None

    def feed_response(self, body: bytes) -> None:
        """A whole non-streamed response (`--no-stream`): its text, finish_reason and usage.
        Nothing is stamped per chunk: TTFT, TPOT and ITL are undefined for such a request."""
        try:
            obj = msgspec.json.decode(body)
        except (msgspec.DecodeError, ValueError) as exc:
            raise MalformedStream(f"response is not JSON: {body[:200]!r}") from exc
        if type(obj) is not dict:
            raise MalformedStream(f"response is not a JSON object: {body[:200]!r}")
        if obj.get("error"):
            _raise_error(obj["error"])
        usage = obj.get("usage")
        if isinstance(usage, dict):
            pt, ct = usage.get("prompt_tokens"), usage.get("completion_tokens")
            if isinstance(pt, int):
                self.prompt_tokens = pt
            if isinstance(ct, int):
                self.output_tokens = ct
        choices = obj.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            raise MalformedStream(f"response has no choices: {body[:200]!r}")
        choice = choices[0]
        message = choice.get("message")
        text = message.get("content") if isinstance(message, dict) else choice.get("text")
        if isinstance(text, str):
            self.text_parts.append(text)
        finish = choice.get("finish_reason")
        self.finish_reason = str(finish) if finish else None
        self.events = 1
        self.done = True

    @property
    def complete(self) -> bool:
        """Did the stream end properly (`[DONE]` or a finish_reason), not just stop?"""
        return self.done or self.finish_reason is not None


class _Delta(msgspec.Struct):
    content: str | None = None
    reasoning_content: str | None = None
    reasoning: str | None = None


class _Choice(msgspec.Struct):
    delta: _Delta | None = None
    text: str | None = None  # completions
    finish_reason: str | None = None


class _Usage(msgspec.Struct):
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


class _Chunk(msgspec.Struct):
    """The fields of a stream chunk that matter; others (id, model, logprobs...) are skipped."""

    choices: list[_Choice] | None = None
    usage: _Usage | None = None
    error: Any = None


#: A decoded event: a typed chunk, (text, finish) read leniently by `_loose`, or None: `[DONE]`.
_Item: TypeAlias = _Chunk | tuple[str | None, str | None] | None
_decode_chunk = msgspec.json.Decoder(_Chunk).decode
_decode_chunks = msgspec.json.Decoder(list[_Chunk]).decode


def _raise_error(err: Any) -> NoReturn:
    """The server's error object as a StreamErrorEvent (its `message` when it has one)."""
    msg = err.get("message", err) if isinstance(err, dict) else err
    raise StreamErrorEvent(str(msg)[:500])


def _is_done(data: bytes) -> bool:
    return data.startswith(b"[DONE]") or data.strip() == b"[DONE]"


def _choice_text(choice: dict[str, Any]) -> str:
    if not isinstance(choice, dict):
        raise TypeError("choice is not an object")
    delta = choice.get("delta")
    if isinstance(delta, dict):
        content = delta.get("content")
        if isinstance(content, str) and content:
            return content
        for key in ("reasoning_content", "reasoning"):
            value = delta.get(key)
            if isinstance(value, str) and value:
                return value
        return ""
    text = choice.get("text")
    return text if isinstance(text, str) else ""


class SSEBuffer:
    """Splits raw network reads into events. Every event completed by one read is stamped
    with that read's time: events that arrived together cannot be told apart honestly."""

    __slots__ = ("_buf", "_dec")

    def __init__(self) -> None:
        self._buf = b""
        self._dec = SSEDecoder()

    def feed_joined(self, data: bytes) -> bytes | None:
        """The complete events in `data` (plus what was buffered) as one `data: A\n\ndata: B`
        region (b"" when none is complete yet) when every one is a single `data: ` line, as
        servers send them; None, consuming nothing, otherwise (then `feed` decodes the read)."""
        if b"\r" in data:
            return None
        buf = self._buf + data if self._buf else data
        end = buf.rfind(b"\n\n")
        if end < 0:
            self._buf = buf
            return b""
        region = buf[:end]
        # Plain: starts with `data: `, and the only newlines are the separators' two each.
        if region[:6] != b"data: " or region.count(b"\n") != 2 * region.count(b"\n\ndata: "):
            return None
        self._buf = buf[end + 2 :]
        return region

    def feed(self, data: bytes) -> list[tuple[bytes, bytes]]:
        """Complete events in `data` (plus what was buffered), as (event_name, data)."""
        if b"\r" in data:
            data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        buf = self._buf + data if self._buf else data
        blocks = buf.split(b"\n\n")
        self._buf = blocks.pop()
        out: list[tuple[bytes, bytes]] = []
        for block in blocks:
            if block.startswith(b"data: ") and b"\n" not in block:
                out.append((b"", block[6:]))  # the common case: one data line
                continue
            for line in block.split(b"\n"):
                self._dec.line(line)
            ev = self._dec.flush()
            if ev is not None:
                out.append(ev)
        return out

    def close(self) -> list[tuple[bytes, bytes]]:
        """Whatever is left when the stream ends without a final blank line."""
        rest, self._buf = self._buf, b""
        if not rest.strip():
            return []
        for line in rest.split(b"\n"):
            if line:
                self._dec.line(line)
        ev = self._dec.flush()
        return [ev] if ev is not None else []


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
