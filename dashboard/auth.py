"""Optional access control for a shared dashboard: a password, or Streamlit's OIDC login.

The router asks `logged_in()` before it runs any page or reads any data, and otherwise draws
`login_form()`, which stops the run: with access control on, no page and no figure is served
before login. (The pages are registered first, hidden, so a link to /cost still lands on /cost
after login.) Modes (env UNITCOST_DASHBOARD_AUTH,
set by `unitcost dashboard --auth`):
- `password`: the password is the value of an environment variable (default
  UNITCOST_DASHBOARD_PASSWORD); it is compared in constant time and never stored in the session.
  The mode is also on whenever that variable is set, so running the app without the CLI cannot
  silently drop the password.
- `oidc`: Streamlit's own `st.login()` with the provider configured in `.streamlit/secrets.toml`
  (`[auth]`: redirect_uri, cookie_secret, client_id, client_secret, server_metadata_url).
- `none` (default): no login, for a dashboard bound to 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from collections.abc import Mapping

import streamlit as st

MODE_ENV = "UNITCOST_DASHBOARD_AUTH"
PASSWORD_ENV_NAME = "UNITCOST_DASHBOARD_PASSWORD_ENV"  # which variable holds the password
DEFAULT_PASSWORD_ENV = "UNITCOST_DASHBOARD_PASSWORD"
_AUTHED = "_unitcost_authenticated"
_FAILURES = "_unitcost_login_failures"


def mode(environ: Mapping[str, str] | None = None) -> str:
    """The access-control mode in force: password whenever a password is set."""
    environ = os.environ if environ is None else environ
    if environ.get(password_env(environ)):
        return "password"
    chosen = environ.get(MODE_ENV, "none")
    return chosen if chosen in ("none", "password", "oidc") else "password"


def password_env(environ: Mapping[str, str] | None = None) -> str:
    environ = os.environ if environ is None else environ
    return environ.get(PASSWORD_ENV_NAME) or DEFAULT_PASSWORD_ENV


def password_matches(given: str, expected: str) -> bool:
    """Constant-time comparison (of digests, so the length of the password does not leak)."""
    a = hashlib.sha256(given.encode()).digest()
    b = hashlib.sha256(expected.encode()).digest()
    return bool(expected) and hmac.compare_digest(a, b)


def logged_in() -> bool:
    """Whether this session may see the dashboard (always, without access control)."""
    current = mode()
    if current == "none":
        return True
    if current == "oidc":
        return bool(st.user.is_logged_in)
    return bool(st.session_state.get(_AUTHED))


def login_form() -> None:
    """Draw the login for the mode in force, then stop the run: nothing after it is served."""
    st.title("unitcost")
    if mode() == "oidc":
        st.write("This dashboard is shared: log in to see it.")
        if st.button("Log in", key="_unitcost_oidc_login"):
            st.login()
        st.stop()
    expected = os.environ.get(password_env(), "")
    if not expected:
        # Fail closed: the mode says password, but there is none to compare with.
        st.error(
            f"Access control is on but {password_env()} is not set in the dashboard's "
            "environment: nobody can log in. Set it and restart `unitcost dashboard`."
        )
        st.stop()
    with st.form("login", clear_on_submit=True):
        given = st.text_input("Password", type="password", key="_unitcost_password")
        submitted = st.form_submit_button("Log in")
    if submitted:
        # clear_on_submit: the typed value does not stay in the session past this check.
        if password_matches(given, expected):
            st.session_state[_AUTHED] = True
            st.session_state.pop(_FAILURES, None)
            st.rerun()
        failures = int(st.session_state.get(_FAILURES, 0)) + 1
        st.session_state[_FAILURES] = failures
        time.sleep(min(0.25 * 2**failures, 4.0))  # slows guessing, session by session
        st.error("Wrong password.")
    st.stop()


def logout_control() -> None:
    """Who is logged in and a way out, in the sidebar (nothing without access control)."""
    current = mode()
    if current == "none":
        return
    with st.sidebar:
        if current == "oidc":
            who = st.user.get("email") or st.user.get("name") or "you"
            st.caption(f"Logged in as {who}")
            if st.button("Log out", key="_unitcost_oidc_logout"):
                st.logout()
        elif st.button("Log out", key="_unitcost_logout"):
            st.session_state[_AUTHED] = False
            st.rerun()
