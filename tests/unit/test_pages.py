"""The app's pages' signed passes (``b24app.web.pages.Passes``): a salt per page, 30 minutes, the portal and
the person named — and the language helper."""

from __future__ import annotations

import time

import pytest
from flask import Flask

from b24app.web.pages import PASS_TTL, Passes, lang_of


@pytest.fixture
def app() -> Flask:
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "test-secret"
    return app


def test_a_pass_opens_its_own_page_only_and_carries_no_token(app: Flask) -> None:
    accounting, control = Passes("b24app-accounting"), Passes("b24app-control-room")
    with app.app_context():
        token = accounting.issue({"m": "member", "u": 10, "l": "ru"})
        assert accounting.read({"pass": token}) == ({"m": "member", "u": 10, "l": "ru"}, token)
        assert control.read({"pass": token}) is None                      # another page's salt
        assert accounting.read({"pass": token[:-2] + "xx"}) is None         # forged
        assert accounting.read({}) is None
        assert accounting.read({"pass": accounting.issue({"m": "member"})}) is None    # names no person
    with Flask(__name__).app_context() as other:
        other.app.config["SECRET_KEY"] = "another-secret"
        assert accounting.read({"pass": token}) is None                   # another installation's key


def test_a_pass_expires_after_thirty_minutes(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    passes = Passes("b24app-accounting")
    issued = time.time()
    with app.app_context():
        monkeypatch.setattr(time, "time", lambda: issued)
        token = passes.issue({"m": "member", "u": 10})
        monkeypatch.setattr(time, "time", lambda: issued + PASS_TTL - 5)
        assert passes.read({"pass": token}) is not None
        monkeypatch.setattr(time, "time", lambda: issued + PASS_TTL + 5)
        assert passes.read({"pass": token}) is None


def test_english_only_when_asked() -> None:
    assert [lang_of(v) for v in ("en", "EN-us", "ru", "", None, "de")] == ["en", "en", "ru", "ru", "ru", "ru"]
