"""Telegram and the approval engine together, through the real stack: the sandbox portal over HTTPS (strict),
its events delivered to ``/b24/events``, the app's ``/telegram/webhook`` called by the fake Bot API with the
secret header, engine and Telegram jobs run by RQ workers on a private Redis. Asserts what people see in
Telegram and what the portal holds (stage, approval log, rejection reason, timeline)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import requests

from b24app import queue as queues
from b24app.pipeline.definitions import definitions
from b24app.telegram.links import LinkStore
from b24app.telegram.maintenance import unlink_inactive_job
from b24sandbox import SandboxPortal
from b24sandbox.telegram_api import SentMessage
from handlers import decisions
from tests.integration.approval_env import PR, Env
from tests.integration.telegram_env import SECRET, TgEnv, telegram_env

ETID = 1100
HEAD, INITIATOR, FINANCE, OPS = 3, 4, 8, 9
HEAD_CHAT, INITIATOR_CHAT, FINANCE_CHAT, OPS_CHAT, STRANGER = 3003, 4004, 8008, 9009, 5555
BUTTONS = ["Согласовать", "Отклонить", "Открыть в Битрикс24"]


@pytest.fixture
def tg(sandbox: SandboxPortal, redis_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[TgEnv]:
    assert sandbox.ca_bundle
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", sandbox.ca_bundle)
    with telegram_env(sandbox, redis_url, monkeypatch) as built:
        yield built
        assert not built.env.failed_jobs() and not built.failed_jobs()


def create(tg: TgEnv) -> int:
    item = tg.env.as_user("a.ivanova").create_item(ETID, tg.env.request_fields())
    tg.settle()
    return int(item["id"])


def approval_message(tg: TgEnv, chat_id: int) -> SentMessage:
    [message] = tg.with_buttons(chat_id)
    assert [b["text"] for b in message.buttons()] == BUTTONS
    return message


def url_of(tg: TgEnv, item_id: int) -> str:
    return f"https://{tg.env.sandbox.domain}/crm/type/{ETID}/details/{item_id}/"


def log_of(env: Env, item_id: int) -> list[tuple[str, int, int | None, str]]:
    sheet = decisions.approval_sheet(env.deps, env.member_id, PR, item_id, HEAD)
    return [(e.decision, e.by, e.on_behalf_of, e.via) for e in sheet.entries]


def timeline(env: Env, item_id: int) -> list[str]:
    calls = [c.params["fields"] for c in env.sandbox.calls if c.method.lower() == "crm.timeline.logmessage.add"]
    return [str(f["text"]) for f in calls if int(f["entityId"]) == item_id]


def data_of(message: SentMessage, button: str) -> str:
    return str(next(b["callback_data"] for b in message.buttons() if b["text"] == button))


def test_head_links_receives_the_approval_and_approves_from_telegram(tg: TgEnv) -> None:
    forged = tg.link_page(HEAD, access_token="forged-token")
    assert forged.status_code == 403 and "t.me" not in forged.text
    tg.link_from_bitrix24(HEAD, HEAD_CHAT)
    link = LinkStore(tg.env.deps.redis).for_user(tg.env.member_id, HEAD)
    assert link is not None and link.chat_id == HEAD_CHAT and link.active
    tg.link(INITIATOR, INITIATOR_CHAT)
    item_id = create(tg)
    assert tg.env.stage(item_id) == "HEAD_APPROVAL"
    message = approval_message(tg, HEAD_CHAT)
    for shown in ("Оплата упаковки", f"№{item_id}", "Контрагент: ООО «Упаковка»", "Сумма: 150 000 ₽",
                  "Этап: Согласование руководителем", "Ожидает: меньше минуты", url_of(tg, item_id)):
        assert shown in message.text
    assert message.buttons()[2]["url"] == url_of(tg, item_id)
    assert any(n.message.startswith("Вам поставлена задача") for n in tg.env.as_user("m.orlova").notifications())
    assert tg.bot.messages(FINANCE_CHAT) == []

    approve = data_of(message, "Согласовать")
    delivery = tg.bot.press(HEAD_CHAT, message.message_id, "Согласовать")
    assert delivery.status == 200 and delivery.body == {}          # decided by a job, not in the webhook
    tg.settle()
    assert tg.env.stage(item_id) == "FINANCE_REVIEW"
    assert log_of(tg.env, item_id) == [("start", INITIATOR, None, "auto"), ("approve", HEAD, None, "telegram")]
    assert "Согласовано: Марина Орлова" in timeline(tg.env, item_id)[-1]
    assert "(в Telegram)" in timeline(tg.env, item_id)[-1]
    assert message.reply_markup is None and "Согласовано" in message.text.split("\n\n")[-1]
    assert "Марина Орлова" in tg.bot.answers[-1]["text"]

    tg.bot.press(HEAD_CHAT, message.message_id, data=approve)  # an old keyboard again
    tg.settle()
    assert tg.bot.answers[-1]["text"].startswith("Решение по этому этапу уже принято: Марина Орлова, 02.03.2026")
    assert tg.env.stage(item_id) == "FINANCE_REVIEW" and len(log_of(tg.env, item_id)) == 2


def test_reject_needs_a_reason_which_lands_in_the_item_and_a_new_round_has_live_buttons(tg: TgEnv) -> None:
    tg.link(HEAD, HEAD_CHAT)
    tg.link(INITIATOR, INITIATOR_CHAT)
    item_id = create(tg)
    message = approval_message(tg, HEAD_CHAT)
    before = log_of(tg.env, item_id)

    tg.bot.press(HEAD_CHAT, message.message_id, "Отклонить")
    tg.settle()
    prompt = tg.bot.last_message(HEAD_CHAT)
    assert "причину" in prompt.text and (prompt.reply_markup or {}).get("force_reply") is True
    tg.bot.send_text(HEAD_CHAT, "   ", reply_to=prompt.message_id)            # no reason: refused, nothing done
    assert "Причина обязательна" in tg.bot.last_message(HEAD_CHAT).text
    tg.settle()
    assert tg.env.stage(item_id) == "HEAD_APPROVAL" and log_of(tg.env, item_id) == before
    assert message.buttons()

    tg.bot.send_text(HEAD_CHAT, "Нет бюджета на упаковку", reply_to=prompt.message_id)
    tg.settle()
    assert tg.env.stage(item_id) == "REJECTED"
    assert tg.env.item(item_id)[tg.env.names().field("REJECTION_REASON")] == "Нет бюджета на упаковку"
    assert "Причина: Нет бюджета на упаковку" in timeline(tg.env, item_id)[-1]
    assert log_of(tg.env, item_id)[-1] == ("reject", HEAD, None, "telegram")
    assert message.reply_markup is None and "Отклонено" in message.text.split("\n\n")[-1]
    [told] = [m for m in tg.bot.messages(INITIATOR_CHAT) if "отклонена" in m.text]   # the initiator's decision
    assert "Причина: Нет бюджета на упаковку" in told.text and "Этап: Отклонено" in told.text
    assert url_of(tg, item_id) in told.text and [b["text"] for b in told.buttons()] == ["Открыть в Битрикс24"]

    assert decisions.decide(tg.env.deps, tg.env.member_id, PR, item_id, INITIATOR, "resubmit").ok
    tg.settle()
    second = tg.with_buttons(HEAD_CHAT)[-1]                      # round 2 of the same step: fresh buttons work
    assert second.message_id != message.message_id
    tg.bot.press(HEAD_CHAT, second.message_id, "Согласовать")
    tg.settle()
    assert tg.env.stage(item_id) == "FINANCE_REVIEW"


def test_presses_that_must_change_nothing(tg: TgEnv) -> None:
    tg.link(HEAD, HEAD_CHAT)
    tg.link(FINANCE, FINANCE_CHAT)
    item_id = create(tg)
    message = approval_message(tg, HEAD_CHAT)
    approve = data_of(message, "Согласовать")
    before = (tg.env.stage(item_id), log_of(tg.env, item_id))

    tg.bot.press(HEAD_CHAT, message.message_id, data=approve, from_id=STRANGER)      # an unlinked account
    tg.settle()
    assert tg.bot.answers[-1]["text"].startswith("Этот Telegram не подключён")
    tg.bot.press(HEAD_CHAT, message.message_id, data=approve, from_id=FINANCE_CHAT)  # linked, not entitled
    tg.settle()
    assert "Решение сейчас принимает Марина Орлова" in tg.bot.answers[-1]["text"]
    update = {"update_id": 777001, "callback_query": {
        "id": "q-forged", "chat_instance": "1", "data": approve,
        "from": {"id": HEAD_CHAT, "is_bot": False, "first_name": "Марина"},
        "message": {"message_id": message.message_id, "date": 0, "text": message.text,
                    "chat": {"id": HEAD_CHAT, "type": "private"}}}}
    webhook = f"{tg.env.url}/telegram/webhook"
    for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": SECRET + "x"}):            # without the right secret
        assert requests.post(webhook, json=update, headers=headers, timeout=10).status_code == 403
    tg.settle()
    assert (tg.env.stage(item_id), log_of(tg.env, item_id)) == before
    assert message.buttons() and message.edits == []

    at = tg.env.sandbox.clock.now()
    assert decisions.decide(tg.env.deps, tg.env.member_id, PR, item_id, HEAD, "approve").ok   # in the card
    tg.settle()
    assert message.reply_markup is None                          # the delivered buttons were taken off
    decided = log_of(tg.env, item_id)
    tg.bot.press(HEAD_CHAT, message.message_id, data=approve)    # a stale button
    tg.settle()
    assert tg.bot.answers[-1]["text"] == f"Решение по этому этапу уже принято: Марина Орлова, {at:%d.%m.%Y %H:%M}."
    assert tg.env.stage(item_id) == "FINANCE_REVIEW" and log_of(tg.env, item_id) == decided
    assert decided[-1] == ("approve", HEAD, None, "card")


def test_operations_manager_approves_from_the_escalation_alert_on_the_heads_behalf(tg: TgEnv) -> None:
    from handlers.sweep import run_sweep

    tg.link(HEAD, HEAD_CHAT)
    tg.link(OPS, OPS_CHAT)
    item_id = create(tg)
    head_message = approval_message(tg, HEAD_CHAT)
    head_approve = data_of(head_message, "Согласовать")
    calendar = definitions(tg.env.deps).calendar
    created = tg.env.sandbox.clock.now()
    due = calendar.add_working_hours(calendar.add_working_days(created, 2), 1)
    tg.env.sandbox.clock.set(due + timedelta(minutes=1))          # 2 working days + 1 working hour later
    report = run_sweep(tg.env.deps, tg.env.member_id)
    assert report.telegram >= 1
    tg.settle()
    [alert] = tg.with_buttons(OPS_CHAT)
    assert "Заявка зависла: Марина Орлова не принял(а) решение" in alert.text
    assert url_of(tg, item_id) in alert.text and "Оплата упаковки" in alert.text
    assert [b["text"] for b in alert.buttons()] == BUTTONS
    assert "Сумма: 150 000 ₽" in alert.text and "Этап: Согласование руководителем" in alert.text
    assert "Ожидает: " in alert.text and "Ожидает: меньше минуты" not in alert.text

    tg.bot.press(OPS_CHAT, alert.message_id, "Согласовать")
    tg.settle()
    assert tg.env.stage(item_id) == "FINANCE_REVIEW"
    assert log_of(tg.env, item_id)[-1] == ("approve", OPS, HEAD, "telegram")
    assert "от имени Марина Орлова" in timeline(tg.env, item_id)[-1]
    assert alert.reply_markup is None and "от имени Марина Орлова" in alert.text
    assert all(m.reply_markup is None for m in tg.bot.messages(HEAD_CHAT))   # the head's copies closed too
    tg.bot.press(HEAD_CHAT, head_message.message_id, data=head_approve)
    tg.settle()
    assert "от имени Марина Орлова" in tg.bot.answers[-1]["text"] and len(log_of(tg.env, item_id)) == 2


def test_deactivated_people_are_unlinked(tg: TgEnv) -> None:
    tg.link(HEAD, HEAD_CHAT)
    tg.link(OPS, OPS_CHAT)
    state: Any = tg.env.sandbox.state
    with state.lock:
        state.users[OPS].active = False                          # fired in Bitrix24
    links = LinkStore(tg.env.deps.redis)
    job = tg.env.deps.queue(queues.DEFAULT).enqueue(unlink_inactive_job, tg.env.member_id)
    tg.settle()
    assert job.return_value() == [OPS]
    assert links.for_user(tg.env.member_id, OPS) is None and links.by_chat(OPS_CHAT) is None
    assert links.linked_users(tg.env.member_id) == [HEAD]
    item_id = create(tg)                                         # the head still gets Telegram
    assert approval_message(tg, HEAD_CHAT) and tg.env.stage(item_id) == "HEAD_APPROVAL"


def test_a_card_put_back_tells_the_mover_in_telegram_too(tg: TgEnv) -> None:
    tg.link(HEAD, HEAD_CHAT)
    item_id = create(tg)
    tg.env.as_user("m.orlova").move_item(ETID, item_id, tg.env.names().stage_ids["PAYMENT"])
    tg.settle()
    assert tg.env.stage(item_id) == "HEAD_APPROVAL"
    [put_back] = [m for m in tg.bot.messages(HEAD_CHAT) if m.text.startswith("Карточка возвращена")]
    assert "пропускает" in put_back.text and "Этап: Согласование руководителем" in put_back.text
    assert url_of(tg, item_id) in put_back.text and [b["text"] for b in put_back.buttons()] == ["Открыть в Битрикс24"]


def test_a_button_of_an_earlier_round_is_stale_after_a_resubmission(tg: TgEnv) -> None:
    tg.link(HEAD, HEAD_CHAT)
    item_id = create(tg)
    message = approval_message(tg, HEAD_CHAT)
    old_approve = data_of(message, "Согласовать")                # kept: as if removing the buttons had failed
    assert decisions.decide(tg.env.deps, tg.env.member_id, PR, item_id, HEAD, "reject", "Нет бюджета").ok
    assert decisions.decide(tg.env.deps, tg.env.member_id, PR, item_id, INITIATOR, "resubmit").ok
    tg.settle()
    assert tg.env.stage(item_id) == "HEAD_APPROVAL"
    tg.bot.press(HEAD_CHAT, message.message_id, data=old_approve)
    tg.settle()
    assert tg.bot.answers[-1]["text"].startswith("Решение по этому этапу уже принято")
    assert tg.env.stage(item_id) == "HEAD_APPROVAL" and log_of(tg.env, item_id)[-1][0] == "resubmit"
    second = tg.with_buttons(HEAD_CHAT)[-1]                      # the round-2 button decides
    tg.bot.press(HEAD_CHAT, second.message_id, "Согласовать")
    tg.settle()
    assert tg.env.stage(item_id) == "FINANCE_REVIEW"
