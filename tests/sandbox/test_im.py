"""Sandbox notifications and messages (REFERENCE §8.3): per user, TAG replacement, documented errors."""

from __future__ import annotations

from typing import Any

import pytest

from b24sandbox import registry
from b24sandbox.methods import im
from b24sandbox.registry import RestError
from b24sandbox.shared import load_example
from b24sandbox.state import PortalState


@pytest.fixture
def state() -> PortalState:
    return PortalState.from_org_file()


def call(state: PortalState, method: str, params: dict[str, Any], user: int = 1) -> Any:
    return registry.invoke(state, method, params, user_id=user, auth_kind="oauth")


@pytest.mark.parametrize("method", ["im.notify", "im.notify.system.add", "im.notify.personal.add", "im.message.add"])
def test_documented_request_answers_an_integer_id(state: PortalState, method: str) -> None:
    body = {k: v for k, v in load_example(method)["requests"][0]["body"].items() if k != "auth"}
    if method == "im.message.add":
        body.pop("REPLY_ID")
    result = call(state, method, body)
    assert isinstance(result, int)
    assert type(result) is type(load_example(method)["response"]["bodies"][0]["result"])


def test_notifications_are_kept_per_user(state: PortalState) -> None:
    call(state, "im.notify.system.add", {"USER_ID": 3, "MESSAGE": "Заявка №5 ждёт согласования"})
    call(state, "im.notify.personal.add", {"USER_ID": "4", "MESSAGE": "  Заявка №5 согласована  "}, 3)
    call(state, "im.notify", {"USER_ID": 3, "MESSAGE": "Напоминание", "TYPE": "SYSTEM"})
    to_orlova = im.notifications_for(state, 3)
    assert [n.message for n in to_orlova] == ["Заявка №5 ждёт согласования", "Напоминание"]
    assert all(n.kind == "SYSTEM" and n.from_user_id is None for n in to_orlova)
    to_ivanova = im.notifications_for(state, 4)
    assert [(n.message, n.from_user_id, n.kind) for n in to_ivanova] == [("Заявка №5 согласована", 3, "USER")]


def test_tag_replaces_older_notifications_with_that_tag(state: PortalState) -> None:
    call(state, "im.notify.system.add", {"USER_ID": 3, "MESSAGE": "первое", "TAG": "REQ_5"})
    call(state, "im.notify.system.add", {"USER_ID": 3, "MESSAGE": "другое", "TAG": "REQ_6"})
    call(state, "im.notify.system.add", {"USER_ID": 3, "MESSAGE": "второе", "TAG": "REQ_5"})
    assert [n.message for n in im.notifications_for(state, 3)] == ["другое", "второе"]


def test_tag_scope_across_users_is_a_switch(state: PortalState, monkeypatch: pytest.MonkeyPatch) -> None:
    call(state, "im.notify.system.add", {"USER_ID": 3, "MESSAGE": "голове", "TAG": "REQ_5"})
    call(state, "im.notify.system.add", {"USER_ID": 4, "MESSAGE": "инициатору", "TAG": "REQ_5"})
    assert im.notifications_for(state, 3) == []
    monkeypatch.setattr(im, "TAG_ACROSS_USERS", False)
    call(state, "im.notify.system.add", {"USER_ID": 3, "MESSAGE": "голове", "TAG": "REQ_7"})
    call(state, "im.notify.system.add", {"USER_ID": 4, "MESSAGE": "инициатору", "TAG": "REQ_7"})
    assert [n.message for n in im.notifications_for(state, 3)] == ["голове"]


