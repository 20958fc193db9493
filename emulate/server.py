"""One emulated OpenAI-compatible endpoint: an aiohttp app driven by one engine loop.

The engine loop is a single asyncio task per endpoint. It plans a step, sleeps until the step's
simulated end, commits it, and wakes exactly the streams that got a token (an asyncio.Event per
stream). Streams never sleep per token, so one process serves thousands of simulated streams.
Requests, responses, stream chunks and errors follow vLLM's OpenAI server: usage in a final
`choices: []` chunk when `stream_options.include_usage` is set, then `data: [DONE]`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import random
import sys
import time
import traceback
import zlib
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from unitcost.emulate import tokenizer
from unitcost.emulate.metrics import EndpointMetrics
from unitcost.emulate.physics import Physics
from unitcost.emulate.scheduler import Scheduler, Seq

RESYNC_S = 0.05  # when the loop falls this far behind wall time, restart the clock there
NATURAL_OUTPUT_MEDIAN = 200  # tokens a request produces before "EOS" without ignore_eos


@dataclass(frozen=True)
class EndpointOptions:
    """Per-endpoint knobs beyond the physics."""

    name: str = "emulated"
    served_model_name: str | None = None
    seed: int = 0
    jitter: float = 0.0
    max_waiting: int = 0  # 0 = unbounded; else 429 once this many requests wait


class ApiError(Exception):
    """An error answered in vLLM's JSON shape."""

    def __init__(self, status: int, message: str, kind: str = "BadRequestError") -> None:
        super().__init__(message)
        self.status, self.message, self.kind = status, message, kind


def _error(status: int, message: str, kind: str) -> web.Response:
    body = {"object": "error", "message": message, "type": kind, "param": None, "code": status}
    return web.json_response(body, status=status)


