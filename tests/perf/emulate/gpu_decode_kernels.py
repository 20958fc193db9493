"""Real-GPU check of the emulator's decode physics (needs an NVIDIA GPU and torch; not a test).

Times one decode step of a Llama-3.1-8B-shaped model (random bf16 weights, CUDA-graph replay,
no server, no scheduler) at several batch sizes on the GPU it runs on, and prints it beside the
emulator's figures for the same configuration:

    ceiling  <=  measured kernels  <=  emulated step

must hold: the roofline ceiling is peak bandwidth with no loss, and the emulated step adds an
engine's scheduling overhead to kernels that are at least as slow as these bare ones. The ratio
ceiling / measured is the memory-bandwidth efficiency real kernels reach, the number the
emulator's `bw_efficiency` stands for.

    python tests/perf/emulate/gpu_decode_kernels.py --gpu h200
"""

from __future__ import annotations

import argparse
import json

import torch
import torch.nn.functional as F
from unitcost.emulate.catalog import load_catalog
from unitcost.emulate.physics import build_physics

# Llama-3.1-8B shapes (config.json of meta-llama/Llama-3.1-8B).
HIDDEN, INTER, LAYERS, HEADS, KV_HEADS, HEAD_DIM, VOCAB = 4096, 14336, 32, 32, 8, 128, 128256


def build(dev: str) -> list[dict[str, torch.Tensor]]:
    g = torch.Generator(device=dev).manual_seed(0)

    def w(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, device=dev, dtype=torch.bfloat16, generator=g) * 0.02

    return [
        {
            "qkv": w(HIDDEN, (HEADS + 2 * KV_HEADS) * HEAD_DIM),
            "o": w(HEADS * HEAD_DIM, HIDDEN),
            "gate_up": w(HIDDEN, 2 * INTER),
            "down": w(INTER, HIDDEN),
        }
        for _ in range(LAYERS)
    ] + [{"lm_head": w(HIDDEN, VOCAB)}]


def step(
    x: torch.Tensor, layers: list[dict[str, torch.Tensor]], k: torch.Tensor, v: torch.Tensor
) -> torch.Tensor:
    b = x.shape[0]
    for i, lw in enumerate(layers[:-1]):
        h = x @ lw["qkv"]
        q = h[:, : HEADS * HEAD_DIM].view(b, HEADS, 1, HEAD_DIM)
        att = F.scaled_dot_product_attention(q, k[i], v[i], enable_gqa=True)
        x = x + att.reshape(b, HEADS * HEAD_DIM) @ lw["o"]
        gu = x @ lw["gate_up"]
        x = x + (F.silu(gu[:, :INTER]) * gu[:, INTER:]) @ lw["down"]
    return x @ layers[-1]["lm_head"]


def time_step(layers: list[dict[str, torch.Tensor]], batch: int, context: int) -> float:
    dev = "cuda"
    x = torch.randn(batch, HIDDEN, device=dev, dtype=torch.bfloat16)
    kv_shape = (LAYERS, batch, KV_HEADS, context, HEAD_DIM)
    k = torch.randn(kv_shape, device=dev, dtype=torch.bfloat16)
    v = torch.randn(kv_shape, device=dev, dtype=torch.bfloat16)
    s = torch.cuda.Stream()
    s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):
        for _ in range(3):
            step(x, layers, k, v)
    torch.cuda.current_stream().wait_stream(s)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        step(x, layers, k, v)
    for _ in range(5):
        graph.replay()
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    reps = 50
    start.record()
    for _ in range(reps):
        graph.replay()
    end.record()
    torch.cuda.synchronize()
    del k, v, graph
    torch.cuda.empty_cache()
    return start.elapsed_time(end) / reps / 1000.0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--gpu", default="h200", help="emulator catalog id of this GPU")
    ap.add_argument("--context", type=int, default=512)
    ap.add_argument("--batches", default="1,8,16,64")
    args = ap.parse_args()
    phys = build_physics(load_catalog(), model="llama-3.1-8b", gpu=args.gpu, quant="bf16")
    layers = build("cuda")
    print(f"device: {torch.cuda.get_device_name()}, torch {torch.__version__}")
    print(
        f"{'batch':>5} {'ceiling ms':>11} {'measured ms':>12} {'emulated ms':>12} "
        f"{'BW eff':>7} {'meas tok/s':>11} {'emu tok/s':>10}"
    )
    rows = []
    for b in (int(v) for v in args.batches.split(",")):
        ctx_total = b * args.context
        measured = time_step(layers, b, args.context)
        ceiling = phys.ceiling_step_s(b, ctx_total)
        emulated = phys.step_s(b, ctx_total)
        row = {
            "batch": b,
            "context": args.context,
            "ceiling_s": ceiling,
            "measured_s": measured,
            "emulated_s": emulated,
            "order_holds": ceiling <= measured <= emulated,
        }
        rows.append(row)
        print(
            f"{b:>5} {ceiling * 1e3:>11.3f} {measured * 1e3:>12.3f} {emulated * 1e3:>12.3f} "
            f"{ceiling / measured:>7.2f} {b / measured:>11.1f} {b / emulated:>10.1f}"
        )
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
