"""Workloads: what each request asks for, built before any load starts, seeded and offline.

Token lengths are exact when a counter is available (a local `tokenizer.json` or the server's
`/tokenize`): prompts are made of common English words, then trimmed or grown until the counter
says the target length. Without a counter, lengths come from a words-per-token ratio calibrated
on the server's usage counts (marked `calibrated`, approximate). Lengths are the prompt TEXT's
tokens; a chat template adds a fixed overhead that `prompt_tokens` from usage shows.

Length specs (flags --input-tokens/--output-tokens and suite files): `N` (fixed),
`uniform:LO-HI`, `normal:MEAN,STD` (clipped to >= 1), each drawn from the seeded generator.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from unitcost.bench.tokens import LocalTokenizer, TokenCounter

from unitcost.errors import InputError, input_error

_WORDS = [
    "time",
    "person",
    "year",
    "way",
    "day",
    "thing",
    "man",
    "world",
    "life",
    "hand",
    "part",
    "child",
    "eye",
    "woman",
    "place",
    "work",
    "week",
    "case",
    "point",
    "government",
    "company",
    "number",
    "group",
    "problem",
    "fact",
    "be",
    "have",
    "do",
    "say",
    "get",
    "make",
    "go",
    "know",
    "take",
    "see",
    "come",
    "think",
    "look",
    "want",
    "give",
    "use",
    "find",
    "tell",
    "ask",
    "seem",
    "feel",
    "try",
    "leave",
    "call",
    "good",
    "new",
    "first",
    "last",
    "long",
    "great",
    "little",
    "own",
    "other",
    "old",
    "right",
    "big",
    "high",
    "different",
    "small",
    "large",
    "next",
    "early",
    "young",
    "important",
    "few",
    "public",
    "bad",
    "same",
    "able",
    "to",
    "of",
    "in",
    "for",
    "on",
    "with",
    "at",
    "by",
    "from",
    "up",
    "about",
    "into",
    "over",
    "after",
    "the",
    "and",
    "a",
    "that",
    "I",
    "it",
    "not",
    "he",
    "as",
    "you",
    "this",
    "but",
    "his",
    "they",
    "her",
    "she",
    "or",
    "an",
    "will",
    "my",
    "one",
    "all",
    "would",
    "there",
    "their",
    "what",
    "so",
    "out",
    "if",
    "who",
    "which",
    "go",
    "me",
    "when",
    "can",
    "like",
    "no",
    "just",
    "him",
    "know",
    "take",
    "people",
    "into",
    "year",
    "your",
    "some",
    "could",
    "them",
    "see",
    "other",
    "than",
    "then",
    "now",
    "look",
    "only",
    "come",
    "its",
    "over",
    "think",
    "also",
    "back",
    "after",
    "use",
    "two",
    "how",
    "our",
    "work",
    "first",
    "well",
    "way",
    "even",
    "new",
    "want",
    "because",
    "any",
    "these",
    "give",
    "day",
    "most",
]

MOONCAKE_BLOCK_TOKENS = 512


@dataclass(frozen=True)
class WorkItem:
    """One request's content: prompt (text or chat messages), max output tokens, arrival."""

    prompt: str | list[dict[str, str]]
    max_tokens: int | None
    input_tokens: int | None  # the target length, when known
    arrival_s: float | None = None  # trace replay: seconds after the run starts


@dataclass(frozen=True)
class LengthSpec:
    """A distribution of token lengths."""

    kind: str  # fixed, uniform, normal
    a: float
    b: float = 0.0

    @classmethod
    def parse(cls, text: str | int, *, flag: str) -> LengthSpec:
        s = str(text).strip()
        try:
            if s.isdigit():
                return _check(cls("fixed", int(s)), flag, s)
            kind, _, rest = s.partition(":")
            if kind == "uniform":
                lo, _, hi = rest.partition("-")
                return _check(cls("uniform", int(lo), int(hi)), flag, s)
            if kind == "normal":
                mean, _, std = rest.partition(",")
                return _check(cls("normal", float(mean), float(std)), flag, s)
        except ValueError:
            pass
        raise InputError(f"{flag} {s!r}: expected N, uniform:LO-HI or normal:MEAN,STD")

    def draw(self, rng: random.Random) -> int:
        if self.kind == "fixed":
            return int(self.a)
        if self.kind == "uniform":
            return rng.randint(int(self.a), int(self.b))
        return max(1, round(rng.gauss(self.a, self.b)))

    def describe(self) -> str:
        return {"fixed": f"{self.a:g}", "uniform": f"uniform:{self.a:g}-{self.b:g}"}.get(
            self.kind, f"normal:{self.a:g},{self.b:g}"
        )


def _check(spec: LengthSpec, flag: str, s: str) -> LengthSpec:
    if spec.a < 1 or (spec.kind == "uniform" and spec.b < spec.a) or spec.b < 0:
        raise InputError(f"{flag} {s!r}: lengths must be >= 1 (and LO <= HI)")
    return spec


class ApproxCounter:
    """Tokens estimated as words * ratio; the ratio comes from server usage (calibration)."""

    source = "calibrated"  # approximate: workload JSON says exact_lengths = false

    def __init__(self, tokens_per_word: float = 1.0) -> None:
        self.tokens_per_word = tokens_per_word

    def count(self, text: str) -> int:
        return round(len(text.split()) * self.tokens_per_word)


