"""Candidates for a scenario: every config with a capacity at its SLO, at every price it can have.

Configs: every benchmarked config (model x quantization x engine x GPU x GPUs, from stored
runs), plus the emulator's catalog models x GPUs x quantizations x 1/2/4/8 GPUs (vLLM profile)
that nothing measured, flagged emulated. The scenario's model rule applies first: its
`allowed_models`, else models of at least `quality_floor` parameters, else the model its
deployment serves today, else any.

Prices: a config on GPU type G with g GPUs can be priced at any catalog row (price_ref) of G
with at least g GPUs, on demand (on_demand, capacity_block rows) and spot (the high end of the
row's spot range: what you may pay, not the best case). A config using g of an instance's G
GPUs is charged g/G of the instance price and says so. A VM-only row (the GPU billed as a
separate SKU) is never a candidate's price.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from unitcost.analytics.capacity import Capacity, Slo, TokenShape, assess
from unitcost.analytics.emulated import catalog, find_model
from unitcost.analytics.evidence import ConfigKey, RunEvidence

GPU_COUNTS = (1, 2, 4, 8)
ON_DEMAND_MODELS = ("on_demand", "capacity_block")
EMULATED_ENGINE = "vllm"


@dataclass(frozen=True)
class Candidate:
    """A config with its capacity at the scenario's SLO, priced at one catalog row."""

    config: ConfigKey
    parameter_count: float | None
    capacity: Capacity
    price_ref: str
    price_model: str
    gpu_type: str
    od_usd_per_hour: float | None  # per replica, the share of the instance applied
    spot_usd_per_hour: float | None  # per replica, high end of the spot range
    spot_usd_per_hour_low: float | None
    price_note: str
    caveat: str | None

    @property
    def key(self) -> str:
        c = self.config
        return (
            f"{c.model} {c.quantization} {c.engine} {c.gpu_count}x{c.hardware} "
            f"@ {self.price_ref} ({self.price_model})"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            **self.config.to_json(),
            "price_ref": self.price_ref,
            "price_model": self.price_model,
            "basis": "emulated" if self.capacity.emulated else "measured",
            "capacity_method": self.capacity.method,
            "capacity_note": self.capacity.note,
            "run_ids": list(self.capacity.run_ids),
            "price_note": self.price_note,
        }


@dataclass(frozen=True)
class Rejection:
    """A config or candidate left out, with why."""

    config: ConfigKey
    reason: str
    price_ref: str | None = None
    basis: str = "measured"

    def to_json(self) -> dict[str, Any]:
        return {
            "candidate": {
                **self.config.to_json(),
                "price_ref": self.price_ref,
                "basis": self.basis,
            },
            "reason": self.reason,
        }


def parameter_count(config: ConfigKey, runs: Sequence[RunEvidence]) -> float | None:
    """Total parameters: from the runs' labels, else the emulator's catalog."""
    for r in runs:
        if r.parameter_count:
            return float(r.parameter_count)
    m = find_model(config.model)
    return float(m.params) if m is not None else None


def model_rule(
    allowed: Sequence[str], floor: float | None, deployment_model: str | None
) -> tuple[str, Any]:
    """('allowed', names) | ('floor', params) | ('deployment', name) | ('any', None)."""
    if allowed:
        return "allowed", {a.lower() for a in allowed}
    if floor is not None:
        return "floor", floor
    if deployment_model:
        return "deployment", deployment_model.lower()
    return "any", None


