"""Catalogs of models, GPUs, quantizations and engines: TOML data files users can extend.

The shipped files live in `unitcost/emulate/data/`; `--catalog FILE` layers a user file with
`[models.<id>]`, `[gpus.<id>]`, `[quants.<id>]` or `[engines.<id>]` tables over them (a user
entry with a shipped id replaces it whole), so a new GPU is a few lines of TOML, not code.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, fields
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from unitcost.errors import ConfigError, InputError, input_error


@dataclass(frozen=True)
class ModelSpec:
    """A transformer's shape: what memory and FLOPs per token follow from."""

    id: str
    name: str
    params: float
    layers: int
    heads: int
    kv_heads: int
    head_dim: int
    hidden: int
    max_context: int
    active_params: float | None = None
    kv_dim: int | None = None
    experts: int = 0
    experts_per_token: int = 0
    source: str = ""

    @property
    def active(self) -> float:
        """Parameters each token uses (= params for a dense model)."""
        return self.active_params if self.active_params is not None else self.params

    @property
    def is_moe(self) -> bool:
        return self.experts > 0 and self.active < self.params

    @property
    def expert_params(self) -> float:
        """Parameters in all routed experts: (total - active) / (1 - k/E) for an MoE, else 0."""
        if not self.is_moe:
            return 0.0
        return (self.params - self.active) / (1.0 - self.experts_per_token / self.experts)

    @property
    def dense_params(self) -> float:
        """Parameters every token reads (attention, shared experts, embeddings)."""
        return self.params - self.expert_params

    @property
    def kv_elems_per_token(self) -> int:
        """K and V elements cached per token, all layers: 2 * layers * kv_heads * head_dim."""
        per_layer = self.kv_dim if self.kv_dim is not None else 2 * self.kv_heads * self.head_dim
        return self.layers * per_layer


@dataclass(frozen=True)
class GpuSpec:
    """Datasheet peaks of one accelerator."""

    id: str
    name: str
    memory_gb: float
    bandwidth_gbs: float
    fp16_tflops: float
    int8_tops: float
    tdp_w: float
    fp8_tflops: float = 0.0
    idle_w: float = 0.0
    interconnect_gbs: float = 16.0
    source: str = ""


@dataclass(frozen=True)
class QuantSpec:
    """How weights are stored and which units do the math."""

    id: str
    name: str
    weight_bytes: float
    math: str
    kv_bytes: float = 2.0
    kernel_efficiency: float = 1.0


@dataclass(frozen=True)
class EngineSpec:
    """How close a serving engine gets to the roofline, and its scheduler limits."""

    id: str
    name: str
    bw_efficiency: float
    mfu: float
    step_overhead_s: float
    per_seq_overhead_s: float
    max_num_seqs: int
    max_batched_tokens: int
    gpu_memory_utilization: float
    tp_efficiency: float = 0.92
    allreduce_latency_s: float = 8e-6


_KINDS: dict[str, type[Any]] = {
    "models": ModelSpec,
    "gpus": GpuSpec,
    "quants": QuantSpec,
    "engines": EngineSpec,
}
_MATH = {"fp16", "fp8", "int8"}
T = TypeVar("T")


@dataclass(frozen=True)
class Catalog:
    """All four catalogs, keyed by lower-case id."""

    models: dict[str, ModelSpec]
    gpus: dict[str, GpuSpec]
    quants: dict[str, QuantSpec]
    engines: dict[str, EngineSpec]

    def model(self, key: str) -> ModelSpec:
        return _pick(self.models, key, "--model")

    def gpu(self, key: str) -> GpuSpec:
        return _pick(self.gpus, key, "--gpu")

    def quant(self, key: str) -> QuantSpec:
        return _pick(self.quants, key, "--quant")

    def engine(self, key: str) -> EngineSpec:
        return _pick(self.engines, key, "--engine")


def _pick(table: dict[str, T], key: str, flag: str) -> T:
    found = table.get(key.lower())
    if found is None:
        raise ConfigError(f"{flag} {key!r}: not in the catalog; known: {', '.join(sorted(table))}")
    return found


