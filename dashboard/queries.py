"""Cached, read-only access to the store for the pages.

Every query opens the store read-only for one unit of work and closes it (Store.read), so
collectors and bench runs keep writing while managers read. Results are cached with
`st.cache_data`, keyed on the arguments (the filters) and on the store's last write: the key
`sk` (from `store_key()`; never name it with a leading underscore, which st.cache_data would
not hash) changes whenever the DuckDB file, its WAL or the config file changes, so a page never
shows a figure older than the store or its config. The functions here only open the store and
call `data` or the analytics layer; they add no figure of their own.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd
import streamlit as st
from duckdb import DuckDBPyConnection
from unitcost.analytics.period import Period, default_period
from unitcost.dashboard import data
from unitcost.dashboard.filters import FilterOptions
from unitcost.dashboard.review import build, render
from unitcost.dashboard.review.model import Review, Section

from unitcost.config import LoadedSettings, Scenario, load_settings
from unitcost.errors import InputError
from unitcost.store import Store

_T = TypeVar("_T")
#: A cache key for "the store as it is now": (db path, file stamps).
Key = tuple[str, tuple[int, ...]]
TTL_S = 3600  # bounds memory; freshness comes from the stamp, not from the TTL
MAX_ENTRIES = 256


def loaded_settings() -> LoadedSettings:
    """The settings every command uses (config file from UNITCOST_CONFIG, db from UNITCOST_DB),
    read again on every run (a few hundred microseconds), so an edited config counts at once
    (its modification time is part of the cache key too)."""
    return load_settings()


@st.cache_resource(show_spinner=False)
def _store(path: str, lock_timeout_s: float) -> Store:
    return Store(Path(path), lock_timeout_s=lock_timeout_s)


def store() -> Store:
    s = loaded_settings().settings
    return _store(str(Path(s.db).resolve()), s.lock_timeout_s)


def _stat(path: Path | None) -> tuple[int, int]:
    if path is None:
        return (0, 0)
    try:
        st_ = os.stat(path)
    except OSError:
        return (0, 0)
    return (st_.st_mtime_ns, st_.st_size)


def store_key() -> Key:
    """The store's identity and last write: DuckDB file, its WAL, and the config file."""
    s = store()
    wal = s.path.with_name(s.path.name + ".wal")
    cfg = loaded_settings().config_file
    return (str(s.path), (*_stat(s.path), *_stat(wal), *_stat(cfg)))


@contextmanager
def read() -> Iterator[DuckDBPyConnection]:
    """A read-only connection for one query (waits while a writer holds the file)."""
    with store().read() as con:
        yield con


def _run(fn: Callable[[DuckDBPyConnection], _T]) -> _T:
    with read() as con:
        return fn(con)


@st.cache_data(ttl=TTL_S, max_entries=MAX_ENTRIES, show_spinner=False)
def _basics(sk: Key) -> tuple[FilterOptions, Period | None]:
    """What every page needs first, in one read: the sidebar's options and `unitcost kpi`'s
    default period (None when the store holds no cost or telemetry)."""

    def both(con: DuckDBPyConnection) -> tuple[FilterOptions, Period | None]:
        try:
            default: Period | None = default_period(con)
        except InputError:
            default = None
        return data.filter_options(con), default

    return _run(both)


def filter_options(sk: Key) -> FilterOptions:
    return _basics(sk)[0]


def default_period_of(sk: Key) -> Period | None:
    """`unitcost kpi`'s default period (None when the store holds no cost or telemetry)."""
    return _basics(sk)[1]


@st.cache_data(ttl=TTL_S, max_entries=MAX_ENTRIES, show_spinner=False)
def bench_runs(sk: Key) -> pd.DataFrame:
    return _run(data.bench_runs)


@st.cache_data(ttl=TTL_S, max_entries=MAX_ENTRIES, show_spinner=False)
def collector_last_runs(sk: Key) -> pd.DataFrame:
    return _run(data.collector_last_runs)


