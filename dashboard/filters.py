"""The shared sidebar filters (period, deployment, model, hardware), kept in the URL.

A copied link reproduces the view: the router writes the filters in force into the query
string on every run. Values from the URL are only ever compared with known values (periods
that parse, deployments/models/hardware that exist in the store) and are then bound as query
parameters; anything else (quotes, SQL fragments, 10 kB strings, unknown deployments) is
dropped, the view stays the default one, and the page says that a link filter was ignored
without echoing it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from unitcost.analytics.period import Period, month, parse_period, quarter_of

from unitcost.errors import InputError

FILTER_KEYS = ("period", "deployment", "model", "hardware")
#: Longer URL values are not even parsed: no period, deployment or model name is this long.
MAX_PARAM_LEN = 200
ALL = "All"


@dataclass(frozen=True)
class FilterOptions:
    """What the filters can take, from the store: known deployments and data days."""

    deployments: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    hardware: tuple[str, ...] = ()
    #: deployment id -> (model, hardware), to tell whether two filters can both hold
    deployment_info: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    first_day: date | None = None
    last_day: date | None = None


@dataclass(frozen=True)
class Filters:
    """The filters in force for one run of the app."""

    period: Period | None  # None only when the store has no data to default to
    deployment: str | None = None
    model: str | None = None
    hardware: str | None = None
    #: names (never values) of URL parameters that were not valid and were dropped
    ignored: tuple[str, ...] = ()

    def scope(self) -> tuple[str, str | None]:
        """The kpi `by` and the row key that these filters select (most specific first)."""
        if self.deployment:
            return "deployment", self.deployment
        if self.model:
            return "model", self.model
        if self.hardware:
            return "hardware", self.hardware
        return "all", None

    def describe(self) -> str:
        parts = [self.period.label if self.period else "no period"]
        parts += [v for v in (self.deployment, self.model, self.hardware) if v]
        return " · ".join(parts)


def period_param(p: Period) -> str:
    """How a period is written in the URL: a form parse_period reads back to the same days."""
    if p.kind == "range":
        return f"{p.start.isoformat()}..{(p.end - timedelta(days=1)).isoformat()}"
    return p.label


def _one(params: Mapping[str, str | Sequence[str]], key: str) -> str | None:
    value = params.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        value = value[-1] if len(value) else ""
    return value


def from_params(
    params: Mapping[str, str | Sequence[str]], options: FilterOptions, default: Period | None
) -> Filters:
    """Validate URL query parameters against what the store knows; drop what does not fit."""
    ignored: list[str] = []
    period = default
    raw = _one(params, "period")
    if raw:
        try:
            if len(raw) > MAX_PARAM_LEN:
                raise InputError("too long")
            period = parse_period(raw, flag="period")
        except InputError:
            ignored.append("period")
    chosen: dict[str, str | None] = {}
    for key, known in (
        ("deployment", options.deployments),
        ("model", options.models),
        ("hardware", options.hardware),
    ):
        raw = _one(params, key)
        chosen[key] = None
        if raw is None or raw in ("", ALL):
            continue
        if len(raw) <= MAX_PARAM_LEN and raw in known:
            chosen[key] = raw
        else:
            ignored.append(key)
    return Filters(
        period=period,
        deployment=chosen["deployment"],
        model=chosen["model"],
        hardware=chosen["hardware"],
        ignored=tuple(ignored),
    )


def to_params(f: Filters) -> dict[str, str]:
    """The query string for these filters (only what differs from 'all')."""
    out: dict[str, str] = {}
    if f.period is not None:
        out["period"] = period_param(f.period)
    for key in ("deployment", "model", "hardware"):
        value = getattr(f, key)
        if value:
            out[key] = value
    return out


def period_choices(options: FilterOptions, default: Period | None) -> list[Period]:
    """Quarters, then months, with data (newest first); the default period comes first."""
    out: list[Period] = [default] if default is not None else []
    if options.first_day is None or options.last_day is None:
        return out
    q = quarter_of(options.last_day)
    while q.end > options.first_day:
        out.append(q)
        q = q.previous()
    m = month(options.last_day.year, options.last_day.month)
    while m.end > options.first_day:
        out.append(m)
        m = m.previous()
    seen: set[tuple[date, date]] = set()
    unique = []
    for p in out:
        if (p.start, p.end) not in seen:
            seen.add((p.start, p.end))
            unique.append(p)
    return unique


def conflicts(f: Filters, options: FilterOptions) -> str | None:
    """Why no deployment can match these filters together (None when some can)."""
    if f.deployment and (f.model or f.hardware):
        model, hw = options.deployment_info.get(f.deployment, ("", ""))
        if f.model and f.model != model:
            return f"deployment {f.deployment} serves {model}, not {f.model}"
        if f.hardware and f.hardware != hw:
            return f"deployment {f.deployment} runs on {hw}, not {f.hardware}"
    if f.model and f.hardware and not f.deployment:
        pairs = set(options.deployment_info.values())
        if (f.model, f.hardware) not in pairs:
            return f"no deployment serves {f.model} on {f.hardware}"
    return None


def allowed_keys(by: str, f: Filters, options: FilterOptions) -> set[str] | None:
    """The row keys the sidebar filters leave (None: no filter applies to this grouping)."""
    deps = {
        d
        for d, (model, hw) in options.deployment_info.items()
        if (not f.deployment or d == f.deployment)
        and (not f.model or model == f.model)
        and (not f.hardware or hw == f.hardware)
    }
    if not (f.deployment or f.model or f.hardware) or by == "provider":
        return None
    if by == "deployment":
        return deps
    col = 0 if by == "model" else 1
    return {options.deployment_info[d][col] for d in deps}
