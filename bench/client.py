"""One streaming request to an OpenAI-compatible endpoint, timed with raw perf_counter_ns stamps.

The hot path does as little as possible between stamps: read a line, decode the SSE event, parse
its JSON, stamp content chunks. Timeouts are per phase: connect (aiohttp's sock_connect), first
token (from send until the first content chunk) and total (from send until the stream closes).
The API key is read from an environment variable at session creation and lives only in the
request headers, never in a record, a log line or the database.
"""

from __future__ import annotations

import asyncio
import functools
import os
import time
import weakref
from dataclasses import dataclass, field, fields
from typing import Any

import aiohttp
import yarl
from unitcost.bench.loop import receive_late_ns
from unitcost.bench.records import RequestRecord
from unitcost.bench.sse import MalformedStream, SSEBuffer, StreamErrorEvent, StreamState

from unitcost.errors import BenchError

_ERR_BODY_CHARS = 500
#: Several pooled connections can be stale at once (one per slot the server closed).
STALE_RETRIES = 3


@dataclass(frozen=True)
class ClientConfig:
    """Where and how to send requests."""

    base_url: str  # e.g. http://127.0.0.1:8080 (with or without a trailing /v1)
    model: str
    api: str = "chat"  # chat | completions
    api_key_env: str | None = None
    ignore_eos: bool = False
    connect_timeout_s: float = 10.0
    first_token_timeout_s: float = 60.0
    total_timeout_s: float = 600.0
    extra_body: dict[str, Any] = field(default_factory=dict)  # merged into every request body
    stream: bool = True  # False: one JSON response per request (no TTFT, TPOT or ITL)
    extra_headers: tuple[tuple[str, str], ...] = ()  # sent with every request, never stored

    @property
    def root(self) -> str:
        """The server root, without a trailing `/v1`."""
        url = self.base_url.rstrip("/")
        return url[:-3] if url.endswith("/v1") else url

    @property
    def url(self) -> str:
        path = "/v1/chat/completions" if self.api == "chat" else "/v1/completions"
        return self.root + path

    @functools.cached_property
    def post_url(self) -> yarl.URL | str:
        """`url` parsed once (aiohttp would parse the string again on every request); an
        unparsable one stays a string, so aiohttp reports it per request as before."""
        try:
            return yarl.URL(self.url)
        except ValueError:
            return self.url

    def headers(self) -> dict[str, str]:
        """Request headers; the key is read from the environment at this moment only."""
        h = {
            "Content-Type": "application/json",
            "Accept": "text/event-stream" if self.stream else "application/json",
        }
        h.update(self.extra_headers)
        if self.api_key_env:
            key = os.environ.get(self.api_key_env)
            if not key:
                raise BenchError(
                    f"--api-key-env {self.api_key_env}: that environment variable is not set"
                )
            h["Authorization"] = f"Bearer {key}"
        return h


def build_payload(
    cfg: ClientConfig, prompt: str | list[dict[str, str]], max_tokens: int | None
) -> dict[str, Any]:
    """The JSON body of one request; asks for usage in the stream."""
    body: dict[str, Any] = {"model": cfg.model, "stream": cfg.stream}
    if cfg.stream:
        body["stream_options"] = {"include_usage": True}
    if cfg.api == "chat":
        body["messages"] = (
            prompt if isinstance(prompt, list) else [{"role": "user", "content": prompt}]
        )
    else:
        body["prompt"] = prompt if isinstance(prompt, str) else _flatten_messages(prompt)
    if max_tokens is not None:
        body["max_tokens"] = max_tokens
    if cfg.ignore_eos:
        body["ignore_eos"] = True
    body.update(cfg.extra_body)
    return body


def _flatten_messages(messages: list[dict[str, str]]) -> str:
    return "\n".join(f"{m.get('role', 'user')}: {m.get('content', '')}" for m in messages)


def make_session(cfg: ClientConfig, pool_size: int) -> aiohttp.ClientSession:
    """The one factory for the HTTP session: a pool as large as the load, no hidden cap."""
    # limit=0 is aiohttp's "no limit": open loops without a concurrency cap get exactly that.
    connector = aiohttp.TCPConnector(limit=max(pool_size, 0), limit_per_host=0)
    timeout = aiohttp.ClientTimeout(
        total=None, sock_connect=cfg.connect_timeout_s, connect=cfg.connect_timeout_s
    )
    return aiohttp.ClientSession(
        connector=connector, timeout=timeout, headers=cfg.headers(), auto_decompress=False
    )


class _Watchdog:
    """One periodic timer for every request on a loop, instead of one timer per request.

    asyncio.timeout() costs a timer handle per request (and another to reschedule it); at
    thousands of requests per second that is a visible share of the client's CPU. Deadlines
    are checked every TICK_S, so a timeout fires at most TICK_S late (timeouts are seconds).
    """

    TICK_S = 0.02

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.deadlines: dict[asyncio.Task[Any], tuple[float, str]] = {}
        self.expired: dict[asyncio.Task[Any], str] = {}
        self.task = loop.create_task(self._run())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.TICK_S)
            if not self.deadlines:
                continue
            now = self.loop.time()
            late = [(t, ph) for t, (when, ph) in self.deadlines.items() if now >= when]
            for t, ph in late:
                del self.deadlines[t]
                self.expired[t] = ph
                t.cancel()


_watchdogs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Watchdog] = (
    weakref.WeakKeyDictionary()
)


def _watchdog() -> _Watchdog:
    loop = asyncio.get_running_loop()
    wd = _watchdogs.get(loop)
    if wd is None or wd.task.done():
        wd = _watchdogs[loop] = _Watchdog(loop)
    return wd


