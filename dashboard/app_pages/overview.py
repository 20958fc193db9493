"""/overview (being wired to the analytics layer)."""

from __future__ import annotations

import streamlit as st

st.title("Overview")
st.info("Waiting for the analytics layer (unitcost kpi / recommend).")
