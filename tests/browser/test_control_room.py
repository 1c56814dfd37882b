"""The control room in a real browser (Debian's chromium through Playwright), opened the way the portal
opens a local app's own page: the sandbox's "app from the left menu" page posts the frame-open form
(the person's ``AUTH_ID``) into an iframe. Screenshots: /tmp/b24app-control-room*.png.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Frame, Page

from b24app.scenario import model as m
from b24app.scenario.actions import Performer
from b24app.scenario.stack import Stack
from b24app.scenario.view import PortalView
from tests.fixtures.stack import START

pytestmark = pytest.mark.timeout(240)


def create(stack: Stack, login: str, title: str, expense: str, amount: int) -> int:
    view = PortalView(stack.portal, next(w for w in stack.workflows if w.code == "payment_requests"))
    action = m.Action("create", login, None, m.Where("test", 0), title=title, fields={
        "AMOUNT": amount, "COUNTERPARTY_NAME": "ООО «Поставщик»", "EXPENSE_ITEM": expense, "INVOICE": "invoice.pdf"})
    done = Performer(view, stack.settle).perform(action, None)
    stack.settle()
    assert done.item_id is not None
    return done.item_id


def approve(stack: Stack, login: str, item_id: int) -> None:
    view = PortalView(stack.portal, next(w for w in stack.workflows if w.code == "payment_requests"))
    Performer(view, stack.settle).perform(m.Action("approve", login, "card", m.Where("test", 0)), item_id)
    stack.settle()


def open_room(browser: Browser, stack: Stack, login: str) -> tuple[Page, Frame]:
    context = browser.new_context(ignore_https_errors=True, locale="ru-RU", accept_downloads=True,
                                  viewport={"width": 1280, "height": 1000})
    context.add_cookies([{"name": "sandbox_as", "value": login, "url": stack.portal.base_url}])
    page = context.new_page()
    page.goto(f"{stack.portal.ui_url}app/page")
    frame = page.frame(name="app-frame")
    assert frame is not None
    frame.wait_for_selector("h1")
    return page, frame


def test_the_operations_manager_sees_filters_and_downloads(browser: Browser, stack: Stack) -> None:
    old = create(stack, "a.ivanova", "Реклама у блогеров", "MARKETING", 95000)
    done = create(stack, "d.petrov", "Баннеры для маркетплейса", "MARKETING", 30000)
    stack.clock.set(START + timedelta(hours=5))
    approve(stack, "m.orlova", done)                          # head approval took 5 working hours
    stack.clock.set(START + timedelta(days=3))               # the first one waits past its allowance
    fresh = create(stack, "e.smirnova", "Картон для коробок", "PACKAGING", 40000)
    page, frame = open_room(browser, stack, "ops.manager")
    assert frame.inner_text("h1") == "Контрольная панель согласований"
    rows = frame.query_selector_all("#open tbody tr")
    assert [r.get_attribute("data-item") for r in rows] == [str(old), str(done), str(fresh)]  # overdue first
    assert "просрочено" in rows[0].inner_text() and "в срок" in rows[2].inner_text()
    assert "Маркетинг" in rows[0].inner_text() and "Марина Орлова" in rows[0].inner_text()
    link = rows[0].query_selector("a")
    assert link is not None and (link.get_attribute("href") or "").endswith(f"/details/{old}/")
    steps = frame.inner_text("#steps")                        # the approval log's head step: 5 working hours
    assert "Согласование руководителем" in steps and "5.0" in steps
    assert "Марина Орлова" in frame.inner_text("#approvers")
    assert frame.query_selector("#charts svg") is not None
    assert frame.query_selector("script") is None                 # nothing runs in the page
    page.screenshot(path="/tmp/b24app-control-room.png", full_page=True)

    frame.select_option("#f-department", label="Снабжение")
    frame.click("#apply")
    frame.wait_for_selector("#open-count")
    assert frame.inner_text("#open-count") == "1"          # Снабжение: e.smirnova's request only
    assert [r.get_attribute("data-item") for r in frame.query_selector_all("#open tbody tr")] == [str(fresh)]

    with page.expect_download() as info:
        frame.click("#csv")
    body = Path(info.value.path()).read_bytes()
    assert body.startswith(b"\xef\xbb\xbf")                        # UTF-8 with BOM, for Excel
    lines = body.decode("utf-8-sig").splitlines()
    assert lines[0].split(";")[:3] == ["№", "Заявка", "Процесс"]
    assert len(lines) == 2 and lines[1].split(";")[0] == str(fresh)   # the filter holds in the export


def test_an_employee_is_politely_refused(browser: Browser, stack: Stack) -> None:
    create(stack, "a.ivanova", "Реклама у блогеров", "MARKETING", 95000)
    page, frame = open_room(browser, stack, "a.ivanova")
    assert frame.inner_text("h1") == "Доступ ограничен"
    assert "операционному менеджеру" in frame.inner_text("[data-outcome=refused]")
    assert frame.query_selector("#open") is None
    page.screenshot(path="/tmp/b24app-control-room-refused.png", full_page=True)


def test_the_director_and_a_portal_administrator_see_it_too(browser: Browser, stack: Stack) -> None:
    create(stack, "a.ivanova", "Реклама у блогеров", "MARKETING", 95000)
    for login in ("director", "admin"):                   # a role of config/roles.yaml; user.admin says yes
        _, frame = open_room(browser, stack, login)
        assert frame.inner_text("h1") == "Контрольная панель согласований", login
        assert len(frame.query_selector_all("#open tbody tr")) == 1
