"""A person creates a payment request in the sandbox UI's card (Debian's chromium through Playwright),
the app picks it up from the portal's event, and the head approves it in the approval tab.

Screenshots are written to /tmp/b24app-card-*.png.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser

from b24app.scenario.stack import Stack
from tests.browser.test_widget import ETID, open_tab, view_of

pytestmark = [pytest.mark.timeout(180), pytest.mark.browser]


def test_a_request_created_in_the_card_reaches_the_head_and_is_approved(browser: Browser, stack: Stack) -> None:
    context = browser.new_context(ignore_https_errors=True, locale="ru-RU", viewport={"width": 1000, "height": 1100})
    context.add_cookies([{"name": "sandbox_as", "value": "a.ivanova", "url": stack.portal.base_url}])
    page = context.new_page()
    page.goto(f"{stack.portal.ui_url}kanban/{ETID}")
    page.click("a.new-item")
    page.get_by_label("Название", exact=True).fill("Реклама у блогеров")
    page.get_by_label("Контрагент (название)", exact=True).fill("ООО «Блог»")
    page.get_by_label("Сумма", exact=True).fill("95000")
    page.get_by_label("Статья расходов", exact=True).select_option(label="Маркетинг и реклама")
    page.get_by_label("Счёт", exact=True).set_input_files(
        {"name": "invoice.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 invoice"})
    page.screenshot(path="/tmp/b24app-card-filled.png", full_page=True)
    page.click("button.save")
    page.wait_for_selector(".card.just-created")
    item_id = int(page.get_attribute(".card.just-created", "data-item") or 0)
    assert "Реклама у блогеров" in page.inner_text(".card.just-created")
    stack.settle()
    view = view_of(stack)
    assert view.stage_code(item_id) == "HEAD_APPROVAL"                   # the app took it from the event
    page.reload()
    page.screenshot(path="/tmp/b24app-card-created.png", full_page=True)

    tab_page, frame = open_tab(browser, stack, "m.orlova", item_id)
    summary = frame.inner_text(".summary")
    for shown in ("ООО «Блог»", "95 000 RUB", "Маркетинг", "Анна Иванова"):
        assert shown in summary
    frame.click("button.approve")
    frame.wait_for_selector("#outcome")
    assert frame.get_attribute("#outcome", "data-outcome") == "ok"
    tab_page.screenshot(path="/tmp/b24app-card-approved.png", full_page=True)
    stack.settle()
    assert view.stage_code(item_id) == "FINANCE_REVIEW"
