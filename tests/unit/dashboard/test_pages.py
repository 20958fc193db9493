"""Every page under AppTest, on an empty and on a seeded store: no exception, the figures there."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.unit.dashboard.conftest import PAGES, Run


def _texts(at: AppTest) -> str:
    kinds = ("markdown", "caption", "info", "warning", "error")
    parts = [e.value for kind in kinds for e in at.get(kind)]
    return "\n".join(str(p) for p in parts)


def _no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


@pytest.mark.parametrize("page", list(PAGES))
def test_every_page_on_an_empty_store(empty_app: Run, page: str) -> None:
    at = empty_app(page)
    _no_exception(at)
    assert [t.value for t in at.title][-1] == PAGES[page]
    assert not at.error, [e.value for e in at.error]


@pytest.mark.parametrize("page", list(PAGES))
def test_every_page_on_a_seeded_store(seeded_app: Run, page: str) -> None:
    at = seeded_app(page)
    _no_exception(at)
    assert [t.value for t in at.title][-1] == PAGES[page]


def test_empty_benchmarks_says_which_command_fills_it(empty_app: Run) -> None:
    at = empty_app("app_pages/benchmarks.py")
    assert "unitcost bench run" in _texts(at)
    assert not at.get("plotly_chart")


def test_benchmarks_on_seeded_store(seeded_app: Run) -> None:
    at = seeded_app("app_pages/benchmarks.py")
    assert len(at.get("plotly_chart")) == 3  # Pareto, TTFT vs load, TPOT vs load
    downloads = [b.proto.label for b in at.get("download_button")]
    assert "Download CSV: pareto output_tokens_per_s_per_gpu" in downloads
    assert "Download CSV: ttft vs load" in downloads and "Download CSV: benchmark runs" in downloads
    runs = at.dataframe[-1].value
    assert set(runs["run_id"]) == {"m8-c1", "m8-c8", "m8-c16", "e8-c1", "e8-c8"}
    assert set(runs.loc[runs["emulated"], "run_id"]) == {"e8-c1", "e8-c8"}
    at.radio(key="bench_basis").set_value("Measured only").run()
    assert set(at.dataframe[-1].value["run_id"]) == {"m8-c1", "m8-c8", "m8-c16"}
    at.selectbox(key="bench_y").set_value("usd_per_1m_output_tokens").run()
    _no_exception(at)


def test_sources_mask_passwords_and_flag_failures(seeded_app: Run) -> None:
    at = seeded_app("app_pages/sources.py")
    _no_exception(at)
    shown = _texts(at) + "".join(df.value.to_csv() for df in at.dataframe)
    assert "hunter2" not in shown
    assert "http://admin:***@prom:9090" in shown
    assert "1 source(s) failed on their last run: prometheus/http://admin:***@prom:9090" in shown
    last = at.dataframe[0].value.set_index("collector")
    assert last.loc["prometheus", "last_status"] == "failed"
    assert (last.loc["prometheus", "runs"], last.loc["prometheus", "rows_total"]) == (2, 120)
    catalog = next(df.value for df in at.dataframe if "instance_type" in df.value.columns)
    assert "p5.48xlarge" in set(catalog["instance_type"])
    assert {"source", "as_of", "verified", "caveat"} <= set(catalog.columns)
