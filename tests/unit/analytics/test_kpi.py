"""KPI views and kpi_report, data in and data out: literal rows in a real store, exact rows out.

The rows are those of tests/support/kpi_seed.py (its docstring says what each case is).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from unitcost.analytics.kpi import deployment_cost_per_hour, kpi_report, kpi_reports
from unitcost.analytics.period import day_range, parse_period
from unitcost.collectors import billing_ledger

from tests.support.kpi_seed import D0, D1, PERIOD, _ts, seed
from unitcost.errors import InputError
from unitcost.store import Store


@pytest.fixture
def kstore(store: Store) -> Store:
    return seed(store)


def _rows(store: Store, **kw: Any) -> dict[tuple[str, str | None], dict[str, Any]]:
    with store.read() as con:
        report = kpi_report(con, PERIOD, **kw)
    return {(r["key"], r["currency"]): r for r in report["rows"]}


def test_cost_daily_view_billed_estimated_and_gaps(kstore: Store) -> None:
    with kstore.read() as con:
        rows = con.execute(
            "SELECT deployment_id, currency, cost_basis, billed_cost, effective_cost, "
            "gpu_hours_estimated, estimate_gap FROM kpi_cost_daily WHERE day = ? ORDER BY 1, 2",
            [D1],
        ).fetchall()
    assert rows == [
        ("chat", "USD", "billed", Decimal("12.00"), Decimal("10.00"), None, None),
        ("eu", "EUR", "billed", Decimal("5.00"), Decimal("5.00"), None, None),
        # 2 hours of telemetry x 1 GPU x 2.00 USD/GPU-h
        ("self", "USD", "estimated", Decimal(0), Decimal("4.00"), Decimal(2), None),
        ("unmapped", "USD", "billed", Decimal("0.33"), Decimal("0.33"), None, None),
        # telemetry no rule claims is no deployment: nothing to estimate
        (
            "unmapped-telemetry",
            None,
            "estimated",
            0,
            None,
            None,
            "matches no deployment",
        ),
        (
            "vmonly",
            None,
            "estimated",
            Decimal(0),
            None,
            1.0,
            "no GPU price for price_ref test/r/vm",
        ),
    ]


def test_usage_and_gpu_views(kstore: Store) -> None:
    with kstore.read() as con:
        usage = con.execute(
            "SELECT deployment_id, output_tokens, requests_ok, requests_failed, observed_s, "
            "active_s FROM kpi_usage_daily WHERE deployment_id = 'chat' AND day = ?",
            [D1],
        ).fetchall()
        gpu = con.execute(
            "SELECT deployment_id, gpu_hours_sampled, round(util_gpu_hours, 6), energy_j "
            "FROM kpi_gpu_daily ORDER BY 1"
        ).fetchall()
        fails = con.execute("SELECT * FROM kpi_failures_daily").fetchall()
    assert usage == [("chat", 400_000.0, 9.0, 1.0, 7200, 3600)]
    assert gpu == [("chat", 1, 0.6, 400.0), ("gpu-host:stray", 1, 0.1, None)]
    assert fails == [("chat", D1, "abort", 1.0)]


def test_report_by_deployment(kstore: Store) -> None:
    rows = _rows(kstore, by="deployment")
    chat = rows[("chat", "USD")]
    assert chat["effective_cost"] == Decimal("10.00")
    assert chat["billed_cost"] == Decimal("12.00")
    assert chat["cost_basis"] == "billed"
    assert chat["output_tokens"] == 400_000
    assert chat["usd_per_1m_output_tokens"] == pytest.approx(25.0)  # 10 x 1e6 / 400,000
    assert chat["usd_per_1m_tokens"] == pytest.approx(10e6 / 401_000)
    assert chat["idle_cost"] == Decimal("5.00")  # one of its two hours had no traffic
    assert chat["gpu_hours"] == 2.0
    assert chat["gpu_utilization"] == pytest.approx(0.6)
    assert chat["kv_cache_usage"] == pytest.approx(0.25)
    assert chat["success_rate"] == pytest.approx(0.9)
    assert chat["failures_by_reason"] == {"abort": 1.0}
    assert chat["joules_per_output_token"] == pytest.approx(400 / 400_000)
    assert chat["previous"]["usd_per_1m_output_tokens"] == pytest.approx(40.0)  # 8 / 0.2M
    assert chat["previous"]["effective_cost"] == Decimal("8.00")

    est = rows[("self", "USD")]
    assert est["cost_basis"] == "estimated"
    assert est["effective_cost"] == est["estimated_cost"] == Decimal("4.00")
    assert est["usd_per_1m_output_tokens"] == pytest.approx(20.0)  # 4 x 1e6 / 200,000
    assert rows[("eu", "EUR")]["usd_per_1m_output_tokens"] == pytest.approx(5.0)
    # no price with a GPU in it: no cost, never zero
    vm = rows[("vmonly", None)]
    assert vm["effective_cost"] is None and vm["cost_basis"] == "unknown"
    assert vm["output_tokens"] == 1_000
    assert rows[("unmapped", "USD")]["effective_cost"] == Decimal("0.33")
    assert rows[("unmapped", "USD")]["output_tokens"] is None
    assert rows[("unmapped-telemetry", None)]["output_tokens"] == 7_000
    assert rows[("gpu-host:stray", None)]["gpu_utilization"] == pytest.approx(0.1)


def test_rows_add_up_to_the_bill_and_never_mix_currencies(kstore: Store) -> None:
    with kstore.read() as con:
        bill = dict(
            con.execute(
                "SELECT BillingCurrency, sum(BilledCost) FROM billing_line_items "
                "WHERE ChargePeriodStart >= ? AND ChargePeriodStart < ? GROUP BY 1",
                [_ts(D1, 0), _ts(D1, 0) + dt.timedelta(days=1)],
            ).fetchall()
        )
    for by in ("all", "deployment", "model", "hardware", "provider"):
        rows = _rows(kstore, by=by)
        billed: dict[str, Decimal] = {}
        for (_, cur), r in rows.items():
            if r["billed_cost"] is not None:
                billed[cur] = billed.get(cur, Decimal(0)) + r["billed_cost"]  # type: ignore[index]
        assert billed == bill, by
    totals = _rows(kstore, by="all")
    assert set(totals) == {("all", "USD"), ("all", "EUR"), ("all", None), ("unmapped", "USD")}
    assert totals[("all", "USD")]["effective_cost"] == Decimal("14.00")  # 10 billed + 4 est.
    assert totals[("all", "USD")]["cost_basis"] == "mixed"
    assert totals[("all", "USD")]["output_tokens"] == 600_000
    assert totals[("all", "EUR")]["output_tokens"] == 1_000_000


def test_usage_basis_leaves_out_idle_hours(kstore: Store) -> None:
    chat = _rows(kstore, by="deployment", basis="usage")[("chat", "USD")]
    assert chat["effective_cost"] == Decimal("5.00")
    assert chat["usd_per_1m_output_tokens"] == pytest.approx(12.5)


def test_grouping_by_model_hardware_provider(kstore: Store) -> None:
    by_model = _rows(kstore, by="model")
    assert by_model[("llama-3b", "USD")]["effective_cost"] == Decimal("4.00")
    assert by_model[("llama-3b", "EUR")]["effective_cost"] == Decimal("5.00")
    assert by_model[("llama-8b", "USD")]["output_tokens"] == 400_000
    by_hw = _rows(kstore, by="hardware")
    assert by_hw[("H100", "USD")]["effective_cost"] == Decimal("10.00")
    by_provider = _rows(kstore, by="provider")
    assert by_provider[("TestCloud", "USD")]["effective_cost"] == Decimal("10.00")
    assert by_provider[("test", "USD")]["effective_cost"] == Decimal("4.00")  # the estimate


def test_grain_rows_and_their_previous_bucket(kstore: Store) -> None:
    with kstore.read() as con:
        report = kpi_report(con, day_range(D0, D1), by="deployment", grain="day")
    chat = [r for r in report["rows"] if r["key"] == "chat"]
    assert [(r["start"], r["effective_cost"]) for r in chat] == [
        ("2026-08-10", Decimal("8.00")),
        ("2026-08-11", Decimal("10.00")),
    ]
    assert chat[1]["previous"]["effective_cost"] == Decimal("8.00")


def test_several_views_from_one_read_equal_each_alone(kstore: Store) -> None:
    """kpi_reports (one read for a page's day and period views, or the review's sections)
    gives exactly what kpi_report gives for each view alone, warnings included."""
    views = [
        ("deployment", "day"),
        ("deployment", None),
        ("all", None),
        ("model", "week"),
        ("provider", None),
        ("label:team", None),
    ]
    period = day_range(D0, D1)
    with kstore.read() as con:
        together = kpi_reports(con, period, views)
        alone = [kpi_report(con, period, by=by, grain=grain) for by, grain in views]
    assert together == alone
    assert [r["by"] for r in together] == [by for by, _ in views]
    assert any(r["rows"] for r in together)
    with kstore.read() as con, pytest.raises(InputError, match="--by 'nope'"):
        kpi_reports(con, period, [("deployment", None), ("nope", None)])


def test_warnings_say_what_is_missing(kstore: Store) -> None:
    with kstore.read() as con:
        report = kpi_report(con, PERIOD, by="deployment")
        empty = kpi_report(con, parse_period("2020Q1"))
    text = "\n".join(report["warnings"])
    assert "vmonly" in text and "no GPU price for price_ref test/r/vm" in text
    assert empty["rows"] == [] and "no cost or telemetry in 2020Q1" in empty["warnings"][0]
    assert set(report["definitions"]) >= {"usd_per_1m_output_tokens", "success_rate", "key"}


def test_bad_flags_are_named(kstore: Store) -> None:
    with kstore.read() as con:
        with pytest.raises(InputError, match="--by 'team'"):
            kpi_report(con, PERIOD, by="team")
        with pytest.raises(InputError, match="--grain 'hour'"):
            kpi_report(con, PERIOD, grain="hour")


def test_deployment_cost_per_hour(kstore: Store) -> None:
    with kstore.read() as con:
        chat = deployment_cost_per_hour(con, "chat", PERIOD)
        none = deployment_cost_per_hour(con, "vmonly", PERIOD)
    assert chat is not None and none is None
    assert (chat.usd_per_hour, chat.currency, chat.hours) == (Decimal("10.00") / 24, "USD", 24)


def test_capacity_utilization_from_given_capacities(kstore: Store) -> None:
    rows = _rows(kstore, by="deployment", capacity_tps={"chat": (100.0, "measured")})
    chat = rows[("chat", "USD")]
    # 400,000 tokens served in 7,200 s of telemetry that could have carried 100 tok/s
    assert chat["capacity_utilization"] == pytest.approx(400_000 / 720_000)
    assert chat["capacity_basis"] == "measured"
    assert rows[("self", "USD")]["capacity_utilization"] is None  # no capacity known


def test_capacity_from_scenarios_is_emulated_without_benchmarks(store: Store) -> None:
    """A scenario naming a deployment gives it an SLO; with no benchmark of its config the
    capacity comes from the emulator's physics and is labelled so; a model the emulator does
    not know gets a warning, not a figure."""
    from unitcost.collectors import deployments as deps_mod

    from unitcost.config import Deployment, Scenario

    seed(store)
    deps_mod.sync(
        store,
        [
            Deployment(
                id="self",
                model="meta-llama/Llama-3.1-8B-Instruct",
                hardware="H100",
                quantization="fp16",
                engine="vllm",
                gpu_count=1,
                price_ref="test/r/gpu1",
            )
        ],
    )
    scenarios = [
        Scenario(
            name="s",
            input_tokens=512,
            output_tokens=128,
            slo_ttft_ms=500,
            slo_tpot_ms=50,
            deployment="self",
        ),
        Scenario(name="c", input_tokens=512, output_tokens=128, slo_ttft_ms=500, deployment="chat"),
    ]
    with store.read() as con:
        report = kpi_report(con, PERIOD, by="deployment", scenarios=scenarios)
    rows = {(r["key"], r["currency"]): r for r in report["rows"]}
    self_row = rows[("self", "USD")]
    assert self_row["capacity_basis"] == "emulated"
    assert 0 < self_row["capacity_utilization"] < 1
    assert rows[("chat", "USD")]["capacity_utilization"] is None
    assert any(w.startswith("chat: no capacity at the SLO") for w in report["warnings"])


def test_cache_hit_rate_good_tokens_and_emulated(kstore: Store) -> None:
    from unitcost.config import Scenario

    chat_slo = Scenario(
        name="chat", input_tokens=256, output_tokens=64, slo_ttft_ms=500, slo_tpot_ms=50,
        deployment="chat",
    )  # fmt: skip
    with kstore.read() as con:
        report = kpi_report(con, PERIOD, by="deployment", scenarios=[chat_slo], capacity_tps={})
    rows = {(r["key"], r["currency"]): r for r in report["rows"]}
    chat = rows[("chat", "USD")]
    assert chat["cache_hit_rate"] == pytest.approx(0.4)
    assert chat["prefill_tokens_saved"] == 400
    # TTFT <= 500 ms: 8 of 10 requests; gaps <= 50 ms: 390,000 of 400,000 tokens
    assert chat["good_output_tokens"] == pytest.approx(400_000 * 0.8 * 0.975)
    assert chat["usd_per_1m_good_output_tokens"] == pytest.approx(10e6 / 312_000)
    assert rows[("self", "USD")]["good_output_tokens"] is None  # no SLO, no histograms
    assert rows[("eu", "EUR")]["emulated"] is True
    assert chat["emulated"] is False


def test_share_within_interpolates_inside_the_bucket() -> None:
    import math

    from unitcost.analytics.kpi import share_within

    buckets = {0.2: 6.0, 0.5: 8.0, 1.0: 9.0, math.inf: 10.0}
    assert share_within(buckets, 0.35) == pytest.approx(0.7)  # 6 + 2 x 0.15 / 0.3
    assert share_within(buckets, 0.1) == pytest.approx(0.3)  # 6 x 0.1 / 0.2
    assert share_within(buckets, 5.0) == pytest.approx(0.9)  # beyond the last finite bound
    assert share_within({math.inf: 0.0}, 1.0) is None


def _totals(rows: dict[tuple[str, str | None], dict[str, Any]]) -> dict[str | None, Any]:
    out: dict[str | None, Any] = {}
    for (_, cur), r in rows.items():
        cost, tokens = out.get(cur, (Decimal(0), 0.0))
        out[cur] = (cost + (r["effective_cost"] or 0), tokens + (r["output_tokens"] or 0))
    return out


def test_by_label_allocates_cost_by_tag_and_adds_up(kstore: Store) -> None:
    """--by label:app: each billing line's cost to its tag's value; 'self' (no line, estimated)
    and the untagged unmapped line to '(no app)'; the rows add up to --by deployment's."""
    rows = _rows(kstore, by="label:app")
    assert set(rows) == {("chat", "USD"), ("eu", "EUR"), ("(no app)", "USD"), ("(no app)", None)}
    assert rows[("chat", "USD")]["effective_cost"] == Decimal("10.00")
    assert rows[("chat", "USD")]["output_tokens"] == 400_000
    assert rows[("eu", "EUR")]["effective_cost"] == Decimal("5.00")
    # 4.00 estimated for 'self' + 0.33 of spend no rule claims, untagged
    assert rows[("(no app)", "USD")]["effective_cost"] == Decimal("4.33")
    assert rows[("(no app)", "USD")]["cost_basis"] == "mixed"
    assert _totals(rows) == _totals(_rows(kstore, by="deployment"))


