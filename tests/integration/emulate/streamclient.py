"""A bare streaming OpenAI client, for the emulator's capacity benchmark and fleet smoke test.

The calibration and Prometheus tests use `unitcost bench run` itself (benchrun.py); this
minimal loop remains where the point is the emulator's own capacity, so the measuring client
should cost as little CPU as possible on this 2-core machine.
Output throughput = sum of usage.completion_tokens / (last stream end - first request sent).
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field

import aiohttp


@dataclass
class Measured:
    """What one closed-loop run saw."""

    requests: int = 0
    ok: int = 0
    output_tokens: int = 0
    prompt_tokens: int = 0
    content_chunks: int = 0
    wall_s: float = 0.0
    ttft_s: list[float] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)

    @property
    def output_tok_s(self) -> float:
        return self.output_tokens / self.wall_s if self.wall_s > 0 else 0.0


async def _one(
    session: aiohttp.ClientSession, url: str, model: str, prompt: str, max_tokens: int, m: Measured
) -> None:
    body = {
        "model": model,
        "messages": [{"role": "user", "content": prompt}],
        "max_tokens": max_tokens,
        "ignore_eos": True,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    sent = time.perf_counter()
    first: float | None = None
    async with session.post(f"{url}/chat/completions", json=body) as resp:
        m.statuses.append(resp.status)
        if resp.status != 200:
            await resp.read()
            return
        usage = None
        async for raw in resp.content:
            line = raw.strip()
            if not line.startswith(b"data: ") or line == b"data: [DONE]":
                continue
            chunk = json.loads(line[6:])
            if chunk.get("usage"):
                usage = chunk["usage"]
            for choice in chunk.get("choices", []):
                if choice.get("delta", {}).get("content"):
                    m.content_chunks += 1
                    if first is None:
                        first = time.perf_counter()
        if usage is not None:
            m.ok += 1
            m.output_tokens += usage["completion_tokens"]
            m.prompt_tokens += usage["prompt_tokens"]
        if first is not None:
            m.ttft_s.append(first - sent)


async def measure_async(
    base_url: str,
    *,
    model: str,
    concurrency: int,
    requests: int,
    prompt_words: int,
    max_tokens: int,
) -> Measured:
    """Closed loop: `concurrency` workers send `requests` streaming chat requests in total."""
    m = Measured(requests=requests)
    prompt = " ".join(f"w{i % 97}" for i in range(prompt_words))
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(requests):
        queue.put_nowait(i)
    conn = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=600)
    async with aiohttp.ClientSession(connector=conn, timeout=timeout) as session:

        async def worker() -> None:
            while True:
                try:
                    queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                await _one(session, base_url, model, prompt, max_tokens, m)

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        m.wall_s = time.perf_counter() - start
    return m


def measure(base_url: str, **kw: int | str) -> Measured:
    return asyncio.run(measure_async(base_url, **kw))  # type: ignore[arg-type]
