"""Every page under AppTest, on an empty and on a seeded store: no exception, the figures there."""

from __future__ import annotations

import base64
import json
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest
from unitcost.analytics.kpi import kpi_report
from unitcost.analytics.period import quarter
from unitcost.analytics.recommend import latest_recommendations, recommend

from tests.unit.dashboard.conftest import PAGES, Run
from tests.unit.dashboard.seed import CONFIG
from unitcost.config import Settings, load_settings
from unitcost.store import Store


def _texts(at: AppTest) -> str:
    kinds = ("markdown", "caption", "info", "warning", "error", "success")
    parts = [e.value for kind in kinds for e in at.get(kind)]
    return "\n".join(str(p) for p in parts)


def _downloads(at: AppTest) -> list[str]:
    return [b.proto.label for b in at.get("download_button")]


def _plotly_array(value: Any) -> list[float]:
    """A plotly figure's array as the chart's JSON carries it (a list, or typed base64)."""
    if isinstance(value, dict):
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"]).tolist()
    return [float(v) for v in value]


def _charts(at: AppTest) -> list[str]:
    return [str(c.key) for c in at.get("plotly_chart")]


def _no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def _open_tab(at: AppTest, key: str, label: str) -> None:
    """Open a page's tab as a click does (st.tabs keeps the open one in session state)."""
    at.session_state[key] = label
    at.run()
    _no_exception(at)


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
    last = next(d.value for d in at.dataframe if "last_status" in d.value.columns)
    last = last.set_index("collector")
    assert last.loc["prometheus", "last_status"] == "failed"
    assert (last.loc["prometheus", "runs"], last.loc["prometheus", "rows_total"]) == (2, 120)
    catalog = next(df.value for df in at.dataframe if "instance_type" in df.value.columns)
    assert "p5.48xlarge" in set(catalog["instance_type"])
    assert {"source", "as_of", "verified", "caveat"} <= set(catalog.columns)


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_overview_shows_kpi_figures_with_their_changes(seeded_app: Run, store: Store) -> None:
    at = seeded_app()
    _no_exception(at)
    assert at.query_params["period"] == "2026Q3"  # kpi's default period, written to the URL
    m = at.metric
    values = [(x.label, x.value) for x in m]
    # EUR block first, then USD: 22.00 USD = 10 + 8 billed + 4 estimated (kpi_seed)
    assert ("Spend (mixed)", "22.00 USD") in values
    assert ("Cost per 1M output tokens", "27.50 USD") in values
    assert ("GPU utilization", "60.0 %") in values and ("Success rate", "95.8 %") in values
    # the config's scenario gives 'self' an SLO: its capacity utilization, from the same call
    # as `unitcost kpi` (emulated capacity, labelled by kpi's capacity_basis)
    with store.read() as con:
        usd = next(
            r
            for r in kpi_report(
                con, quarter(2026, 3), scenarios=load_settings().settings.scenarios
            )["rows"]
            if r["key"] == "all" and r["currency"] == "USD"
        )
    assert usd["capacity_utilization"] is not None
    assert ("Capacity utilization", f"{usd['capacity_utilization'] * 100:.1f} %") in values
    assert ("Spend", "5.00 EUR") in values
    text = _texts(at)
    assert "Unmapped spend: 0.33 USD" in text
    assert "Estimated: some costs are GPU-hours x catalog price" in text  # label on the page
    assert "Allocated amortized cost: FOCUS EffectiveCost" in text  # definitions written out


def test_overview_period_from_the_url_and_its_previous(seeded_app: Run) -> None:
    at = seeded_app(params={"period": "2026-08-11..2026-08-11"})
    _no_exception(at)
    usd = [m for m in at.metric if m.label.startswith("Spend") and "USD" in m.value]
    # chat 10.00 billed + self 4.00 estimated; the previous day: chat 8.00 -> +75.0 %
    assert [m.value for m in usd] == ["14.00 USD"]
    assert "+75.0 %" in [m.proto.delta for m in at.metric]
    assert at.query_params["period"] == "2026-08-11..2026-08-11"


HOSTILE = {
    "period": "2026Q3' OR 1=1 --",
    "deployment": "'; DROP TABLE billing_line_items; --",
    "model": "x" * 10_000,
    "hardware": "<img src=x onerror=alert(1)>",
    "junk": "anything",
}


