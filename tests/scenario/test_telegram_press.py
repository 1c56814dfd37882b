"""A crafted Telegram press through the whole stack: the button's callback data is genuine, but the message it
names does not exist in the presser's chat. The decision is made (it is the approver's own button), and
Telegram's «message to edit not found» when the outcome is shown must not fail the job afterwards."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from b24app.scenario import model as m
from b24app.scenario.actions import Performer
from b24app.scenario.stack import Stack
from b24app.scenario.telegram import TelegramPeople
from b24app.scenario.view import PortalView
from b24app.telegram.links import LinkStore
from b24sandbox.clock import SandboxClock
from b24sandbox.tls import SandboxCA

WHERE = m.Where("test", 0)
MISSING_MESSAGE = 987654


@pytest.mark.timeout(180)
def test_a_press_naming_a_missing_message_decides_and_the_job_does_not_fail(redis_url: str,
                                                                            sandbox_ca: SandboxCA) -> None:
    clock = SandboxClock(datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("Europe/Moscow")))
    clock.freeze()
    with Stack(redis_url, clock, ca=sandbox_ca, telegram=True) as stack:
        bot = stack.bot
        assert bot is not None
        view = PortalView(stack.portal, next(w for w in stack.workflows if w.code == "payment_requests"))
        people = TelegramPeople(bot, view, LinkStore(stack.deps.redis), stack.web_url, stack.settle)
        performer = Performer(view, stack.settle, people)
        linked = performer.perform(m.Action("link_telegram", "m.orlova", None, WHERE), None)
        assert not linked.refused, linked.text
        done = performer.perform(m.Action("create", "a.ivanova", None, WHERE, title="Баннеры", fields={
            "AMOUNT": 90000, "COUNTERPARTY_NAME": "ООО «Принт»", "EXPENSE_ITEM": "MARKETING",
            "INVOICE": "invoice.pdf", "INVOICE_NUMBER": "5"}), None)
        stack.settle()
        item = done.item_id
        assert item is not None and view.stage_code(item) == "HEAD_APPROVAL"
        chat = people.chat("m.orlova")
        sent = [msg for msg in bot.messages(chat) if any(b.get("text") == "Согласовать" for b in msg.buttons())]
        assert sent, "the head got no Telegram message with «Согласовать»"
        data = next(b["callback_data"] for b in sent[-1].buttons() if b.get("text") == "Согласовать")
        assert MISSING_MESSAGE not in {msg.message_id for msg in bot.messages(chat)}
        crafted = {"message_id": MISSING_MESSAGE, "from": bot.bot_user, "date": 0, "text": sent[-1].text,
                   "chat": {"id": chat, "type": "private", "first_name": "Марина"}}
        edits_before = len(bot.calls)
        bot.deliver({"update_id": 1_000_001, "callback_query": {
            "id": "crafted-1", "from": bot.user(chat), "message": crafted, "chat_instance": str(chat), "data": data}})
        stack.settle()                      # raises StackError if the press job failed

        assert view.stage_code(item) == "FINANCE_REVIEW"                  # decided, once
        refused = [c for c in bot.calls[edits_before:] if c.method.lower() == "editmessagetext"]
        assert refused and all(c.status == 400 for c in refused)          # Telegram did refuse the edit
        assert any("согласован" in msg.text.lower() for msg in bot.messages(chat)[-3:])  # outcome still said
