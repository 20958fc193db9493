"""Settings: defaults < config file (`unitcost.toml`) < environment (`UNITCOST_*`) < flags.

One validated object serves every command. Errors name where the bad value came from (the file
and key, the environment variable, or the flag), because a user cannot fix what they cannot find.
Secrets never live here: endpoints and sources hold the *name* of the environment variable that
holds a key, and the key is read only at the moment it is sent.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, get_args
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from unitcost.errors import ConfigError
from unitcost.money import RULE as MONEY_RULE
from unitcost.money import is_money_text

ENV_PREFIX = "UNITCOST_"
_LIST_FIELDS = {"endpoints", "prometheus", "billing", "deployments", "scenarios", "prices"}
DEFAULT_CONFIG_NAME = "unitcost.toml"
DEFAULT_DB = Path("unitcost.duckdb")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class _Model(BaseModel):
    """Strict base: unknown keys are errors, so a typo never silently becomes a default."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_env_name(value: str | None) -> str | None:
    if value is not None and not _ENV_NAME.match(value):
        raise ValueError(
            "must be the NAME of an environment variable holding the secret "
            "(letters, digits, underscores), never the secret itself"
        )
    return value


class Endpoint(_Model):
    """An inference endpoint to benchmark, with what it runs on so costs can be attributed."""

    name: str = Field(min_length=1)
    base_url: str
    model: str
    engine: str = "unknown"
    hardware: str = "unknown"
    gpu_count: int = Field(default=1, ge=0)
    quantization: str = "unknown"
    parameter_count: int | None = Field(default=None, gt=0)
    price_ref: str | None = None
    whole_instance: bool = False
    api_key_env: str | None = None
    metrics_url: str | None = None

    _env = field_validator("api_key_env")(_check_env_name)

    @field_validator("base_url", "metrics_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and urlsplit(value).scheme not in ("http", "https"):
            raise ValueError("must be an http:// or https:// URL")
        return value


class PrometheusSource(_Model):
    """A Prometheus-compatible query API to pull inference and GPU metrics from."""

    name: str = Field(min_length=1)
    url: str
    bearer_token_env: str | None = None
    step: str = "30s"
    aggregate_by: list[str] = Field(default_factory=list)

    _env = field_validator("bearer_token_env")(_check_env_name)

    @field_validator("aggregate_by")
    @classmethod
    def _label_names(cls, value: list[str]) -> list[str]:
        for name in value:
            if not re.match(r"^[a-zA-Z_][a-zA-Z0-9_]*$", name):
                raise ValueError(f"{name!r} is not a Prometheus label name")
        return value


class AwsSettings(_Model):
    """Where boto3 finds credentials; the credentials themselves stay in AWS's own chain."""

    profile: str | None = None
    region: str = "us-east-1"
    endpoint_url: str | None = None


class BillingSource(_Model):
    """A billing export location: a local path or `s3://bucket/prefix`."""

    name: str = Field(min_length=1)
    location: str
    format: Literal[
        "auto",
        "focus",
        "cur-legacy",
        "cur-2.0",
        "azure-ea-actual",
        "azure-ea-amortized",
        "azure-ea",
        "oci-cost-report",
    ] = "auto"


class DeploymentMatch(_Model):
    """How billing resources and metric series are recognised as belonging to a deployment."""

    resource_ids: list[str] = Field(default_factory=list)
    instance_types: list[str] = Field(default_factory=list)
    tags: dict[str, str] = Field(default_factory=dict)
    k8s_namespaces: list[str] = Field(default_factory=list)
    metric_labels: dict[str, str] = Field(default_factory=dict)


class Deployment(_Model):
    """What serves where: the unit that cost and tokens are joined on."""

    id: str = Field(min_length=1)
    model: str
    engine: str = "unknown"
    quantization: str = "unknown"
    hardware: str = "unknown"
    gpu_count: int = Field(default=1, ge=0)
    parameter_count: int | None = Field(default=None, gt=0)
    price_ref: str | None = None
    match: DeploymentMatch = Field(default_factory=DeploymentMatch)


class Scenario(_Model):
    """A workload: its token shape and SLO (ms), and what `unitcost recommend` may choose.

    Interactive work is sized for its peak request rate; batch work (`batch_tokens` with
    `deadline_hours`) for a volume of output tokens by a deadline, with no latency SLO.
    """

    name: str = Field(min_length=1)
    input_tokens: int = Field(gt=0)
    output_tokens: int = Field(gt=0)
    slo_ttft_ms: float | None = Field(default=None, gt=0)
    slo_tpot_ms: float | None = Field(default=None, gt=0)
    slo_e2el_ms: float | None = Field(default=None, gt=0)
    slo_attainment: float = Field(default=0.9, gt=0, le=1)
    deployment: str | None = None
    peak_rps: float | None = Field(default=None, gt=0)
    quality_floor: float | None = Field(default=None, gt=0)
    allowed_models: list[str] = Field(default_factory=list)
    max_spot_share: float = Field(default=1.0, ge=0, le=1)
    min_replicas: int = Field(default=1, ge=0)
    survive_preemptions: int = Field(default=0, ge=0)
    spot_interruption_rate: float = Field(default=0.1, ge=0, lt=1)
    quotas: dict[str, int] = Field(default_factory=dict)
    batch_tokens: float | None = Field(default=None, gt=0)
    deadline_hours: float | None = Field(default=None, gt=0)
    hosted_models: list[str] = Field(default_factory=list)

    @field_validator("quotas")
    @classmethod
    def _quotas(cls, value: dict[str, int]) -> dict[str, int]:
        bad = [k for k, v in value.items() if v < 0]
        if bad:
            raise ValueError(f"quota for {bad[0]!r} must be a number of GPUs >= 0")
        return value

    @model_validator(mode="after")
    def _batch_pair(self) -> Scenario:
        if (self.batch_tokens is None) != (self.deadline_hours is None):
            raise ValueError("batch work needs both batch_tokens and deadline_hours")
        return self

    @property
    def is_batch(self) -> bool:
        return self.batch_tokens is not None


class PriceRow(_Model):
    """A user's price for an instance type, layered over the shipped catalog."""

    provider: str
    region: str
    instance_type: str
    gpu_model: str
    gpu_count: int = Field(gt=0)
    gpu_mem_gb: float | None = Field(default=None, gt=0)
    price_model: str = "on_demand"
    on_demand_usd_per_hour: Decimal | None = Field(default=None, ge=0)
    spot_usd_per_hour_low: Decimal | None = Field(default=None, ge=0)
    spot_usd_per_hour_high: Decimal | None = Field(default=None, ge=0)
    source: str = "config"
    as_of: str = ""

    @field_validator("on_demand_usd_per_hour", "spot_usd_per_hour_low", "spot_usd_per_hour_high",
                     mode="before")  # fmt: skip
    @classmethod
    def _money(cls, value: Any) -> Any:
        """Prices follow unitcost's one money rule (unitcost.money): a TOML number, or text
        that is a plain decimal number (no `$`, thousands separator or `1_000`)."""
        if isinstance(value, str):
            if not is_money_text(value):
                raise ValueError(f"{value!r} is not a decimal number: {MONEY_RULE}")
            return value.strip()
        if isinstance(value, float):
            return str(value)  # the shortest text of the TOML number, never its binary tail
        return value


class Settings(_Model):
    """Every setting unitcost reads. The README's configuration reference lists each one."""

    db: Path = DEFAULT_DB
    lock_timeout_s: float = Field(default=30.0, gt=0)
    endpoints: list[Endpoint] = Field(default_factory=list)
    prometheus: list[PrometheusSource] = Field(default_factory=list)
    aws: AwsSettings = Field(default_factory=AwsSettings)
    billing: list[BillingSource] = Field(default_factory=list)
    deployments: list[Deployment] = Field(default_factory=list)
    scenarios: list[Scenario] = Field(default_factory=list)
    prices: list[PriceRow] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_names(self) -> Settings:
        for key, items, attr in (
            ("endpoints", self.endpoints, "name"),
            ("prometheus", self.prometheus, "name"),
            ("billing", self.billing, "name"),
            ("deployments", self.deployments, "id"),
            ("scenarios", self.scenarios, "name"),
        ):
            seen: set[str] = set()
            for item in items:
                value = getattr(item, attr)
                if value in seen:
                    raise ValueError(f"{key}: duplicate {attr} {value!r}")
                seen.add(value)
        return self

    def endpoint(self, name: str) -> Endpoint:
        """Look an endpoint up by name, with an error that lists the known ones."""
        for ep in self.endpoints:
            if ep.name == name:
                return ep
        known = ", ".join(e.name for e in self.endpoints) or "none configured"
        raise ConfigError(f"no endpoint named {name!r} (known: {known})")


@dataclass(frozen=True)
class LoadedSettings:
    """Settings plus where each came from, for `config show` and for error messages."""

    settings: Settings
    config_file: Path | None
    origins: dict[str, str] = field(default_factory=dict)


def _env_overrides(environ: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """Turn `UNITCOST_A__B=v` into {"a": {"b": "v"}}; only keys that exist in Settings count."""
    data: dict[str, Any] = {}
    origins: dict[str, str] = {}
    scalar_fields = {name for name, f in Settings.model_fields.items() if name not in _LIST_FIELDS}
    for var, value in environ.items():
        if not var.startswith(ENV_PREFIX) or var == ENV_PREFIX + "CONFIG":
            continue
        parts = var[len(ENV_PREFIX) :].lower().split("__")
        if parts[0] not in scalar_fields:
            continue  # not a setting (e.g. UNITCOST_CACHE used by scripts)
        node = data
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
        origins[".".join(parts)] = f"environment variable {var}"
    return data, origins


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _loc_to_key(loc: tuple[int | str, ...]) -> str:
    key = ""
    for part in loc:
        if isinstance(part, int):
            key += f"[{part}]"
        else:
            key += ("." if key else "") + part
    return key


def _origin_for(key: str, origins: Mapping[str, str], config_file: Path | None) -> str:
    bare = re.sub(r"\[\d+\]", "", key)
    for candidate in (key, bare):
        while candidate:
            if candidate in origins:
                return origins[candidate]
            candidate = candidate.rpartition(".")[0]
    return str(config_file) if config_file else "defaults"


def find_config_file(explicit: Path | None, environ: Mapping[str, str]) -> Path | None:
    """The file to read: --config, else $UNITCOST_CONFIG, else ./unitcost.toml if present."""
    if explicit is not None:
        if not explicit.is_file():
            raise ConfigError(f"--config {explicit}: no such file")
        return explicit
    env = environ.get(ENV_PREFIX + "CONFIG")
    if env:
        path = Path(env)
        if not path.is_file():
            raise ConfigError(f"environment variable {ENV_PREFIX}CONFIG={env}: no such file")
        return path
    default = Path(DEFAULT_CONFIG_NAME)
    return default if default.is_file() else None


def load_settings(
    config_file: Path | None = None,
    *,
    flags: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> LoadedSettings:
    """Build the effective settings; raise ConfigError naming the file/variable/flag and key."""
    environ = os.environ if environ is None else environ
    path = find_config_file(config_file, environ)
    data: dict[str, Any] = {}
    if path is not None:
        try:
            with path.open("rb") as fh:
                data = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
        if "db" in data and isinstance(data["db"], str):
            # A relative db path in a config file is relative to that file, not to the cwd.
            db = Path(data["db"])
            data["db"] = str(db if db.is_absolute() else path.parent / db)
    origins: dict[str, str] = {}
    env_data, env_origins = _env_overrides(environ)
    data = _merge(data, env_data)
    origins.update(env_origins)
    for name, value in (flags or {}).items():
        if value is not None:
            data[name] = value
            origins[name] = f"flag --{name.replace('_', '-')}"
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            key = _loc_to_key(err["loc"]) or "(top level)"
            where = _origin_for(key, origins, path)
            msg = err["msg"]
            if err["type"] == "extra_forbidden":
                msg = "unknown setting (see the configuration reference in the README)"
            lines.append(f"{where}: {key}: {msg}")
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(lines)) from exc
    return LoadedSettings(settings=settings, config_file=path, origins=origins)


_SECRETISH = re.compile(r"(password|secret|token|api_key|credential)s?$", re.IGNORECASE)


def redact(value: Any, key: str = "") -> Any:
    """Copy of a settings dump with anything secret-looking masked (the `_env` names are kept)."""
    if isinstance(value, dict):
        return {k: redact(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v, key) for v in value]
    if isinstance(value, str):
        if _SECRETISH.search(key) and not key.endswith("_env"):
            return "***"
        parts = urlsplit(value)
        if parts.scheme and parts.password:
            netloc = f"{parts.username}:***@{parts.hostname}"
            if parts.port:
                netloc += f":{parts.port}"
            return urlunsplit(parts._replace(netloc=netloc))
    return value


def documented_keys(model: type[BaseModel] = Settings, prefix: str = "") -> list[str]:
    """Every dotted setting name (`endpoints[].base_url`), for the docs-completeness test."""
    keys: list[str] = []
    for name, info in model.model_fields.items():
        key = f"{prefix}{name}"
        args = get_args(info.annotation)
        inner = args[0] if name in _LIST_FIELDS and args else info.annotation
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            sub = f"{key}[]." if name in _LIST_FIELDS else f"{key}."
            keys.extend(documented_keys(inner, sub))
        else:
            keys.append(key)
    return keys