@pytest.mark.parametrize("method, params, code, text", [
    ("im.notify.system.add", {"MESSAGE": "x"}, "USER_ID_EMPTY", "User ID can't be empty"),
    ("im.notify", {"USER_ID": 0, "MESSAGE": "x"}, "USER_ID_EMPTY", "User ID can't be empty"),
    ("im.notify.personal.add", {"USER_ID": 3, "MESSAGE": "   "}, "MESSAGE_EMPTY", "Message can't be empty"),
    ("im.notify", {"USER_ID": 3, "MESSAGE": "x", "ATTACH": ["a" * 60_001]}, "ATTACH_OVERSIZE",
     "You have exceeded the maximum allowable size of attach"),
    ("im.message.add", {"DIALOG_ID": "3"}, "MESSAGE_EMPTY", "Message can't be empty"),
    ("im.message.add", {"DIALOG_ID": "0", "MESSAGE": "x"}, "USER_ID_EMPTY", "User ID can't be empty"),
    ("im.message.add", {"DIALOG_ID": "999", "MESSAGE": "x"}, "USER_NOT_FOUND", "User not found"),
])
def test_documented_errors(state: PortalState, method: str, params: dict[str, Any], code: str, text: str) -> None:
    with pytest.raises(RestError) as caught:
        call(state, method, params)
    assert (caught.value.error, caught.value.description, caught.value.status) == (code, text, 400)
    assert im.store(state).notifications == [] and im.store(state).messages == []


def test_private_messages_reach_the_user(state: PortalState) -> None:
    call(state, "im.message.add", {"DIALOG_ID": "4", "MESSAGE": "Привет"}, 3)
    call(state, "im.message.add", {"DIALOG_ID": "chat12", "MESSAGE": "В чат задачи"}, 3)
    assert [(m.message, m.author_id) for m in im.messages_for(state, 4)] == [("Привет", 3)]


def test_over_http_with_a_webhook(sandbox: Any) -> None:
    import requests

    hook = sandbox.webhook_url("admin")
    sent = requests.post(f"{hook}im.notify.system.add.json", verify=sandbox.ca_bundle, timeout=10,
                         json={"USER_ID": 8, "MESSAGE": "Заявка №3 ждёт проверки"}).json()
    assert isinstance(sent["result"], int)
    empty = requests.post(f"{hook}im.notify.system.add.json", verify=sandbox.ca_bundle, timeout=10,
                          json={"USER_ID": 0, "MESSAGE": "x"})
    assert (empty.status_code, empty.json()["error"]) == (400, "USER_ID_EMPTY")
    assert [n.message for n in im.notifications_for(sandbox.state, 8)] == ["Заявка №3 ждёт проверки"]


@pytest.mark.parametrize("method", ["im.notify", "im.notify.system.add", "im.notify.personal.add"])
def test_unknown_or_inactive_recipient_answers_false(state: PortalState, method: str) -> None:
    inactive = next(u.id for u in state.users.values() if not u.active)
    assert call(state, method, {"USER_ID": 999, "MESSAGE": "x"}) is False
    assert call(state, method, {"USER_ID": inactive, "MESSAGE": "x"}) is False
    assert im.store(state).notifications == []


def test_webhook_tag_needs_client_id_in_strict_mode(sandbox: Any) -> None:
    import requests

    hook = sandbox.webhook_url("admin")
    refused = requests.post(f"{hook}im.notify.system.add.json", verify=sandbox.ca_bundle, timeout=10,
                            json={"USER_ID": 8, "MESSAGE": "x", "TAG": "APP_1"})
    assert refused.status_code == 400 and "'CLIENT_ID'" in refused.json()["error_description"]
    assert [v.param for v in sandbox.violations] == ["CLIENT_ID"]
    sandbox.violations.clear()
    sent = requests.post(f"{hook}im.notify.system.add.json", verify=sandbox.ca_bundle, timeout=10,
                         json={"USER_ID": 8, "MESSAGE": "x", "TAG": "APP_1", "CLIENT_ID": "local.app"}).json()
    assert isinstance(sent["result"], int)
    token = sandbox.install_app(handler_url="https://app.example/").tokens["access_token"]
    by_app = requests.post(f"{sandbox.base_url}/rest/im.notify.system.add.json", verify=sandbox.ca_bundle,
                           timeout=10, json={"USER_ID": 8, "MESSAGE": "y", "TAG": "APP_1", "auth": token}).json()
    assert isinstance(by_app["result"], int)  # an application is identified by its token
    assert sandbox.violations == []
