"""The sidebar filters, read from the URL on a session's first run and written back each run."""

from __future__ import annotations

from datetime import timedelta

import streamlit as st
from unitcost.analytics.period import Period, parse_period
from unitcost.dashboard import queries
from unitcost.dashboard.filters import (
    ALL,
    FILTER_KEYS,
    FilterOptions,
    Filters,
    from_params,
    period_choices,
    period_param,
    to_params,
)

from unitcost.errors import InputError

_INIT = "_uc_filters_init"
_IGNORED = "_uc_ignored"
_WIDGET = {k: f"f_{k}" for k in FILTER_KEYS}


def _label(p: Period, default: Period | None) -> str:
    last = p.end - timedelta(days=1)
    text = p.label if p.kind == "range" else f"{p.label} ({p.start:%b %d} - {last:%b %d})"
    return f"{text} · default" if default is not None and p == default else text


def _init_from_url(options: FilterOptions, default: Period | None) -> None:
    """First run of a session: the URL's filters, validated, become the widgets' state."""
    parsed = from_params(st.query_params.to_dict(), options, default)
    st.session_state[_IGNORED] = parsed.ignored
    st.session_state[_WIDGET["period"]] = period_param(parsed.period) if parsed.period else None
    for k in ("deployment", "model", "hardware"):
        st.session_state[_WIDGET[k]] = getattr(parsed, k) or ALL
    st.session_state[_INIT] = True


def render(sk: queries.Key) -> Filters:
    """Draw the filters, put them in the URL and return them."""
    options = queries.filter_options(sk)
    default = queries.default_period_of(sk)
    if not st.session_state.get(_INIT):
        _init_from_url(options, default)
    choices = {period_param(p): p for p in period_choices(options, default)}
    chosen = st.session_state.get(_WIDGET["period"])
    if isinstance(chosen, str) and chosen not in choices:
        try:  # a week or a range from a link: offered as it is
            choices[chosen] = parse_period(chosen)
        except InputError:
            chosen = None
    if chosen is None and choices:
        st.session_state[_WIDGET["period"]] = next(iter(choices))
    for k, known in (
        ("deployment", options.deployments),
        ("model", options.models),
        ("hardware", options.hardware),
    ):
        if st.session_state.get(_WIDGET[k]) not in (ALL, *known):
            st.session_state[_WIDGET[k]] = ALL

    with st.sidebar:
        st.subheader("Filters")
        if choices:
            st.selectbox(
                "Period",
                list(choices),
                format_func=lambda v: _label(choices[v], default),
                key=_WIDGET["period"],
                help="Quarters and months with data; the default is `unitcost kpi`'s "
                "(the last full quarter with data). Any period form works in the URL: "
                "period=2026Q3, 2026-09, 2026-W37 or 2026-09-01..2026-09-30.",
            )
        else:
            st.caption("Period: no cost or telemetry in the store yet.")
        st.selectbox("Deployment", [ALL, *options.deployments], key=_WIDGET["deployment"])
        st.selectbox("Model", [ALL, *options.models], key=_WIDGET["model"])
        st.selectbox("Hardware", [ALL, *options.hardware], key=_WIDGET["hardware"])
        if st.session_state.get(_IGNORED):
            names = ", ".join(st.session_state[_IGNORED])
            st.caption(f"The link's {names} filter was not recognised and was ignored.")

    def pick(k: str) -> str | None:
        v = st.session_state.get(_WIDGET[k])
        return None if v in (None, ALL) else str(v)

    period_value = st.session_state.get(_WIDGET["period"])
    f = Filters(
        period=choices.get(period_value) if isinstance(period_value, str) else None,
        deployment=pick("deployment"),
        model=pick("model"),
        hardware=pick("hardware"),
        ignored=tuple(st.session_state.get(_IGNORED, ())),
    )
    st.query_params.from_dict(to_params(f))
    return f
