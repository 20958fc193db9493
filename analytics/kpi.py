"""`unitcost kpi`: cost per token, utilization and success rate, for any period and grouping.

Every figure is defined once (analytics/definitions.py) and computed here from the daily atoms
of the KPI views (sql/views/kpi_*.sql): additive sums per deployment and UTC day. A period,
grain or grouping is a sum of days; ratios are formed only after summing, so a row's cost per
token is its cost over its tokens, never a mean of daily ratios. The CLI, the dashboard and the
quarterly review all call kpi_report(), so they cannot disagree.

Tokens and cost meet per deployment and day: a deployment-day's tokens go with that day's cost
(its currency and provider). A deployment-day whose cost is in two currencies (or, with --by
provider or label, split across two keys) cannot split its tokens: they go with the larger
cost and a warning says so.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import duckdb
import numpy as np
from unitcost.analytics import capacity as cap
from unitcost.analytics.definitions import definitions_for
from unitcost.analytics.period import Period

from unitcost import sqlfiles
from unitcost.config import Scenario
from unitcost.errors import InputError
from unitcost.store import fetch_dicts

BY_CHOICES = ("all", "deployment", "model", "hardware", "provider")
#: --by label:KEY: allocation by a billing tag / metric label (see DEFINITIONS["key"]).
LABEL_PREFIX = "label:"


def label_key(by: str) -> str | None:
    """KEY of `label:KEY`, else None; an empty KEY is an error."""
    if not by.startswith(LABEL_PREFIX):
        return None
    key = by[len(LABEL_PREFIX) :]
    if not key.strip():
        raise InputError("--by label:KEY: say which tag or label, e.g. label:team")
    return key


GRAINS = ("day", "week", "month")
BASES = ("allocation", "usage")
UNMAPPED_SPEND = "unmapped"  # billing lines no deployment rule claims
UNMAPPED_TELEMETRY = "unmapped-telemetry"  # metric series no deployment rule claims (views)
ZERO = Decimal(0)
MILLION = Decimal(1_000_000)

#: The fields of a row, in order; each has a definition.
ROW_FIELDS = [
    "key",
    "start",
    "currency",
    "effective_cost",
    "billed_cost",
    "estimated_cost",
    "cost_basis",
    "input_tokens",
    "output_tokens",
    "usd_per_1m_output_tokens",
    "usd_per_1m_tokens",
    "gpu_hours",
    "gpu_utilization",
    "kv_cache_usage",
    "capacity_utilization",
    "capacity_basis",
    "idle_cost",
    "requests_ok",
    "requests_failed",
    "success_rate",
    "failures_by_reason",
    "cache_hit_rate",
    "prefill_tokens_saved",
    "good_output_tokens",
    "usd_per_1m_good_output_tokens",
    "joules_per_output_token",
    "emulated",
    "demo",
]
#: Headline figures repeated under `previous` for the previous period.
HEADLINE = [
    "effective_cost",
    "usd_per_1m_output_tokens",
    "usd_per_1m_tokens",
    "output_tokens",
    "gpu_utilization",
    "capacity_utilization",
    "idle_cost",
    "success_rate",
    "usd_per_1m_good_output_tokens",
]


@dataclass
class _Bucket:
    """Additive sums behind one output row; ratios are formed from them at the end."""

    key: str
    start: date | None
    currency: str | None
    billed: Decimal = ZERO
    effective: Decimal = ZERO
    estimated: Decimal = ZERO
    idle: Decimal = ZERO
    bases: set[str] = field(default_factory=set)
    input_tokens: float = 0.0
    output_tokens: float = 0.0
    requests_ok: float = 0.0
    requests_failed: float = 0.0
    failures: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    gpu_hours: float = 0.0
    util_sum: float = 0.0
    util_n: float = 0.0
    energy_j: float = 0.0
    energy_n: float = 0.0
    kv_s: float = 0.0
    kv_n: float = 0.0
    capacity_tokens: float = 0.0  # output tokens the deployments could have served at SLO
    capacity_served: float = 0.0  # output tokens of the deployments whose capacity is known
    capacity_bases: set[str] = field(default_factory=set)
    cache_queries: float = 0.0
    cache_hits: float = 0.0
    good_output_tokens: float = 0.0
    good_known: bool = False
    emulated: bool = False
    demo: bool = False
    has_telemetry: bool = False


@dataclass(frozen=True)
class CostPerHour:
    """What a deployment cost per hour over a period (allocation basis: idle hours included)."""

    usd_per_hour: Decimal
    currency: str
    basis: str  # billed, estimated or mixed
    hours: int


#: kpi_usage_atoms' additive columns -> the _Bucket sum each one adds to.
USAGE_SUMS = {
    "input_tokens": "input_tokens",
    "output_tokens": "output_tokens",
    "requests_ok": "requests_ok",
    "requests_failed": "requests_failed",
    "util_gpu_hours": "util_sum",
    "util_gpu_hours_n": "util_n",
    "energy_j": "energy_j",
    "energy_hours_n": "energy_n",
    "kv_usage_s": "kv_s",
    "kv_observed_s": "kv_n",
    "prefix_cache_queries": "cache_queries",
    "prefix_cache_hits": "cache_hits",
}


@dataclass
class _Usage:
    """kpi_usage_atoms as columns (one row per deployment and day): its sums are added per
    bucket with numpy, in the rows' order, the same additions a loop over rows would make."""

    deployment_id: list[str]
    day: list[date]
    #: every numeric column as float64, NULL as 0 (a missing figure adds nothing)
    cols: dict[str, np.ndarray]
    emulated: np.ndarray

    @classmethod
    def fetch(cls, con: duckdb.DuckDBPyConnection, sql: str, params: Any) -> _Usage:
        raw = con.execute(sql, params).fetchnumpy()
        days = np.ma.getdata(raw["day"]).astype("datetime64[D]").tolist()
        cols = {
            name: np.ma.filled(np.ma.asarray(raw[name]).astype(np.float64), 0.0)
            for name in (*USAGE_SUMS, "observed_s", "active_s", "gpu_hours_sampled")
        }
        return cls(
            deployment_id=[str(d) for d in np.ma.getdata(raw["deployment_id"]).tolist()],
            day=days,
            cols=cols,
            emulated=np.ma.filled(np.ma.asarray(raw["emulated"]), False).astype(bool),
        )


