"""Measure real vLLM and `unitcost emulate` with the same client and workload, side by side.

Needs a machine with an NVIDIA GPU, vLLM installed, and the model's config and tokenizer in the
Hugging Face cache (weights are not needed: `--load-format dummy`). Not part of any test run:

    python -m tests.perf.emulate.validate_against_vllm --model meta-llama/Llama-3.1-8B-Instruct \
        --catalog-model llama-3.1-8b [--gpu h100] [--concurrency 1 16]

Prints output tok/s and median TTFT for both, and the emulator's error against the real server.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from tests.integration.emulate.servers import free_port, run_emulator
from tests.integration.emulate.streamclient import Measured, measure

GPU_IDS = {
    "H200": "h200",
    "H100": "h100",
    "A100-SXM4-80GB": "a100-80gb",
    "A100-SXM4-40GB": "a100-40gb",
    "L40S": "l40s",
    "L4": "l4",
    "A10G": "a10g",
    "T4": "t4",
}


def detect_gpu() -> str:
    out = subprocess.run(
        ["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    name = out.splitlines()[0]
    for key, gid in GPU_IDS.items():
        if key in name:
            return gid
    raise SystemExit(f"no catalog id for GPU {name!r}; pass --gpu")


@contextlib.contextmanager
def vllm(model: str, log: Path) -> Iterator[str]:
    port = free_port()
    exe = shutil.which("vllm") or sys.exit("vllm is not installed")
    with log.open("w") as fh:
        proc = subprocess.Popen(
            [
                exe,
                "serve",
                model,
                "--load-format",
                "dummy",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            stdout=fh,
            stderr=subprocess.STDOUT,
        )
    root = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 900
        while True:
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(f"{root}/health", timeout=2) as r,
            ):
                if r.status == 200:
                    break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"vLLM did not start; see {log}")
            time.sleep(2)
        yield f"{root}/v1"
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def run(base: str, model: str, conc: int) -> Measured:
    measure(base, model=model, concurrency=conc, requests=conc, prompt_words=248, max_tokens=16)
    return measure(
        base, model=model, concurrency=conc, requests=conc * 4, prompt_words=248, max_tokens=256
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True, help="HF model id vLLM serves")
    ap.add_argument("--catalog-model", required=True, help="the emulator's catalog id")
    ap.add_argument("--gpu", help="catalog GPU id (default: from nvidia-smi)")
    ap.add_argument("--concurrency", type=int, nargs="+", default=[1, 16])
    args = ap.parse_args()
    gpu = args.gpu or detect_gpu()
    logs = Path("validate-logs")
    logs.mkdir(exist_ok=True)
    real: dict[int, Measured] = {}
    with vllm(args.model, logs / "vllm.log") as base:
        for c in args.concurrency:
            real[c] = run(base, args.model, c)
    with run_emulator(
        "--model",
        args.catalog_model,
        "--gpu",
        gpu,
        "--served-model-name",
        args.model,
        log=logs / "emulate.log",
    ) as emu:
        for c in args.concurrency:
            e = run(emu.base_url, args.model, c)
            r = real[c]
            err = e.output_tok_s / r.output_tok_s - 1
            print(
                f"{gpu} c={c}: vLLM {r.output_tok_s:,.0f} tok/s, emulated "
                f"{e.output_tok_s:,.0f} ({err:+.1%}); median TTFT vLLM "
                f"{sorted(r.ttft_s)[len(r.ttft_s) // 2] * 1e3:.0f} ms, emulated "
                f"{sorted(e.ttft_s)[len(e.ttft_s) // 2] * 1e3:.0f} ms"
            )


if __name__ == "__main__":
    main()
