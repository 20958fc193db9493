"""A deterministic stand-in tokenizer, so prompt token counts are exact and reproducible.

A token is a run of up to 8 non-space characters with the whitespace before it (`\\s*\\S{1,8}`).
The completions API adds one BOS token; the chat template adds a Llama-3-like frame: BOS, then
per message a 3-token header and a 1-token end, then a 3-token assistant header. /tokenize,
`usage.prompt_tokens` and `vllm:prompt_tokens_total` all use these rules, so they always agree.
Generated text is made of " word" pieces of at most 8 letters: re-tokenizing it gives exactly
`usage.completion_tokens`.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Sequence
from typing import Any

VOCAB = 128_256
BOS = 1
_PIECE = re.compile(r"\s*\S{1,8}")
MESSAGE_FRAME = 4  # header (3) + end of turn (1) per message
GENERATION_PROMPT = 3
WORDS = [
    "the",
    "of",
    "and",
    "to",
    "in",
    "is",
    "that",
    "it",
    "for",
    "on",
    "with",
    "as",
    "was",
    "at",
    "by",
    "this",
    "be",
    "from",
    "or",
    "an",
    "are",
    "not",
    "have",
    "one",
    "all",
    "but",
    "can",
    "had",
    "her",
    "there",
    "were",
    "which",
    "their",
    "said",
    "will",
    "each",
    "about",
    "how",
    "up",
    "out",
    "them",
    "then",
    "she",
    "many",
    "some",
    "so",
    "these",
    "would",
    "other",
    "into",
    "has",
    "more",
    "two",
    "time",
    "like",
    "see",
    "him",
    "could",
    "no",
    "make",
    "than",
    "first",
    "been",
    "its",
    "who",
    "now",
    "people",
    "my",
    "made",
    "over",
    "did",
    "down",
    "only",
    "way",
    "find",
    "use",
    "may",
    "water",
    "long",
    "little",
    "very",
    "after",
    "words",
    "called",
    "just",
    "where",
    "most",
    "know",
    "get",
    "through",
    "back",
    "much",
    "before",
    "go",
    "good",
    "new",
    "write",
    "our",
    "used",
    "me",
    "man",
    "too",
    "any",
    "day",
    "same",
    "right",
    "look",
    "think",
    "also",
    "around",
    "another",
    "came",
    "come",
    "work",
    "three",
    "word",
    "must",
    "because",
    "does",
    "part",
    "even",
    "place",
    "well",
    "such",
    "here",
    "take",
]


def pieces(text: str) -> list[str]:
    """The text's tokens as strings (trailing whitespace is not a token)."""
    return _PIECE.findall(text)


def token_ids(text: str) -> list[int]:
    """Stable ids (CRC32 of each piece, folded into the vocabulary)."""
    return [zlib.crc32(p.encode()) % VOCAB for p in pieces(text)]


def completion_ids(prompt: str | Sequence[int], add_special_tokens: bool = True) -> list[int]:
    """Token ids of a completions prompt: BOS + pieces, or the ids the client already sent."""
    if not isinstance(prompt, str):
        return list(prompt)
    return ([BOS] if add_special_tokens else []) + token_ids(prompt)


def chat_ids(messages: Sequence[dict[str, Any]]) -> list[int]:
    """Token ids of a chat prompt after the template (generation prompt included)."""
    ids = [BOS]
    for msg in messages:
        role = str(msg.get("role", ""))
        ids += [2, zlib.crc32(role.encode()) % VOCAB, 3]
        ids += token_ids(message_text(msg.get("content")))
        ids.append(4)
    return [*ids, 2, zlib.crc32(b"assistant") % VOCAB, 3]


def message_text(content: Any) -> str:
    """Message content as text: a string, or the text parts of an OpenAI content list."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    raise TypeError("content must be a string or a list of parts")


_OUT = tuple(" " + w for w in WORDS)
_OUT_JSON = tuple(json.dumps(w) for w in _OUT)


def output_piece(request_seed: int, i: int) -> str:
    """The i-th generated token's text: one short word with its leading space."""
    return _OUT[(request_seed + 7 * i) % len(_OUT)]


def output_piece_json(request_seed: int, i: int) -> str:
    """output_piece as a JSON string literal, precomputed: the streaming hot path."""
    return _OUT_JSON[(request_seed + 7 * i) % len(_OUT_JSON)]
