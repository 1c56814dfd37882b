"""The approval tab shows other requests only as far as the person's own portal rights go (#16).

Across processes: the sandbox over HTTPS with per-person read rights on smart-process items
(``portal.crm_access``, ``b24sandbox.crmaccess``), the app's edge on loopback, the real engine, jobs on a
real Redis. The tab reads the links with the app's token and then asks the portal, with the person's
own token, which of the other items that person may read.
"""

from __future__ import annotations

from typing import Any

from b24app.scenario import model as m
from b24app.scenario import widget
from b24app.scenario.actions import Performer
from b24app.scenario.stack import Stack
from b24app.scenario.view import PortalView
from b24sandbox import crmstore as cs

WHERE = m.Where("test", 0)


def _view(stack: Stack, code: str) -> PortalView:
    return PortalView(stack.portal, next(w for w in stack.workflows if w.code == code))


def _create(stack: Stack, code: str, login: str, title: str, fields: dict[str, Any],
            parent: tuple[int, int] | None = None) -> int:
    action = m.Action("create", login, None, WHERE, title=title, fields=fields, parent=parent)
    done = Performer(_view(stack, code), stack.settle).perform(action, None)
    stack.settle()
    assert done.item_id is not None, done.text
    return done.item_id


def _ids(stack: Stack, etid: int) -> list[int]:
    with stack.portal.state.lock:
        return list(cs.items_of(stack.portal.state, etid))


def _contract_with_payments(stack: Stack) -> tuple[int, int, int, int, int]:
    contracts, payments = _view(stack, "contracts").etid, _view(stack, "payment_requests").etid
    contract = _create(stack, "contracts", "a.ivanova", "Договор на рекламу", {
        "SUBJECT": "Реклама в метро", "AMOUNT": 300000, "COUNTERPARTY_NAME": "ООО «Метро Медиа»",
        "CONTRACT_FILE": "contract.pdf"})
    fields = {"COUNTERPARTY_NAME": "ООО «Метро Медиа»", "EXPENSE_ITEM": "MARKETING", "INVOICE": "invoice.pdf"}
    own = _create(stack, "payment_requests", "e.smirnova", "Закупка плакатов", {**fields, "AMOUNT": 50000},
                  (contracts, contract))
    secret = _create(stack, "payment_requests", "a.ivanova", "Секретная кампания", {**fields, "AMOUNT": 70000,
                     "INVOICE_NUMBER": "77"}, (contracts, contract))
    return contracts, payments, contract, own, secret


def test_the_contract_tab_leaves_out_a_payment_the_person_may_not_read(stack: Stack) -> None:
    contracts, payments, contract, own, secret = _contract_with_payments(stack)
    stack.portal.crm_access.set_read("e.smirnova", payments, "own")     # her own requests only
    tab = f"CRM_DYNAMIC_{contracts}_DETAIL_TAB"
    people = _view(stack, "contracts")

    start = len(stack.portal.calls)
    limited = widget.open_tab(stack.portal, people.user_id("e.smirnova"), tab, {"ID": str(contract)})
    calls = stack.portal.calls[start:]
    assert limited.status == 200
    assert "Закупка плакатов" in limited.text and "50 000 RUB" in limited.text
    assert "Секретная кампания" not in limited.text and "70 000" not in limited.text
    assert f"/details/{secret}/" not in limited.text
    hers = [c for c in calls if c.user_id == people.user_id("e.smirnova") and c.method != "user.current"]
    assert [(c.method, c.in_batch, c.auth_kind) for c in hers] == [     # her token: the visibility check's batch
        ("crm.item.get", True, "oauth"), ("crm.item.list", True, "oauth"), ("batch", False, "oauth")]
    assert str(hers[1].params["filter"][f"parentId{contracts}"]) == str(contract)
    assert {own, secret} <= set(_ids(stack, payments))               # both exist; she is just not shown one

    finance = widget.open_tab(stack.portal, people.user_id("finance.manager"), tab, {"ID": str(contract)})
    assert finance.status == 200
    assert "Закупка плакатов" in finance.text and "Секретная кампания" in finance.text


def test_the_payment_tab_names_an_unreadable_contract_and_duplicate_only_by_number(stack: Stack) -> None:
    contracts, payments, contract, _own, secret = _contract_with_payments(stack)
    mine = _create(stack, "payment_requests", "e.smirnova", "Плакаты, доплата", {
        "COUNTERPARTY_NAME": "ООО «Метро Медиа»", "EXPENSE_ITEM": "MARKETING", "INVOICE": "invoice-2.pdf",
        "AMOUNT": 20000, "INVOICE_NUMBER": "77"}, (contracts, contract))      # the same invoice number as «secret»
    stack.portal.crm_access.set_read("e.smirnova", payments, "own")
    stack.portal.crm_access.set_read("e.smirnova", contracts, "none")
    tab = f"CRM_DYNAMIC_{payments}_DETAIL_TAB"
    people = _view(stack, "payment_requests")

    finance = widget.open_tab(stack.portal, people.user_id("finance.manager"), tab, {"ID": str(mine)})
    assert finance.status == 200
    assert f"Возможный дубль: заявка №{secret} «Секретная кампания»" in finance.text
    assert "Договор «Договор на рекламу»" in finance.text

    limited = widget.open_tab(stack.portal, people.user_id("e.smirnova"), tab, {"ID": str(mine)})
    assert limited.status == 200
    assert f"Возможный дубль: заявка №{secret} (нет доступа)" in limited.text
    assert f"Договор №{contract} (нет доступа)" in limited.text
    assert "Секретная кампания" not in limited.text and "Договор на рекламу" not in limited.text
    assert f"/details/{secret}/" not in limited.text


def test_the_page_after_a_decision_keeps_what_the_person_could_read(stack: Stack) -> None:
    contracts, payments, contract, _, secret = _contract_with_payments(stack)
    mine = _create(stack, "payment_requests", "e.smirnova", "Плакаты, доплата", {
        "COUNTERPARTY_NAME": "ООО «Метро Медиа»", "EXPENSE_ITEM": "MARKETING", "INVOICE": "invoice-2.pdf",
        "AMOUNT": 20000, "INVOICE_NUMBER": "77"}, (contracts, contract))     # her head: s.kuznetsov
    stack.portal.crm_access.set_read("s.kuznetsov", contracts, "none")
    people = _view(stack, "payment_requests")
    page = widget.open_tab(stack.portal, people.user_id("s.kuznetsov"), f"CRM_DYNAMIC_{payments}_DETAIL_TAB",
                           {"ID": str(mine)})
    assert f"Договор №{contract} (нет доступа)" in page.text and "Договор на рекламу" not in page.text
    assert f"заявка №{secret} «Секретная кампания»" in page.text        # he may read the duplicate
    after = widget.press(page, "approve", None)                # re-rendered from the ticket, no token of his
    stack.settle()
    assert after.status == 200 and stack.portal.request_count > 0
    assert f"Договор №{contract} (нет доступа)" in after.text and "Договор на рекламу" not in after.text
    assert f"заявка №{secret} «Секретная кампания»" in after.text
