"""Charts are pure functions of their frame: what they draw is the frame's values."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from unitcost.dashboard import charts


def _frame(series: int) -> pd.DataFrame:
    rows = [
        {"key": f"d{k:02d}", "start": f"2026-08-{day:02d}", "v": (k + day) / 100}
        for k in range(series)
        for day in (3, 10, 17)
    ]
    return pd.DataFrame(rows)


def test_a_few_series_are_lines() -> None:
    fig = charts.fig_lines(_frame(3), "start", "v", "key", "t", "y", percent=True)
    assert [type(t) for t in fig.data] == [go.Scatter] * 3
    assert [t.name for t in fig.data] == ["d00", "d01", "d02"]
    assert list(fig.data[1].y) == [0.04, 0.11, 0.18]


def test_many_series_are_the_rows_of_a_heatmap_with_the_same_values() -> None:
    df = _frame(charts.MAX_LINES + 8)
    fig = charts.fig_lines(df, "start", "v", "key", "t", "y", percent=True)
    assert len(fig.data) == 1 and isinstance(fig.data[0], go.Heatmap)
    hm = fig.data[0]
    assert list(hm.y) == sorted(df["key"].unique())
    assert [str(x)[:10] for x in hm.x] == ["2026-08-03", "2026-08-10", "2026-08-17"]
    # row d05, column 2026-08-10: (5 + 10) / 100 = 15 %
    assert hm.z[5][1] == 15.0
    money = charts.fig_lines(df, "start", "v", "key", "t", "USD", percent=False)
    assert money.data[0].z[5][1] == 0.15


def test_series_names_the_legend_and_the_heatmap_rows() -> None:
    lines = charts.fig_lines(_frame(3), "start", "v", "key", "t", "y", series="deployment")
    assert lines.layout.legend.title.text == "deployment"
    rows = charts.fig_lines(
        _frame(charts.MAX_LINES + 1), "start", "v", "key", "t", "y", series="model"
    )
    assert rows.layout.yaxis.title.text == "model"
