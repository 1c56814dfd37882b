"""The contract's approval tab lists its file versions (#16) at the card's width, and each link is the file's
portal ``url``: it opens with the person's own portal session (the sandbox UI's signed-in person), newest
first, with who approved which version."""

from __future__ import annotations

from playwright.sync_api import Browser

from b24app.scenario import model as m
from b24app.scenario.actions import Performer, file_content
from b24app.scenario.stack import Stack
from b24app.scenario.view import PortalView

CONTRACTS_ETID = 1102
WHERE = m.Where("test", 0)


def _contracts(stack: Stack) -> PortalView:
    return PortalView(stack.portal, next(w for w in stack.workflows if w.code == "contracts"))


def _do(stack: Stack, action: m.Action, item: int | None) -> int | None:
    done = Performer(_contracts(stack), stack.settle).perform(action, item)
    assert not done.refused, done.text
    stack.settle()
    return done.item_id


def test_the_tab_lists_each_version_with_a_link_the_persons_session_opens(browser: Browser, stack: Stack) -> None:
    item = _do(stack, m.Action("create", "a.ivanova", None, WHERE, title="Договор поставки", fields={
        "SUBJECT": "Поставка", "AMOUNT": 500000, "COUNTERPARTY_NAME": "ООО «Флакон»",
        "CONTRACT_FILE": "contract-v1.pdf"}), None)
    assert item is not None
    _do(stack, m.Action("approve", "m.orlova", "card", WHERE), item)
    _do(stack, m.Action("attach", "a.ivanova", None, WHERE, target="item", field="CONTRACT_FILE",
                        file="contract-v2.pdf"), item)

    context = browser.new_context(ignore_https_errors=True, locale="ru-RU", viewport={"width": 600, "height": 1400})
    context.add_cookies([{"name": "sandbox_as", "value": "m.orlova", "url": stack.portal.base_url}])
    page = context.new_page()
    page.goto(f"{stack.portal.ui_url}widget?placement=CRM_DYNAMIC_{CONTRACTS_ETID}_DETAIL_TAB&ID={item}")
    frame = page.frame(name="widget-frame")
    assert frame is not None
    frame.wait_for_selector("#versions")

    rows = frame.query_selector_all("#versions tbody tr")
    assert [r.query_selector("a").inner_text() for r in rows] == ["contract-v2.pdf", "contract-v1.pdf"]  # type: ignore[union-attr]
    assert "текущая" in rows[0].inner_text() and "Марина Орлова" in rows[1].inner_text()
    sheet = frame.inner_text("#sheet")
    assert "версия 1" in sheet and "Версия 2" in sheet and "Согласование начато заново" in sheet
    width = frame.evaluate("document.documentElement.scrollWidth")
    assert width <= 600, f"the tab overflows the card: {width} px"

    link = rows[0].query_selector("a").get_attribute("href")  # type: ignore[union-attr]
    assert link is not None and link.startswith(stack.portal.base_url + "/bitrix/services/main/ajax.php")
    assert "auth=" not in link and "token=" not in link
    opened = context.request.get(link)                  # the browser, with the person's portal session
    assert opened.status == 200 and opened.body() == file_content("contract-v2.pdf")
    stranger = browser.new_context(ignore_https_errors=True).request.get(link)
    assert stranger.status != 200                        # no portal session: the file does not open
