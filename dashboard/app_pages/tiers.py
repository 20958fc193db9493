"""/tiers: the tier recommendations per scenario, with savings, sensitivity, the autoscaling
profile and why each rejected candidate lost; a scenario's SLO and demand can be edited and
re-solved in place."""

from __future__ import annotations

import streamlit as st
from unitcost.dashboard import queries, recommendations


def main() -> None:
    st.title("Tiers")
    recommendations.top_savings(queries.store_key())


main()
