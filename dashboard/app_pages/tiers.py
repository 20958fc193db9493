"""/tiers: the tier recommendations per scenario, with savings, sensitivity, the autoscaling
profile and why each rejected candidate lost; a scenario's SLO and demand can be edited and
re-solved in place (nothing is stored: `unitcost recommend` stores answers)."""

from __future__ import annotations

from typing import Any

import streamlit as st
from unitcost.dashboard import charts, queries, recommendations, ui

from unitcost.errors import UnitcostError


def _usd(v: Any, digits: int = 2) -> str:
    return "—" if v is None else f"{float(v):,.{digits}f} USD"


def show(s: dict[str, Any], definitions: dict[str, str], key: str) -> None:
    """One scenario's answer (stored, or re-solved on the page)."""
    if s["status"] != "optimal":
        st.warning(f"No fleet meets this scenario: {s.get('reason')}")
    else:
        c = st.columns(4)
        c[0].metric(
            "Fleet cost",
            _usd(s.get("usd_per_hour"), 4) + "/h",
            help=definitions.get("usd_per_hour"),
        )
        c[1].metric(
            "Per 1M output tokens",
            _usd(s.get("usd_per_1m_output_tokens"), 4),
            help=definitions.get("usd_per_1m_output_tokens"),
        )
        c[2].metric(
            "Today's deployment",
            _usd(s.get("current_usd_per_hour"), 4)
            + ("/h" if s.get("current_usd_per_hour") is not None else ""),
            help=definitions.get("current_usd_per_hour"),
        )
        savings = s.get("savings_usd_per_month")
        c[3].metric(
            "Savings per month",
            _usd(savings),
            help=definitions.get("savings_usd_per_month"),
        )
        if savings is not None and savings < 0:
            st.caption(
                f"The recommended fleet costs {_usd(-savings)} a month more than today's "
                "deployment (at the peak demand and SLO of this scenario)."
            )
        st.markdown("**Chosen fleet**")
        ui.table(recommendations.choice_frame(s), f"{key} choice")
    demand = s.get("demand") or {}
    slo = s.get("slo") or {}
    terms = ", ".join(f"{k} {v:g}" for k, v in slo.items() if v is not None) or "none"
    load = f"peak {demand.get('peak_rps')} req/s ({demand.get('peak_basis')})"
    if demand.get("batch_tokens"):
        load = (
            f"batch of {demand['batch_tokens']:,.0f} output tokens within "
            f"{demand.get('deadline_hours')} h"
        )
    st.caption(
        f"SLO: {terms}; demand: {load}; {s.get('candidates_considered', 0)} candidates considered."
    )
    for w in s.get("warnings", []):
        st.warning(w)
    sens = recommendations.sensitivity_frame(s)
    if not sens.empty:
        st.markdown("**Sensitivity**: the choice re-solved under other prices and interruptions")
        ui.table(sens, f"{key} sensitivity")
    auto = recommendations.autoscaling_frame(s)
    if not auto.empty and auto["replicas"].notna().any():
        a = s["autoscaling"]
        ui.chart(
            charts.fig_bars(
                auto,
                "hour_utc",
                {"replicas": "replicas"},
                "Replicas needed by hour of day (UTC)",
                "replicas",
            ),
            auto,
            f"{key} autoscaling",
            caption=f"Scaling with demand: {_usd(a.get('usd_per_day_scaled'))}/day against "
            f"{_usd(a.get('usd_per_day_fixed'))}/day for a fixed fleet sized for the peak, "
            f"{_usd(a.get('savings_usd_per_month'))} a month. {a.get('note', '')}",
        )
    rejected = recommendations.rejected_frame(s)
    if not rejected.empty:
        with st.expander(f"Why the other {len(rejected)} candidates lost"):
            counts = rejected["why"].value_counts()
            st.caption(" · ".join(f"{n} {why}" for why, n in counts.items()))
            ui.table(rejected, f"{key} rejected")


def edit(s: dict[str, Any], sk: queries.Key) -> None:
    """Edit the scenario's SLO and demand, re-solve it without storing anything."""
    settings = queries.loaded_settings().settings
    conf = next((x for x in settings.scenarios if x.name == s["scenario"]), None)
    if conf is None:
        st.caption("This scenario is no longer in the config: it cannot be re-solved here.")
        return
    with st.form(f"edit-{conf.name}"):
        st.markdown("**Edit and re-solve** (the answer is shown here, not stored)")
        c = st.columns(4)
        ttft = c[0].number_input(
            "TTFT SLO (ms)", min_value=0.0, value=float(conf.slo_ttft_ms or 0), help="0 = none"
        )
        tpot = c[1].number_input(
            "TPOT SLO (ms)", min_value=0.0, value=float(conf.slo_tpot_ms or 0), help="0 = none"
        )
        e2el = c[2].number_input(
            "E2E SLO (ms)", min_value=0.0, value=float(conf.slo_e2el_ms or 0), help="0 = none"
        )
        peak_default = float(conf.peak_rps or (s.get("demand") or {}).get("peak_rps") or 1.0)
        peak = c[3].number_input("Peak req/s", min_value=0.001, value=peak_default)
        submitted = st.form_submit_button("Re-solve")
    if not submitted:
        return
    update: dict[str, Any] = {
        "slo_ttft_ms": ttft or None,
        "slo_tpot_ms": tpot or None,
        "slo_e2el_ms": e2el or None,
    }
    if not conf.is_batch:
        update["peak_rps"] = peak
    edited = conf.model_copy(update=update)
    try:
        answer = queries.resolve_scenario(sk, edited.model_dump_json())
    except UnitcostError as exc:
        st.error(f"{exc}")
        return
    st.success(
        "Re-solved with the edited SLO and demand (not stored: `unitcost recommend` stores "
        "answers)."
    )
    show(answer["scenarios"][0], answer.get("definitions", {}), f"{conf.name} edited")


def main() -> None:
    st.title("Tiers")
    sk = queries.store_key()
    latest = queries.latest_recommendations(sk)
    if not latest["scenarios"]:
        ui.missing(
            "No recommendations stored yet",
            "`unitcost recommend` solves the config's [[scenarios]] (model, quantization, GPU "
            "type, spot) and stores the answer this page shows.",
        )
        return
    summary = recommendations.summary_frame(latest)
    ui.table(summary, "recommendations")
    st.caption(
        "The newest answer of `unitcost recommend` per scenario (run_at: when it was solved). "
        "Emulated candidates are modelled by the emulator's physics, not measured."
    )
    names = [s["scenario"] for s in latest["scenarios"]]
    name = st.selectbox("Scenario", names, key="tiers_scenario")
    s = latest["scenarios"][names.index(name)]
    st.subheader(name)
    show(s, latest.get("definitions", {}), name)
    edit(s, sk)
    ui.definitions(latest.get("definitions", {}))


main()
