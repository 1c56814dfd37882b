"""OAuth tokens, the token endpoint, and the simulated install/uninstall of the local app."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

from b24sandbox import SandboxPortal, oauth
from b24sandbox.shared import load_example
from tests.fixtures.sandbox import Receiver
from tests.fixtures.waits import WAIT


def refresh(portal: SandboxPortal, client_id: str, secret: str, token: str) -> requests.Response:
    params = {"grant_type": "refresh_token", "client_id": client_id, "client_secret": secret, "refresh_token": token}
    return requests.get(portal.oauth_url, params=params, verify=portal.ca_bundle, timeout=10)


def call(portal: SandboxPortal, method: str, token: str, **params: Any) -> requests.Response:
    return requests.post(f"{portal.base_url}/rest/{method}", json={"auth": token, **params},
                         verify=portal.ca_bundle, timeout=10)


def test_refresh_rotates_the_refresh_token(sandbox: SandboxPortal) -> None:
    app = sandbox.install_app(handler_url="http://127.0.0.1:9/app")
    sandbox.clock.advance(timedelta(minutes=61))

    first = refresh(sandbox, app.client_id, app.client_secret, app.tokens["refresh_token"])
    reused = refresh(sandbox, app.client_id, app.client_secret, app.tokens["refresh_token"])

    assert first.status_code == 200
    body = first.json()
    documented = load_example("oauth.refresh_token")["response"]["body"]
    assert set(body) == set(documented)
    assert body["refresh_token"] != app.tokens["refresh_token"]
    assert body["expires"] == int(sandbox.clock.timestamp()) + 3600 and body["expires_in"] == 3600
    assert (body["member_id"], body["client_endpoint"], body["user_id"]) == (app.member_id, app.client_endpoint, 1)
    assert call(sandbox, "app.info", body["access_token"]).status_code == 200
    assert reused.status_code == 400
    assert reused.json()["error"] == "invalid_grant"
    assert sandbox.refresh_count == 1


def test_refresh_needs_the_app_credentials(sandbox: SandboxPortal) -> None:
    app = sandbox.install_app(handler_url="http://127.0.0.1:9/app")

    wrong_secret = refresh(sandbox, app.client_id, "nope", app.tokens["refresh_token"])
    wrong_grant = requests.get(sandbox.oauth_url, params={"grant_type": "password"}, verify=sandbox.ca_bundle, timeout=10)

    assert (wrong_secret.status_code, wrong_secret.json()["error"]) == (401, "invalid_client")
    assert (wrong_grant.status_code, wrong_grant.json()["error"]) == (400, "invalid_request")
    assert refresh(sandbox, app.client_id, app.client_secret, app.tokens["refresh_token"]).status_code == 200


def test_tokens_belong_to_a_user(sandbox: SandboxPortal) -> None:
    sandbox.install_app(handler_url="http://127.0.0.1:9/app")
    anna = sandbox.state.user_by_login("a.ivanova")
    with sandbox.state.lock:
        tokens = oauth.issue_user_tokens(sandbox.state, anna.id)

    answer = call(sandbox, "user.current", tokens["access_token"])

    assert answer.json()["result"]["ID"] == str(anna.id)
    assert tokens["user_id"] == anna.id and tokens["application_token"]


def test_ui_install_posts_the_frame_form_then_finishes(sandbox: SandboxPortal, event_receiver: Receiver) -> None:
    app = sandbox.install_app(handler_url=event_receiver.url + "/app", install_url=event_receiver.url + "/install")

    [posted] = event_receiver.at("/install")
    documented = load_example("app.frame_open_post")
    assert set(posted.form) == set(documented["params_as_documented"]) - set(documented["delivery"]["query_params"])
    query = parse_qs(urlsplit(posted.path).query)
    assert set(query) == set(documented["delivery"]["query_params"])
    assert query["DOMAIN"] == [sandbox.domain] and query["PROTOCOL"] == ["1"]
    assert posted.form["AUTH_ID"] == app.tokens["access_token"]
    assert posted.form["REFRESH_ID"] == app.tokens["refresh_token"]
    assert posted.form["APPLICATION_TOKEN"] == app.application_token
    assert posted.form["member_id"] == sandbox.member_id and posted.form["PLACEMENT"] == "DEFAULT"
    assert call(sandbox, "app.info", app.tokens["access_token"]).json()["result"]["INSTALLED"] is True


def test_install_without_finish_keeps_events_back(sandbox: SandboxPortal, event_receiver: Receiver) -> None:
    app = sandbox.install_app(handler_url=event_receiver.url + "/app", install_url=event_receiver.url + "/install",
                              finish=False)
    token = app.tokens["access_token"]
    for event in ("ONAPPINSTALL", "ONCRMTYPEADD"):
        assert call(sandbox, "event.bind", token, event=event, handler=event_receiver.url + "/ev").json()["result"]
    assert call(sandbox, "app.info", token).json()["result"]["INSTALLED"] is False

    with sandbox.state.lock:
        sandbox.state.emit("ONCRMTYPEADD", {"FIELDS": {"ID": 1}}, 1)
    assert sandbox.drain_events(WAIT)
    assert event_receiver.at("/ev") == []

    sandbox.finish_install()
    with sandbox.state.lock:
        sandbox.state.emit("ONCRMTYPEADD", {"FIELDS": {"ID": 2}}, 1)
    assert sandbox.drain_events(WAIT)

    forms = [r.form for r in event_receiver.at("/ev")]
    assert [f["event"] for f in forms] == ["ONAPPINSTALL", "ONCRMTYPEADD"]
    assert forms[0]["auth"]["refresh_token"] and forms[0]["auth"]["application_token"] == app.application_token
    assert forms[0]["data"] == {"VERSION": "1", "ACTIVE": "Y", "INSTALLED": "Y", "LANGUAGE_ID": "ru"}
    assert forms[1]["data"] == {"FIELDS": {"ID": "2"}}


def test_api_only_install_posts_the_onappinstall_form(sandbox: SandboxPortal, event_receiver: Receiver) -> None:
    app = sandbox.install_app(handler_url=event_receiver.url + "/app", install_url=event_receiver.url + "/install",
                              mode="api")

    [posted] = event_receiver.at("/install")
    assert posted.content_type == "application/x-www-form-urlencoded"
    documented = load_example("event.ONAPPINSTALL")["form_encoded_derived"][0]
    assert [k for k, _ in _pairs(posted.body)] == [k for k, _ in documented]
    assert posted.form["auth"]["access_token"] == app.tokens["access_token"]
    assert posted.form["auth"]["application_token"] == app.application_token
    assert posted.form["auth"]["client_endpoint"] == f"{sandbox.base_url}/rest/"
    assert call(sandbox, "app.info", app.tokens["access_token"]).json()["result"]["INSTALLED"] is True


def test_uninstall_posts_onappuninstall_and_revokes_tokens(sandbox: SandboxPortal, event_receiver: Receiver) -> None:
    app = sandbox.install_app(handler_url=event_receiver.url + "/app")
    call(sandbox, "event.bind", app.tokens["access_token"], event="ONAPPUNINSTALL", handler=event_receiver.url + "/bye")

    sandbox.uninstall_app()
    assert sandbox.drain_events(WAIT)

    [posted] = event_receiver.at("/bye")
    documented = load_example("event.ONAPPUNINSTALL")["form_encoded_derived"][0]
    sent = [k for k, _ in _pairs(posted.body) if k != "event_handler_id"]
    assert sent == [k for k, _ in documented]
    assert posted.form["auth"]["application_token"] == app.application_token
    assert posted.form["data"] == {"LANGUAGE_ID": "ru", "CLEAN": "1"}
    assert call(sandbox, "app.info", app.tokens["access_token"]).json()["error"] == "NO_AUTH_FOUND"
    assert refresh(sandbox, app.client_id, app.client_secret, app.tokens["refresh_token"]).status_code == 401


def _pairs(body: str) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl

    return parse_qsl(body, keep_blank_values=True)


def test_token_endpoint_fails_only_when_targeted(sandbox: SandboxPortal) -> None:
    app = sandbox.install_app(handler_url="http://127.0.0.1:9/app")
    sandbox.faults.fail_next(1, status=503)  # aimed at REST requests, not at the OAuth server
    sandbox.faults.fail_next(1, status=500, method="oauth.token")

    failed = refresh(sandbox, app.client_id, app.client_secret, app.tokens["refresh_token"])
    retried = refresh(sandbox, app.client_id, app.client_secret, app.tokens["refresh_token"])

    assert failed.status_code == 500
    assert retried.status_code == 200  # the failed attempt did not consume the refresh token
    assert call(sandbox, "app.info", app.tokens["access_token"]).status_code == 503



def test_unverified_token_switches(sandbox_factory: Any) -> None:
    portal = sandbox_factory(unknown_token_error="invalid_token", accept_bearer=True, accept_access_token_param=True)
    app = portal.install_app(handler_url="http://127.0.0.1:9/app")
    token = app.tokens["access_token"]
    url = f"{portal.base_url}/rest/app.info"

    unknown = requests.post(url, json={"auth": "nosuchtoken"}, verify=portal.ca_bundle, timeout=10)
    bearer = requests.post(url, json={}, headers={"Authorization": f"Bearer {token}"}, verify=portal.ca_bundle,
                           timeout=10)
    param = requests.post(url, json={"access_token": token}, verify=portal.ca_bundle, timeout=10)

    assert (unknown.status_code, unknown.json()["error"]) == (401, "invalid_token")
    assert bearer.status_code == 200 and param.status_code == 200
    assert all("access_token" not in c.params for c in portal.calls)
