"""The tier recommendations as the pages show them (from `unitcost recommend`'s stored answers)."""

from __future__ import annotations

import streamlit as st
from unitcost.dashboard import data, queries, ui


def top_savings(sk: queries.Key) -> None:
    """The largest monthly savings the latest recommendations found."""
    if not data.recommendations_available():
        ui.missing(
            "Tier recommendations are not available in this installation",
            "they come from `unitcost recommend` (analytics.recommend), which this version "
            "of unitcost does not have yet.",
        )
        return
    st.caption("Recommendations: see /tiers.")
