"""Parsing the two install POST shapes into an Installation."""

from __future__ import annotations

import pytest

from b24app import phpform
from b24app.auth.install import InstallPayloadError, from_frame_post, from_install_event
from b24sandbox.shared import load_example


def _example_form(name: str) -> dict:
    example = load_example(name)
    return dict(example.get("params_as_documented") or example.get("payload") or example)


def test_frame_post_from_documented_example() -> None:
    params = _example_form("app.frame_open_post")
    query = {k: params[k] for k in ("DOMAIN", "PROTOCOL")}
    installation = from_frame_post(params, query, now=1000.0)
    assert installation.member_id == params["member_id"]
    assert installation.domain == "portal.bitrix24.com"
    assert installation.client_endpoint == "https://portal.bitrix24.com/rest/"
    assert installation.access_token == params["AUTH_ID"]
    assert installation.refresh_token == params["REFRESH_ID"]
    assert installation.expires_at == 4600.0
    assert installation.scopes == ("crm", "entity", "im", "task")


def test_install_event_round_trips_through_the_wire_form() -> None:
    form = {
        "event": "ONAPPINSTALL",
        "data": {"VERSION": "1", "LANGUAGE_ID": "ru"},
        "ts": "1696527000",
        "auth": {
            "domain": "p.example",
            "access_token": "acc-1234567",
            "refresh_token": "ref-1234567",
            "expires_in": "3600",
            "scope": "crm,task",
            "client_endpoint": "https://p.example/rest/",
            "member_id": "m1",
            "application_token": "app-tok-1",
        },
    }
    decoded = phpform.decode(phpform.flatten(form))
    installation = from_install_event(decoded, now=0.0)
    assert (installation.member_id, installation.application_token) == ("m1", "app-tok-1")
    assert installation.rest_host == "p.example"


def test_missing_fields_are_named_without_values() -> None:
    with pytest.raises(InstallPayloadError, match="AUTH_ID") as caught:
        from_frame_post({"member_id": "m", "REFRESH_ID": "r-secret-1"}, {"DOMAIN": "d"}, now=0)
    assert "r-secret-1" not in str(caught.value)
