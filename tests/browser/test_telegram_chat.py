"""The fake Bot API's chats in the sandbox UI (``/sandbox/telegram``), in Debian's chromium through
Playwright: after ``demo --keep``'s live setup the head sees the approval in her Telegram chat with its
buttons, and pressing «Согласовать» there moves the request on, as a press in Telegram does.

Playwright's sync API runs an asyncio loop in this thread while it is open, and the app's Telegram jobs
(run by ``stack.settle`` on an RQ worker, which needs the main thread) start their own with
``asyncio.run``: so the browser is closed while the stack settles. Screenshots: /tmp/b24app-telegram-*.png.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from playwright.sync_api import Page, sync_playwright

from b24app.demo import START, Narrator
from b24app.demo_live import build_live
from b24app.scenario.stack import Stack
from b24sandbox.clock import SandboxClock
from b24sandbox.tls import SandboxCA
from tests.browser.conftest import CHROMIUM

pytestmark = [pytest.mark.timeout(180), pytest.mark.browser]


@pytest.fixture
def live_stack(redis_url: str, sandbox_ca: SandboxCA) -> Iterator[Stack]:
    clock = SandboxClock(START)
    clock.freeze()
    with Stack(redis_url, clock, ca=sandbox_ca, telegram=True) as running:
        yield running


@contextmanager
def chromium_page() -> Iterator[Page]:
    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        context = browser.new_context(ignore_https_errors=True, locale="ru-RU", viewport={"width": 1000, "height": 900})
        yield context.new_page()
        browser.close()


def test_the_heads_telegram_chat_shows_the_approval_and_its_buttons(live_stack: Stack) -> None:
    narrator = Narrator(live_stack, lambda line: None)
    live = build_live(narrator)
    head = next(item for item in live.items if item.wanted.ref == "live-head")
    with chromium_page() as page:
        page.goto(live.ui_url)
        page.click("header >> text=Telegram")                  # the header's link to the chats page
        chat = page.locator(f"#chat-{live.telegram_chat}")
        assert "Марина Орлова" in chat.locator("h3").inner_text()
        notice = chat.locator(".tg-message", has_text=f"Согласовать заявку на оплату №{head.item_id}")
        assert notice.count() == 1
        assert notice.locator(".tg-button").all_inner_texts() == ["Согласовать", "Отклонить", "Открыть в Битрикс24"]
        page.screenshot(path="/tmp/b24app-telegram-chat.png", full_page=True)
        notice.get_by_role("button", name="Согласовать").click()
        page.wait_for_load_state()
        assert page.locator(".error").count() == 0
    live_stack.settle()
    assert narrator.views["payment_requests"].stage_code(head.item_id) == "FINANCE_REVIEW"
    with chromium_page() as page:
        page.goto(live.telegram_url)
        answered = page.locator(f"#chat-{live.telegram_chat} .tg-message",
                                has_text=f"заявку на оплату №{head.item_id}").first
        assert "Согласовать" not in answered.locator(".tg-button").all_inner_texts()   # the app took them off
        page.screenshot(path="/tmp/b24app-telegram-pressed.png", full_page=True)