@dataclass
class _Inputs:
    """Everything kpi_report reads from the store, for [previous.start, period.end)."""

    deployments: dict[str, dict[str, Any]]
    costs: list[dict[str, Any]]
    usage: _Usage
    failures: list[dict[str, Any]]
    #: --by label:KEY: deployment -> the values of KEY on its metric series
    series_labels: dict[str, set[str]] = field(default_factory=dict)
    #: (deployment, day) -> kind (ttft, itl, e2e) -> {le seconds: observations <= le}
    hists: dict[tuple[str, date], dict[str, dict[float, float]]] = field(default_factory=dict)


def _load(
    con: duckdb.DuckDBPyConnection,
    start: date,
    end: date,
    hist_for: Iterable[str] = (),
    label: str | None = None,
) -> _Inputs:
    span = {"start": start, "end": end}
    series_labels: dict[str, set[str]] = defaultdict(set)
    if label is not None:
        costs = fetch_dicts(
            con, sqlfiles.load("queries", "kpi_cost_atoms_label"), {**span, "key": label}
        )
        for dep_id, value in con.execute(
            sqlfiles.load("queries", "kpi_series_label_values"), {"key": label}
        ).fetchall():
            series_labels[str(dep_id)].add(str(value))
    else:
        costs = fetch_dicts(con, sqlfiles.load("queries", "kpi_cost_atoms"), span)
    deps = {
        d["deployment_id"]: d for d in fetch_dicts(con, sqlfiles.load("queries", "kpi_deployments"))
    }
    hists: dict[tuple[str, date], dict[str, dict[float, float]]] = defaultdict(
        lambda: defaultdict(dict)
    )
    wanted = sorted(hist_for)
    if wanted:
        rows = con.execute(
            sqlfiles.load("queries", "kpi_hist_atoms"), {**span, "deployments": wanted}
        ).fetchall()
        for dep_id, day, kind, le, n in rows:
            hists[(dep_id, day)][kind][float(le)] = float(n)
    return _Inputs(
        deployments=deps,
        costs=costs,
        usage=_Usage.fetch(con, sqlfiles.load("queries", "kpi_usage_atoms"), span),
        failures=fetch_dicts(con, sqlfiles.load("queries", "kpi_failure_atoms"), span),
        hists=hists,
        series_labels=dict(series_labels),
    )