def test_hostile_url_changes_nothing_and_breaks_nothing(seeded_app: Run, store: Store) -> None:
    plain = seeded_app()
    for page in PAGES:
        at = seeded_app(page, params=HOSTILE)
        _no_exception(at)
        assert "onerror" not in _texts(at) and "DROP TABLE" not in _texts(at)
    at = seeded_app(params=HOSTILE)
    assert _metrics(at) == _metrics(plain)
    assert dict(at.query_params) == {"period": "2026Q3"}  # rewritten to the view in force
    assert "The link's period, deployment, model, hardware filter was not recognised" in _texts(at)
    with store.read() as con:  # nothing was executed against the store
        assert con.execute("SELECT count(*) FROM billing_line_items").fetchone() == (4,)


def test_filter_by_deployment(seeded_app: Run) -> None:
    at = seeded_app(params={"deployment": "chat"})
    _no_exception(at)
    values = dict((m.label, m.value) for m in at.metric)
    # chat alone: 18.00 USD (10 + 8 billed) over 600,000 output tokens = 30.00 per 1M
    assert values["Spend"] == "18.00 USD" and values["Cost per 1M output tokens"] == "30.00 USD"
    assert "Unmapped spend" not in _texts(at)


def test_cost_page_rows_and_how_it_was_bought(seeded_app: Run) -> None:
    at = seeded_app("app_pages/cost.py")
    _no_exception(at)
    table = next(d.value for d in at.dataframe if "usd_per_1m_tokens" in d.value.columns)
    by_key = table.set_index(["key", "currency"])
    assert float(by_key.loc[("chat", "USD"), "effective_cost"]) == 18.0
    assert float(by_key.loc[("self", "USD"), "estimated_cost"]) == 4.0
    assert float(by_key.loc[("unmapped", "USD"), "effective_cost"]) == 0.33
    assert "Unmapped spend (0.33 USD)" in _texts(at)
    # the views are tabs run only when open: the first one draws one chart and the table
    assert [t.label for t in at.tabs] == [
        "Cost per token",
        "How it was bought",
        "Idle cost",
        "Hosted-API baseline",
    ]
    assert _charts(at) == ["chart-cost-per-token-by-deployment"]
    assert "Download CSV: cost by pricing USD" not in _downloads(at)
    # the on-demand/spot/committed/estimated parts, each deployment's spend in the table
    _open_tab(at, "cost_view", "How it was bought")
    assert _charts(at) == ["chart-cost-by-pricing-eur", "chart-cost-by-pricing-usd"]
    assert "Download CSV: cost by pricing USD" in _downloads(at)
    _open_tab(at, "cost_view", "Idle cost")
    assert _charts(at) == ["chart-idle-cost-by-deployment"]
    _open_tab(at, "cost_view", "Hosted-API baseline")
    assert _charts(at) == [] and "Download CSV: hosted api baseline" in _downloads(at)
    hosted = next(d.value for d in at.dataframe if "hosted_model" in d.value.columns)
    assert "gpt-4o-mini" in set(hosted["hosted_model"])
    at.session_state["cost_view"] = "Cost per token"
    at.selectbox(key="cost_grain").set_value("day").run()
    _no_exception(at)
    at.radio(key="cost_basis").set_value("usage").run()
    _no_exception(at)
    _open_tab(at, "cost_view", "Idle cost")
    assert _charts(at) == ["chart-idle-cost-over-time-by-deployment"]


def test_utilization_tabs(seeded_app: Run, store: Store) -> None:
    at = seeded_app("app_pages/utilization.py")
    _no_exception(at)
    assert [t.label for t in at.tabs] == ["Over time", "By hour and weekday", "Idle capacity"]
    # a quarter is drawn per week by default; only the open tab's charts are made
    assert at.selectbox(key="util_grain").value == "week"
    assert _charts(at) == [
        "chart-gpu-utilization-per-week",
        "chart-kv-cache-usage-per-week",
        "chart-capacity-utilization-per-week",
    ]
    with store.read() as con:
        weekly = kpi_report(con, quarter(2026, 3), by="deployment", grain="week")
    # the GPU utilization lines are the report's figures, per deployment and week
    expected = {
        (r["key"], r["start"]): r["gpu_utilization"]
        for r in weekly["rows"]
        if r["gpu_utilization"] is not None
    }
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    drawn = {
        (t["name"], x[:10]): y
        for t in spec["data"]
        for x, y in zip(t["x"], _plotly_array(t["y"]), strict=True)
    }
    assert drawn == expected and len(drawn) == 2  # chat 60 %, the stray GPU 10 %
    _open_tab(at, "util_view", "By hour and weekday")
    assert _charts(at) == ["chart-gpu-utilization-heatmap"]
    _open_tab(at, "util_view", "Idle capacity")
    assert _charts(at) == ["chart-idle-cost-by-deployment"]


