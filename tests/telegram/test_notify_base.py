"""The Bitrix24 notifier and the fan-out: what reaches im.notify.system.add, and Telegram-off behaviour."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from redis import Redis

from b24app.notify.base import AllNotifiers, Bitrix24Notifier, Button, DecisionRef, Message
from b24app.notify.telegram import TelegramNotifier
from b24app.telegram.config import TelegramConfig
from b24app.telegram.links import LinkStore
from tests.telegram.conftest import MEMBER


class Portal:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def call(self, method: str, params: Mapping[str, Any] | None = None) -> Any:
        self.calls.append((method, dict(params or {})))
        return 101


MESSAGE = Message(text_ru="Новая заявка", text_en="New request", item_url="https://portal.example/item/22/",
                  buttons=(Button("Согласовать", action="approve"),), decision=DecisionRef(1040, 22, "HEAD_APPROVAL"),
                  tag="b24app-1040-22-HEAD_APPROVAL-assigned")


def test_bitrix24_notifier_sends_a_system_notification_with_a_tag() -> None:
    portal = Portal()
    assert Bitrix24Notifier(portal, client_id="local.abc").notify(7, MESSAGE)  # type: ignore[arg-type]
    assert portal.calls == [("im.notify.system.add", {
        "USER_ID": 7, "MESSAGE": "Новая заявка\n[URL=https://portal.example/item/22/]Открыть в Битрикс24[/URL]",
        "TAG": "b24app-1040-22-HEAD_APPROVAL-assigned", "CLIENT_ID": "local.abc"})]


def test_without_a_bot_token_telegram_is_off_and_bitrix24_still_goes(redis: Redis) -> None:
    links = LinkStore(redis)
    links.consume_token(links.issue_token(MEMBER, 7), chat_id=1001)
    portal = Portal()
    off = TelegramNotifier(MEMBER, redis, TelegramConfig.from_env({}))
    assert AllNotifiers([Bitrix24Notifier(portal), off]).notify(7, MESSAGE)  # type: ignore[arg-type]
    assert len(portal.calls) == 1
    assert redis.llen("b24app:tg:outbox:1001") == 0 and not redis.keys("rq:*")


def test_a_button_has_either_an_action_or_a_url() -> None:
    for bad in ({}, {"action": "approve", "url": "https://x"}):
        try:
            Button("x", **bad)
        except ValueError:
            continue
        raise AssertionError(f"accepted {bad}")
