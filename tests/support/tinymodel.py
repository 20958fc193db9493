"""Build a tiny, deterministic, random-weight Llama model and its GGUF export.

Why: integration tests must talk to REAL inference servers (llama.cpp's
``llama-server`` and ``transformers serve``), but no weights can be downloaded
here. So the tests build their own model: a byte-level BPE tokenizer trained on
local text (the Python stdlib sources) and a ~2 MB ``LlamaForCausalLM`` with
seeded random weights. Random weights produce gibberish, which is fine: a
load-test tool only cares about tokens, timings and the wire protocol.

Determinism: the tokenizer corpus is a sorted, size-capped list of stdlib files
and torch is seeded, so the same interpreter + library versions give the same
model on every run. EOS is suppressed in ``generation_config`` so that
``transformers serve`` produces exactly ``max_tokens`` tokens; for
``llama-server`` send ``"ignore_eos": true`` instead.

Conversion to GGUF reuses llama.cpp's own ``convert_hf_to_gguf.py`` from the
cache written by ``scripts/build_llama_server.sh`` (same revision as the
binary). The converter refuses an unknown BPE pre-tokenizer (it fingerprints
the tokenizer against a list of published models), so :func:`export_gguf`
subclasses the converter's Llama class in-process to declare ``"gpt-2"`` --
which is what our ``ByteLevel`` pre-tokenizer actually is. Nothing in the
cache is edited. The conversion runs in a child interpreter so that the
converter's ``sys.path`` and module names (``gguf``, ``conversion``) never leak
into the test process.

Usage as a script (also what :func:`export_gguf` runs)::

    python tests/support/tinymodel.py build OUT_DIR
    python tests/support/tinymodel.py export MODEL_DIR OUT.gguf LLAMA_CACHE_DIR
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# Bump when anything below changes the produced files, so cached builds rebuild.
BUILD_VERSION = 1
STAMP_NAME = ".unitcost-tinymodel.json"

VOCAB_SIZE = 2048
CORPUS_MAX_BYTES = 3_000_000
SEED = 0

PAD, BOS, EOS = "<|pad|>", "<|bos|>", "<|eos|>"
ROLE_TOKENS = ("<|system|>", "<|user|>", "<|assistant|>", "<|tool|>")
SPECIAL_TOKENS: tuple[str, ...] = (PAD, BOS, EOS, *ROLE_TOKENS)

# Small Jinja template. Content may arrive as a string or as OpenAI content
# parts (transformers serve normalises to parts); both render to plain text.
# Each turn ends with EOS so a trained model would know where to stop.
CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{%- for message in messages -%}"
    "{{ '<|' + message['role'] + '|>' }}"
    "{%- if message['content'] is string -%}"
    "{{ message['content'] }}"
    "{%- else -%}"
    "{%- for part in message['content'] -%}"
    "{%- if part['type'] == 'text' -%}{{ part['text'] }}{%- endif -%}"
    "{%- endfor -%}"
    "{%- endif -%}"
    "{{ eos_token }}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ '<|assistant|>' }}{%- endif -%}"
)

LLAMA_CONFIG: dict[str, Any] = {
    "hidden_size": 128,
    "intermediate_size": 256,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "max_position_embeddings": 4096,
    "tie_word_embeddings": True,
    # 5x the default (0.02). With tied embeddings and tiny layer weights the
    # residual stream is dominated by the input embedding, so greedy decoding
    # just repeats the last prompt token (here the special <|assistant|>,
    # which detokenizes to nothing: a stream of empty deltas). At 0.1 the
    # layers mix enough that greedy output is varied, printable text.
    "initializer_range": 0.1,
}

_REQUIRED_FILES = (
    "config.json",
    "model.safetensors",
    "tokenizer.json",
    "tokenizer_config.json",
    "generation_config.json",
)


def _stamp() -> dict[str, Any]:
    return {
        "build_version": BUILD_VERSION,
        "vocab_size": VOCAB_SIZE,
        "seed": SEED,
        "zero_special_embeddings": True,
        **LLAMA_CONFIG,
    }


def is_complete(out_dir: Path) -> bool:
    """True if ``out_dir`` holds a finished build of the current recipe.

    The stamp file is written last, so its presence means every other file was
    written; its content guards against a stale build from an older recipe.
    """
    stamp = out_dir / STAMP_NAME
    if not stamp.is_file() or not all((out_dir / name).is_file() for name in _REQUIRED_FILES):
        return False
    try:
        return bool(json.loads(stamp.read_text()) == _stamp())
    except (OSError, ValueError):
        return False


def _corpus_files(max_bytes: int = CORPUS_MAX_BYTES) -> list[Path]:
    """A sorted, size-capped list of stdlib ``.py`` files: same input, same merges."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    files: list[Path] = []
    total = 0
    for path in sorted(stdlib.glob("*.py")):
        size = path.stat().st_size
        if total + size > max_bytes:
            continue
        files.append(path)
        total += size
    if not files:
        raise RuntimeError(f"no training text found under {stdlib}")
    return files