def test_sources_coverage(seeded_app: Run) -> None:
    at = seeded_app("app_pages/sources.py")
    # 2026Q3: 2026-08-10 billed with telemetry; 2026-08-11 a deployment without cost
    assert "1 day(s) measured · 1 day(s) partial · 90 day(s) missing" in _texts(at)
    days = next(d.value for d in at.dataframe if "cost_missing" in d.value.columns)
    assert len(days) == 92
    assert days.set_index("status").loc["partial", "estimated"] == 1


def test_tiers_shows_the_stored_answer_and_resolves_an_edit(seeded_app: Run, store: Store) -> None:
    at = seeded_app("app_pages/tiers.py")
    _no_exception(at)
    with store.read() as con:
        stored = latest_recommendations(con)["scenarios"][0]
    summary = at.dataframe[0].value.set_index("scenario")
    assert summary.loc["self-chat", "status"] == "optimal"
    assert summary.loc["self-chat", "usd_per_hour"] == stored["usd_per_hour"]
    assert summary.loc["self-chat", "savings_usd_per_month"] == stored["savings_usd_per_month"]
    values = _metrics(at)
    assert values["Fleet cost"] == f"{stored['usd_per_hour']:,.4f} USD/h"
    assert values["Savings per month"] == f"{stored['savings_usd_per_month']:,.2f} USD"
    assert "costs" in _texts(at) and "a month more than today's deployment" in _texts(at)
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Download CSV: self-chat rejected" in labels  # why each other candidate lost
    # edit: ten times the peak, re-solved on the page, equal to recommend() on that scenario
    at.number_input[3].set_value(20.0)
    at.button[0].click().run()
    _no_exception(at)
    assert "Re-solved with the edited SLO and demand" in _texts(at)
    settings = Settings.model_validate(tomllib.loads(CONFIG))
    edited = settings.scenarios[0].model_copy(update={"peak_rps": 20.0})
    with store.read() as con:
        want = recommend(con, settings, edited, save=False)["scenarios"][0]
    fleet = [m.value for m in at.metric if m.label == "Fleet cost"]
    assert fleet == [f"{stored['usd_per_hour']:,.4f} USD/h", f"{want['usd_per_hour']:,.4f} USD/h"]
    assert want["usd_per_hour"] > stored["usd_per_hour"]
    with store.read() as con:  # nothing was stored by the page
        assert len(latest_recommendations(con)["scenarios"]) == 1
        assert latest_recommendations(con)["scenarios"][0]["run_id"] == stored["run_id"]


def test_overview_and_cost_read_the_recommendations(seeded_app: Run) -> None:
    at = seeded_app()
    # the seeded scenario's fleet costs more than today's deployment: no saving to show
    assert "No scenario's recommended fleet costs less than today's deployment" in _texts(at)
    at = seeded_app("app_pages/cost.py")
    _open_tab(at, "cost_view", "Hosted-API baseline")
    hosted = next(d.value for d in at.dataframe if "hosted_model" in d.value.columns)
    assert hosted.loc[0, "hosted_model"] == "gpt-4o-mini"
    assert hosted.loc[0, "usd_per_1m_output_tokens_at_this_shape"] == pytest.approx(1.2)


def test_an_edited_config_counts_at_once(seeded_app: Run, tmp_path: Path) -> None:
    before = [m.value for m in seeded_app().metric if m.label == "Capacity utilization"]
    assert before[1] != "—"  # USD block: the scenario gives 'self' a capacity
    (tmp_path / "unitcost.toml").write_text("")  # the scenario removed from the config
    after = [m.value for m in seeded_app().metric if m.label == "Capacity utilization"]
    assert after[1] == "—"


def test_review_page_previews_each_section(seeded_app: Run) -> None:
    at = seeded_app("app_pages/review.py")
    _no_exception(at)
    assert at.selectbox(key="review_quarter").value == "2026Q3"
    values = [(m.label, m.value) for m in at.metric]
    assert ("Spend (mixed)", "22.00 USD") in values  # the review's figures are the kpi's
    assert ("Cost per 1M output tokens", "27.50 USD") in values
    at.radio(key="review_section").set_value("Tier recommendations").run()
    _no_exception(at)
    table = next(d.value for d in at.dataframe if "savings_usd_per_month" in d.value.columns)
    assert list(table["scenario"]) == ["self-chat"]
    labels = [b.proto.label for b in at.button]
    assert "Prepare PDF, HTML and XLSX" in labels
