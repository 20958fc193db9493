"""Before any load: what the server says about itself, one test request, token calibration.

`server_facts` reads `GET /v1/models` only (no completion is sent): the served model ids and,
for a `unitcost emulate` endpoint, what it emulates (`emulated: true` and its `emulation` card:
GPU, GPU count, quantization, engine, parameters), so a run against it is stored as emulated
with that hardware. `preflight` then sends one tiny request, so a wrong model or refused
credentials stop the run with the server's own message before any load.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from unitcost.bench import client
from unitcost.bench.client import ClientConfig
from unitcost.bench.records import RequestRecord
from unitcost.bench.sse import StreamState

from unitcost.errors import BenchError

#: `owned_by` of /v1/models -> engine label, for servers that say who they are.
_OWNERS = {"vllm": "vllm", "llamacpp": "llama.cpp", "sglang": "sglang"}


@dataclass(frozen=True)
class ServerFacts:
    """What `GET /v1/models` told us about the server and the model the run will use."""

    served_models: list[str] = field(default_factory=list)
    emulated: bool = False
    hardware: str | None = None  # e.g. H100 (the price catalog's GPU names)
    gpu_count: int | None = None
    quantization: str | None = None
    engine: str | None = None
    parameter_count: int | None = None
    card: dict[str, Any] = field(default_factory=dict)  # the model's entry, as served

    def target(self) -> dict[str, Any]:
        """The facts as run-row target fields (None where the server said nothing)."""
        return {
            "emulated": self.emulated,
            "hardware": self.hardware,
            "gpu_count": self.gpu_count,
            "quantization": self.quantization,
            "engine": self.engine,
            "parameter_count": self.parameter_count,
        }


def facts_from_models(body: Any, model: str) -> ServerFacts:
    """Parse a /v1/models answer (OpenAI's list shape) for `model`; lenient on shape."""
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list):
        return ServerFacts()
    cards = [c for c in data if isinstance(c, dict)]
    served = [str(c.get("id")) for c in cards]
    card = next((c for c in cards if c.get("id") == model), cards[0] if len(cards) == 1 else {})
    emu = card.get("emulation") if card.get("emulated") is True else None
    if isinstance(emu, dict):

        def num(key: str) -> int | None:
            v = emu.get(key)
            return int(v) if isinstance(v, int | float) and not isinstance(v, bool) else None

        gpu = emu.get("hardware") or (str(emu["gpu"]).upper() if emu.get("gpu") else None)
        return ServerFacts(
            served,
            True,
            str(gpu) if gpu else None,
            num("gpu_count"),
            str(emu["quantization"]) if emu.get("quantization") else None,
            str(emu["engine"]) if emu.get("engine") else None,
            num("parameter_count"),
            card,
        )
    engine = _OWNERS.get(str(card.get("owned_by", "")).lower())
    return ServerFacts(served, engine=engine, card=card)


async def _server_facts(cfg: ClientConfig) -> ServerFacts:
    async with client.make_session(cfg, 2) as session:
        try:
            async with session.get(
                cfg.root + "/v1/models",
                timeout=aiohttp.ClientTimeout(total=cfg.connect_timeout_s + 10),
            ) as resp:
                text = await resp.text()
                if resp.status in (401, 403):
                    raise BenchError(
                        f"{cfg.root}/v1/models refused the credentials: "
                        f"HTTP {resp.status}: {text[:300]}"
                    )
                if resp.status != 200:
                    return ServerFacts()
                try:
                    body = await resp.json(content_type=None)
                except ValueError:
                    return ServerFacts()
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise BenchError(
                f"cannot reach endpoint {cfg.root}: {exc or type(exc).__name__}"
            ) from exc
    return facts_from_models(body, cfg.model)


def server_facts(cfg: ClientConfig) -> ServerFacts:
    """GET /v1/models: reachability, credentials, served models, emulation. No completion."""
    return asyncio.run(_server_facts(cfg))


@dataclass(frozen=True)
class Probe:
    """What one small request told us about the server before any load."""

    has_usage: bool
    has_done: bool
    prompt_tokens: int | None
    facts: ServerFacts


async def _preflight(cfg: ClientConfig, facts: ServerFacts) -> Probe:
    async with client.make_session(cfg, 2) as session:
        rec = RequestRecord(run_id="preflight", request_id=0)
        st = StreamState()
        await client.send(session, cfg, client.build_payload(cfg, "Say hello.", 4), rec, st)
    if rec.status != "ok":
        served = facts.served_models
        hint = (
            f" (the server lists: {', '.join(served)})"
            if served and cfg.model not in served
            else ""
        )
        raise BenchError(
            f"{cfg.url} rejected a test request for model {cfg.model!r}{hint}: "
            f"{rec.error_class}: {rec.error_message}"
        )
    return Probe(st.output_tokens is not None, st.done, st.prompt_tokens, facts)


def preflight(cfg: ClientConfig, facts: ServerFacts | None = None) -> Probe:
    """Fail with the server's own message before any load if the endpoint or model is wrong."""
    if facts is None:
        facts = server_facts(cfg)
    return asyncio.run(_preflight(cfg, facts))


async def _prompt_tokens(cfg: ClientConfig, words: int) -> int | None:
    from unitcost.bench.workloads import _WORDS

    text = " ".join(_WORDS[i % len(_WORDS)] for i in range(words))
    async with client.make_session(cfg, 1) as session:
        rec = RequestRecord(run_id="calibration", request_id=0)
        await client.send(session, cfg, client.build_payload(cfg, text, 1), rec)
    return rec.prompt_tokens if rec.status == "ok" else None


def calibrate_tokens_per_word(cfg: ClientConfig) -> float | None:
    """Tokens per prompt word from the server's own usage counts: two prompts of 20 and 220
    words; the difference cancels the chat template's fixed overhead. None if no usage."""

    async def both() -> tuple[int | None, int | None]:
        return await _prompt_tokens(cfg, 20), await _prompt_tokens(cfg, 220)

    try:
        a, b = asyncio.run(both())
    except (BenchError, OSError):
        return None
    if a is None or b is None or b <= a:
        return None
    return (b - a) / 200.0
