"""A small OpenAI-compatible server that misbehaves on purpose, for accounting tests.

Each non-probe request gets the next mode of `modes` (cycled), so a test knows exactly how many
requests of each kind it sent. The preflight probe ("Say hello.", max_tokens 4) always gets a
well-formed stream. Content chunks carry one word each, and /tokenize counts words, so token
counts are exact and known.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

MODEL = "fault-model"
MODES = (
    "final_usage",  # content, finish chunk, `choices: []` usage chunk, [DONE]  (llama-server)
    "finish_usage",  # usage on the finish chunk, no [DONE]                  (transformers serve)
    "no_usage",  # no usage at all, [DONE]                                   (llama-cpp-python)
    "http500",  # HTTP 500 with a JSON error body
    "reset",  # two content chunks, then the connection is reset
    "malformed",  # two content chunks, then data that is not JSON
    "stall_first",  # role chunk, then nothing (first-token timeout)
    "stall_mid",  # two content chunks, then nothing (total timeout)
    "truncated",  # content chunks, then a clean close without finish_reason or [DONE]
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _chunk(delta: dict[str, object] | None, finish: str | None = None, **extra: object) -> bytes:
    obj: dict[str, object] = {
        "id": "x",
        "object": "chat.completion.chunk",
        "model": MODEL,
        "choices": [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    obj.update(extra)
    return b"data: " + json.dumps(obj).encode() + b"\n\n"


@dataclass
class FaultServer:
    modes: tuple[str, ...] = ("final_usage",)
    chunk_delay_s: float = 0.0
    stall_s: float = 30.0
    port: int = field(default_factory=free_port)
    serve_tokenize: bool = True  # serve /tokenize (False: clients must calibrate from usage)
    served: Counter[str] = field(default_factory=Counter)
    auth: Counter[str] = field(default_factory=Counter)  # Authorization headers seen
    hits: Counter[str] = field(default_factory=Counter)  # every request but /metrics, by path
    last_body: dict[str, object] = field(default_factory=dict)  # of the last completion
    last_headers: dict[str, str] = field(default_factory=dict)
    _i: int = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def app(self) -> web.Application:
        @web.middleware
        async def count(request: web.Request, handler: Any) -> web.StreamResponse:
            if request.path != "/metrics":
                self.hits[request.path] += 1
            return await handler(request)  # type: ignore[no-any-return]

        app = web.Application(middlewares=[count])
        app.router.add_get("/v1/models", self.models)
        app.router.add_post("/v1/chat/completions", self.chat)
        app.router.add_post("/v1/completions", self.chat)
        app.router.add_post("/tokenize", self.tokenize)
        app.router.add_get("/metrics", self.metrics)
        return app

    async def models(self, request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": MODEL}]})

    async def tokenize(self, request: web.Request) -> web.Response:
        if not self.serve_tokenize:
            return web.json_response({"error": "not found"}, status=404)
        body = await request.json()
        text = body.get("content") or body.get("prompt") or ""
        return web.json_response({"tokens": list(range(len(text.split())))})

    async def metrics(self, request: web.Request) -> web.Response:
        n = sum(self.served.values())
        text = (
            "# HELP fake:requests_total Requests served.\n# TYPE fake:requests_total counter\n"
            f'fake:requests_total{{model="{MODEL}"}} {n}\n'
            "# HELP fake:http_requests_total Every request but /metrics (preflight included).\n"
            "# TYPE fake:http_requests_total counter\n"
            f"fake:http_requests_total {sum(self.hits.values())}\n"
        )
        return web.Response(text=text, content_type="text/plain")

    async def chat(self, request: web.Request) -> web.StreamResponse:
        try:
            return await self._chat(request)
        except ConnectionResetError:  # the client went away (timeouts, SIGINT): expected here
            return web.StreamResponse()

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        self.auth[request.headers.get("Authorization", "")] += 1
        body = await request.json()
        self.last_body, self.last_headers = body, dict(request.headers)
        if body.get("model") != MODEL:
            msg = f"The model `{body.get('model')}` does not exist."
            return web.json_response({"error": {"message": msg, "code": 404}}, status=404)
        msgs = body.get("messages") or []
        probe = body.get("max_tokens") == 4 and msgs and msgs[0].get("content") == "Say hello."
        mode = "final_usage" if probe else self.modes[self._i % len(self.modes)]
        if not probe:
            self._i += 1
            self.served[mode] += 1
        n = int(body.get("max_tokens") or 8)
        if mode == "http500":
            return web.json_response({"error": {"message": "injected failure"}}, status=500)
        if body.get("stream") is False:  # a whole response (`--no-stream`)
            if self.chunk_delay_s:
                await asyncio.sleep(self.chunk_delay_s * n)
            text = " ".join(str(m.get("content", "")) for m in msgs) or str(body.get("prompt", ""))
            pt = round(1.5 * len(text.split())) + 7
            return web.json_response(
                {
                    "choices": [
                        {"index": 0, "message": {"role": "assistant", "content": "tok " * n},
                         "finish_reason": "length"}
                    ],
                    "usage": {"prompt_tokens": pt, "completion_tokens": n, "total_tokens": pt + n},
                }
            )  # fmt: skip
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        await resp.write(_chunk({"role": "assistant", "content": ""}))
        if mode == "stall_first":
            await asyncio.sleep(self.stall_s)
            return resp
        for k in range(n):
            if mode in ("reset", "malformed", "stall_mid") and k == 2:
                break
            if self.chunk_delay_s:
                await asyncio.sleep(self.chunk_delay_s)
            await resp.write(_chunk({"content": "tok "}))
        if mode == "reset":
            assert request.transport is not None
            request.transport.abort()
            return resp
        if mode == "malformed":
            await resp.write(b"data: {not json\n\n")
            return resp
        if mode == "stall_mid":
            await asyncio.sleep(self.stall_s)
            return resp
        if mode == "truncated":
            return resp
        # prompt tokens: 1.5 per word plus a 7-token template, so calibration has a known answer
        text = " ".join(str(m.get("content", "")) for m in msgs) or str(body.get("prompt", ""))
        pt = round(1.5 * len(text.split())) + 7
        usage = {"prompt_tokens": pt, "completion_tokens": n, "total_tokens": pt + n}
        if mode == "finish_usage":
            await resp.write(_chunk({}, "length", usage=usage))
            return resp
        await resp.write(_chunk({}, "length"))
        if mode == "final_usage":
            await resp.write(_chunk(None, usage=usage))
        await resp.write(b"data: [DONE]\n\n")
        return resp


@contextmanager
def running(server: FaultServer) -> Iterator[FaultServer]:
    """Serve on 127.0.0.1 from a background thread's event loop until the block ends."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    runner = web.AppRunner(server.app(), shutdown_timeout=0.1)

    def main() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", server.port)
        loop.run_until_complete(site.start())
        ready.set()
        loop.run_forever()

    t = threading.Thread(target=main, daemon=True)
    t.start()
    ready.wait(10)
    try:
        yield server
    finally:
        fut = asyncio.run_coroutine_threadsafe(runner.cleanup(), loop)
        try:
            fut.result(10)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            t.join(10)
            loop.close()
