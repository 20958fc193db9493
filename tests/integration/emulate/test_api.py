"""The HTTP API of one emulated endpoint, served in-process on a real socket."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from unitcost.emulate.catalog import load_catalog
from unitcost.emulate.metrics import ITL_BUCKETS, LATENCY_BUCKETS, TTFT_BUCKETS
from unitcost.emulate.physics import build_physics
from unitcost.emulate.server import Endpoint, EndpointOptions, start_endpoint

pytestmark = pytest.mark.integration
CAT = load_catalog()
MODEL = "meta-llama/Llama-3.2-3B-Instruct"


def run(
    test: Callable[[aiohttp.ClientSession, str, Endpoint], Awaitable[None]], **opts: Any
) -> None:
    async def main() -> None:
        phys = build_physics(CAT, model="llama-3.2-3b", gpu="h100", max_model_len=4096)
        ep = Endpoint(phys, EndpointOptions(name="t", **opts))
        runner, port = await start_endpoint(ep, "127.0.0.1", 0)
        try:
            async with aiohttp.ClientSession() as s:
                await asyncio.wait_for(test(s, f"http://127.0.0.1:{port}", ep), 60)
        finally:
            await runner.cleanup()

    asyncio.run(main())


async def sse(resp: aiohttp.ClientResponse) -> list[Any]:
    out: list[Any] = []
    async for raw in resp.content:
        line = raw.decode().strip()
        if line.startswith("data: "):
            out.append("[DONE]" if line == "data: [DONE]" else json.loads(line[6:]))
    return out


def test_models_and_health_say_emulated() -> None:
    async def t(s: aiohttp.ClientSession, url: str, ep: Endpoint) -> None:
        async with s.get(f"{url}/health") as r:
            assert r.status == 200
        async with s.get(f"{url}/v1/models") as r:
            card = (await r.json())["data"][0]
        assert card["id"] == MODEL and card["emulated"] is True
        assert card["emulation"]["gpu"] == "h100" and card["max_model_len"] == 4096

    run(t)


def test_stream_shape_usage_and_tokenize_agree() -> None:
    async def t(s: aiohttp.ClientSession, url: str, ep: Endpoint) -> None:
        msgs = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "a b c d"}]
        async with s.post(f"{url}/tokenize", json={"model": MODEL, "messages": msgs}) as r:
            count = (await r.json())["count"]
        body = {
            "model": MODEL,
            "messages": msgs,
            "max_tokens": 7,
            "ignore_eos": True,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        async with s.post(f"{url}/v1/chat/completions", json=body) as r:
            assert r.status == 200 and r.headers["Content-Type"].startswith("text/event-stream")
            events = await sse(r)
        assert events[-1] == "[DONE]"
        usage_chunk = events[-2]
        assert usage_chunk["choices"] == []
        assert usage_chunk["usage"] == {
            "prompt_tokens": count,
            "completion_tokens": 7,
            "total_tokens": count + 7,
        }
        assert events[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
        content = [e for e in events[1:-2] if e["choices"][0]["delta"].get("content")]
        assert len(content) == 7
        assert content[-1]["choices"][0]["finish_reason"] == "length"
        # completions: the same prompt counting as /tokenize
        async with s.post(f"{url}/tokenize", json={"prompt": "one two three"}) as r:
            n = (await r.json())["count"]
        async with s.post(
            f"{url}/v1/completions", json={"prompt": "one two three", "max_tokens": 5}
        ) as r:
            full = await r.json()
        assert full["usage"]["prompt_tokens"] == n == 4
        assert full["usage"]["completion_tokens"] <= 5
        assert full["object"] == "text_completion"

    run(t)


def test_without_ignore_eos_some_requests_stop_early() -> None:
    async def t(s: aiohttp.ClientSession, url: str, ep: Endpoint) -> None:
        reasons = []
        for _ in range(12):
            async with s.post(
                f"{url}/v1/completions", json={"prompt": "x", "max_tokens": 300}
            ) as r:
                c = (await r.json())["choices"][0]
            reasons.append(c["finish_reason"])
        assert "stop" in reasons

    run(t)


@pytest.mark.parametrize(
    ("path", "body", "status", "pattern"),
    [
        ("/v1/chat/completions", b"{not json", 400, "not valid JSON"),
        ("/v1/chat/completions", {"model": MODEL, "messages": []}, 400, "messages"),
        (
            "/v1/chat/completions",
            {"model": "nope", "messages": [{"role": "user", "content": "x"}]},
            404,
            "does not exist",
        ),
        ("/v1/completions", {"prompt": "x", "max_tokens": 0}, 400, "max_tokens"),
        ("/v1/completions", {"prompt": "x", "max_tokens": 5000}, 400, "maximum context length"),
        ("/v1/completions", {"prompt": 5}, 400, "prompt"),
    ],
)
def test_bad_requests_get_real_server_errors(
    path: str, body: Any, status: int, pattern: str
) -> None:
    async def t(s: aiohttp.ClientSession, url: str, ep: Endpoint) -> None:
        kw: dict[str, Any] = {"data": body} if isinstance(body, bytes) else {"json": body}
        async with s.post(f"{url}{path}", **kw) as r:
            assert r.status == status
            err = await r.json()
        assert err["object"] == "error" and err["code"] == status
        assert re.search(pattern, err["message"])

    run(t)


def test_429_when_the_queue_is_full() -> None:
    async def t(s: aiohttp.ClientSession, url: str, ep: Endpoint) -> None:
        body = {"prompt": "x", "max_tokens": 50, "ignore_eos": True}

        async def one() -> int:
            async with s.post(f"{url}/v1/completions", json=body) as r:
                await r.read()
                return r.status

        statuses = await asyncio.gather(*(one() for _ in range(12)))
        assert 429 in statuses and 200 in statuses
        async with s.post(f"{url}/v1/completions", json=body) as r:
            body429 = await r.read()
            assert r.status == 200, body429  # the queue drained: served again

    run(t, max_waiting=2)


def _parse(text: str) -> tuple[dict[str, str], dict[str, float]]:
    types: dict[str, str] = {}
    values: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            types[name] = kind
        elif line and not line.startswith("#"):
            key, val = line.rsplit(" ", 1)
            values[key] = float(val)
    return types, values


def test_metrics_names_types_buckets_and_counts() -> None:
    async def t(s: aiohttp.ClientSession, url: str, ep: Endpoint) -> None:
        body = {"model": MODEL, "prompt": "a b c", "max_tokens": 20, "ignore_eos": True}

        async def one() -> int:
            async with s.post(f"{url}/v1/completions", json=body) as r:
                return int((await r.json())["usage"]["completion_tokens"])

        tokens = sum(await asyncio.gather(*(one() for _ in range(8))))
        async with s.get(f"{url}/metrics") as r:
            text = await r.text()
        types, values = _parse(text)
        expect = {
            "vllm:generation_tokens_total": "counter",
            "vllm:prompt_tokens_total": "counter",
            "vllm:request_success_total": "counter",
            "vllm:num_requests_running": "gauge",
            "vllm:num_requests_waiting": "gauge",
            "vllm:kv_cache_usage_perc": "gauge",
            "vllm:time_to_first_token_seconds": "histogram",
            "vllm:inter_token_latency_seconds": "histogram",
            "vllm:e2e_request_latency_seconds": "histogram",
            "DCGM_FI_DEV_GPU_UTIL": "gauge",
            "DCGM_FI_DEV_FB_USED": "gauge",
            "DCGM_FI_DEV_POWER_USAGE": "gauge",
            "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION": "counter",
            "unitcost_emulated": "gauge",
        }
        for name, kind in expect.items():
            assert types.get(name) == kind, name
        assert "vllm:gpu_cache_usage_perc" not in types  # renamed in vLLM 0.9: never both
        assert "vllm:time_per_output_token_seconds" not in types
        lab = f'engine="0",model_name="{MODEL}"'
        assert values[f"vllm:generation_tokens_total{{{lab}}}"] == tokens == 160
        assert values[f"vllm:prompt_tokens_total{{{lab}}}"] == 8 * 4
        reason = f'engine="0",finished_reason="length",model_name="{MODEL}"'
        ok = f"vllm:request_success_total{{{reason}}}"
        assert values[ok] == 8
        for fam, bounds in (
            ("time_to_first_token_seconds", TTFT_BUCKETS),
            ("inter_token_latency_seconds", ITL_BUCKETS),
            ("e2e_request_latency_seconds", LATENCY_BUCKETS),
        ):
            les = re.findall(rf'vllm:{fam}_bucket{{engine="0",le="([^"]+)"', text)
            assert les == [repr(float(b)) for b in bounds] + ["+Inf"]
        assert values[f"vllm:inter_token_latency_seconds_count{{{lab}}}"] == 8 * 19
        assert values[f"vllm:time_to_first_token_seconds_count{{{lab}}}"] == 8
        emu = [k for k in values if k.startswith("unitcost_emulated{")]
        assert len(emu) == 1 and values[emu[0]] == 1
        util = [v for k, v in values.items() if k.startswith("DCGM_FI_DEV_GPU_UTIL{")]
        energy = [v for k, v in values.items() if k.startswith("DCGM_FI_DEV_TOTAL_ENERGY")]
        fb = [v for k, v in values.items() if k.startswith("DCGM_FI_DEV_FB_USED{")]
        power = [v for k, v in values.items() if k.startswith("DCGM_FI_DEV_POWER_USAGE{")]
        assert util[0] > 0 and energy[0] > 0
        assert power[0] > 70  # above the H100's idle draw while it was busy
        assert fb[0] == pytest.approx(80e9 * 0.9 / 2**20 + 0.5e9 / 2**20, rel=1e-3)
        await asyncio.sleep(1.2)  # idle for a DCGM window: utilization falls to 0
        async with s.get(f"{url}/metrics") as r:
            _, later = _parse(await r.text())
        assert [v for k, v in later.items() if k.startswith("DCGM_FI_DEV_GPU_UTIL{")] == [0]
        e2 = [v for k, v in later.items() if k.startswith("DCGM_FI_DEV_TOTAL_ENERGY")]
        assert e2[0] > energy[0]  # idle power keeps the energy counter rising
        idle = [v for k, v in later.items() if k.startswith("DCGM_FI_DEV_POWER_USAGE{")]
        assert idle == [70]  # the catalog's idle_w for an H100

    run(t)


def test_completions_stream_and_client_disconnect_aborts() -> None:
    async def t(s: aiohttp.ClientSession, url: str, ep: Endpoint) -> None:
        body = {"prompt": "p q", "max_tokens": 4, "ignore_eos": True, "stream": True}
        async with s.post(f"{url}/v1/completions", json=body) as r:
            events = await sse(r)
        assert events[-1] == "[DONE]"
        texts = [e["choices"][0]["text"] for e in events[:-1]]
        assert len(texts) == 4 and all(texts)  # no usage chunk unless include_usage is set
        assert events[-2]["choices"][0]["finish_reason"] == "length"
        # a client that goes away mid-stream: the request is aborted and its slot freed
        long = {"prompt": "p", "max_tokens": 2000, "ignore_eos": True, "stream": True}
        async with s.post(f"{url}/v1/completions", json=long) as r:
            await r.content.readline()
            r.close()
        for _ in range(100):
            if ep.metrics.success["abort"] == 1 and not ep.sched.running:
                break
            await asyncio.sleep(0.05)
        assert ep.metrics.success["abort"] == 1
        assert not ep.sched.running and ep.sched.kv_used == 0

    run(t)
