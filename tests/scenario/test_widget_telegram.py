"""«Подключить Telegram» in the approval tab, through the whole stack: the sandbox opens the tab with the
person's AUTH_ID, the tab's button posts its single-use ticket (never the AUTH_ID) to
``/b24/placement/telegram-link``, the deep link it shows is opened in the fake Telegram (``/start
<token>`` through the app's webhook with the secret header), and the chat is bound to that person."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import requests

from b24app.scenario import model as m
from b24app.scenario import widget
from b24app.scenario.actions import Performer
from b24app.scenario.stack import Stack
from b24app.scenario.view import PortalView
from b24app.telegram.links import LinkStore
from b24sandbox.actions import widget_form
from b24sandbox.clock import SandboxClock
from b24sandbox.tls import SandboxCA

ETID = 1100
TAB = f"CRM_DYNAMIC_{ETID}_DETAIL_TAB"
HEAD, FINANCE = 3, 8
HEAD_CHAT = 424242
LINK = re.compile(r"https://t\.me/([A-Za-z0-9_]+)\?start=([A-Za-z0-9_-]{1,64})")

pytestmark = pytest.mark.timeout(180)


def clock() -> SandboxClock:
    frozen = SandboxClock(datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("Europe/Moscow")))
    frozen.freeze()
    return frozen


@pytest.fixture
def stack(redis_url: str, sandbox_ca: SandboxCA) -> Iterator[Stack]:
    with Stack(redis_url, clock(), ca=sandbox_ca, telegram=True) as running:
        yield running


def create_request(stack: Stack) -> int:
    view = PortalView(stack.portal, next(w for w in stack.workflows if w.code == "payment_requests"))
    action = m.Action("create", "a.ivanova", None, m.Where("test", 0), title="Фотосессия продукции", fields={
        "AMOUNT": 150000, "COUNTERPARTY_NAME": "ООО «Фотостудия»", "EXPENSE_ITEM": "MARKETING",
        "INVOICE": "invoice.pdf", "INVOICE_NUMBER": "77-А", "URGENT": True})
    done = Performer(view, stack.settle).perform(action, None)
    stack.settle()
    assert done.item_id is not None
    return done.item_id


def links(stack: Stack) -> LinkStore:
    return LinkStore(stack.deps.redis)


def test_the_tab_gives_a_one_time_deep_link_that_links_that_person(stack: Stack) -> None:
    assert stack.bot is not None
    item = create_request(stack)
    page = widget.open_tab(stack.portal, HEAD, TAB, {"ID": item})
    assert page.status == 200 and page.telegram is not None
    assert set(page.telegram) == {"ticket", "lang"}                 # the ticket, never the AUTH_ID
    for words in ("ООО «Фотостудия»", "150 000 RUB", "Маркетинг", "77-А", "Срочно", "Да", "Анна Иванова"):
        assert words in page.text                                  # the request at a glance (Sheet.summary)
    assert "Telegram" in page.text and links(stack).for_user(stack.member_id, HEAD) is None

    shown = widget.link_telegram(page)
    assert shown.status == 200 and shown.buttons                   # the tab again, decisions still possible
    found = LINK.fullmatch(shown.deep_link)
    assert found is not None and found.group(1) == stack.bot.username
    assert "одноразовая" in shown.text and "10 минут" in shown.text

    replay = requests.post(f"{stack.web_url}/b24/placement/telegram-link", data=page.telegram, timeout=30)
    assert replay.status_code == 403 and "t.me" not in replay.text  # the ticket was spent

    stack.bot.send_text(HEAD_CHAT, f"/start {found.group(2)}")
    stack.settle()
    assert "подключён" in stack.bot.last_message(HEAD_CHAT).text
    link = links(stack).for_user(stack.member_id, HEAD)
    assert link is not None and link.chat_id == HEAD_CHAT and link.active
    assert links(stack).for_user(stack.member_id, FINANCE) is None

    stack.bot.send_text(HEAD_CHAT + 1, f"/start {found.group(2)}")  # the same link, opened again elsewhere
    assert "недействительна" in stack.bot.last_message(HEAD_CHAT + 1).text
    assert links(stack).by_chat(HEAD_CHAT + 1) is None

    again = widget.open_tab(stack.portal, HEAD, TAB, {"ID": item})
    assert "Telegram подключён" in again.text


def test_forged_tickets_and_the_auth_id_get_no_link(stack: Stack) -> None:
    item = create_request(stack)
    page = widget.open_tab(stack.portal, HEAD, TAB, {"ID": item})
    assert page.telegram is not None
    nonce, expires, signature = page.telegram["ticket"].split(".")
    url = f"{stack.web_url}/b24/placement/telegram-link"
    with stack.portal.state.lock:
        _, pairs = widget_form(stack.portal.state, TAB, HEAD, {"ID": item})
    auth_id = dict(pairs)["AUTH_ID"]
    for forged in (f"{nonce}.{expires}.{'0' * len(signature)}", f"{nonce}.{int(expires) + 60}.{signature}",
                   auth_id, ""):
        answer = requests.post(url, data={"ticket": forged, "lang": "ru"}, timeout=30)
        assert answer.status_code == 403 and "t.me" not in answer.text
    answer = requests.post(url, data={**dict(pairs), "lang": "ru"}, timeout=30)  # the frame-open form itself
    assert answer.status_code == 403 and "t.me" not in answer.text
    assert stack.deps.redis.keys("b24app:tg:token:*") == []
    assert widget.link_telegram(page).deep_link                     # the genuine ticket still works


def test_without_telegram_the_tab_offers_no_link(redis_url: str, sandbox_ca: SandboxCA) -> None:
    with Stack(redis_url, clock(), ca=sandbox_ca) as plain:
        item = create_request(plain)
        page = widget.open_tab(plain.portal, HEAD, TAB, {"ID": item})
        assert page.status == 200 and page.telegram is None and "Telegram" not in page.text
        ticket = page.ticket
        answer = requests.post(f"{plain.web_url}/b24/placement/telegram-link", data={"ticket": ticket}, timeout=30)
        assert answer.status_code == 404 and "t.me" not in answer.text
        assert widget.press(page, "approve", None).outcome == "ok"   # the ticket was not spent by that
