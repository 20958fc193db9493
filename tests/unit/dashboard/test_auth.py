"""Access control: with it on, no page and no figure before login."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from unitcost.dashboard import auth

from tests.unit.dashboard.conftest import APP
from unitcost.store import Store


def _shows_data(at: AppTest) -> bool:
    return bool(at.dataframe or at.get("plotly_chart") or at.get("metric"))


@pytest.fixture
def locked(seeded_app: object, store: Store, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("UNITCOST_DASHBOARD_PASSWORD", "correct horse")
    return store.path


def _app() -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    return at


def test_password_gate(locked: Path) -> None:
    at = _app().run()
    assert not at.exception
    assert [t.value for t in at.title] == ["unitcost"] and not _shows_data(at)
    # a page asked for by its path is not served either
    at.switch_page("app_pages/sources.py").run()
    assert [t.value for t in at.title] == ["unitcost"] and not _shows_data(at)
    at.text_input(key="_unitcost_password").set_value("wrong")
    at.button[0].click().run()  # the form's submit button
    assert [e.value for e in at.error] == ["Wrong password."] and not _shows_data(at)
    assert "correct horse" not in str(at.session_state.to_dict())
    at.text_input(key="_unitcost_password").set_value("correct horse")
    at.button[0].click().run()
    assert not at.exception
    at.switch_page("app_pages/sources.py").run()
    assert [t.value for t in at.title][-1] == "Sources" and _shows_data(at)
    assert "correct horse" not in str(at.session_state.to_dict())


def test_password_mode_fails_closed() -> None:
    assert auth.mode({"UNITCOST_DASHBOARD_PASSWORD": "x"}) == "password"
    assert auth.mode({"UNITCOST_DASHBOARD_AUTH": "none", "UNITCOST_DASHBOARD_PASSWORD": "x"}) == (
        "password"
    )
    assert auth.mode({"UNITCOST_DASHBOARD_AUTH": "typo"}) == "password"
    assert auth.mode({}) == "none"
    assert auth.mode({"UNITCOST_DASHBOARD_PASSWORD_ENV": "TEAM_PW", "TEAM_PW": "x"}) == "password"
    assert not auth.password_matches("", "")
    assert auth.password_matches("p", "p") and not auth.password_matches("p", "q")


def test_password_mode_without_a_password_lets_nobody_in(
    seeded_app: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UNITCOST_DASHBOARD_AUTH", "password")
    at = _app().run()
    assert "nobody can log in" in at.error[0].value and not _shows_data(at)


def test_oidc_gate(seeded_app: object, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UNITCOST_DASHBOARD_AUTH", "oidc")
    at = _app()
    at.user = {"is_logged_in": False}
    at.run()
    assert not at.exception and not _shows_data(at)
    assert [b.proto.label for b in at.button] == ["Log in"]
    at = _app()
    at.user = {"is_logged_in": True, "email": "lead@example.com"}
    at.run()
    at.switch_page("app_pages/sources.py").run()
    assert not at.exception and _shows_data(at)
    assert "Logged in as lead@example.com" in [c.value for c in at.caption]
