"""Optional access control for a shared dashboard: a password, or Streamlit's OIDC login.

The router calls `require_login()` before it builds the navigation or reads any data, so with
access control on no page and no figure is served before login. Modes (env UNITCOST_DASHBOARD_AUTH,
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


def require_login() -> None:
    """Return when the visitor may see the dashboard; otherwise draw the login and stop."""
    current = mode()
    if current == "none":
        return
    if current == "oidc":
        _require_oidc()
        return
    _require_password()


def _require_password() -> None:
    if st.session_state.get(_AUTHED):
        with st.sidebar:
            if st.button("Log out", key="_unitcost_logout"):
                st.session_state[_AUTHED] = False
                st.rerun()
        return
    expected = os.environ.get(password_env(), "")
    st.title("unitcost")
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


def _require_oidc() -> None:
    if not st.user.is_logged_in:
        st.title("unitcost")
        st.write("This dashboard is shared: log in to see it.")
        if st.button("Log in", key="_unitcost_oidc_login"):
            st.login()
        st.stop()
    with st.sidebar:
        st.caption(f"Logged in as {st.user.get('email') or st.user.get('name') or 'you'}")
        if st.button("Log out", key="_unitcost_oidc_logout"):
            st.logout()
