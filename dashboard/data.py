"""What the dashboard and the review read from the store, as frames: one function per question.

Plain functions of an open (read-only) connection, with no Streamlit in them, so the review
export and the tests call exactly what the pages show. SQL lives in `sql/queries/dashboard_*`;
figures come from the analytics layer and the views (bench_run_summary, price_catalog_effective):
nothing here computes a figure a second way.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from duckdb import DuckDBPyConnection
from unitcost.analytics import coverage, kpi, recommend
from unitcost.analytics.period import Period, data_days
from unitcost.collectors.metric_families import FAMILIES
from unitcost.dashboard.filters import FilterOptions

from unitcost import prices, sqlfiles
from unitcost.config import Scenario, Settings

#: The engines' output-token counters (the energy-per-token denominator of a bench run).
OUTPUT_TOKEN_COUNTERS = sorted({f.metric for f in FAMILIES if f.quantity == "output_tokens"})
#: Failed or interrupted collector runs listed on /sources.
ERRORS_SHOWN = 50
#: `scheme://user:password@` anywhere in a text (a source URL, an error message).
_URL_PASSWORD = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]*:)[^\s/]*@")


def frame(
    con: DuckDBPyConnection, name: str, params: dict[str, object] | None = None
) -> pd.DataFrame:
    """Run sql/queries/<name>.sql with bound parameters and return a frame."""
    sql = sqlfiles.load("queries", name)
    cur = con.execute(sql, params) if params is not None else con.execute(sql)
    return cur.df()


def filter_options(con: DuckDBPyConnection) -> FilterOptions:
    """Known deployments, models and hardware, and the days that hold data."""
    deps = frame(con, "dashboard_deployments")
    first, last, _ = data_days(con, datetime.now(UTC).date())
    info = {
        str(r.deployment_id): (str(r.model), str(r.hardware)) for r in deps.itertuples(index=False)
    }
    return FilterOptions(
        deployments=tuple(info),
        models=tuple(sorted({m for m, _ in info.values()})),
        hardware=tuple(sorted({h for _, h in info.values()})),
        deployment_info=info,
        first_day=first,
        last_day=last,
    )


def bench_runs(con: DuckDBPyConnection) -> pd.DataFrame:
    """Completed and imported benchmark runs with the figures /benchmarks plots, and the
    energy per output token of those whose server exposed a GPU energy counter."""
    df = frame(con, "dashboard_bench_runs")
    energy = frame(con, "dashboard_bench_energy", {"token_metrics": OUTPUT_TOKEN_COUNTERS})
    df = df.merge(energy, on="run_id", how="left")
    df["emulated"] = df["emulated"].astype("boolean").fillna(False).astype(bool)
    df["basis"] = df["emulated"].map({True: "emulated", False: "measured"})
    return df


def mask_url_passwords(text: str) -> str:
    """`https://user:pw@host` -> `https://user:***@host`, wherever it occurs in the text."""
    return _URL_PASSWORD.sub(r"\1***@", text)


def _redact_sources(df: pd.DataFrame) -> pd.DataFrame:
    """A source or an error may hold a URL with a password in it: shown masked."""
    for col in ("source", "error", "last_error"):
        if col in df.columns:
            df[col] = [mask_url_passwords(v) if isinstance(v, str) else v for v in df[col]]
    return df


def collector_last_runs(con: DuckDBPyConnection) -> pd.DataFrame:
    return _redact_sources(frame(con, "dashboard_collector_last_runs"))


def collector_errors(con: DuckDBPyConnection, limit: int = ERRORS_SHOWN) -> pd.DataFrame:
    return _redact_sources(frame(con, "dashboard_collector_errors", {"limit": limit}))


def watermarks(con: DuckDBPyConnection) -> pd.DataFrame:
    return _redact_sources(frame(con, "dashboard_watermarks"))


def price_catalog(con: DuckDBPyConnection) -> pd.DataFrame:
    """The effective price catalog, as `unitcost prices list` shows it."""
    rows = prices.list_prices(con)
    return pd.DataFrame(rows, columns=list(rows[0]) if rows else None)


def kpi_report(
    con: DuckDBPyConnection,
    period: Period,
    *,
    by: str = "all",
    grain: str | None = None,
    basis: str = "allocation",
    scenarios: Sequence[Scenario] = (),
) -> dict[str, Any]:
    """`unitcost kpi --format json`'s document (money as Decimal), called as the CLI calls it
    (the config's scenarios give deployments the SLO of their capacity utilization)."""
    return kpi.kpi_report(con, period, by=by, grain=grain, basis=basis, scenarios=scenarios)


def kpi_reports(
    con: DuckDBPyConnection,
    period: Period,
    views: Sequence[tuple[str, str | None]],
    *,
    basis: str = "allocation",
    scenarios: Sequence[Scenario] = (),
) -> list[dict[str, Any]]:
    """kpi_report() for several (by, grain) views of one period, reading the store once."""
    return kpi.kpi_reports(con, period, views, basis=basis, scenarios=scenarios)


def data_labels(con: DuckDBPyConnection, period: Period) -> dict[str, Any]:
    """Is any of the period's data demo, emulated, estimated or missing (with the sentences)."""
    return coverage.data_labels(con, period)


def coverage_daily(con: DuckDBPyConnection, period: Period) -> pd.DataFrame:
    """Per day of the period: deployments billed / estimated / without cost / with telemetry /
    emulated / demo, and the day's status (measured, estimated, emulated, partial, missing)."""
    rows = coverage.coverage_daily(con, period)
    return pd.DataFrame.from_records(rows) if rows else pd.DataFrame()


def cost_by_pricing(con: DuckDBPyConnection, period: Period) -> pd.DataFrame:
    """The period's allocated cost per deployment and currency: on-demand, spot, committed,
    estimated (the parts of kpi's effective_cost)."""
    return frame(con, "dashboard_cost_by_pricing", {"start": period.start, "end": period.end})


#: heatmap name -> its query (sql/queries/dashboard_<name>_heatmap.sql)
HEATMAPS = ("gpu", "kv")


def heatmap(
    con: DuckDBPyConnection, which: str, period: Period, deployments: list[str] | None
) -> pd.DataFrame:
    """GPU utilization ('gpu') or KV-cache use ('kv') per UTC weekday and hour of day."""
    if which not in HEATMAPS:
        raise ValueError(f"no heatmap {which!r}")
    return frame(
        con,
        f"dashboard_{which}_heatmap",
        {"start": period.start, "end": period.end, "deployments": deployments},
    )


def latest_recommendations(con: DuckDBPyConnection) -> dict[str, Any]:
    """`unitcost recommend`'s newest stored answer per scenario (with when it was solved)."""
    return recommend.latest_recommendations(con)


def resolve_scenario(
    con: DuckDBPyConnection, settings: Settings, scenario: Scenario
) -> dict[str, Any]:
    """An edited scenario solved as `unitcost recommend` would, without storing the answer."""
    return recommend.recommend(con, settings, scenario, save=False)