def _build(kind: str, key: str, raw: Any, origin: str) -> Any:
    cls = _KINDS[kind]
    where = f"{origin}, [{kind}.{key}]"
    if not isinstance(raw, dict):
        raise input_error(where, msg="must be a table of fields")
    allowed = {f.name: f for f in fields(cls) if f.name != "id"}
    unknown = sorted(set(raw) - set(allowed))
    if unknown:
        raise input_error(
            where, column=unknown[0], msg=f"unknown field; allowed: {sorted(allowed)}"
        )
    missing = [
        n
        for n, f in allowed.items()
        if n not in raw
        and f.default is dataclasses.MISSING
        and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise input_error(where, column=missing[0], msg="required field is missing")
    values: dict[str, Any] = {"id": key.lower()}
    for name, value in raw.items():
        want = allowed[name].type
        if "float" in str(want) and isinstance(value, int | float) and not isinstance(value, bool):
            value = float(value)
        elif "int" in str(want) and not isinstance(value, int):
            raise input_error(where, column=name, msg=f"must be an integer, got {value!r}")
        elif want == "str" and not isinstance(value, str):
            raise input_error(where, column=name, msg=f"must be text, got {value!r}")
        if isinstance(value, int | float) and not isinstance(value, bool) and value < 0:
            raise input_error(where, column=name, msg="must not be negative")
        values[name] = value
    spec = cls(**values)
    _check(spec, where)
    return spec


def _check(spec: Any, where: str) -> None:
    """Reject entries whose physics would divide by zero or exceed 100% efficiency."""
    if isinstance(spec, QuantSpec) and spec.math not in _MATH:
        raise input_error(where, column="math", msg=f"must be one of {sorted(_MATH)}")
    if isinstance(spec, EngineSpec):
        for name in ("bw_efficiency", "mfu", "gpu_memory_utilization", "tp_efficiency"):
            if not 0 < getattr(spec, name) <= 1:
                raise input_error(where, column=name, msg="must be in (0, 1]")
    if isinstance(spec, GpuSpec) and min(spec.memory_gb, spec.bandwidth_gbs, spec.fp16_tflops) <= 0:
        raise input_error(where, msg="memory_gb, bandwidth_gbs and fp16_tflops must be > 0")
    if isinstance(spec, ModelSpec):
        if spec.params <= 0 or spec.active > spec.params:
            raise input_error(where, column="active_params", msg="need 0 < active_params <= params")
        if spec.active < spec.params and not 0 < spec.experts_per_token < spec.experts:
            raise input_error(
                where, column="experts", msg="an MoE model needs 0 < experts_per_token < experts"
            )


def _read_toml(path: Path | None, text: str | None, origin: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text if text is not None else Path(path or origin).read_text())
    except OSError as exc:
        raise InputError(f"{origin}: cannot read catalog: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{origin}: not valid TOML: {exc}") from exc


def load_catalog(extra: list[Path] | None = None) -> Catalog:
    """Shipped catalogs, then each user file in order (a later entry replaces an earlier one)."""
    tables: dict[str, dict[str, Any]] = {k: {} for k in _KINDS}
    data = resources.files("unitcost.emulate") / "data"
    for kind in _KINDS:
        origin = f"unitcost/emulate/data/{kind}.toml"
        raw = _read_toml(None, (data / f"{kind}.toml").read_text(), origin)
        for key, entry in raw.items():
            tables[kind][key.lower()] = _build(kind, key, entry, origin)
    for path in extra or []:
        raw = _read_toml(path, None, str(path))
        for kind, entries in raw.items():
            if kind not in _KINDS or not isinstance(entries, dict):
                raise input_error(
                    str(path), column=kind, msg=f"top-level tables must be one of {sorted(_KINDS)}"
                )
            for key, entry in entries.items():
                tables[kind][key.lower()] = _build(kind, key, entry, str(path))
    return Catalog(
        models=tables["models"],
        gpus=tables["gpus"],
        quants=tables["quants"],
        engines=tables["engines"],
    )
