"""The approval tab tells the whole story (#15): the route as a progress line, the current step's deadline
and working time left, the pause, since when the approver holds it, the reminders sent, and each sheet
entry under its own step — in Debian's chromium at the card's width (~600 px).

The tab's screenshot for the README is written to docs/img/approval-tab.png by the first test.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from playwright.sync_api import Browser, Frame, Page

from b24app.scenario import model as m
from b24app.scenario.actions import Performer
from b24app.scenario.stack import Stack
from tests.browser import test_widget as widget

ETID, view_of = widget.ETID, widget.view_of

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "img" / "approval-tab.png"
WHERE = m.Where("test", 0)


def create(stack: Stack, amount: int, title: str = "Реклама у блогеров") -> int:
    action = m.Action("create", "a.ivanova", None, WHERE, title=title, fields={
        "AMOUNT": amount, "COUNTERPARTY_NAME": "ООО «Блог»", "EXPENSE_ITEM": "MARKETING", "INVOICE": "invoice.pdf"})
    done = Performer(view_of(stack), stack.settle).perform(action, None)
    stack.settle()
    assert done.item_id is not None
    return done.item_id


def decide(stack: Stack, item: int, login: str, kind: str = "approve", reason: str | None = None) -> None:
    done = Performer(view_of(stack), stack.settle).perform(m.Action(kind, login, "card", WHERE, reason=reason), item)
    assert not done.refused, done.text
    stack.settle()


def open_narrow(browser: Browser, stack: Stack, login: str, item: int, height: int = 900) -> tuple[Page, Frame]:
    context = browser.new_context(ignore_https_errors=True, locale="ru-RU", viewport={"width": 600, "height": height})
    context.add_cookies([{"name": "sandbox_as", "value": login, "url": stack.portal.base_url}])
    page = context.new_page()
    page.goto(f"{stack.portal.ui_url}widget?placement=CRM_DYNAMIC_{ETID}_DETAIL_TAB&ID={item}")
    frame = page.frame(name="widget-frame")
    assert frame is not None
    frame.wait_for_selector("#stage")
    return page, frame


def route_of(frame: Frame) -> list[tuple[str, str]]:
    return [(str(li.query_selector(".name").inner_text()), str(li.get_attribute("data-state")))  # type: ignore[union-attr]
            for li in frame.query_selector_all("#route li")]


def test_the_progress_line_shows_the_director_only_for_a_large_amount(browser: Browser, stack: Stack) -> None:
    small = create(stack, 95000)
    _, frame = open_narrow(browser, stack, "a.ivanova", small)
    assert route_of(frame) == [("Подача заявки", "done"), ("Согласование руководителем", "current"),
                               ("Проверка финансовым менеджером", "next"), ("Оплата", "next"), ("Оплачено", "next")]
    large = create(stack, 1500000, "Оборудование для склада")
    decide(stack, large, "m.orlova")
    page, frame = open_narrow(browser, stack, "finance.manager", large, height=1900)   # the frame is 75vh
    assert route_of(frame) == [("Подача заявки", "done"), ("Согласование руководителем", "done"),
                               ("Проверка финансовым менеджером", "current"), ("Согласование директором", "next"),
                               ("Оплата", "next"), ("Оплачено", "next")]
    sizes = frame.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert sizes[1] <= 600 and sizes[0] <= sizes[1], sizes     # nothing sticks out of the narrow card
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.locator("iframe").screenshot(path=str(SCREENSHOT))


def test_the_director_entry_carries_its_own_step(browser: Browser, stack: Stack) -> None:
    item = create(stack, 1500000, "Оборудование для склада")
    for login in ("m.orlova", "finance.manager", "director"):
        decide(stack, item, login)
    _, frame = open_narrow(browser, stack, "a.ivanova", item)
    rows = [r.inner_text() for r in frame.query_selector_all("#sheet tbody tr")]
    assert any(r.startswith("Согласование директором") and "Сергей Лебедев" in r for r in rows), rows
    assert not any(r.startswith("Проверка финансовым менеджером") and "Сергей Лебедев" in r for r in rows), rows
    assert [s for _, s in route_of(frame)] == ["done", "done", "done", "done", "current", "next"]


def test_the_deadline_and_the_working_time_left(browser: Browser, stack: Stack) -> None:
    item = create(stack, 95000)                        # Monday 02.03.2026 10:00; allowance 2 working days
    _, frame = open_narrow(browser, stack, "a.ivanova", item)
    assert frame.get_attribute("#clock", "data-paused") == "no"
    assert frame.inner_text("#since") == "02.03.2026 10:00"
    assert frame.inner_text("#deadline") == "04.03.2026 10:00"
    assert frame.inner_text("#left") == "18 раб. ч"
    stack.clock.advance(timedelta(days=1, hours=3))    # Tuesday 13:00: 12 working hours used
    stack.tick()
    stack.settle()
    _, frame = open_narrow(browser, stack, "a.ivanova", item)
    assert frame.inner_text("#used") == "12 раб. ч"
    assert frame.inner_text("#left") == "6 раб. ч"
    assert frame.inner_text("#deadline") == "04.03.2026 10:00"
    reminders = frame.inner_text("#reminders")        # every 4 working hours while the task is not started
    assert "Напоминание — Марина Орлова" in reminders


def test_the_clock_pauses_while_frozen(browser: Browser, stack: Stack) -> None:
    item = create(stack, 95000)
    stack.clock.advance(timedelta(hours=2))
    decide(stack, item, "m.orlova", "freeze", "Ждём бюджет на квартал")
    stack.clock.advance(timedelta(days=1))
    _, frame = open_narrow(browser, stack, "a.ivanova", item)
    assert frame.get_attribute("#clock", "data-paused") == "yes"
    assert frame.inner_text("#paused").startswith("Пауза")
    assert "«Заморозка»" in frame.inner_text("#paused")
    assert frame.inner_text("#left") == "16 раб. ч (пауза)"      # the two hours used stay used
    assert frame.query_selector("#deadline") is None
    assert ("Согласование руководителем", "current") in route_of(frame)


def test_the_checks_show_a_duplicate_with_its_link_within_the_narrow_card(browser: Browser, stack: Stack) -> None:
    first = create(stack, 77000, "Листовки для выставки")
    decide(stack, first, "m.orlova")
    second = create(stack, 77000, "Листовки для выставки (повтор)")
    decide(stack, second, "m.orlova")
    _, frame = open_narrow(browser, stack, "finance.manager", second, height=1900)
    checks = frame.inner_text("#checks")
    assert f"Возможный дубль: заявка №{first}" in checks and "тот же файл счёта" in checks
    link = frame.query_selector("#checks a")
    assert link is not None and str(link.get_attribute("href")).endswith(f"/details/{first}/")
    sizes = frame.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert sizes[1] <= 600 and sizes[0] <= sizes[1], sizes
