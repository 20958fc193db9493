"""A minimal, fast OpenAI-style SSE server on raw asyncio: the bench client's ceiling target.

It parses only what it must (headers, Content-Length body) and answers every request with the
same precomputed stream (CHUNKS content chunks, a finish chunk, a usage chunk, [DONE]) in one
write, so the server costs as little CPU as possible and the client is what gets measured.
Run: python -m tests.perf.bench.fastsse PORT
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import cast

CHUNKS = 16


def _body() -> bytes:
    parts = [{"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]}]
    parts += [{"choices": [{"index": 0, "delta": {"content": "tok "}}]} for _ in range(CHUNKS)]
    parts.append({"choices": [{"index": 0, "delta": {}, "finish_reason": "length"}]})
    usage = {"prompt_tokens": 8, "completion_tokens": CHUNKS, "total_tokens": 8 + CHUNKS}
    parts.append({"choices": [], "usage": usage})
    text = b"".join(b"data: " + json.dumps(p).encode() + b"\n\n" for p in parts)
    return text + b"data: [DONE]\n\n"


BODY = _body()
STREAM = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: "
    + str(len(BODY)).encode()
    + b"\r\nConnection: keep-alive\r\n\r\n"
    + BODY
)
MODELS_BODY = b'{"object":"list","data":[{"id":"fast"}]}'
MODELS = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
    + str(len(MODELS_BODY)).encode()
    + b"\r\n\r\n"
    + MODELS_BODY
)


class Proto(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.t = cast(asyncio.Transport, transport)
        self.buf = b""

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while True:
            head_end = self.buf.find(b"\r\n\r\n")
            if head_end < 0:
                return
            head = self.buf[:head_end].lower()
            n = 0
            i = head.find(b"content-length:")
            if i >= 0:
                n = int(head[i + 15 : head.find(b"\r\n", i) if head.find(b"\r\n", i) > 0 else None])
            total = head_end + 4 + n
            if len(self.buf) < total:
                return
            self.buf = self.buf[total:]
            self.t.write(MODELS if head.startswith(b"get") else STREAM)


async def main(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Proto, "127.0.0.1", port, backlog=4096)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