@st.cache_data(ttl=TTL_S, max_entries=MAX_ENTRIES, show_spinner=False)
def collector_errors(sk: Key) -> pd.DataFrame:
    return _run(data.collector_errors)


@st.cache_data(ttl=TTL_S, max_entries=MAX_ENTRIES, show_spinner=False)
def watermarks(sk: Key) -> pd.DataFrame:
    return _run(data.watermarks)


@st.cache_data(ttl=TTL_S, max_entries=MAX_ENTRIES, show_spinner=False)
def price_catalog(sk: Key) -> pd.DataFrame:
    return _run(data.price_catalog)


@st.cache_data(ttl=TTL_S, max_entries=MAX_ENTRIES, show_spinner=False)
def kpi(
    sk: Key, period: Period, by: str = "all", grain: str | None = None, basis: str = "allocation"
) -> dict[str, Any]:
    """The KPI report of `unitcost kpi` for these arguments."""
    scenarios = loaded_settings().settings.scenarios
    return _run(
        lambda con: data.kpi_report(
            con, period, by=by, grain=grain, basis=basis, scenarios=scenarios
        )
    )


@st.cache_data(ttl=TTL_S, max_entries=MAX_ENTRIES, show_spinner=False)
def data_labels(sk: Key, period: Period) -> dict[str, Any]:
    return _run(lambda con: data.data_labels(con, period))


@st.cache_data(ttl=TTL_S, max_entries=MAX_ENTRIES, show_spinner=False)
def coverage_daily(sk: Key, period: Period) -> pd.DataFrame:
    return _run(lambda con: data.coverage_daily(con, period))


@st.cache_data(ttl=TTL_S, max_entries=MAX_ENTRIES, show_spinner=False)
def cost_by_pricing(sk: Key, period: Period) -> pd.DataFrame:
    return _run(lambda con: data.cost_by_pricing(con, period))


@st.cache_data(ttl=TTL_S, max_entries=MAX_ENTRIES, show_spinner=False)
def heatmap(
    sk: Key, which: str, period: Period, deployments: tuple[str, ...] | None
) -> pd.DataFrame:
    ids = list(deployments) if deployments is not None else None
    return _run(lambda con: data.heatmap(con, which, period, ids))


@st.cache_data(ttl=TTL_S, max_entries=16, show_spinner=False)
def review_head(sk: Key, period: Period) -> Review:
    """The review's first section and labels, for the preview (InputError without data)."""
    settings = loaded_settings().settings
    return _run(lambda con: build.build_head(con, period, settings=settings, source=sk[0]))


@st.cache_data(ttl=TTL_S, max_entries=MAX_ENTRIES, show_spinner=False)
def review_section(sk: Key, period: Period, title: str) -> Section:
    """One more section of the review (build.SECTIONS), built when the preview shows it."""
    settings = loaded_settings().settings
    return _run(lambda con: build.build_section(con, period, title, settings))


@st.cache_data(ttl=TTL_S, max_entries=8, show_spinner=False)
def review_files(sk: Key, period: Period) -> dict[str, bytes]:
    """The review as PDF, HTML and XLSX bytes (charts drawn by one Chromium session);
    InputError when the quarter holds no data."""
    settings = loaded_settings().settings
    review = _run(lambda con: build.build_review(con, period, settings=settings, source=sk[0]))
    return render.render(review, render.FORMATS)


@st.cache_data(ttl=TTL_S, max_entries=MAX_ENTRIES, show_spinner=False)
def latest_recommendations(sk: Key) -> dict[str, Any]:
    return _run(data.latest_recommendations)


@st.cache_data(ttl=TTL_S, max_entries=MAX_ENTRIES, show_spinner=False)
def resolve_scenario(sk: Key, scenario_json: str) -> dict[str, Any]:
    """Re-solve an edited scenario (its JSON is the cache key); nothing is stored."""
    settings = loaded_settings().settings
    scenario = Scenario.model_validate_json(scenario_json)
    return _run(lambda con: data.resolve_scenario(con, settings, scenario))
