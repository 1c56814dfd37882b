"""A person who works for two hosted customers links one Telegram chat on both portals (#19): both links
stay, notices say which company they are about, and a button of a portal the chat is not linked on is
refused. Over real HTTP: fake Bot API -> webhook (Flask) -> Redis -> RQ jobs -> fake Bot API."""

from __future__ import annotations

from redis import Redis

from b24app import keys
from b24app.auth.store import Installation, InstallationStore
from b24app.notify.telegram import TelegramNotifier
from b24app.telegram.callbacks import ActionRegistry, Outcome, Press
from b24app.telegram.context import TelegramRuntime
from b24app.texts.telegram import new_approval
from b24sandbox.telegram_api import FakeBotApi
from tests.telegram.conftest import MEMBER, run_jobs
from tests.telegram.test_webhook import CARD

OTHER = "b" * 32


def _link(fake: FakeBotApi, rt: TelegramRuntime, member_id: str, chat_id: int, user_id: int) -> None:
    token = rt.links.issue_token(member_id, user_id)
    fake.send_text(chat_id, f"/start {token}")
    assert "подключён" in fake.last_message(chat_id).text


def _installed(redis: Redis, member_id: str, domain: str) -> None:
    InstallationStore(redis).save(Installation(member_id=member_id, domain=domain, client_endpoint=f"https://{domain}/rest/",
                                               access_token="a",
                                               refresh_token="r", expires_at=0, application_token="t"))


def _record(presses: list[Press], press: Press) -> Outcome:
    presses.append(press)
    return Outcome.done("Согласовано")


def test_a_chat_linked_on_two_portals_keeps_both_and_says_which_company(
        fake_api: FakeBotApi, runtime: TelegramRuntime, webhook: str, redis: Redis, registry: ActionRegistry) -> None:
    presses: list[Press] = []
    registry.add("approve", lambda press: _record(presses, press))
    _installed(redis, MEMBER, "alpha.bitrix24.ru")
    _installed(redis, OTHER, "beta.bitrix24.ru")
    _link(fake_api, runtime, MEMBER, 1001, 7)
    _link(fake_api, runtime, OTHER, 1001, 42)  # the same person on the second customer's portal
    assert runtime.links.for_user(MEMBER, 7) is not None and runtime.links.for_user(OTHER, 42) is not None
    assert {(link.member_id, link.user_id) for link in runtime.links.links_of_chat(1001)} == {(MEMBER, 7), (OTHER, 42)}

    for member_id, user_id in ((MEMBER, 7), (OTHER, 42)):
        assert TelegramNotifier(member_id, redis, runtime.config).notify(user_id, new_approval(CARD))
        run_jobs(redis)
    first, second = fake_api.messages(1001)[-2:]
    assert first.text.startswith("🏢 alpha.bitrix24.ru\n") and second.text.startswith("🏢 beta.bitrix24.ru\n")

    fake_api.press(1001, second.message_id, "Согласовать")  # decided on the portal the button belongs to
    run_jobs(redis)
    assert [(p.member_id, p.user_id) for p in presses] == [(OTHER, 42)]


def test_a_button_of_a_portal_the_chat_is_not_linked_on_is_refused(
        fake_api: FakeBotApi, runtime: TelegramRuntime, webhook: str, redis: Redis, registry: ActionRegistry) -> None:
    presses: list[Press] = []
    registry.add("approve", lambda press: _record(presses, press))
    _link(fake_api, runtime, MEMBER, 1001, 7)
    _link(fake_api, runtime, OTHER, 2002, 7)
    for member_id in (MEMBER, OTHER):
        assert TelegramNotifier(member_id, redis, runtime.config).notify(7, new_approval(CARD))
        run_jobs(redis)
    a_message, b_message = fake_api.last_message(1001), fake_api.last_message(2002)
    assert not b_message.text.startswith("🏢")  # a chat of one portal only: no company line
    # portal B's button, pressed from the chat linked on A only (as a crafted or forwarded callback would)
    fake_api.press(1001, a_message.message_id, data=b_message.buttons()[0]["callback_data"])
    run_jobs(redis)
    assert presses == []
    assert fake_api.answers[-1]["text"].startswith("Этот Telegram не подключён")


def test_a_link_of_an_earlier_release_is_read_and_kept_when_the_chat_links_another_portal(
        fake_api: FakeBotApi, runtime: TelegramRuntime, webhook: str, redis: Redis) -> None:
    _link(fake_api, runtime, MEMBER, 1001, 7)
    redis.delete(keys.tg("chatlinks", 1001))  # the layout before #19: chat:{chat} holds the one link
    redis.set(keys.tg("chat", 1001), f"{MEMBER}:7")
    assert runtime.links.by_chat(1001, MEMBER) is not None
    _link(fake_api, runtime, OTHER, 1001, 42)
    assert {(link.member_id, link.user_id) for link in runtime.links.links_of_chat(1001)} == {(MEMBER, 7), (OTHER, 42)}
    assert redis.get(keys.tg("chat", 1001)) is None  # migrated
    fake_api.send_text(1001, "/stop")
    assert runtime.links.links_of_chat(1001) == []