def share_within(buckets: Mapping[float, float], limit_s: float) -> float | None:
    """The share of observations <= limit_s in cumulative histogram buckets {le: count},
    interpolated linearly inside the bucket holding the limit (as histogram_quantile does the
    other way). Beyond the largest finite bound nothing more can be placed: its count is used.
    None when the histogram is empty."""
    total = buckets.get(math.inf)
    if not total or total <= 0:
        return None
    prev_le, prev_n = 0.0, 0.0
    for le in sorted(b for b in buckets if b != math.inf):
        n = buckets[le]
        if limit_s <= le:
            inside = (limit_s - prev_le) / (le - prev_le) if le > prev_le else 1.0
            return min(1.0, (prev_n + (n - prev_n) * inside) / total)
        prev_le, prev_n = le, n
    return min(1.0, prev_n / total)


def _good_share(
    hists: Mapping[str, Mapping[float, float]] | None, sc: Scenario | None
) -> float | None:
    """The estimated share of output tokens from requests within the scenario's SLO: the TTFT
    share x the inter-token (TPOT) share x the E2E share, for the terms the SLO has."""
    if sc is None or not hists:
        return None
    share = 1.0
    terms = 0
    for kind, limit_ms in (
        ("ttft", sc.slo_ttft_ms),
        ("itl", sc.slo_tpot_ms),
        ("e2e", sc.slo_e2el_ms),
    ):
        if limit_ms is None:
            continue
        part = share_within(hists.get(kind, {}), limit_ms / 1000.0)
        if part is None:
            return None
        share *= part
        terms += 1
    return share if terms else None


def _label(dep: Mapping[str, Any] | None, name: str) -> bool:
    return bool(dep) and dict(dep["labels"] or {}).get(name) == "true"  # type: ignore[index]


def _bucket_start(day: date, grain: str | None, period: Period) -> date | None:
    if grain is None:
        return None
    if grain == "day":
        start = day
    elif grain == "week":
        start = day - timedelta(days=day.weekday())
    else:
        start = day.replace(day=1)
    return max(start, period.start) if period.contains(day) else start


def _previous_bucket(start: date, grain: str) -> date:
    if grain == "day":
        return start - timedelta(days=1)
    if grain == "week":
        return start - timedelta(days=start.weekday() + 7)
    return (start.replace(day=1) - timedelta(days=1)).replace(day=1)


