"""Against the sandbox portal over HTTPS, through the app's Bitrix24 client: unlinking, Bitrix24 notifications."""

from __future__ import annotations

import pytest
from redis import Redis

from b24app.notify.base import Bitrix24Notifier
from b24app.rest.client import RestClient, WebhookAuth
from b24app.settings import webhook_parts
from b24app.telegram.links import LinkStore, unlink_inactive
from b24app.texts.telegram import new_approval
from b24sandbox import SandboxPortal
from b24sandbox.methods.im import notifications_for
from tests.telegram.test_texts import CARD


def _client(sandbox: SandboxPortal, monkeypatch: pytest.MonkeyPatch) -> RestClient:
    assert sandbox.ca_bundle
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", sandbox.ca_bundle)
    host, user_id, code = webhook_parts(sandbox.webhook_url("admin"))
    return RestClient(WebhookAuth(host, user_id, code))


def test_people_deactivated_in_bitrix24_are_unlinked(sandbox: SandboxPortal, redis: Redis,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    client = _client(sandbox, monkeypatch)
    member_id = "5f1c0de0a1b2c3d4e5f60718293a4b5c"
    store = LinkStore(redis)
    for uid in (3, 7, 9):
        store.consume_token(store.issue_token(member_id, uid), chat_id=1000 + uid)
    with sandbox.state.lock:
        sandbox.state.users[7].active = False  # e.smirnova left the company

    assert unlink_inactive(client, store, member_id) == [7]
    assert store.linked_users(member_id) == [3, 9]
    assert [c.method for c in sandbox.calls if c.method.lower() == "user.get"] == ["user.get"]


def test_bitrix24_notifier_reaches_the_person_once_per_tag(sandbox: SandboxPortal,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    notifier = Bitrix24Notifier(_client(sandbox, monkeypatch), client_id="local.b24app")
    message = new_approval(CARD)
    assert notifier.notify(3, message) and notifier.notify(3, message)  # a repeat replaces, not duplicates
    notes = notifications_for(sandbox.state, 3)
    assert len(notes) == 1 and notes[0].kind == "SYSTEM"
    assert "Оплата аренды офиса" in notes[0].message and f"[URL={CARD.url}]" in notes[0].message
