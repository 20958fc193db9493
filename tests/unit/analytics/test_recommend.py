"""`recommend()` on a real DuckDB file: hand-worked choices (the fleet of
tests/unit/analytics/recommenddata.py), batch, autoscaling, sensitivity, storage, the model rule
and emulated demand in the JSON, and every bad input as one line.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from unitcost.analytics.recommend import latest_recommendations, recommend

from tests.unit.analytics.recommenddata import MODEL, add_fleet, add_traffic, price_row
from unitcost import prices
from unitcost.config import Scenario, Settings
from unitcost.errors import ConfigError
from unitcost.store import Store


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
    add_fleet(store)
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


def test_sensitivity_considers_price_rows_dominated_today(store: Store) -> None:
    add_fleet(store)
    with store.write() as con:  # A's config at a second row, 2.10: dominated by 2.00 today
        prices.sync_config(
            con,
            [price_row("L40S", "big", "2.00"), price_row("L4", "small", "1.45"),
             price_row("L40S", "big2", "2.10")],
        )  # fmt: skip
    with store.read() as con:
        s = recommend(con, _settings(_scenario()))["scenarios"][0]
    assert s["usd_per_hour"] == pytest.approx(4.90)  # 1 A @ 2.00 + 2 B @ 1.45
    assert any("costs more than the same config" in r["reason"] for r in s["rejected"])
    # +20% on the chosen rows (A 2.40, B 1.74): keeping them costs 5.88; 1 A at the other
    # row (2.10) + 2 B = 5.58 beats it (3 A @ 2.10 = 6.30, 2 A + 1 B = 5.94, 4 B = 6.96).
    plus = next(c for c in s["sensitivity"] if c["case"].endswith("+20%"))
    assert plus["usd_per_hour_if_kept"] == pytest.approx(5.88)
    assert plus["usd_per_hour"] == pytest.approx(5.58)
    assert plus["change"] == "material" and plus["choice_changed"]


def test_infeasible_slo_says_every_config_misses_it(store: Store) -> None:
    add_fleet(store)
    with store.read() as con:
        s = recommend(con, _settings(_scenario(slo_tpot_ms=5.0)))["scenarios"][0]
    assert s["status"] == "infeasible" and s["choice"] == [] and s["usd_per_hour"] is None
    assert s["reason"].startswith("no candidate meets the SLO (tpot:5 ms for 90% of requests)")
    assert {r["reason"].split(" (")[0] for r in s["rejected"]} == {"misses the SLO"}


def test_infeasible_quota_names_the_binding_quota(store: Store) -> None:
    add_fleet(store)
    with store.read() as con:
        s = recommend(con, _settings(_scenario(quotas={"L40S": 0, "L4": 2})))["scenarios"][0]
    # At most 2 x 3 = 6 req/s of L4 (L40S quota 0), against 10 req/s.
    assert s["status"] == "infeasible"
    assert "the GPU quotas bind: at most 6 req/s" in s["reason"]
    assert "against a peak of 10 req/s" in s["reason"]


def test_batch_work_buys_the_cheapest_tokens_by_the_deadline(store: Store) -> None:
    add_fleet(store)
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
    add_fleet(store)
    add_traffic(store)
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
    # The deployment's model is the rule without allowed_models, and the JSON says so.
    assert s["models"]["rule"] == "deployment" and s["models"]["considered"] == [MODEL]
    assert s["models"]["why"].startswith(
        "no allowed_models or quality_floor: only the model deployment 'chat' serves today "
        f"({MODEL}), so quantization, GPU and price may change but not the model"
    )
    assert s["demand"]["emulated"] is False
    assert not any("EMULATED telemetry" in w for w in s["warnings"])
    # No kpi yet -> a warning line.
    assert s["current_usd_per_hour"] is None
    assert any("current cost" in w for w in s["warnings"])


def test_demand_from_emulated_telemetry_is_flagged(store: Store) -> None:
    add_fleet(store)
    add_traffic(store, {"emulated": "true"})  # what `emulate offline --to-store` writes
    sc = _scenario(peak_rps=None, deployment="chat")
    with store.read() as con:
        out = recommend(con, _settings(sc))
    s = out["scenarios"][0]
    assert "demand.emulated" in out["definitions"]
    assert s["demand"]["emulated"] is True and s["demand"]["peak_basis"] == "metrics"
    assert s["demand"]["peak_rps"] == pytest.approx(7.75)  # the figures are still derived
    assert any(
        "the demand of deployment 'chat' comes from EMULATED telemetry" in w
        and "its peak and hourly profile are simulated" in w
        for w in s["warnings"]
    )
    assert s["models"] == {
        "rule": "allowed_models",
        "considered": [MODEL],
        "why": f"allowed_models: only {MODEL}",
    }


def test_results_are_stored_with_their_time_and_the_latest_is_read_back(store: Store) -> None:
    add_fleet(store)
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
    add_fleet(store)
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
    add_fleet(store)
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
    add_fleet(store)
    with store.write() as con:
        con.execute("INSERT INTO deployments (deployment_id, model) VALUES ('idle', ?)", [MODEL])
    with store.read() as con, pytest.raises(ConfigError) as exc:
        recommend(con, _settings(_scenario(peak_rps=None, deployment="idle")))
    assert "deployment 'idle' has no traffic metrics" in str(exc.value)
    assert "set scenarios[0].peak_rps" in str(exc.value)
