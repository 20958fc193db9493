"""Token counters for when the server's stream carries no `usage`, and for sizing prompts.

Two exact sources, both offline: a local `tokenizer.json` (the `tokenizers` library; nothing is
downloaded) or the server's own tokenize endpoint (`POST /tokenize`, as llama-server and vLLM
serve it). Every count written to the database says which one produced it (`token_source`).
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import Protocol

from unitcost.errors import BenchError, ConfigError


class TokenCounter(Protocol):
    """Counts tokens of plain text (no chat template, no special tokens)."""

    source: str

    def count(self, text: str) -> int: ...


class LocalTokenizer:
    """A `tokenizer.json` on disk, via the `tokenizers` library."""

    source = "local_tokenizer"

    def __init__(self, path: Path) -> None:
        from tokenizers import Tokenizer

        p = Path(path)
        if p.is_dir():
            p = p / "tokenizer.json"
        if not p.is_file():
            raise ConfigError(f"--tokenizer {path}: no tokenizer.json there")
        try:
            self.tok = Tokenizer.from_file(str(p))
        except Exception as exc:  # the library raises plain Exception subclasses
            raise ConfigError(f"--tokenizer {p}: cannot load: {exc}") from exc
        self.path = p
        special = set()
        for tok in self.tok.get_added_tokens_decoder().values():
            if tok.special:
                special.add(tok.content)
        vocab = self.tok.get_vocab()
        self.plain_ids = sorted(i for t, i in vocab.items() if t not in special)

    def encode(self, text: str) -> list[int]:
        return list(self.tok.encode(text, add_special_tokens=False).ids)

    def decode(self, ids: list[int]) -> str:
        return str(self.tok.decode(ids, skip_special_tokens=True))

    def count(self, text: str) -> int:
        return len(self.tok.encode(text, add_special_tokens=False).ids)


class TokenizeEndpoint:
    """The server's `POST /tokenize` (llama-server: `content`; vLLM: `prompt` and `model`)."""

    source = "tokenize_endpoint"

    def __init__(self, root: str, model: str, api_key_env: str | None = None) -> None:
        self.url = root.rstrip("/") + "/tokenize"
        self.model = model
        self.api_key_env = api_key_env

    def count(self, text: str) -> int:
        body = json.dumps(
            {"model": self.model, "content": text, "prompt": text, "add_special": False}
        ).encode()
        headers = {"Content-Type": "application/json"}
        if self.api_key_env and os.environ.get(self.api_key_env):
            headers["Authorization"] = f"Bearer {os.environ[self.api_key_env]}"
        req = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                obj = json.loads(resp.read())
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise BenchError(f"{self.url}: tokenize request failed: {exc}") from exc
        if isinstance(obj.get("count"), int):
            return int(obj["count"])
        tokens = obj.get("tokens")
        if isinstance(tokens, list):
            return len(tokens)
        raise BenchError(f"{self.url}: answer has neither 'count' nor 'tokens': {obj!r:.200}")

    def available(self) -> bool:
        """Does the server answer the tokenize endpoint at all?"""
        try:
            return self.count("hello") > 0
        except BenchError:
            return False