class _Grouper:
    """Which row key a deployment (or a cost part) belongs to under --by."""

    def __init__(
        self,
        by: str,
        deployments: Mapping[str, Mapping[str, Any]],
        labels: Mapping[str, str | None] | None = None,
    ) -> None:
        self.label = label_key(by)
        if self.label is None and by not in BY_CHOICES:
            raise InputError(f"--by {by!r}: expected one of {', '.join(BY_CHOICES)} or label:KEY")
        self.by = "label" if self.label is not None else by
        self.deps = deployments
        self.labels = labels or {}
        self.no_label = f"(no {self.label})"
        self._keys: dict[str, str] = {}

    def of_deployment(self, dep_id: str) -> str:
        key = self._keys.get(dep_id)
        if key is None:
            key = self._keys[dep_id] = self._key_of(dep_id)
        return key

    def _key_of(self, dep_id: str) -> str:
        if self.label is not None:
            return self.labels.get(dep_id) or self.no_label
        if dep_id == UNMAPPED_SPEND:
            return UNMAPPED_SPEND
        if self.by == "all":
            return "all"
        if self.by == "deployment":
            return dep_id
        dep = self.deps.get(dep_id)
        if self.by == "model":
            if dep is not None:
                return str(dep["model"])
            return dep_id.removeprefix("model:") if dep_id.startswith("model:") else dep_id
        if self.by == "hardware":
            return str(dep["hardware"]) if dep is not None else "unknown"
        # provider: from the deployment's price_ref when it has no cost part to say it
        ref = dep.get("price_ref") if dep is not None else None
        return str(ref).split("/", 1)[0] if ref else "unknown"

    def of_cost(self, part: Mapping[str, Any]) -> str:
        if self.label is not None and part.get("label_value"):
            return str(part["label_value"])
        if self.by == "provider" and part["deployment_id"] != UNMAPPED_SPEND:
            return str(part["provider"] or "unknown")
        return self.of_deployment(str(part["deployment_id"]))


