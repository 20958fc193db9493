"""An OpenAI-style streaming server that stamps its own timing, for checking the client's.

For every completion it stamps, on this host's monotonic clock (`time.perf_counter_ns()`, the
same CLOCK_MONOTONIC the client stamps with), when it had read the whole request and when it
wrote the first content chunk to the socket (FIRST_TOKEN_S after the read, by design). Then it
writes one chunk per CHUNK_S tick (all streams on one timer), a usage chunk and `[DONE]`.
`GET /stamps` returns {prompt: [read_ns, first_write_ns]}, so a test can set each request's
true time to first chunk beside what the client measured (prompts must be unique).
Raw asyncio, so the server spends little CPU and the client is what gets measured.
Run: python -m tests.integration.bench.stampserver PORT [CHUNKS] [CHUNK_S]
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import cast

FIRST_TOKEN_S = 0.050
CHUNKS = 20
CHUNK_S = 0.010
_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: keep-alive\r\n"
_CHUNK = b'data: {"choices":[{"index":0,"delta":{"content":"tok "}}]}\n\n'


def _frame(data: bytes) -> bytes:
    """One HTTP/1.1 chunked-encoding frame."""
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


class Stamps:
    def __init__(self, chunks: int, chunk_s: float) -> None:
        self.stamps: dict[str, tuple[int, int]] = {}
        self.chunks, self.chunk_s = chunks, chunk_s
        self.streams: dict[Proto, int] = {}  # stream -> content chunks left to write

    async def ticker(self) -> None:
        """One timer for every stream: each gets its next chunk per tick."""
        while True:
            await asyncio.sleep(self.chunk_s)
            for p, left in list(self.streams.items()):
                if left > 1:
                    p.t.write(_frame(_CHUNK))
                    self.streams[p] = left - 1
                    continue
                del self.streams[p]
                usage = {"prompt_tokens": 4, "completion_tokens": self.chunks, "total_tokens": 4}
                end = {"choices": [{"index": 0, "delta": {}, "finish_reason": "length"}]}
                tail = b"".join(
                    b"data: " + json.dumps(o).encode() + b"\n\n"
                    for o in (end, {"choices": [], "usage": usage})
                )
                p.t.write(_frame(_CHUNK) + _frame(tail + b"data: [DONE]\n\n") + b"0\r\n\r\n")


class Proto(asyncio.Protocol):
    state: Stamps

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.t = cast(asyncio.Transport, transport)
        self.buf = b""

    def connection_lost(self, exc: Exception | None) -> None:
        self.state.streams.pop(self, None)

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while (head_end := self.buf.find(b"\r\n\r\n")) >= 0:
            head = self.buf[:head_end].lower()
            n = 0
            i = head.find(b"content-length:")
            if i >= 0:
                j = head.find(b"\r\n", i)
                n = int(head[i + 15 : j if j > 0 else None])
            total = head_end + 4 + n
            if len(self.buf) < total:
                return
            body, self.buf = self.buf[head_end + 4 : total], self.buf[total:]
            read_ns = time.perf_counter_ns()
            if head.startswith(b"get /stamps"):
                out = json.dumps(self.state.stamps).encode()
                self.t.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(out) + out)
            elif head.startswith(b"get"):
                out = b'{"object":"list","data":[{"id":"stamp"}]}'
                self.t.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(out) + out)
            else:
                msgs = json.loads(body).get("messages") or [{}]
                prompt = str(msgs[0].get("content", ""))
                asyncio.get_running_loop().call_later(FIRST_TOKEN_S, self.first, prompt, read_ns)

    def first(self, prompt: str, read_ns: int) -> None:
        self.t.write(_HEAD + b"Transfer-Encoding: chunked\r\n\r\n" + _frame(_CHUNK))
        self.state.stamps[prompt] = (read_ns, time.perf_counter_ns())
        self.state.streams[self] = self.state.chunks


async def main(port: int, chunks: int, chunk_s: float) -> None:
    Proto.state = state = Stamps(chunks, chunk_s)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Proto, "127.0.0.1", port, backlog=4096)
    ticker = asyncio.create_task(state.ticker())
    async with server:
        await server.serve_forever()
    ticker.cancel()


if __name__ == "__main__":
    args = sys.argv[1:]
    asyncio.run(
        main(
            int(args[0]),
            int(args[1]) if len(args) > 1 else CHUNKS,
            float(args[2]) if len(args) > 2 else CHUNK_S,
        )
    )