class Endpoint:
    """Physics + scheduler + metrics + the HTTP app of one emulated server."""

    def __init__(self, physics: Physics, options: EndpointOptions | None = None) -> None:
        self.phys = physics
        self.opts = options or EndpointOptions()
        self.model_name = self.opts.served_model_name or physics.setup.model.name
        self.sched = Scheduler(
            physics, seed=self.opts.seed, jitter=self.opts.jitter, max_waiting=self.opts.max_waiting
        )
        self.metrics = EndpointMetrics(
            served_name=self.model_name,
            physics=physics,
            scheduler=self.sched,
            host=f"emulated-{self.opts.name}",
        )
        self._ids = itertools.count()
        self._rng = random.Random(self.opts.seed)
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self.created = int(time.time())
        self.lag_s = 0.0  # worst lag of a step behind its simulated end, for the perf report

    # ------------------------------------------------------------------ engine loop
    def app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self.chat)
        app.router.add_post("/v1/completions", self.completions)
        app.router.add_get("/v1/models", self.models)
        app.router.add_get("/health", self.health)
        app.router.add_get("/ping", self.health)
        app.router.add_post("/tokenize", self.tokenize)
        app.router.add_get("/metrics", self.prom)
        app.router.add_get("/version", self.version)
        app.on_startup.append(self._on_startup)
        app.on_cleanup.append(self._on_cleanup)
        return app

    async def _on_startup(self, _app: web.Application) -> None:
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name=f"engine-{self.opts.name}")

    async def _on_cleanup(self, _app: web.Application) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def now(self) -> float:
        return asyncio.get_running_loop().time()

    async def _run(self) -> None:
        """Step the simulated batch on the event loop's clock, forever; a bug is reported."""
        try:
            await self._loop()
        except asyncio.CancelledError:
            raise
        except Exception:
            traceback.print_exc()
            print(f"engine loop of {self.opts.name!r} failed; endpoint stopped", file=sys.stderr)
            raise

    async def _loop(self) -> None:
        assert self._wake is not None
        loop = asyncio.get_running_loop()
        clock = loop.time()
        while True:
            if not self.sched.has_work():
                self._wake.clear()
                await self._wake.wait()
                clock = loop.time()
            real = loop.time()
            if real - clock > RESYNC_S:
                clock = real
            plan = self.sched.plan(clock)
            if plan is None:
                self._wake.clear()
                continue
            end = clock + plan.duration
            delay = end - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            else:
                self.lag_s = max(self.lag_s, -delay)
                self.metrics.lag_s = self.lag_s
            res = self.sched.commit(plan, end)
            self.metrics.on_step(plan, res, end)
            for seq in res.emitted:
                if seq.on_tokens is not None:
                    seq.on_tokens(seq)
            clock = end

    # ------------------------------------------------------------------ requests
    async def _body(self, request: web.Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ApiError(400, f"request body is not valid JSON: {exc}") from None
        if not isinstance(body, dict):
            raise ApiError(400, "request body must be a JSON object")
        model = body.get("model")
        if model is not None and model != self.model_name:
            raise ApiError(404, f"The model `{model}` does not exist.", "NotFoundError")
        return body

    def _output_len(self, body: dict[str, Any], prompt_tokens: int) -> tuple[int, str]:
        max_len = self.phys.max_model_len
        raw = body.get("max_completion_tokens", body.get("max_tokens"))
        if raw is None:
            max_tokens = max_len - prompt_tokens
        elif isinstance(raw, bool) or not isinstance(raw, int) or raw < 1:
            raise ApiError(400, f"max_tokens must be an integer >= 1, got {raw!r}")
        else:
            max_tokens = raw
        if prompt_tokens + max_tokens > max_len:
            raise ApiError(
                400,
                f"This model's maximum context length is {max_len} tokens. However, you "
                f"requested {prompt_tokens + max_tokens} tokens ({prompt_tokens} in the messages, "
                f"{max_tokens} in the completion). Please reduce the length of the messages or "
                "completion.",
            )
        if body.get("ignore_eos"):
            return max_tokens, "length"
        natural = 1 + int(self._rng.lognormvariate(math.log(NATURAL_OUTPUT_MEDIAN), 0.6))
        return (natural, "stop") if natural < max_tokens else (max_tokens, "length")

    async def chat(self, request: web.Request) -> web.StreamResponse:
        try:
            body = await self._body(request)
            messages = body.get("messages")
            if not isinstance(messages, list) or not messages:
                raise ApiError(400, "messages must be a non-empty list")
            try:
                if not all(isinstance(m, dict) and "role" in m for m in messages):
                    raise TypeError("each message needs a role")
                prompt = len(tokenizer.chat_ids(messages))
            except TypeError as exc:
                raise ApiError(400, f"invalid messages: {exc}") from None
            return await self._serve(request, body, prompt, chat=True)
        except ApiError as exc:
            return _error(exc.status, exc.message, exc.kind)

    async def completions(self, request: web.Request) -> web.StreamResponse:
        try:
            body = await self._body(request)
            prompt = body.get("prompt")
            if isinstance(prompt, list) and len(prompt) == 1 and isinstance(prompt[0], str):
                prompt = prompt[0]
            if isinstance(prompt, str):
                n = len(tokenizer.completion_ids(prompt))
            elif isinstance(prompt, list) and prompt and all(isinstance(t, int) for t in prompt):
                n = len(prompt)
            else:
                raise ApiError(400, "prompt must be a string or a list of token ids")
            return await self._serve(request, body, n, chat=False)
        except ApiError as exc:
            return _error(exc.status, exc.message, exc.kind)

    async def _serve(
        self, request: web.Request, body: dict[str, Any], prompt_tokens: int, *, chat: bool
    ) -> web.StreamResponse:
        out_len, reason = self._output_len(body, prompt_tokens)
        n = next(self._ids)
        rid = f"{'chatcmpl' if chat else 'cmpl'}-emu{n:x}"
        event = asyncio.Event()
        seq = Seq(rid, prompt_tokens, out_len, reason, self.now(), on_tokens=lambda _s: event.set())
        if not self.sched.submit(seq):
            raise ApiError(
                429,
                f"server is at capacity: {len(self.sched.waiting)} requests already waiting",
                "TooManyRequestsError",
            )
        assert self._wake is not None
        self._wake.set()
        seed = zlib.crc32(rid.encode())
        created = int(time.time())
        try:
            if body.get("stream"):
                opts = body.get("stream_options") or {}
                usage = bool(isinstance(opts, dict) and opts.get("include_usage"))
                return await self._stream(request, seq, event, seed, created, chat, usage)
            while seq.finished is None:
                event.clear()
                await event.wait()
            return web.json_response(self._full(seq, seed, created, chat))
        except (asyncio.CancelledError, ConnectionResetError):
            self._abort(seq)
            raise

    def _abort(self, seq: Seq) -> None:
        if seq.finished is None:
            self.sched.abort(seq, self.now())
            self.metrics.on_finish(seq)

    def _usage(self, seq: Seq) -> dict[str, int]:
        return {
            "prompt_tokens": seq.prompt_tokens,
            "total_tokens": seq.prompt_tokens + seq.generated,
            "completion_tokens": seq.generated,
        }

    def _full(self, seq: Seq, seed: int, created: int, chat: bool) -> dict[str, Any]:
        text = "".join(tokenizer.output_piece(seed, i) for i in range(seq.generated))
        choice: dict[str, Any] = {"index": 0, "logprobs": None, "finish_reason": seq.finish_reason}
        if chat:
            choice["message"] = {"role": "assistant", "content": text}
        else:
            choice["text"] = text
        return {
            "id": seq.rid,
            "object": "chat.completion" if chat else "text_completion",
            "created": created,
            "model": self.model_name,
            "choices": [choice],
            "usage": self._usage(seq),
        }

    async def _stream(
        self,
        request: web.Request,
        seq: Seq,
        event: asyncio.Event,
        seed: int,
        created: int,
        chat: bool,
        usage: bool,
    ) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        obj = "chat.completion.chunk" if chat else "text_completion"
        head = (
            f'data: {{"id":"{seq.rid}","object":"{obj}","created":{created},'
            f'"model":{json.dumps(self.model_name)},"choices":[{{"index":0,'
        )
        sent = 0
        while True:
            event.clear()
            if seq.generated == sent and seq.finished is None:
                await event.wait()
            parts: list[str] = []
            if chat and sent == 0 and seq.generated > 0:
                parts.append(
                    head + '"delta":{"role":"assistant","content":""},'
                    '"logprobs":null,"finish_reason":null}]}\n\n'
                )
            while sent < seq.generated:
                piece = tokenizer.output_piece_json(seed, sent)
                sent += 1
                last = sent == seq.generated and seq.finished is not None
                fin = json.dumps(seq.finish_reason) if last else "null"
                body = f'"delta":{{"content":{piece}}}' if chat else f'"text":{piece}'
                parts.append(f'{head}{body},"logprobs":null,"finish_reason":{fin}}}]}}\n\n')
            if seq.finished is not None and seq.generated == 0:
                empty = '"delta":{}' if chat else '"text":""'
                fin = json.dumps(seq.finish_reason)
                parts.append(f'{head}{empty},"logprobs":null,"finish_reason":{fin}}}]}}\n\n')
            if seq.finished is not None:
                if usage:
                    tail = json.dumps(
                        {
                            "id": seq.rid,
                            "object": obj,
                            "created": created,
                            "model": self.model_name,
                            "choices": [],
                            "usage": self._usage(seq),
                        },
                        separators=(",", ":"),
                    )
                    parts.append(f"data: {tail}\n\n")
                parts.append("data: [DONE]\n\n")
                await resp.write("".join(parts).encode())
                await resp.write_eof()
                return resp
            if parts:
                await resp.write("".join(parts).encode())

    # ------------------------------------------------------------------ the rest
    async def models(self, _request: web.Request) -> web.Response:
        s = self.phys.setup
        card = {
            "id": self.model_name,
            "object": "model",
            "created": self.created,
            "owned_by": "unitcost-emulate",
            "root": self.model_name,
            "parent": None,
            "max_model_len": self.phys.max_model_len,
            "emulated": True,
            # What is emulated, for clients to record (unitcost bench stores a run against
            # this server as emulated, with this hardware): `hardware` is the GPU in the price
            # catalog's naming (H100, A100-80GB), `gpu` the emulator's catalog id.
            "emulation": {
                "model": s.model.id,
                "model_name": s.model.name,
                "hardware": s.gpu.id.upper(),
                "gpu": s.gpu.id,
                "gpu_name": s.gpu.name,
                "gpu_count": s.gpus,
                "quantization": s.quant.id,
                "engine": s.engine.id,
                "parameter_count": int(s.model.params),
                "active_parameter_count": int(s.model.active),
                "model_utilization": s.model.active / s.model.params,
                "kv_capacity_tokens": self.phys.kv_capacity_tokens,
                "max_num_seqs": self.phys.max_num_seqs,
                "seed": self.opts.seed,
            },
        }
        return web.json_response({"object": "list", "data": [card]})

    async def health(self, _request: web.Request) -> web.Response:
        return web.Response(status=200)

    async def version(self, _request: web.Request) -> web.Response:
        from unitcost import __version__

        return web.json_response({"version": f"unitcost-emulate {__version__}", "emulated": True})

    async def tokenize(self, request: web.Request) -> web.Response:
        try:
            body = await self._body(request)
            if "messages" in body:
                messages = body["messages"]
                if not isinstance(messages, list):
                    raise ApiError(400, "messages must be a list")
                ids = tokenizer.chat_ids(messages)
            elif isinstance(body.get("prompt"), str):
                ids = tokenizer.completion_ids(
                    body["prompt"], bool(body.get("add_special_tokens", True))
                )
            else:
                raise ApiError(400, "send prompt (a string) or messages")
        except ApiError as exc:
            return _error(exc.status, exc.message, exc.kind)
        return web.json_response(
            {"count": len(ids), "max_model_len": self.phys.max_model_len, "tokens": ids}
        )

    async def prom(self, _request: web.Request) -> web.Response:
        body = self.metrics.render(self.now())
        return web.Response(body=body, headers={"Content-Type": "text/plain; version=0.0.4"})


async def start_endpoint(endpoint: Endpoint, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Serve one endpoint on host:port (0 = any free port); returns the runner and the port."""
    runner = web.AppRunner(endpoint.app(), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port, backlog=4096)
    await site.start()
    bound = port
    for addr in runner.addresses:
        if isinstance(addr, tuple) and len(addr) >= 2:
            bound = int(addr[1])
            break
    return runner, bound