def _home(parts: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The cost part a deployment-day's tokens go with: the largest cost."""
    if len(parts) == 1:  # the usual day: one part
        p = parts[0]
        return p if p["effective_cost"] is not None and p["currency"] is not None else None
    priced = [p for p in parts if p["effective_cost"] is not None and p["currency"] is not None]
    if not priced:
        return None
    return max(priced, key=lambda p: abs(p["effective_cost"]))


def _aggregate(
    inputs: _Inputs,
    period: Period,
    *,
    grouper: _Grouper,
    grain: str | None,
    basis: str,
    capacity_tps: Mapping[str, tuple[float, str]],
    slos: Mapping[str, Scenario],
    warnings: list[str],
) -> dict[tuple[str, date | None, str | None], _Bucket]:
    """Sum the atoms of `period` into buckets keyed (key, bucket start, currency)."""
    buckets: dict[tuple[str, date | None, str | None], _Bucket] = {}

    def bucket(key: str, start: date | None, currency: str | None) -> _Bucket:
        k = (key, start, currency)
        b = buckets.get(k)
        if b is None:
            b = buckets[k] = _Bucket(key, start, currency)
        return b

    parts_by_day: dict[tuple[str, date], list[dict[str, Any]]] = defaultdict(list)
    for part in inputs.costs:
        if period.contains(part["day"]):
            parts_by_day[(str(part["deployment_id"]), part["day"])].append(part)
    use = inputs.usage
    usage_by_day = {
        (dep_id, day): i
        for i, (dep_id, day) in enumerate(zip(use.deployment_id, use.day, strict=True))
        if period.contains(day)
    }
    observed, active = use.cols["observed_s"], use.cols["active_s"]
    output_tokens = use.cols["output_tokens"]
    # per usage row, in the order rows are summed: the row and its bucket
    summed_rows: list[int] = []
    summed_into: list[_Bucket] = []
    # output tokens/s at the SLO, for the rows whose deployment's capacity is known
    tps_of_row = np.zeros(len(use.day))
    has_capacity = np.zeros(len(use.day), dtype=bool)
    fails_by_day: dict[tuple[str, date], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for f in inputs.failures:
        if period.contains(f["day"]):
            by_reason = fails_by_day[(str(f["deployment_id"]), f["day"])]
            by_reason[str(f["reason"])] += float(f["requests"] or 0)

    gaps: dict[str, str] = {}
    split_days: Counter[str] = Counter()
    usage_basis = basis == "usage"
    no_parts: list[dict[str, Any]] = []
    # (emulated, demo) per deployment, from its labels: looked up once, not per row
    flags = {d: (_label(v, "emulated"), _label(v, "demo")) for d, v in inputs.deployments.items()}
    for dep_day in sorted(set(parts_by_day) | set(usage_by_day)):
        dep_id, day = dep_day
        start = _bucket_start(day, grain, period)
        emulated, demo = flags.get(dep_id, (False, False))
        parts = parts_by_day.get(dep_day, no_parts)
        row = usage_by_day.get(dep_day)
        idle_share = (
            _idle_share(float(observed[row]), float(active[row]))
            if parts and row is not None
            else None
        )
        for part in parts:
            cost: Decimal | None = part["effective_cost"]
            if cost is None:
                gaps.setdefault(dep_id, str(part["estimate_gap"]))
                continue
            b = bucket(grouper.of_cost(part), start, part["currency"])
            idle = cost * idle_share if idle_share is not None else ZERO
            b.idle += idle
            b.effective += cost - idle if usage_basis else cost
            b.billed += part["billed_cost"] or ZERO
            if part["cost_basis"] == "estimated":
                b.estimated += cost - idle if usage_basis else cost
            b.bases.add(str(part["cost_basis"]))
            b.emulated |= emulated
            b.demo |= demo
        if row is None:
            continue
        home = _home(parts) if parts else None
        if home is not None:
            b = bucket(grouper.of_cost(home), start, home["currency"])
            if len(parts) > 1:
                homes = {(grouper.of_cost(p), p["currency"]) for p in parts if p["currency"]}
                if len(homes) > 1:
                    split_days[dep_id] += 1
        else:
            b = bucket(grouper.of_deployment(dep_id), start, None)
            b.bases.add("unknown")
        summed_rows.append(row)
        summed_into.append(b)
        b.has_telemetry = True
        for reason, n in fails_by_day.get(dep_day, {}).items():
            b.failures[reason] += n
        capacity = capacity_tps.get(dep_id)
        if capacity is not None and observed[row]:
            tps_of_row[row], cbasis = capacity
            has_capacity[row] = True
            b.capacity_bases.add(cbasis)
        b.emulated |= emulated or bool(use.emulated[row])
        b.demo |= demo
        if dep_id in slos:
            share = _good_share(inputs.hists.get(dep_day), slos[dep_id])
            if share is not None:
                b.good_output_tokens += float(output_tokens[row]) * share
                b.good_known = True
    _add_usage(use, summed_rows, summed_into, inputs.deployments, tps_of_row, has_capacity)
    for dep_id, gap in sorted(gaps.items()):
        warnings.append(
            f"{dep_id}: served tokens on days without billing lines, and its cost cannot be "
            f"estimated ({gap}); those days show no cost. Map its billing lines with "
            f"deployments[].match or give it a price_ref with a GPU price."
        )
    for dep_id, n in sorted(split_days.items()):
        warnings.append(
            f"{dep_id}: on {n} day(s) its cost falls under more than one row (currency or "
            "--by key); its tokens are counted with the largest cost only."
        )
    return buckets


def _deployment_labels(inputs: _Inputs, label: str, warnings: list[str]) -> dict[str, str | None]:
    """Each deployment's one value of tag/label `label`: the value its billing lines' tags
    take, else the value its metric series take; None when there is none or more than one
    (with a warning: its tokens cannot be split by them)."""
    tags: dict[str, set[str]] = defaultdict(set)
    for part in inputs.costs:
        if part.get("label_value"):
            tags[str(part["deployment_id"])].add(str(part["label_value"]))
    out: dict[str, str | None] = {}
    for dep_id in sorted(set(tags) | set(inputs.series_labels)):
        values = tags.get(dep_id) or inputs.series_labels.get(dep_id, set())
        out[dep_id] = next(iter(values)) if len(values) == 1 else None
        if len(values) > 1 and dep_id != UNMAPPED_SPEND:
            warnings.append(
                f"{dep_id}: its {'billing lines' if dep_id in tags else 'metric series'} carry "
                f"{len(values)} values of {label!r} ({', '.join(sorted(values)[:5])}): its cost "
                "is split by them, its tokens are not (they go with its largest cost part)"
            )
    return out


def _idle_share(observed_s: float, active_s: float) -> Decimal | None:
    """The idle part of a deployment-day's telemetry seconds (None without telemetry)."""
    if not observed_s:
        return None
    return Decimal(max(0.0, observed_s - active_s)) / Decimal(observed_s)


def _add_usage(
    use: _Usage,
    rows: list[int],
    into: list[_Bucket],
    deployments: Mapping[str, Mapping[str, Any]],
    tps_of_row: np.ndarray,
    has_capacity: np.ndarray,
) -> None:
    """Add usage rows to their buckets: every sum with one np.bincount per column, which
    adds each bucket's rows in the order given, as a loop over the rows would."""
    if not rows:
        return
    ids: dict[int, int] = {}
    buckets: list[_Bucket] = []
    for b in into:
        if id(b) not in ids:
            ids[id(b)] = len(buckets)
            buckets.append(b)
    which = np.fromiter((ids[id(b)] for b in into), dtype=np.intp, count=len(into))
    idx = np.asarray(rows, dtype=np.intp)

    def sums(values: np.ndarray) -> list[float]:
        out: list[float] = np.bincount(which, weights=values, minlength=len(buckets)).tolist()
        return out

    cols = use.cols
    for name, attr in USAGE_SUMS.items():
        for b, total in zip(buckets, sums(cols[name][idx]), strict=True):
            setattr(b, attr, getattr(b, attr) + total)
    # GPU-hours: telemetry seconds x the deployment's GPUs, else the GPU-hours sampled
    observed = cols["observed_s"][idx]
    gpus = np.array(
        [
            float(int(dep["gpu_count"] or 0)) if (dep := deployments.get(d)) is not None else -1.0
            for d in (use.deployment_id[r] for r in rows)
        ]
    )
    by_seconds = (gpus >= 0) & (observed != 0)
    gpu_hours = np.where(
        by_seconds, observed / 3600.0 * np.maximum(gpus, 0.0), cols["gpu_hours_sampled"][idx]
    )
    # capacity: tokens the deployment could have served at its SLO (where known)
    counted = has_capacity[idx]
    capacity_tokens = np.where(counted, tps_of_row[idx] * observed, 0.0)
    capacity_served = np.where(counted, cols["output_tokens"][idx], 0.0)
    for b, g, ct, cs in zip(
        buckets,
        sums(gpu_hours),
        sums(capacity_tokens),
        sums(capacity_served),
        strict=True,
    ):
        b.gpu_hours += g
        b.capacity_tokens += ct
        b.capacity_served += cs


def _ratio(num: float, den: float) -> float | None:
    return num / den if den > 0 and not math.isnan(num) else None


def _per_million(cost: Decimal | None, tokens: float) -> float | None:
    if cost is None or tokens <= 0:
        return None
    return float(cost * MILLION / Decimal(tokens))


def _row(b: _Bucket) -> dict[str, Any]:
    known_cost = b.bases - {"unknown"}
    cost: Decimal | None = b.effective if known_cost else None
    if not known_cost:
        cost_basis = "unknown"
    elif len(known_cost) == 1:
        cost_basis = next(iter(known_cost))
    else:
        cost_basis = "mixed"
    tokens = b.input_tokens + b.output_tokens
    return {
        "key": b.key,
        "start": b.start.isoformat() if b.start else None,
        "currency": b.currency,
        "effective_cost": cost,
        "billed_cost": b.billed if known_cost else None,
        "estimated_cost": b.estimated if known_cost else None,
        "cost_basis": cost_basis,
        "input_tokens": b.input_tokens if b.has_telemetry else None,
        "output_tokens": b.output_tokens if b.has_telemetry else None,
        "usd_per_1m_output_tokens": _per_million(cost, b.output_tokens),
        "usd_per_1m_tokens": _per_million(cost, tokens),
        "gpu_hours": b.gpu_hours if b.has_telemetry else None,
        "gpu_utilization": _ratio(b.util_sum, b.util_n),
        "kv_cache_usage": _ratio(b.kv_s, b.kv_n),
        "capacity_utilization": _ratio(b.capacity_served, b.capacity_tokens),
        "capacity_basis": ",".join(sorted(b.capacity_bases)) or None,
        "idle_cost": b.idle if known_cost else None,
        "requests_ok": b.requests_ok if b.has_telemetry else None,
        "requests_failed": b.requests_failed if b.has_telemetry else None,
        "success_rate": _ratio(b.requests_ok, b.requests_ok + b.requests_failed),
        "failures_by_reason": dict(sorted(b.failures.items())),
        "cache_hit_rate": _ratio(b.cache_hits, b.cache_queries),
        "prefill_tokens_saved": b.cache_hits if b.cache_queries > 0 else None,
        "good_output_tokens": b.good_output_tokens if b.good_known else None,
        "usd_per_1m_good_output_tokens": (
            _per_million(cost, b.good_output_tokens) if b.good_known else None
        ),
        "joules_per_output_token": (
            _ratio(b.energy_j, b.output_tokens) if b.energy_n > 0 else None
        ),
        "emulated": b.emulated,
        "demo": b.demo,
    }


def _sort_key(row: Mapping[str, Any]) -> tuple[int, str, str, str]:
    key = str(row["key"])
    special = key in (UNMAPPED_SPEND, UNMAPPED_TELEMETRY) or key.startswith(("gpu-host:", "model:"))
    return (1 if special else 0, key, row["start"] or "", row["currency"] or "")


def deployment_slos(scenarios: Sequence[Scenario]) -> dict[str, Scenario]:
    """The scenario that gives each deployment its SLO and token shape: the first
    latency-bound scenario (`[[scenarios]]` with `deployment = ...`) naming it."""
    out: dict[str, Scenario] = {}
    for sc in scenarios:
        if sc.deployment and not sc.is_batch and sc.deployment not in out:
            out[sc.deployment] = sc
    return out


def deployment_capacities(
    con: duckdb.DuckDBPyConnection, scenarios: Sequence[Scenario], warnings: list[str]
) -> dict[str, tuple[float, str]]:
    """Deployment id -> (output tokens/s it can serve at its scenario's SLO, basis), from
    unitcost.analytics.capacity (measured, fitted, else emulated by physics)."""
    out: dict[str, tuple[float, str]] = {}
    for dep_id, sc in deployment_slos(scenarios).items():
        slo = cap.Slo(sc.slo_ttft_ms, sc.slo_tpot_ms, sc.slo_e2el_ms, sc.slo_attainment)
        shape = cap.TokenShape(sc.input_tokens, sc.output_tokens)
        found = cap.capacity_for_deployment(con, dep_id, slo, shape)
        if found is None or found.output_tokens_per_s <= 0:
            warnings.append(
                f"{dep_id}: no capacity at the SLO of scenario {sc.name!r} (no benchmark of "
                "its config and the emulator cannot model it): run `unitcost bench run "
                "--capacity` against it for capacity utilization"
            )
            continue
        basis = "emulated" if found.emulated and found.basis != "emulated" else found.basis
        out[dep_id] = (found.output_tokens_per_s, basis)
    return out


def kpi_report(
    con: duckdb.DuckDBPyConnection,
    period: Period,
    *,
    by: str = "all",
    grain: str | None = None,
    basis: str = "allocation",
    scenarios: Sequence[Scenario] = (),
    capacity_tps: Mapping[str, tuple[float, str]] | None = None,
) -> dict[str, Any]:
    """The KPI rows of `period` grouped `by`, each with its previous-period headline figures.

    scenarios: the config's `[[scenarios]]`; a scenario naming a deployment gives it the SLO
    and token shape behind its capacity utilization. capacity_tps overrides the capacities
    (deployment id -> (output tokens/s at its SLO, basis)); tests use it.
    Money values are Decimal (exact); the CLI prints them as decimal strings.
    """
    (report,) = kpi_reports(
        con,
        period,
        [(by, grain)],
        basis=basis,
        scenarios=scenarios,
        capacity_tps=capacity_tps,
    )
    return report


def kpi_reports(
    con: duckdb.DuckDBPyConnection,
    period: Period,
    views: Sequence[tuple[str, str | None]],
    *,
    basis: str = "allocation",
    scenarios: Sequence[Scenario] = (),
    capacity_tps: Mapping[str, tuple[float, str]] | None = None,
) -> list[dict[str, Any]]:
    """kpi_report() for several (by, grain) views of one period, in that order, reading the
    store once: a page that shows a period by day and in total (or the review's sections)
    pays for one read, and each report is exactly the one kpi_report() gives alone."""
    for by, grain in views:
        if grain is not None and grain not in GRAINS:
            raise InputError(f"--grain {grain!r}: expected one of {', '.join(GRAINS)}")
        _Grouper(by, {})  # an unknown --by fails before anything is read
    if basis not in BASES:
        raise InputError(f"--basis {basis!r}: expected one of {', '.join(BASES)}")
    previous = period.previous()
    slos = deployment_slos(scenarios)
    loaded: dict[str | None, _Inputs] = {}
    caps: Mapping[str, tuple[float, str]] | None = capacity_tps
    cap_warnings: list[str] = []
    out = []
    for by, grain in views:
        label = label_key(by)
        if label not in loaded:
            loaded[label] = _load(con, previous.start, period.end, hist_for=slos, label=label)
        inputs = loaded[label]
        warnings: list[str] = []
        grouper = _Grouper(
            by,
            inputs.deployments,
            _deployment_labels(inputs, label, warnings) if label is not None else None,
        )
        if caps is None:
            caps = deployment_capacities(con, scenarios, cap_warnings)
        warnings += cap_warnings
        now, before = (
            _aggregate(
                inputs,
                p,
                grouper=grouper,
                grain=grain,
                basis=basis,
                capacity_tps=caps,
                slos=slos,
                warnings=w,  # the previous period's warnings are not the report's
            )
            for p, w in ((period, warnings), (previous, []))
        )
        out.append(_report(period, previous, by, grain, basis, now, before, warnings))
    return out


def _report(
    period: Period,
    previous: Period,
    by: str,
    grain: str | None,
    basis: str,
    now: Mapping[tuple[str, date | None, str | None], _Bucket],
    before: Mapping[tuple[str, date | None, str | None], _Bucket],
    warnings: list[str],
) -> dict[str, Any]:
    rows = []
    prior = {k: _row(b) for k, b in before.items()}
    current = {k: _row(b) for k, b in now.items()}
    for (key, start, currency), row in current.items():
        if grain is None:
            prev = prior.get((key, None, currency))
        else:
            assert start is not None
            pk = (key, _previous_bucket(start, grain), currency)
            prev = current.get(pk) or prior.get(pk)
        row["previous"] = {h: prev[h] for h in HEADLINE} if prev else None
        rows.append(row)
    rows.sort(key=_sort_key)
    if not rows:
        warnings.append(
            f"no cost or telemetry in {period.label}: choose another --period, or collect "
            "data first (`unitcost collect all`)"
        )
    return {
        "period": period.as_json(),
        "previous_period": previous.as_json(),
        "by": by,
        "grain": grain,
        "basis": basis,
        "definitions": definitions_for([*ROW_FIELDS, "previous"]),
        "rows": rows,
        "warnings": _dedupe(warnings),
    }


def _dedupe(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def deployment_cost_per_hour(
    con: duckdb.DuckDBPyConnection, deployment_id: str, period: Period
) -> CostPerHour | None:
    """A deployment's allocated cost over `period` / the hours of the days it cost anything.

    None when it has no cost in the period (no billing line and no possible estimate), or when
    its cost is in more than one currency (they cannot be added).
    """
    report = kpi_report(con, period, by="deployment")
    rows = [r for r in report["rows"] if r["key"] == deployment_id and r["effective_cost"]]
    if len(rows) != 1:
        return None
    inputs = _load(con, period.start, period.end)
    days = {
        p["day"]
        for p in inputs.costs
        if p["deployment_id"] == deployment_id and p["effective_cost"] is not None
    }
    if not days:
        return None
    hours = 24 * len(days)
    row = rows[0]
    return CostPerHour(row["effective_cost"] / hours, row["currency"], row["cost_basis"], hours)
