"""The dashboard's router: access control, the shared sidebar filters, then the chosen page.

Run with `unitcost dashboard` (or `streamlit run` on this file with UNITCOST_DB set). Pages live
in app_pages/, one module per page, and hold widgets and layout only.
"""

from __future__ import annotations

import streamlit as st
from unitcost.dashboard import auth, queries, serve, sidebar, ui
from unitcost.dashboard.filters import conflicts

from unitcost.errors import UnitcostError

PAGES = [
    ("app_pages/overview.py", "Overview", None, ":material/dashboard:"),
    ("app_pages/cost.py", "Cost per token", "cost", ":material/payments:"),
    ("app_pages/utilization.py", "Utilization", "utilization", ":material/memory:"),
    ("app_pages/benchmarks.py", "Benchmarks", "benchmarks", ":material/speed:"),
    ("app_pages/tiers.py", "Tiers", "tiers", ":material/stacks:"),
    ("app_pages/review.py", "Quarterly review", "review", ":material/summarize:"),
    ("app_pages/sources.py", "Sources", "sources", ":material/database:"),
]


def main() -> None:
    serve.freeze_heap_once()
    st.set_page_config(page_title="unitcost", page_icon=":material/payments:", layout="wide")
    authed = auth.logged_in()
    nav = st.navigation(
        [
            st.Page(path, title=title, url_path=url, icon=icon, default=url is None)
            for path, title, url, icon in PAGES
        ],
        position="sidebar" if authed else "hidden",
    )
    if not authed:
        auth.login_form()  # stops the run: no page, no query before login
    auth.logout_control()
    try:
        queries.store().require_current()
        sk = queries.store_key()
        f = sidebar.render(sk)
        st.session_state[ui.FILTERS_KEY] = f
        if f.period is not None:
            ui.labels_banner(queries.data_labels(sk, f.period))
        clash = conflicts(f, queries.filter_options(sk))
        if clash:
            st.warning(f"These filters select nothing: {clash}.")
    except UnitcostError as exc:
        st.error(f"{exc}")
        st.stop()
    nav.run()


main()