def fit_text(counter: TokenCounter, target: int, rng: random.Random, prefix: str = "") -> str:
    """Words appended to `prefix` until the counter reads exactly `target` tokens (if it can)."""
    words = [rng.choice(_WORDS) for _ in range(max(target - counter.count(prefix), 1))]

    def text_of(ws: list[str]) -> str:
        body = " ".join(ws)
        return f"{prefix} {body}" if prefix else body

    for _ in range(12):
        n = counter.count(text_of(words))
        if n == target:
            return text_of(words)
        if n < target:
            words.extend(rng.choice(_WORDS) for _ in range(max((target - n) // 2, 1)))
        elif len(words) > 1:
            del words[-max((n - target) // 2, 1) :]
        else:
            break
    text = text_of(words)
    if isinstance(counter, LocalTokenizer):  # trim at the token level: exact
        for _ in range(4):
            ids = counter.encode(text)
            if len(ids) == target:
                break
            if len(ids) > target:
                text = counter.decode(ids[:target])
            else:
                text = text + " " + rng.choice(_WORDS)
    return text


@dataclass(frozen=True)
class SyntheticSpec:
    """Random-word prompts of drawn lengths, optionally behind one shared prefix."""

    input_tokens: LengthSpec
    output_tokens: LengthSpec
    prefix_tokens: int = 0
    seed: int = 0


def synthetic(spec: SyntheticSpec, n: int, counter: TokenCounter) -> list[WorkItem]:
    """n seeded synthetic requests; the same spec, seed and counter give the same prompts."""
    rng = random.Random(spec.seed)
    prefix = (
        fit_text(counter, spec.prefix_tokens, random.Random(spec.seed ^ 0x5EED))
        if spec.prefix_tokens
        else ""
    )
    items = []
    for _ in range(n):
        n_in = max(spec.input_tokens.draw(rng), spec.prefix_tokens + 1)
        n_out = spec.output_tokens.draw(rng)
        items.append(WorkItem(fit_text(counter, n_in, rng, prefix), n_out, n_in))
    return items


def jsonl_conversations(path: Path, output_tokens: LengthSpec | None, seed: int) -> list[WorkItem]:
    """JSONL lines: {"messages": [...]} | {"prompt": "..."} | ShareGPT {"conversations": [...]};
    optional "max_tokens"/"output_tokens" per line, else --output-tokens."""
    rng = random.Random(seed)
    items: list[WorkItem] = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InputError(f"--dataset {path}: {exc.strerror}") from exc
    for i, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError as exc:
            raise input_error(str(path), row=i, msg=f"not JSON: {exc}") from exc
        prompt: str | list[dict[str, str]]
        if isinstance(obj.get("messages"), list):
            prompt = [m for m in obj["messages"] if m.get("role") != "assistant"] or obj["messages"]
        elif isinstance(obj.get("prompt"), str):
            prompt = obj["prompt"]
        elif isinstance(obj.get("conversations"), list) and obj["conversations"]:
            first = obj["conversations"][0]
            prompt = str(first.get("value", first.get("content", "")))
        else:
            raise input_error(
                str(path), row=i, column="messages", msg="needs messages, prompt or conversations"
            )
        mt = obj.get("max_tokens", obj.get("output_tokens"))
        if mt is None and output_tokens is not None:
            mt = output_tokens.draw(rng)
        items.append(WorkItem(prompt, int(mt) if mt is not None else None, obj.get("input_tokens")))
    if not items:
        raise InputError(f"--dataset {path}: no requests in the file")
    return items


def mooncake_trace(path: Path, counter: TokenCounter, seed: int) -> list[WorkItem]:
    """Mooncake trace replay: `timestamp` (ms), `input_length`, `output_length`, `hash_ids`.

    Each hash id is one 512-token block, the same text wherever it appears, so the trace's
    prefix sharing reaches the server's prefix cache; the last block is cut to input_length.
    """
    blocks: dict[int, str] = {}
    items: list[WorkItem] = []
    t0: float | None = None
    for i, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj: dict[str, Any] = json.loads(line)
            ts, n_in, n_out = (
                float(obj["timestamp"]),
                int(obj["input_length"]),
                int(obj["output_length"]),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise input_error(
                str(path), row=i, msg=f"needs timestamp, input_length, output_length: {exc}"
            ) from exc
        t0 = ts if t0 is None else t0
        parts: list[str] = []
        remaining = n_in
        for h in obj.get("hash_ids") or []:
            if remaining <= 0:
                break
            take = min(MOONCAKE_BLOCK_TOKENS, remaining)
            key = int(h)
            if take == MOONCAKE_BLOCK_TOKENS:
                if key not in blocks:
                    blocks[key] = fit_text(counter, take, random.Random(seed * 1_000_003 + key))
                parts.append(blocks[key])
            else:
                parts.append(fit_text(counter, take, random.Random(seed * 1_000_003 + key)))
            remaining -= take
        if remaining > 0:
            parts.append(fit_text(counter, remaining, random.Random(seed + i)))
        items.append(WorkItem(" ".join(parts), n_out, n_in, arrival_s=(ts - t0) / 1000.0))
    if not items:
        raise InputError(f"--trace {path}: no requests in the file")
    return items