def models_considered(
    rule: tuple[str, Any], considered: Iterable[str], deployment: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The JSON's `models`: which rule picked the models, the models it let in, and why."""
    kind, value = rule
    if kind == "allowed":
        why = f"allowed_models: only {', '.join(sorted(value))}"
    elif kind == "floor":
        why = (
            f"quality_floor: models of at least {value / 1e9:.1f}B parameters, benchmarked or "
            "in the emulator's catalog"
        )
    elif kind == "deployment":
        dep = deployment or {}
        why = (
            f"no allowed_models or quality_floor: only the model deployment "
            f"{dep.get('deployment_id')!r} serves today ({dep.get('model')}), so quantization, "
            "GPU and price may change but not the model; set allowed_models or quality_floor "
            "to consider others"
        )
    else:
        why = (
            "no allowed_models, quality_floor or deployment: every benchmarked model and every "
            "model in the emulator's catalog"
        )
    names = sorted(set(considered), key=str.lower)
    rules = {"allowed": "allowed_models", "floor": "quality_floor", "deployment": "deployment"}
    return {"rule": rules.get(kind, "any"), "considered": names, "why": why}


def _same_model(a: str, b: str) -> bool:
    """Names of one model: equal, or the same catalog entry (id vs served name)."""
    if a.lower() == b.lower():
        return True
    ma, mb = find_model(a), find_model(b)
    return ma is not None and ma is mb


def model_refusal(rule: tuple[str, Any], model: str, params: float | None) -> str | None:
    """Why the scenario's model rule refuses this model, or None."""
    kind, value = rule
    if kind == "allowed":
        if not any(_same_model(model, a) for a in value):
            return f"not among the scenario's allowed_models ({', '.join(sorted(value))})"
    elif kind == "floor":
        if params is None:
            return (
                "below the quality floor? its parameter count is unknown (label the runs with "
                "`bench run --parameter-count`)"
            )
        if params < value:
            return f"below the quality floor ({params / 1e9:.1f}B < {value / 1e9:.1f}B parameters)"
    elif kind == "deployment" and not _same_model(model, value):
        return (
            f"another model than the deployment's ({value}); set allowed_models or "
            "quality_floor to consider other models"
        )
    return None


def catalog_configs(
    price_gpus: Mapping[str, int], measured: Iterable[ConfigKey]
) -> list[ConfigKey]:
    """Catalog models x priced GPUs x quantizations x counts that nothing measured."""
    cat = catalog()
    seen = {c.norm() for c in measured}
    out = []
    for model in cat.models.values():
        for gpu_id, max_gpus in price_gpus.items():
            if gpu_id not in cat.gpus:
                continue
            for quant in cat.quants:
                for n in GPU_COUNTS:
                    if n > max_gpus:
                        continue
                    key = ConfigKey(model.name, quant, EMULATED_ENGINE, gpu_id, n)
                    if key.norm() not in seen:
                        out.append(key)
    return out


def price_candidates(
    config: ConfigKey,
    params: float | None,
    cap: Capacity,
    prices: Sequence[Mapping[str, Any]],
) -> tuple[list[Candidate], str | None]:
    """The config at each price row it fits; or no candidates and why."""
    hw = config.norm().hardware
    rows = [p for p in prices if p["gpu_type"] == hw]
    out: list[Candidate] = []
    vm_only = []
    for p in rows:
        if p["price_model"] == "on_demand_vm_only":
            vm_only.append(p["price_ref"])
            continue
        if p["gpu_count"] < config.gpu_count:
            continue
        share = config.gpu_count / p["gpu_count"]
        od_raw = p["on_demand_usd_per_hour"] if p["price_model"] in ON_DEMAND_MODELS else None
        od = float(od_raw) * share if od_raw is not None else None
        hi = p["spot_usd_per_hour_high"]
        lo = p["spot_usd_per_hour_low"]
        spot = float(hi) * share if hi is not None else None
        if od is None and spot is None:
            continue
        note = f"{p['price_model'].replace('_', ' ')} list price from {p['source']} ({p['as_of']})"
        if share < 1:
            note += (
                f"; {config.gpu_count} of the instance's {p['gpu_count']} GPUs: charged "
                f"{config.gpu_count}/{p['gpu_count']} of its price"
            )
        out.append(
            Candidate(
                config=config,
                parameter_count=params,
                capacity=cap,
                price_ref=p["price_ref"],
                price_model=p["price_model"],
                gpu_type=hw,
                od_usd_per_hour=od,
                spot_usd_per_hour=spot,
                spot_usd_per_hour_low=float(lo) * share if lo is not None else None,
                price_note=note,
                caveat=p["caveat"],
            )
        )
    if out:
        return out, None
    if vm_only:
        return [], (
            f"only VM-only prices for {config.hardware} ({', '.join(vm_only)}): the GPU is "
            "billed as a separate SKU, so they are not its price (add [[prices]] with the "
            "GPU included, or `unitcost prices import FILE`)"
        )
    return [], (
        f"no price for {config.gpu_count}x {config.hardware} in the price catalog (add "
        "[[prices]] to the config or `unitcost prices import FILE`)"
    )


def config_capacity(
    config: ConfigKey, runs: Sequence[RunEvidence], slo: Slo, shape: TokenShape
) -> tuple[Capacity | None, str | None]:
    """The config's capacity (assess), or None and the reason."""
    got = assess(config, runs, slo, shape)
    return got.capacity, got.reason
