"""End to end over real HTTP: fake Bot API -> webhook (Flask) -> Redis -> RQ jobs -> fake Bot API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import requests
from redis import Redis

from b24app.notify.telegram import TelegramNotifier
from b24app.telegram.callbacks import ActionRegistry, Outcome, Press, StepRef
from b24app.telegram.context import TelegramRuntime
from b24app.telegram.presses import close_step
from b24app.texts.telegram import RequestCard, new_approval
from b24sandbox.telegram_api import FakeBotApi, SentMessage
from tests.telegram.conftest import MEMBER, SECRET, TestClock, run_jobs

CARD = RequestCard(entity_type_id=1040, item_id=22, title="Оплата аренды офиса", counterparty="ООО «Ромашка»",
                   amount=Decimal("125000"), currency="RUB", step="HEAD_APPROVAL",
                   step_name_ru="Согласование руководителя", step_name_en="Head approval",
                   waiting=timedelta(hours=5), url="https://portal.example/crm/type/1040/details/22/")


def link(fake: FakeBotApi, rt: TelegramRuntime, chat_id: int, user_id: int) -> None:
    token = rt.links.issue_token(MEMBER, user_id)
    delivery = fake.send_text(chat_id, f"/start {token}")
    assert delivery.status == 200 and "подключён" in fake.last_message(chat_id).text


def notify_approval(fake: FakeBotApi, rt: TelegramRuntime, redis: Redis, user_id: int, chat_id: int) -> SentMessage:
    assert TelegramNotifier(MEMBER, redis, rt.config).notify(user_id, new_approval(CARD))
    run_jobs(redis)
    message = fake.last_message(chat_id)
    assert [b["text"] for b in message.buttons()] == ["Согласовать", "Отклонить", "Открыть в Битрикс24"]
    return message


def recording(registry: ActionRegistry, outcome: Outcome, needs_reason: bool = False,
              name: str = "approve") -> list[Press]:
    presses: list[Press] = []

    def handler(press: Press) -> Outcome:
        presses.append(press)
        return outcome

    registry.add(name, handler, needs_reason=needs_reason)
    return presses


def test_deep_link_links_once_and_expires(fake_api: FakeBotApi, runtime: TelegramRuntime, webhook: str,
                                          clock: TestClock) -> None:
    token = runtime.links.issue_token(MEMBER, 7)
    assert len(runtime.links.deep_link(runtime.config.bot_username, token).split("start=")[1]) <= 64
    assert fake_api.send_text(1001, f"/start {token}").status == 200
    assert "подключён" in fake_api.last_message(1001).text
    assert runtime.links.for_user(MEMBER, 7).chat_id == 1001  # type: ignore[union-attr]

    fake_api.send_text(2002, f"/start {token}")  # the same link again, from another account
    assert "недействительна" in fake_api.last_message(2002).text
    assert runtime.links.by_chat(2002) is None

    late = runtime.links.issue_token(MEMBER, 8)
    clock.advance(minutes=10)
    fake_api.send_text(3003, f"/start {late}")
    assert "недействительна" in fake_api.last_message(3003).text
    assert runtime.links.for_user(MEMBER, 8) is None


def test_stop_unlinks(fake_api: FakeBotApi, runtime: TelegramRuntime, webhook: str, redis: Redis) -> None:
    link(fake_api, runtime, 1001, 7)
    fake_api.send_text(1001, "/stop")
    assert "отключён" in fake_api.last_message(1001).text
    assert runtime.links.by_chat(1001) is None
    assert not TelegramNotifier(MEMBER, redis, runtime.config).notify(7, new_approval(CARD))


def test_webhook_without_the_right_secret_changes_nothing(fake_api: FakeBotApi, runtime: TelegramRuntime,
                                                          webhook: str) -> None:
    token = runtime.links.issue_token(MEMBER, 7)
    update = {"update_id": 900, "message": {"message_id": 1, "date": 0, "text": f"/start {token}",
                                            "chat": {"id": 1001, "type": "private"},
                                            "from": {"id": 1001, "is_bot": False, "first_name": "X"}}}
    for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": SECRET + "x"}, {"X-Telegram-Bot-Api-Secret-Token": ""}):
        response = requests.post(webhook, json=update, headers=headers, timeout=10)
        assert response.status_code == 403
    assert runtime.links.by_chat(1001) is None
    assert not any(c.method == "sendMessage" for c in fake_api.calls)
    assert runtime.links.consume_token(token, 1001) is not None  # the token was not used up


def test_approve_press_decides_once_then_the_button_is_stale(fake_api: FakeBotApi, runtime: TelegramRuntime,
                                                             webhook: str, redis: Redis,
                                                             registry: ActionRegistry) -> None:
    decided_at = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    presses = recording(registry, Outcome.done("Согласовано: Иван Петров", "Иван Петров", decided_at))
    link(fake_api, runtime, 1001, 7)
    link(fake_api, runtime, 1009, 9)  # the operations manager got the same step's buttons
    message = notify_approval(fake_api, runtime, redis, 7, 1001)
    alert = notify_approval(fake_api, runtime, redis, 9, 1009)
    data, alert_data = message.buttons()[0]["callback_data"], alert.buttons()[0]["callback_data"]
    assert len(data.encode()) <= 64 and data != alert_data

    assert fake_api.press(1001, message.message_id, "Согласовать").body == {}
    run_jobs(redis)
    assert len(presses) == 1
    press = presses[0]
    assert (press.member_id, press.user_id, press.reason) == (MEMBER, 7, None)
    assert (press.record.entity_type_id, press.record.item_id, press.record.step) == (1040, 22, "HEAD_APPROVAL")
    assert fake_api.answers[-1]["text"] == "Согласовано: Иван Петров"
    assert message.reply_markup is None and message.text.endswith("Согласовано: Иван Петров")
    assert alert.reply_markup is None and len(alert.edits) == 1  # the other copy lost its buttons too

    fake_api.press(1001, message.message_id, data=data)  # an old client still showing the keyboard
    fake_api.press(1009, alert.message_id, data=alert_data)
    run_jobs(redis)
    assert len(presses) == 1
    assert all("Иван Петров, 02.03.2026 12:30" in a["text"] for a in fake_api.answers[-2:])


def test_press_by_an_unlinked_account_changes_nothing(fake_api: FakeBotApi, runtime: TelegramRuntime, webhook: str,
                                                      redis: Redis, registry: ActionRegistry) -> None:
    presses = recording(registry, Outcome.done("Согласовано"))
    link(fake_api, runtime, 1001, 7)
    message = notify_approval(fake_api, runtime, redis, 7, 1001)
    data = message.buttons()[0]["callback_data"]

    fake_api.press(1001, message.message_id, data=data, from_id=5555)  # someone else's account
    fake_api.send_text(1001, "/stop")
    fake_api.press(1001, message.message_id, "Согласовать")  # the owner after unlinking
    run_jobs(redis)
    assert presses == []
    assert [a["text"].startswith("Этот Telegram не подключён") for a in fake_api.answers] == [True, True]
    assert message.edits == [] and message.buttons()
    record = runtime.callbacks.get(data)
    assert record is not None and runtime.callbacks.decision(record) is None


def test_stale_button_answers_who_decided_and_when(fake_api: FakeBotApi, runtime: TelegramRuntime, webhook: str,
                                                   redis: Redis, registry: ActionRegistry) -> None:
    presses = recording(registry, Outcome.done("Согласовано"))
    link(fake_api, runtime, 1001, 7)
    message = notify_approval(fake_api, runtime, redis, 7, 1001)
    data = message.buttons()[0]["callback_data"]
    step = StepRef(MEMBER, 1040, 22, "HEAD_APPROVAL")
    close_step(runtime, step, 12, "Ольга Смирнова", at=datetime(2026, 3, 2, 8, 15, tzinfo=UTC))  # decided in the card
    assert message.reply_markup is None

    delivery = fake_api.press(1001, message.message_id, data=data)
    run_jobs(redis)
    assert presses == []
    assert delivery.body["method"] == "answerCallbackQuery"
    assert "Ольга Смирнова, 02.03.2026 11:15" in fake_api.answers[-1]["text"]
    assert runtime.callbacks.decision(step).by_user_id == 12  # type: ignore[union-attr]


def test_reject_asks_for_a_reason_and_waits_for_it(fake_api: FakeBotApi, runtime: TelegramRuntime, webhook: str,
                                                    redis: Redis, registry: ActionRegistry) -> None:
    presses = recording(registry, Outcome.done("Отклонено"), needs_reason=True, name="reject")
    link(fake_api, runtime, 1001, 7)
    message = notify_approval(fake_api, runtime, redis, 7, 1001)

    fake_api.press(1001, message.message_id, "Отклонить")
    run_jobs(redis)
    prompt = fake_api.last_message(1001)
    assert "причину" in fake_api.answers[-1]["text"]
    assert prompt.reply_markup is not None and prompt.reply_markup.get("force_reply") is True
    assert presses == []

    fake_api.send_text(1001, "/cancel")
    assert "отменено" in fake_api.last_message(1001).text
    fake_api.send_text(1001, "Нет счёта")  # no reject is pending any more: not a reason
    run_jobs(redis)
    assert presses == []

    fake_api.press(1001, message.message_id, "Отклонить")
    fake_api.send_text(1001, "   ", reply_to=fake_api.last_message(1001).message_id)
    assert "Причина обязательна" in fake_api.last_message(1001).text
    run_jobs(redis)
    assert presses == [] and message.edits == []

    fake_api.send_text(1001, "Нет закрывающих документов")
    run_jobs(redis)
    assert [p.reason for p in presses] == ["Нет закрывающих документов"]
    assert message.reply_markup is None and message.text.endswith("Отклонено")
    assert fake_api.last_message(1001).text == "Отклонено"


def test_refusing_handler_changes_nothing_and_shows_the_refusal(fake_api: FakeBotApi, runtime: TelegramRuntime,
                                                                 webhook: str, redis: Redis,
                                                                 registry: ActionRegistry) -> None:
    refusal = "Вы не можете согласовать заявку на этом этапе: согласует руководитель отдела."
    presses = recording(registry, Outcome.refused(refusal))
    link(fake_api, runtime, 1001, 7)
    message = notify_approval(fake_api, runtime, redis, 7, 1001)
    fake_api.press(1001, message.message_id, "Согласовать")
    run_jobs(redis)
    assert len(presses) == 1
    assert fake_api.answers[-1] == {"callback_query_id": fake_api.answers[-1]["callback_query_id"],
                                    "text": refusal, "show_alert": True}
    assert message.edits == [] and message.buttons()
    assert runtime.callbacks.decision(presses[0].record) is None


def test_forbidden_marks_the_link_inactive(fake_api: FakeBotApi, runtime: TelegramRuntime, webhook: str,
                                           redis: Redis) -> None:
    link(fake_api, runtime, 1001, 7)
    link(fake_api, runtime, 1002, 8)
    fake_api.block(1001)
    notifier = TelegramNotifier(MEMBER, redis, runtime.config)
    assert notifier.notify(7, new_approval(CARD)) and notifier.notify(8, new_approval(CARD))
    run_jobs(redis)
    assert runtime.links.for_user(MEMBER, 7).active is False  # type: ignore[union-attr]
    assert runtime.links.for_user(MEMBER, 8).active is True  # type: ignore[union-attr]
    assert runtime.outbox.pending(1001) == 0
    assert not notifier.notify(7, new_approval(CARD))  # Bitrix24 only from now on

    fake_api.unblock(1001)
    fake_api.send_text(1001, "/start")
    assert runtime.links.for_user(MEMBER, 7).active is True  # type: ignore[union-attr]


def test_a_redelivered_update_is_handled_once(fake_api: FakeBotApi, runtime: TelegramRuntime, webhook: str) -> None:
    token = runtime.links.issue_token(MEMBER, 7)
    update = {"update_id": 4242, "message": {"message_id": 1, "date": 0, "text": f"/start {token}",
                                             "chat": {"id": 1001, "type": "private"},
                                             "from": {"id": 1001, "is_bot": False, "first_name": "X"}}}
    first, second = fake_api.deliver(update), fake_api.deliver(update)
    assert first.body["method"] == "sendMessage" and "подключён" in first.body["text"]
    assert second.body == {}