async def send(
    session: aiohttp.ClientSession,
    cfg: ClientConfig,
    body: dict[str, Any] | bytes,
    rec: RequestRecord,
    state: StreamState | None = None,
) -> StreamState:
    """Send one streaming request and fill `rec`; never raises except CancelledError.

    `session` comes from make_session (it carries the JSON and auth headers). `body` is the
    JSON object or its bytes already serialized (the runner pre-serializes).
    On cancellation the record keeps status 'cancelled' with the stamps it had reached.

    A pooled keep-alive connection the server has already closed (llama-server closes them
    after a few requests) fails while the request is being written, before any response: that
    request never reached the server, so it is sent again (up to STALE_RETRIES times), as HTTP
    clients do for stale pooled connections. Its stamps are those of the attempt that ran.
    """
    st = await _send_once(session, cfg, body, rec, state)
    for _ in range(STALE_RETRIES):
        if not (rec.status == "error" and st.stale_connection):
            break
        rec.status, rec.error_class, rec.error_message, rec.end_ns = "cancelled", None, None, None
        st = await _send_once(session, cfg, body, rec, None)
    if state is not None and st is not state:  # the caller's object holds what the last try saw
        for f in fields(StreamState):
            setattr(state, f.name, getattr(st, f.name))
        st = state
    return st


async def _send_once(
    session: aiohttp.ClientSession,
    cfg: ClientConfig,
    body: dict[str, Any] | bytes,
    rec: RequestRecord,
    state: StreamState | None,
) -> StreamState:
    st = state if state is not None else StreamState()
    clock = time.perf_counter_ns
    wd = _watchdog()
    task = asyncio.current_task()
    assert task is not None
    now_s = wd.loop.time()
    total_deadline = now_s + cfg.total_timeout_s
    first_deadline = (
        min(now_s + cfg.first_token_timeout_s, total_deadline) if cfg.stream else total_deadline
    )
    first_phase = "FirstTokenTimeout" if first_deadline < total_deadline else "TotalTimeout"
    wd.deadlines[task] = (first_deadline, first_phase)
    rec.sent_ns = clock()
    try:
        if isinstance(body, bytes):
            # Content-Type comes from the session's headers (make_session): no per-request
            # header dict for aiohttp to merge.
            post = session.post(cfg.post_url, data=body)
        else:
            post = session.post(cfg.post_url, json=body)
        async with post as resp:
            rec.http_status = resp.status
            if resp.status != 200:
                text = (await resp.content.read(64 * 1024)).decode("utf-8", "replace")
                rec.end_ns = clock()
                rec.status = "error"
                rec.error_class = f"HTTP{resp.status}"
                rec.error_message = text.strip()[:_ERR_BODY_CHARS] or resp.reason
                return st
            if not cfg.stream:
                st.feed_response(await resp.read())
                rec.end_ns = clock()
                rec.status = "ok"
                return st
            buf = SSEBuffer()
            async for data in resp.content.iter_any():
                now = clock()
                had_first = st.first_chunk_ns is not None
                st.feed_read(buf, data, now)
                if not had_first and st.first_chunk_ns is not None:
                    rec.first_chunk_late_ns = receive_late_ns(now)
                    if task in wd.deadlines:
                        wd.deadlines[task] = (total_deadline, "TotalTimeout")
                if st.done:
                    break
            else:
                st.feed_events(buf.close(), clock())
        rec.end_ns = clock()
        if st.complete:
            rec.status = "ok"
        else:
            rec.status = "error"
            rec.error_class = "IncompleteStream"
            rec.error_message = (
                f"stream closed after {st.events} events without [DONE] or a finish_reason"
            )
    except asyncio.CancelledError:
        phase = wd.expired.pop(task, None)
        if phase is None:
            raise  # a real cancellation (SIGINT): the record stays 'cancelled'
        task.uncancel()
        rec.end_ns = clock()
        rec.status = "timeout"
        if phase == "FirstTokenTimeout" and rec.http_status is None:
            phase = "ConnectTimeout"
        rec.error_class = phase
        rec.error_message = {
            "ConnectTimeout": f"no response headers within {cfg.first_token_timeout_s:g}s",
            "FirstTokenTimeout": f"no content chunk within {cfg.first_token_timeout_s:g}s",
            "TotalTimeout": f"stream not finished within {cfg.total_timeout_s:g}s",
        }[phase]
    except (MalformedStream, StreamErrorEvent) as exc:
        rec.end_ns = clock()
        rec.status = "error"
        rec.error_class = type(exc).__name__
        rec.error_message = str(exc)[:_ERR_BODY_CHARS]
    except (aiohttp.ClientError, OSError) as exc:
        st.stale_connection = (
            isinstance(exc, aiohttp.ClientOSError | aiohttp.ServerDisconnectedError)
            and rec.http_status is None
            and st.events == 0
        )
        rec.end_ns = clock()
        rec.status = "timeout" if isinstance(exc, aiohttp.ServerTimeoutError) else "error"
        rec.error_class = type(exc).__name__
        rec.error_message = (str(exc) or repr(exc))[:_ERR_BODY_CHARS]
    finally:
        wd.deadlines.pop(task, None)
        wd.expired.pop(task, None)
        _copy(st, rec)
        if rec.end_ns is None and rec.status == "cancelled":
            rec.end_ns = clock()
    return st


def _copy(st: StreamState, rec: RequestRecord) -> None:
    rec.first_chunk_ns = st.first_chunk_ns
    rec.last_chunk_ns = st.last_chunk_ns
    rec.chunk_gaps_ns = st.chunk_gaps_ns
    rec.content_chunks = st.content_chunks
    rec.finish_reason = st.finish_reason
    if st.output_tokens is not None:
        rec.prompt_tokens = st.prompt_tokens
        rec.output_tokens = st.output_tokens
        rec.token_source = "usage"
