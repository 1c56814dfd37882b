"""The portal that changes: dismissals, the absence chart, plans, required task fields, localised errors
(issue #12 item 6), over real HTTPS."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import requests

from b24sandbox import SandboxPortal
from b24sandbox.people import PersonInactive


def call(portal: SandboxPortal, token: str, method: str, **params: Any) -> requests.Response:
    return requests.post(f"{portal.base_url}/rest/{method}", json={"auth": token, **params},
                         verify=portal.ca_bundle, timeout=10)


@pytest.fixture
def token(sandbox: SandboxPortal) -> str:
    return str(sandbox.install_app(handler_url="http://127.0.0.1:9/unused").tokens["access_token"])


def user_token(portal: SandboxPortal, login: str) -> str:
    from b24sandbox import oauth

    with portal.state.lock:
        return str(oauth.issue_user_tokens(portal.state, portal.state.user_by_login(login).id)["access_token"])


def test_a_deactivated_person_is_inactive_cannot_sign_in_and_gets_no_notifications(
    sandbox: SandboxPortal, token: str
) -> None:
    theirs = user_token(sandbox, "m.orlova")
    sandbox.people.deactivate("m.orlova")

    [row] = call(sandbox, token, "user.get", ID=3).json()["result"]
    assert row["ACTIVE"] is False
    assert call(sandbox, token, "im.user.get", ID=3).json()["result"]["active"] is False
    assert call(sandbox, token, "im.notify.system.add", USER_ID=3, MESSAGE="x").json()["result"] is False
    refused = call(sandbox, theirs, "user.current")
    assert refused.status_code == 401 and refused.json()["error"] == "NO_AUTH_FOUND"
    with pytest.raises(PersonInactive):
        sandbox.as_user("m.orlova").create_item(1030, {"title": "x"})

    sandbox.people.reactivate("m.orlova")
    assert call(sandbox, theirs, "user.current").json()["result"]["ID"] == "3"


def test_the_absence_chart_shows_in_im_user_get_while_it_lasts(sandbox: SandboxPortal, token: str) -> None:
    now = sandbox.state.now()
    sandbox.people.record_absence("m.orlova", now - timedelta(days=1), now + timedelta(days=2))
    sandbox.people.record_absence("m.orlova", now + timedelta(days=2), now + timedelta(days=4))  # adjacent
    sandbox.people.record_absence("s.kuznetsov", now + timedelta(days=7), now + timedelta(days=9))  # future

    head = call(sandbox, token, "im.user.get", ID=3).json()["result"]
    assert head["absent"] == sandbox.state.iso(now + timedelta(days=4))
    assert call(sandbox, token, "im.user.get", ID=6).json()["result"]["absent"] is False
    listed = call(sandbox, token, "im.user.list.get", ID=[3, 6, 999]).json()["result"]
    assert set(listed) == {"3", "6"} and listed["3"]["absent"] == head["absent"]
    as_array = call(sandbox, token, "im.user.list.get", ID="[3]", RESULT_TYPE="array").json()["result"]
    assert [r["id"] for r in as_array] == [3]

    sandbox.clock.advance(timedelta(days=5))
    assert call(sandbox, user_token(sandbox, "admin"), "im.user.get", ID=3).json()["result"]["absent"] is False


def test_im_user_errors_and_the_caller_by_default(sandbox: SandboxPortal, token: str) -> None:
    assert call(sandbox, token, "im.user.get").json()["result"]["id"] == 1
    assert set(call(sandbox, token, "im.user.get").json()["result"]) >= {"absent", "departments", "active", "type"}
    assert call(sandbox, token, "im.user.get", ID=0).json()["error"] == "ID_EMPTY"
    assert call(sandbox, token, "im.user.get", ID=999).json()["error"] == "USER_NOT_EXISTS"
    assert call(sandbox, token, "im.user.list.get").json()["error"] == "INVALID_FORMAT"


def test_plans_with_and_without_extended_offline_events(sandbox: SandboxPortal, token: str) -> None:
    assert call(sandbox, token, "feature.get", CODE="rest_offline_extended").json()["result"] == {"value": "Y"}
    assert call(sandbox, token, "feature.get").json()["error"] == "CODE_EMPTY"
    call(sandbox, token, "event.bind", event="ONCRMDYNAMICITEMUPDATE", event_type="offline")
    with sandbox.state.lock:
        sandbox.state.emit("ONCRMDYNAMICITEMUPDATE", {"FIELDS": {"ID": 7, "ENTITY_TYPE_ID": 1030}}, 1)
    sandbox.switches.features["rest_offline_extended"] = "N"

    assert call(sandbox, token, "feature.get", CODE="rest_offline_extended").json()["result"] == {"value": "N"}
    refused = call(sandbox, token, "event.offline.get", clear=0)
    assert refused.status_code == 400 and refused.json()["error"] == "ERROR_FEATURE_NOT_AVAILABLE"
    sandbox.switches.offline_without_extended = "clear"
    ignored = call(sandbox, token, "event.offline.get", clear=0).json()["result"]
    assert ignored["process_id"] is None and len(ignored["events"]) == 1
    assert call(sandbox, token, "event.offline.list").json()["result"] == []


def test_a_required_custom_task_field_shows_in_get_fields_and_fails_an_add_without_it(
    sandbox: SandboxPortal, token: str
) -> None:
    sandbox.add_task_field("UF_PROJECT_CODE", "Код проекта", required=True)
    fields = call(sandbox, token, "tasks.task.getFields").json()["result"]["fields"]
    assert fields["UF_PROJECT_CODE"] == {"title": "Код проекта", "type": "string", "required": True}
    assert fields["TITLE"]["required"] is True

    missing = call(sandbox, token, "tasks.task.add", fields={"TITLE": "t", "RESPONSIBLE_ID": 3})
    assert missing.status_code == 400 and missing.json()["error"] == "ERROR_CORE"
    assert "Код проекта" in missing.json()["error_description"]
    added = call(sandbox, token, "tasks.task.add",
                 fields={"TITLE": "t", "RESPONSIBLE_ID": 3, "UF_PROJECT_CODE": "P-1"})
    assert added.status_code == 200 and added.json()["result"]["task"]["id"]


def test_localised_error_messages_keep_their_codes(sandbox: SandboxPortal, token: str) -> None:
    english = call(sandbox, token, "crm.item.get", entityTypeId=4242, id=1).json()
    sandbox.switches.language = "ru"
    russian = call(sandbox, token, "crm.item.get", entityTypeId=4242, id=1).json()
    assert russian["error"] == english["error"] and russian["error_description"] != english["error_description"]
    assert any("а" <= ch <= "я" for ch in russian["error_description"].lower())
    unknown = call(sandbox, "no-such-token", "user.current").json()
    assert unknown == {"error": "NO_AUTH_FOUND", "error_description": "Неверные данные авторизации"}
    batch = call(sandbox, token, "batch", cmd={"a": "crm.item.get?entityTypeId=4242&id=1"}).json()
    assert batch["result"]["result_error"]["a"]["error"] == english["error"]
