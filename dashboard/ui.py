"""Page building blocks every page shares: charts with their data, tables, notes on gaps.

Every chart goes out with a CSV download of exactly the frame it was drawn from, and every
figure with its definition; a page with nothing to show says what is missing and which command
produces it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from unitcost.dashboard import figures
from unitcost.dashboard.filters import Filters

FILTERS_KEY = "_uc_filters"
_SLUG = re.compile(r"[^a-z0-9]+")


def filters() -> Filters:
    """The filters the router put in force for this run."""
    f = st.session_state.get(FILTERS_KEY)
    assert isinstance(f, Filters), "the router sets the filters before a page runs"
    return f


def slug(text: str) -> str:
    return _SLUG.sub("-", text.lower()).strip("-") or "data"


def csv_bytes(df: pd.DataFrame) -> bytes:
    return df.to_csv(index=False).encode("utf-8")


def chart(fig: go.Figure, df: pd.DataFrame, name: str, *, caption: str | None = None) -> None:
    """A plotly chart, its definition, and a CSV download of the frame it was drawn from."""
    st.plotly_chart(fig, key=f"chart-{slug(name)}", config={"displaylogo": False})
    if caption:
        st.caption(caption)
    st.download_button(
        f"Download CSV: {name}",
        data=csv_bytes(df),
        file_name=f"{slug(name)}.csv",
        mime="text/csv",
        key=f"csv-{slug(name)}",
        on_click="ignore",
    )


def table(df: pd.DataFrame, name: str, *, column_config: Mapping[str, Any] | None = None) -> None:
    """A table with a CSV download of the same rows."""
    st.dataframe(df, hide_index=True, column_config=dict(column_config or {}))
    st.download_button(
        f"Download CSV: {name}",
        data=csv_bytes(df),
        file_name=f"{slug(name)}.csv",
        mime="text/csv",
        key=f"csv-{slug(name)}",
        on_click="ignore",
    )


NO_DATA = (
    "No cost or telemetry in the store yet",
    "`unitcost collect all` loads billing, Prometheus and GPU data (see the README); "
    "`unitcost demo` shows the product on generated data.",
)


def labels_banner(labels: Mapping[str, Any]) -> None:
    """What the period's figures stand on, said above every page: demo, emulated, estimated,
    missing (analytics.coverage.data_labels)."""
    for note in labels.get("notes", []):
        st.warning(note, icon=":material/info:")


def missing(what: str, how: str) -> None:
    """Say what is not there and which command produces it (never an empty chart)."""
    st.info(f"**{what}** — {how}")


def definitions(defs: Mapping[str, str]) -> None:
    """The definitions of the page's figures, written out on the page (each figure also carries
    its own in the (?) beside its label)."""
    st.subheader("Definitions")
    for name, text in defs.items():
        st.markdown(f"**{name}**: {text}")


def figure_definitions(names: list[str]) -> None:
    """The definitions of these KPI figures (analytics.definitions), written out."""
    definitions(
        {
            figures.FIGURES[n].label: figures.FIGURES[n].definition
            for n in names
            if n in figures.FIGURES
        }
    )


def money(value: Any, currency: str = "USD", digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "—"
    return f"{float(value):,.{digits}f} {currency}"


def number(value: Any, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "—"
    return f"{float(value):,.{digits}f}"
