"""The accounting view (#18) in a real browser (Debian's chromium through Playwright), opened the way the
portal opens the app's own page: the sandbox's "app from the left menu" page posts the chief
accountant's frame-open form into an iframe, and the app's page of an accountant is this view.
Screenshot: /tmp/b24app-accounting.png.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser

from b24app.scenario.stack import Stack
from tests.integration.accounting_env import at_payment, paid_statement, view

pytestmark = pytest.mark.timeout(240)


def test_the_chief_accountant_downloads_orders_uploads_a_statement_and_sees_it_paid(
        browser: Browser, stack: Stack, tmp_path: Path) -> None:
    item = at_payment(stack, "Реклама у блогеров", 95000, "44")
    context = browser.new_context(ignore_https_errors=True, locale="ru-RU", accept_downloads=True,
                                  viewport={"width": 1280, "height": 1000})
    context.add_cookies([{"name": "sandbox_as", "value": "chief.accountant", "url": stack.portal.base_url}])
    page = context.new_page()
    page.goto(f"{stack.portal.ui_url}app/page")
    frame = page.frame(name="app-frame")
    assert frame is not None
    frame.wait_for_selector("h1")
    assert frame.inner_text("h1") == "Бухгалтерия: платёжные поручения и выписки"
    assert [r.get_attribute("data-item") for r in frame.query_selector_all("#orders tbody tr")] == [str(item)]
    assert "В файле" in frame.inner_text("#orders")
    assert frame.query_selector("script") is None                 # nothing runs in the page

    with page.expect_download() as info:
        frame.click("#orders-download")
    orders = Path(info.value.path()).read_bytes().decode("cp1251")
    assert orders.startswith("1CClientBankExchange\r\n") and f"(заявка №{item})" in orders

    statement = tmp_path / "kl_to_1c.txt"
    statement.write_bytes(paid_statement(item, "95000.00", "44"))
    frame.set_input_files("#statement-file", str(statement))
    frame.click("#upload")
    frame.wait_for_selector("#report")
    assert "Оплачено: 1" in frame.inner_text("#report")
    assert frame.query_selector(f'#report tr[data-item="{item}"]') is not None
    assert "kl_to_1c.txt" in frame.inner_text("#uploads") and "Татьяна Морозова" in frame.inner_text("#uploads")
    page.screenshot(path="/tmp/b24app-accounting.png", full_page=True)
    stack.settle()
    assert view(stack).stage_code(item) == "PAID"
