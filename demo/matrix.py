"""What `unitcost demo` emulates: the tier matrix a low-cost deployment weighs, and the "current"
production deployments whose quarter it simulates.

The matrix is 3B-, 8B- and 13B-class models on T4, L4, A100 and H100 at FP16, INT8 and INT4,
kept only where the model fits in the GPU's memory (the emulator's physics decides). The demo
benchmarks a subset of it (every model on every GPU at one quantization, plus quantization
variants on two GPUs): the rest stays for `unitcost recommend` to weigh by physics, flagged
emulated, which is what a team does with configurations it has not measured yet.
"""

from __future__ import annotations

from dataclasses import dataclass

from unitcost.emulate.catalog import Catalog
from unitcost.emulate.fleet import EndpointConfig
from unitcost.emulate.physics import DoesNotFitError, build_physics

MODELS = ("llama-3.2-3b", "llama-3.1-8b", "llama-2-13b")
GPUS = ("t4", "l4", "a100-80gb", "h100")
QUANTS = ("fp16", "int8", "int4")

#: One price per GPU type, from the shipped catalog (unitcost/data/gpu_prices.csv). An 8-GPU
#: instance is charged its share: one GPU of it = instance price / 8.
PRICE_REFS = {
    "t4": "aws/us-east-1/g4dn.xlarge",
    "l4": "aws/us-east-1/g6.xlarge",
    "a100-80gb": "aws/us-east-1/p4de.24xlarge",
    "h100": "aws/us-east-1/p5.48xlarge",
}
#: The catalog's GPU model names, as deployments and bench runs record them.
HARDWARE = {"t4": "T4", "l4": "L4", "a100-80gb": "A100-80GB", "h100": "H100"}
PARAMS = {
    "llama-3.2-3b": 3_210_000_000,
    "llama-3.1-8b": 8_030_000_000,
    "llama-2-13b": 13_000_000_000,
}


@dataclass(frozen=True)
class Config:
    """One cell of the matrix."""

    model: str
    gpu: str
    quant: str

    @property
    def name(self) -> str:
        return f"demo-{self.model}-{self.gpu}-{self.quant}"


def fits(catalog: Catalog, c: Config) -> bool:
    try:
        build_physics(catalog, model=c.model, gpu=c.gpu, quant=c.quant, engine="vllm", gpus=1)
    except DoesNotFitError:
        return False
    return True


def matrix(catalog: Catalog) -> list[Config]:
    """Every model x GPU x quantization that fits on one GPU."""
    return [
        Config(m, g, q)
        for m in MODELS
        for g in GPUS
        for q in QUANTS
        if fits(catalog, Config(m, g, q))
    ]


def benchmarked(catalog: Catalog, *, quick: bool) -> list[Config]:
    """The cells the demo measures: each model on each GPU at the widest quantization that
    fits, plus every quantization on L4 and H100 (quick: 3B and 8B on T4, L4 and H100 only)."""
    cells = matrix(catalog)
    chosen: list[Config] = []
    for m in MODELS:
        for g in GPUS:
            here = [c for c in cells if c.model == m and c.gpu == g]
            if not here:
                continue
            if quick and (m == "llama-2-13b" or g == "a100-80gb"):
                continue
            variants = here if (g in ("l4", "h100") and not quick) else here[:1]
            chosen.extend(variants)
    return chosen


@dataclass(frozen=True)
class Current:
    """A production deployment of the demo's company, simulated for a quarter."""

    id: str
    config: Config
    peak_rps: float
    input_tokens: int
    output_tokens: int
    billed: bool  # its GPU-hours are on the generated bill; else unitcost estimates them
    slo_ttft_ms: float
    slo_tpot_ms: float
    quality_floor: float  # the smallest model (parameters) its users accept

    @property
    def price_ref(self) -> str:
        return PRICE_REFS[self.config.gpu]

    def endpoint(self, port: int = 0) -> EndpointConfig:
        """The emulated endpoint that simulates it (served under its own id)."""
        return EndpointConfig(
            name=self.id,
            model=self.config.model,
            gpu=self.config.gpu,
            quant=self.config.quant,
            port=port,
            rps=self.peak_rps,
            prompt_tokens=self.input_tokens,
            output_tokens=self.output_tokens,
        )


#: The company's fleet today: a chat assistant on an H100 share, retrieval-augmented answers
#: with long prompts on an A100 share, and a small model on an L4 that nobody put on the bill
#: mapping (so its cost is estimated).
CURRENT = (
    Current("demo-chat", Config("llama-3.1-8b", "h100", "fp16"), 6.0, 128, 32, True, 500, 50, 7e9),
    Current(
        "demo-rag", Config("llama-2-13b", "a100-80gb", "fp16"), 2.0, 1024, 128, True, 1500, 80, 12e9
    ),
    Current("demo-assist", Config("llama-3.2-3b", "l4", "fp16"), 3.0, 128, 32, False, 800, 60, 3e9),
)