def _iter_corpus(files: list[Path]) -> Iterator[str]:
    for path in files:
        yield path.read_text(encoding="utf-8", errors="replace")


def build_tokenizer() -> Any:
    """Train the byte-level BPE tokenizer and wrap it for transformers.

    Byte-level BPE with the GPT-2 regex is exactly what llama.cpp calls the
    ``gpt-2`` pre-tokenizer, so its tokenization matches the HF one.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        min_frequency=2,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(_iter_corpus(_corpus_files()), trainer=trainer)

    fast = PreTrainedTokenizerFast(  # type: ignore[no-untyped-call]
        tokenizer_object=tok,
        bos_token=BOS,
        eos_token=EOS,
        pad_token=PAD,
        additional_special_tokens=list(ROLE_TOKENS),
        clean_up_tokenization_spaces=False,
        model_max_length=LLAMA_CONFIG["max_position_embeddings"],
    )
    fast.chat_template = CHAT_TEMPLATE
    return fast


def build_tiny_model(out_dir: Path) -> Path:
    """Build (or reuse) the tiny model + tokenizer in ``out_dir`` and return it.

    Files are written into a sibling temp dir and moved into place, with the
    stamp written last, so an interrupted build is never mistaken for a
    complete one.
    """
    out_dir = Path(out_dir)
    if is_complete(out_dir):
        return out_dir

    # Keep tokenizers' thread pool from reordering work across runs.
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import torch
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

    tokenizer = build_tokenizer()
    bos_id = tokenizer.convert_tokens_to_ids(BOS)
    eos_id = tokenizer.convert_tokens_to_ids(EOS)
    pad_id = tokenizer.convert_tokens_to_ids(PAD)

    cfg = LlamaConfig(
        vocab_size=len(tokenizer),
        bos_token_id=bos_id,
        eos_token_id=eos_id,
        pad_token_id=pad_id,
        **LLAMA_CONFIG,
    )
    torch.manual_seed(SEED)
    model = LlamaForCausalLM(cfg)
    # Zero the special tokens' (tied) embedding rows: their logits are then
    # exactly 0 while ~2000 random logits are not, so greedy decoding never
    # emits EOS, role tokens or pad. transformers' continuous batching may
    # ignore ``suppress_tokens`` below, so this is what keeps lengths exact.
    special_ids = tokenizer.convert_tokens_to_ids(list(SPECIAL_TOKENS))
    with torch.no_grad():
        model.model.embed_tokens.weight[special_ids] = 0.0
    # Suppress EOS so generation always runs to max_tokens: load tests need
    # exact output lengths, and random weights could emit EOS at any step.
    model.generation_config = GenerationConfig(  # type: ignore[no-untyped-call]
        bos_token_id=bos_id,
        eos_token_id=eos_id,
        pad_token_id=pad_id,
        suppress_tokens=[eos_id],
        do_sample=False,
    )

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        if not (staging / "tokenizer.json").is_file():
            raise RuntimeError("tokenizer.json was not written")
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / STAMP_NAME).unlink(missing_ok=True)
        for item in staging.iterdir():
            target = out_dir / item.name
            if target.is_dir():
                shutil.rmtree(target)
            os.replace(item, target)
        (out_dir / STAMP_NAME).write_text(json.dumps(_stamp(), sort_keys=True))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out_dir


def export_gguf(model_dir: Path, out_file: Path, llama_cache: Path) -> Path:
    """Convert ``model_dir`` to a GGUF file with the cached llama.cpp converter.

    ``llama_cache`` is the directory written by ``scripts/build_llama_server.sh``
    (the one holding ``bin/llama-server``, ``convert_hf_to_gguf.py``,
    ``conversion/`` and ``gguf-py/``). Reuses ``out_file`` if it is newer than
    the model's weights. Runs in a child interpreter (see module docstring).
    """
    model_dir, out_file, llama_cache = Path(model_dir), Path(out_file), Path(llama_cache)
    weights = model_dir / "model.safetensors"
    if (
        out_file.is_file()
        and weights.is_file()
        and out_file.stat().st_mtime >= weights.stat().st_mtime
    ):
        return out_file
    if not (llama_cache / "convert_hf_to_gguf.py").is_file():
        raise FileNotFoundError(
            f"{llama_cache}/convert_hf_to_gguf.py missing: run scripts/build_llama_server.sh first"
        )
    out_file.parent.mkdir(parents=True, exist_ok=True)
    tmp_out = out_file.with_name(out_file.name + ".part")
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "export",
        str(model_dir),
        str(tmp_out),
        str(llama_cache),
    ]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    if proc.returncode != 0 or not tmp_out.is_file():
        tail = (proc.stdout + proc.stderr)[-4000:]
        raise RuntimeError(f"GGUF export failed (rc={proc.returncode}):\n{tail}")
    os.replace(tmp_out, out_file)
    return out_file


def _convert_in_this_process(model_dir: Path, out_file: Path, llama_cache: Path) -> None:
    """Run llama.cpp's converter here, declaring the ``gpt-2`` pre-tokenizer.

    Only called in a dedicated child interpreter: it puts the cache and its
    ``gguf-py`` on ``sys.path`` and imports the converter's packages.
    """
    sys.path.insert(0, str(llama_cache / "gguf-py"))
    sys.path.insert(0, str(llama_cache))
    import logging

    import gguf  # type: ignore[import-not-found,unused-ignore]
    import torch
    from conversion import ModelBase, ModelType, get_model_architecture, get_model_class  # type: ignore[import-not-found,unused-ignore]

    logging.basicConfig(level=logging.WARNING)
    hparams = ModelBase.load_hparams(model_dir, False)
    arch = get_model_architecture(hparams, ModelType.TEXT)
    base_cls = get_model_class(arch)

    class TinyBpeModel(base_cls):  # type: ignore[misc, valid-type]
        """The registered converter class, with our locally trained BPE vocab.

        ``"gpt-2"`` (with the hyphen) is the llama.cpp name of the ByteLevel
        GPT-2 regex pre-tokenizer; ``"gpt2"`` converts but will not load.
        """

        # The converter insists each subclass declares its architecture itself.
        model_arch = base_cls.model_arch

        def get_vocab_base_pre(self, tokenizer: Any) -> str:
            return "gpt-2"

        def set_vocab(self) -> None:
            self._set_vocab_gpt2()

    with torch.inference_mode():
        model = TinyBpeModel(model_dir, gguf.LlamaFileType.ALL_F32, out_file)
        model.write()


def _main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "build":
        print(build_tiny_model(Path(argv[1])))
        return 0
    if len(argv) == 4 and argv[0] == "export":
        _convert_in_this_process(Path(argv[1]), Path(argv[2]), Path(argv[3]))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
