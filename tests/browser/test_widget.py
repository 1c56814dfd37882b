"""The approval tab in a real browser (Debian's chromium through Playwright), opened the way the
sandbox UI opens it: a page of the portal posts the frame-open form into an iframe.

Screenshots of each state are written to /tmp/b24app-widget-*.png.
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Frame, Page

from b24app.scenario import model as m
from b24app.scenario.actions import Performer
from b24app.scenario.stack import Stack
from b24app.scenario.view import PortalView
from b24app.telegram.links import LinkStore
from b24sandbox.clock import SandboxClock
from b24sandbox.tls import SandboxCA

ETID = 1100

pytestmark = pytest.mark.timeout(180)


def view_of(stack: Stack) -> PortalView:
    return PortalView(stack.portal, next(w for w in stack.workflows if w.code == "payment_requests"))


def create_request(stack: Stack) -> int:
    action = m.Action("create", "a.ivanova", None, m.Where("test", 0), title="Реклама у блогеров", fields={
        "AMOUNT": 95000, "COUNTERPARTY_NAME": "ООО «Блог»", "EXPENSE_ITEM": "MARKETING", "INVOICE": "invoice.pdf"})
    done = Performer(view_of(stack), stack.settle).perform(action, None)
    stack.settle()
    assert done.item_id is not None
    return done.item_id


def open_tab(browser: Browser, stack: Stack, login: str, item_id: int, js: bool = True) -> tuple[Page, Frame]:
    context = browser.new_context(ignore_https_errors=True, java_script_enabled=js, locale="ru-RU",
                                  viewport={"width": 1000, "height": 900})
    context.add_cookies([{"name": "sandbox_as", "value": login, "url": stack.portal.base_url}])
    page = context.new_page()
    page.goto(f"{stack.portal.ui_url}widget?placement=CRM_DYNAMIC_{ETID}_DETAIL_TAB&ID={item_id}")
    if not js:
        page.click("noscript button, form#widget-form button")
    frame = page.frame(name="widget-frame")
    assert frame is not None
    frame.wait_for_selector("#stage")
    return page, frame


def test_approve_in_the_tab(browser: Browser, stack: Stack) -> None:
    item = create_request(stack)
    page, frame = open_tab(browser, stack, "m.orlova", item)
    assert frame.inner_text("#stage") == "Согласование руководителем"
    assert frame.inner_text("#approver") == "Марина Орлова"
    summary = frame.inner_text(".summary")
    for shown in ("ООО «Блог»", "95 000 RUB", "Маркетинг", "Анна Иванова"):   # Sheet.summary
        assert shown in summary
    assert frame.query_selector("#telegram") is None                # Telegram is off in this stack
    page.screenshot(path="/tmp/b24app-widget-open.png", full_page=True)
    frame.click("button.approve")
    frame.wait_for_selector("#outcome")
    assert frame.get_attribute("#outcome", "data-outcome") == "ok"
    assert frame.inner_text("#stage") == "Проверка финансовым менеджером"
    assert "Согласовано" in frame.inner_text("#sheet")
    page.screenshot(path="/tmp/b24app-widget-approved.png", full_page=True)
    stack.settle()
    assert view_of(stack).stage_code(item) == "FINANCE_REVIEW"


def test_reject_needs_a_reason_then_rejects(browser: Browser, stack: Stack) -> None:
    item = create_request(stack)
    page, frame = open_tab(browser, stack, "m.orlova", item)
    frame.click("button.reject")
    assert frame.inner_text("#error-reject") == "Укажите причину отклонения."
    assert "/decide" not in frame.url  # nothing was sent
    page.screenshot(path="/tmp/b24app-widget-reason-required.png", full_page=True)
    assert view_of(stack).stage_code(item) == "HEAD_APPROVAL"
    frame.fill("#reason-reject", "Нет договора с блогером")
    frame.click("button.reject")
    frame.wait_for_selector("#outcome")
    assert frame.get_attribute("#outcome", "data-outcome") == "ok"
    assert frame.inner_text("#stage") == "Отклонено"
    assert "Нет договора с блогером" in frame.inner_text("#sheet")
    page.screenshot(path="/tmp/b24app-widget-rejected.png", full_page=True)
    stack.settle()
    assert view_of(stack).stage_code(item) == "REJECTED"


def test_without_javascript_the_server_still_requires_the_reason(browser: Browser, stack: Stack) -> None:
    item = create_request(stack)
    _, frame = open_tab(browser, stack, "m.orlova", item, js=False)
    frame.click("button.reject")
    frame.wait_for_selector("#outcome")
    assert frame.inner_text("#outcome") == "Укажите причину отклонения."
    assert frame.get_attribute("#outcome", "data-outcome") == "refused"
    stack.settle()
    assert view_of(stack).stage_code(item) == "HEAD_APPROVAL"


def test_link_telegram_from_the_tab(browser: Browser, redis_url: str, sandbox_ca: SandboxCA) -> None:
    clock = SandboxClock(datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("Europe/Moscow")))
    clock.freeze()
    with Stack(redis_url, clock, ca=sandbox_ca, telegram=True) as running:
        assert running.bot is not None
        item = create_request(running)
        page, frame = open_tab(browser, running, "m.orlova", item)
        assert "Получайте уведомления" in frame.inner_text("#telegram")
        frame.click("button.telegram")
        frame.wait_for_selector("#deep-link")
        link = frame.get_attribute("#deep-link", "href") or ""
        found = re.fullmatch(rf"https://t\.me/{running.bot.username}\?start=([A-Za-z0-9_-]{{1,64}})", link)
        assert found is not None and frame.inner_text("#stage") == "Согласование руководителем"
        page.screenshot(path="/tmp/b24app-widget-telegram.png", full_page=True)
        running.bot.send_text(5005, f"/start {found.group(1)}")
        stored = LinkStore(running.deps.redis).for_user(running.member_id, 3)
        assert stored is not None and stored.chat_id == 5005
        frame.click("button.approve")                                # the tab's new ticket still decides
        frame.wait_for_selector("#outcome")
        assert frame.get_attribute("#outcome", "data-outcome") == "ok"
