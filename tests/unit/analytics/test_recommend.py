"""`recommend()` on a real DuckDB file: hand-worked choices, batch, autoscaling, storage, and
every bad input as one line.

The model, acme/chat-7b, is not in the emulator's catalog, so only the measured configs below
are candidates and every figure can be worked out by hand:
  A on L40S: 4 req/s per replica at TPOT 15 ms (concurrency 4 at TPOT 9 ms: e2e 100 + 100 x 9 =
             1000 ms -> 4 / 1.0 s); 2.00 USD/hour on demand.
  B on L4:   3 req/s (concurrency 3, e2e 1.0 s); 1.45 USD/hour on demand.
Each also has a run at twice the load with TPOT 20 ms, which misses the SLO.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from unitcost.analytics.recommend import latest_recommendations, recommend

from tests.unit.analytics.benchdata import add_run
from unitcost import prices
from unitcost.config import PriceRow, Scenario, Settings
from unitcost.errors import ConfigError
from unitcost.store import Store

MODEL = "acme/chat-7b"


def _price(gpu: str, itype: str, od: str) -> PriceRow:
    return PriceRow(
        provider="test", region="r1", instance_type=itype, gpu_model=gpu, gpu_count=1,
        on_demand_usd_per_hour=Decimal(od), source="test", as_of="2026-09",
    )  # fmt: skip


def _fleet(store: Store) -> None:
    with store.write() as con:
        for hw, c in (("L40S", 4), ("L4", 3)):
            add_run(con, f"{hw}-ok", model=MODEL, hardware=hw, concurrency=c, tpot_ms=9.0,
                    capacity_search=True)  # fmt: skip
            add_run(con, f"{hw}-over", model=MODEL, hardware=hw, concurrency=2 * c,
                    tpot_ms=20.0, capacity_search=True)  # fmt: skip
        prices.sync_config(con, [_price("L40S", "big", "2.00"), _price("L4", "small", "1.45")])


def _scenario(**kw: object) -> Scenario:
    base: dict[str, object] = dict(
        name="chat", input_tokens=512, output_tokens=101, slo_tpot_ms=15.0, peak_rps=10.0,
        allowed_models=[MODEL],
    )  # fmt: skip
    base.update(kw)
    return Scenario.model_validate(base)


def _settings(*scenarios: Scenario) -> Settings:
    return Settings(scenarios=list(scenarios))


def test_a_mix_of_gpu_types_is_chosen_by_hand_arithmetic(store: Store) -> None:
    _fleet(store)
    with store.read() as con:
        out = recommend(con, _settings(_scenario()), "chat")
    s = out["scenarios"][0]
    assert s["status"] == "optimal" and s["reason"] is None
    # A alone: ceil(10 / 4) = 3 x 2.00 = 6.00; B alone: ceil(10 / 3) = 4 x 1.45 = 5.80;
    # 1 A + 2 B = 4 + 6 = 10 req/s for 2.00 + 2.90 = 4.90 USD/hour.
    got = {c["candidate"]["hardware"]: c["replicas_on_demand"] for c in s["choice"]}
    assert got == {"L40S": 1, "L4": 2}
    assert s["usd_per_hour"] == pytest.approx(4.90)
    # 4.90 / (10 req/s x 101 tokens x 3600 s) x 1e6 = 1.34763 USD per 1M output tokens.
    assert s["usd_per_1m_output_tokens"] == pytest.approx(4.90 / (10 * 101 * 3600) * 1e6)
    a = next(c for c in s["choice"] if c["candidate"]["hardware"] == "L40S")
    assert a["capacity_rps_per_replica"] == pytest.approx(4.0)
    assert a["candidate"]["basis"] == "measured"
    assert a["candidate"]["run_ids"] == ["L40S-ok", "L40S-over"]
    assert s["current_usd_per_hour"] is None and s["savings_usd_per_month"] is None
    # Sensitivity: B +20% (1.74) -> 1 A + 2 B = 5.48 still beats 3 A = 6.00.
    plus = next(c for c in s["sensitivity"] if c["case"].endswith("+20%"))
    assert plus["usd_per_hour"] == pytest.approx(2.40 + 2 * 1.74) and not plus["choice_changed"]
    assert "definitions" in out and "usd_per_hour" in out["definitions"]


def test_infeasible_slo_says_every_config_misses_it(store: Store) -> None:
    _fleet(store)
    with store.read() as con:
        s = recommend(con, _settings(_scenario(slo_tpot_ms=5.0)))["scenarios"][0]
    assert s["status"] == "infeasible" and s["choice"] == [] and s["usd_per_hour"] is None
    assert s["reason"].startswith("no candidate meets the SLO (tpot:5 ms for 90% of requests)")
    assert {r["reason"].split(" (")[0] for r in s["rejected"]} == {"misses the SLO"}


def test_infeasible_quota_names_the_binding_quota(store: Store) -> None:
    _fleet(store)
    with store.read() as con:
        s = recommend(con, _settings(_scenario(quotas={"L40S": 0, "L4": 2})))["scenarios"][0]
    # At most 2 x 3 = 6 req/s of L4 (L40S quota 0), against 10 req/s.
    assert s["status"] == "infeasible"
    assert "the GPU quotas bind: at most 6 req/s" in s["reason"]
    assert "against a peak of 10 req/s" in s["reason"]


def test_batch_work_buys_the_cheapest_tokens_by_the_deadline(store: Store) -> None:
    _fleet(store)
    sc = _scenario(peak_rps=None, slo_tpot_ms=None, batch_tokens=10e6, deadline_hours=4)
    with store.read() as con:
        s = recommend(con, _settings(sc))["scenarios"][0]
    # Full load: A's fastest run serves 4 req/s x 101 = 404 tok/s for 2.00 (1.3751 USD/1M);
    # B's 3 x 101 = 303 tok/s for 1.45 (1.3293 USD/1M): B. 10e6 / (303 x 3600) = 9.1675
    # replica-hours x 1.45 = 13.2929 USD; 9.1675 / 4 h -> 3 replicas at once.
    assert s["kind"] == "batch" and s["status"] == "optimal"
    assert s["usd_total"] == pytest.approx(10e6 / (303 * 3600) * 1.45, rel=1e-6)
    assert [(c["candidate"]["hardware"], c["replicas_on_demand"]) for c in s["choice"]] == [
        ("L4", 3)
    ]
    assert s["usd_per_1m_output_tokens"] == pytest.approx(1.45 / (303 * 3600) * 1e6, rel=1e-6)
    a = next(r for r in s["rejected"] if r["candidate"]["hardware"] == "L40S")
    assert a["reason"].startswith("costs more: 1.3751 USD per 1M output tokens")


def test_peak_and_autoscaling_from_the_deployments_traffic(store: Store) -> None:
    _fleet(store)
    start = datetime(2026, 9, 1, tzinfo=UTC)
    with store.write() as con:
        con.execute(
            "INSERT INTO deployments (deployment_id, model, hardware) VALUES ('chat', ?, 'L40S')",
            [MODEL],
        )
        rows = []
        for minute in range(2 * 24 * 60):  # two days of 1-minute intervals
            ts = start + timedelta(minutes=minute)
            rps = 2 + ts.hour / 4  # hour h: 2 + h/4 req/s, flat within the hour
            rows.append(("chat", ts, 60, rps * 60, 0.0, "test"))
        con.executemany(
            "INSERT INTO metric_intervals (deployment_id, interval_start, interval_s, "
            "requests_ok, requests_failed, source) VALUES (?, ?, ?, ?, ?, ?)",
            rows,
        )
    sc = _scenario(peak_rps=None, deployment="chat", allowed_models=[], quotas={"L4": 0})
    with store.read() as con:
        s = recommend(con, _settings(sc))["scenarios"][0]
    # Peak: hour 23, 2 + 23/4 = 7.75 req/s; L4 quota 0 leaves A: ceil(7.75 / 4) = 2 x 2.00.
    assert s["demand"]["peak_rps"] == pytest.approx(7.75) and s["demand"]["peak_basis"] == "metrics"
    assert s["usd_per_hour"] == pytest.approx(4.00)
    # Hours 0-8 (<= 4 req/s) need 1 replica, hours 9-23 need 2: 9 x 2.00 + 15 x 4.00 = 78.00
    # USD/day scaled vs 24 x 4.00 = 96.00 fixed: 18.00 x 365/12 = 547.50 USD/month.
    auto = s["autoscaling"]
    assert [h["replicas"] for h in auto["hours"]] == [1] * 9 + [2] * 15
    assert auto["usd_per_day_scaled"] == pytest.approx(78.0)
    assert auto["usd_per_day_fixed"] == pytest.approx(96.0)
    assert auto["savings_usd_per_month"] == pytest.approx(547.5)
    # The deployment's model is the rule without allowed_models; no kpi yet -> a warning line.
    assert s["current_usd_per_hour"] is None
    assert any("current cost" in w for w in s["warnings"])


def test_results_are_stored_with_their_time_and_the_latest_is_read_back(store: Store) -> None:
    _fleet(store)
    t1, t2 = datetime(2026, 9, 1, tzinfo=UTC), datetime(2026, 9, 2, tzinfo=UTC)
    tight = _scenario(name="tight", slo_tpot_ms=5.0)
    with store.write() as con:
        first = recommend(con, _settings(_scenario(), tight), save=True, run_at=t1)
        recommend(con, _settings(_scenario(peak_rps=4.0), tight), "chat", save=True, run_at=t2)
    with store.read() as con:
        latest = latest_recommendations(con)
        n = con.execute("SELECT count(*) FROM recommendations").fetchone()
    assert n == (3,)
    by_name = {s["scenario"]: s for s in latest["scenarios"]}
    assert by_name["chat"]["run_at"] == t2.isoformat()
    assert by_name["chat"]["usd_per_hour"] == pytest.approx(2.00)  # 4 req/s: one A
    assert by_name["tight"]["run_id"] == first["run_id"]
    assert by_name["tight"]["status"] == "infeasible"


def test_an_edited_scenario_object_is_solved_without_writing(store: Store) -> None:
    _fleet(store)
    with store.read() as con:  # read-only: any write would fail
        s = recommend(con, Settings(), _scenario(name="what-if", peak_rps=3.0))["scenarios"][0]
    assert s["scenario"] == "what-if" and s["usd_per_hour"] == pytest.approx(1.45)


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"deployment": "nope"}, "scenarios[0].deployment: no deployment 'nope' in the config"),
        ({"allowed_models": ["acme/none"]}, "scenarios[0].allowed_models: 'acme/none' has no"),
        ({"peak_rps": None}, "scenarios[0]: no peak_rps, and no deployment to derive it from"),
        ({"hosted_models": ["gpt-4o-minii"]}, "scenarios[0].hosted_models: 'gpt-4o-minii'"),
    ],
)
def test_bad_input_is_one_clear_line(store: Store, kw: dict[str, object], message: str) -> None:
    _fleet(store)
    with store.read() as con, pytest.raises(ConfigError) as exc:
        recommend(con, _settings(_scenario(**kw)))
    assert str(exc.value).startswith(message)
    assert "\n" not in str(exc.value)


def test_unknown_or_missing_scenarios(store: Store) -> None:
    with store.read() as con:
        with pytest.raises(ConfigError, match=r"--scenario 'x': no such scenario \(known: chat\)"):
            recommend(con, _settings(_scenario()), "x")
        with pytest.raises(ConfigError, match=r"no \[\[scenarios\]\] in the config"):
            recommend(con, Settings())


def test_a_deployment_with_no_traffic_needs_a_peak(store: Store) -> None:
    _fleet(store)
    with store.write() as con:
        con.execute("INSERT INTO deployments (deployment_id, model) VALUES ('idle', ?)", [MODEL])
    with store.read() as con, pytest.raises(ConfigError) as exc:
        recommend(con, _settings(_scenario(peak_rps=None, deployment="idle")))
    assert "deployment 'idle' has no traffic metrics" in str(exc.value)
    assert "set scenarios[0].peak_rps" in str(exc.value)
