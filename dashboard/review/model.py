"""The quarterly review as data: sections of figures, charts and tables, before any format.

The renderers (HTML, PDF, XLSX) and the /review page all take a `Review`; none of them looks
anything up, so every format shows the same figures. Values stay exact (Decimal money, counts
as integers) in the tables; only the HTML/PDF format them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd
import plotly.graph_objects as go


@dataclass(frozen=True)
class Metric:
    """One headline figure, its value in the previous period and its definition."""

    label: str
    value: str
    previous: str
    change: str
    definition: str
    group: str = ""  # e.g. "Billed in USD": rows of different currencies are never added


@dataclass(frozen=True)
class Table:
    """A table of the review; in the XLSX it is one sheet named `sheet`."""

    sheet: str
    title: str
    df: pd.DataFrame
    caption: str = ""
    #: The columns printed in HTML/PDF (None: all); the XLSX sheet always has every column.
    printed: tuple[str, ...] | None = None

    def printed_df(self) -> pd.DataFrame:
        if self.printed is None:
            return self.df
        return self.df[[c for c in self.printed if c in self.df.columns]]


@dataclass(frozen=True)
class Chart:
    """A chart and the table it was drawn from (that table is also a sheet)."""

    title: str
    fig: go.Figure
    data: Table
    caption: str = ""


@dataclass
class Section:
    title: str
    intro: str = ""
    metrics: list[Metric] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class Review:
    """Everything one quarter's review says."""

    period_label: str
    period_text: str  # e.g. "2026-07-01 to 2026-09-30 (UTC days)"
    previous_label: str
    generated_at: datetime
    source: str  # the store it was read from
    labels: list[str] = field(default_factory=list)  # demo / emulated / estimated, said up front
    sections: list[Section] = field(default_factory=list)

    @property
    def file_stem(self) -> str:
        return f"review-{self.period_label}"

    def all_tables(self) -> list[Table]:
        """Every underlying table, in reading order (the XLSX sheets)."""
        out: list[Table] = []
        for s in self.sections:
            out += [c.data for c in s.charts]
            out += s.tables
        return out

    def all_charts(self) -> list[Chart]:
        return [c for s in self.sections for c in s.charts]