def test_by_label_takes_a_deployments_series_label_and_warns_when_shared(kstore: Store) -> None:
    """A deployment with no tagged line gets the one value its metric series carry; a
    deployment whose lines carry two values has its cost split by them, its tokens not."""
    with kstore.write() as con:
        con.execute(
            "INSERT INTO metric_series (source, source_kind, metric, series_key, labels, "
            "deployment_id) VALUES ('s', 'scrape', 'm', 'm{team=\"search\"}', "
            "MAP {'team': 'search', 'a.b$': 'odd'}, 'self')"
        )
        for row, tags, cost in [
            (1, '{"app": "chat", "team": "ads", "a.b$": "x"}', "3.00"),
            (2, '{"app": "chat", "team": "search"}', "2.00"),
        ]:
            con.execute(
                "INSERT INTO billing_line_items (source_file, source_row, source_format, Tags, "
                "BilledCost, EffectiveCost, BillingCurrency, ChargePeriodStart, "
                "ChargePeriodEnd, ProviderName) VALUES ('g', ?, 'focus-1.2', ?, ?, ?, 'USD', "
                "?, ?, 'OtherCloud')",  # another provider: its own delivery
                [row, tags, Decimal(cost), Decimal(cost), _ts(D1, 0), _ts(D1, 0) + dt.timedelta(1)],
            )
        billing_ledger.register_inserted(con, "g", "focus-1.2")
    with kstore.read() as con:
        report = kpi_report(con, PERIOD, by="label:team")
    rows = {(r["key"], r["currency"]): r for r in report["rows"]}
    assert rows[("ads", "USD")]["effective_cost"] == Decimal("3.00")
    # 2.00 tagged search + 'self' (estimated 4.00, no line) by its series' label
    assert rows[("search", "USD")]["effective_cost"] == Decimal("6.00")
    assert rows[("search", "USD")]["output_tokens"] == 200_000
    # chat's untagged 10.00 and the unmapped 0.33; chat's tokens go with its largest part
    assert rows[("(no team)", "USD")]["effective_cost"] == Decimal("10.33")
    assert rows[("(no team)", "USD")]["output_tokens"] == 400_000
    assert any("chat: its billing lines carry 2 values of 'team'" in w for w in report["warnings"])
    assert _totals(rows) == _totals(_rows(kstore, by="deployment"))
    # any tag name is a literal key, never a JSON path
    with kstore.read() as con:
        odd = kpi_report(con, PERIOD, by="label:a.b$")
    got = {(r["key"], r["currency"]): r["effective_cost"] for r in odd["rows"]}
    # chat's lines carry one value of it (x): its lines without that tag go to x as well
    assert got[("x", "USD")] == Decimal("15.00") and got[("odd", "USD")] == Decimal("4.00")


def test_by_label_needs_a_key(kstore: Store) -> None:
    with kstore.read() as con, pytest.raises(InputError, match="label:KEY"):
        kpi_report(con, PERIOD, by="label:")


def test_data_days_read_from_rollups_equal_the_views(kstore: Store) -> None:
    """kpi_data_days reads billing_daily and metric_daily (small, every dashboard page runs
    it): the same days as the views the KPIs sum."""
    from unitcost import sqlfiles

    views = """
        WITH days AS (
            SELECT DISTINCT day FROM billing_cost_by_deployment_daily
            UNION
            SELECT DISTINCT CAST(timezone('UTC', interval_start) AS DATE) FROM metric_intervals
        )
        SELECT min(day), max(day), max(day) FILTER (WHERE day < $before) FROM days
    """
    with kstore.read() as con:
        for before in (D0, D1, D1 + dt.timedelta(days=1)):
            got = con.execute(sqlfiles.load("queries", "kpi_data_days"), {"before": before})
            assert got.fetchone() == con.execute(views, {"before": before}).fetchone()
        assert con.execute(views, {"before": D1}).fetchone() == (D0, D1, D0)
