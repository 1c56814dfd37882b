"""The accounting view's tests, shared by the HTTP and the browser tests: requests played to the payment
step on a sandbox portal, and the app's page opened as a person over real HTTP (the sandbox's
"app from the left menu" page, whose frame-open form is posted the way the portal's iframe posts it)."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

import requests

from b24app.scenario import model as m
from b24app.scenario.actions import Performer
from b24app.scenario.stack import Stack
from b24app.scenario.view import PortalView
from tests.bank import fixtures as bank

#: The recipient's details on the request (valid check digits, constructed for the tests).
RECIPIENT = {"RECIPIENT_INN": bank.SUPPLIER_INN, "RECIPIENT_KPP": "770001001",
             "RECIPIENT_ACCOUNT": bank.SUPPLIER_ACCOUNT, "RECIPIENT_BIK": bank.SUPPLIER_BIK,
             "RECIPIENT_BANK": "ПАО «ДРУГОЙ БАНК»", "RECIPIENT_BANK_CITY": "г. Санкт-Петербург",
             "RECIPIENT_CORR_ACCOUNT": bank.SUPPLIER_CORR}


def view(stack: Stack) -> PortalView:
    return PortalView(stack.portal, next(w for w in stack.workflows if w.code == "payment_requests"))


def at_payment(stack: Stack, title: str, amount: int, invoice: str, *, recipient: bool = True) -> int:
    """A request by a.ivanova approved by her head and the finance manager: it waits at the payment step."""
    fields = {"AMOUNT": amount, "COUNTERPARTY_NAME": "ООО «Поставщик»", "EXPENSE_ITEM": "MARKETING",
              "INVOICE": "invoice.pdf", "INVOICE_NUMBER": invoice, "INVOICE_DATE": "2026-02-27",
              **(RECIPIENT if recipient else {})}
    performer = Performer(view(stack), stack.settle)
    done = performer.perform(m.Action("create", "a.ivanova", None, m.Where("test", 0), title=title, fields=fields),
                             None)
    stack.settle()
    assert done.item_id is not None
    for login in ("m.orlova", "finance.manager"):
        performer.perform(m.Action("approve", login, "card", m.Where("test", 0)), done.item_id)
        stack.settle()
    assert view(stack).stage_code(done.item_id) == "PAYMENT"
    return done.item_id


def paid_statement(item_id: int, amount: str, invoice: str, number: str = "701") -> bytes:
    """A bank statement (cp1251, CRLF) in which the request's payment left our account."""
    return bank.encode(bank.statement([bank.outgoing(
        number, "03.03.2026", amount, f"Оплата по счёту № {invoice} от 27.02.2026 (заявка №{item_id})")],
        day_from="03.03.2026", day_to="03.03.2026"))


@dataclass
class Opened:
    """The app's page as one person got it: the response, and the pass it carries (if any)."""

    response: requests.Response
    session: requests.Session
    auth_id: str = ""                 # the person's token the frame-open form carried


    @property
    def text(self) -> str:
        return self.response.text

    @property
    def token(self) -> str:
        found = re.search(r'name="pass" value="([^"]+)"', self.response.text)
        return html.unescape(found.group(1)) if found else ""

    def link(self, element_id: str) -> str:
        found = re.search(rf'id="{element_id}" href="([^"]+)"', self.response.text)
        return html.unescape(found.group(1)) if found else ""


def open_app(stack: Stack, login: str, path: str = "/b24/app", lang: str = "ru") -> Opened:
    """Open the app's page as ``login``: the sandbox hands out the person's frame-open form, which is
    posted to ``path`` (the handler path ``/b24/app``, or the accounting view's ``/b24/accounting``)."""
    session = requests.Session()
    session.cookies.set("sandbox_as", login)
    portal_page = session.get(f"{stack.portal.ui_url}app/page")
    assert portal_page.status_code == 200, portal_page.text
    action = html.unescape(re.search(r'<form id="app-form" method="post" action="([^"]+)"', portal_page.text)
                           .group(1))  # type: ignore[union-attr]
    pairs = [(html.unescape(n), html.unescape(v)) for n, v in
             re.findall(r'<input type="hidden" name="([^"]*)" value="([^"]*)">', portal_page.text)]
    assert action.startswith(f"{stack.web_url}/b24/app?")
    action = action.replace("/b24/app?", f"{path}?", 1).replace("LANG=ru", f"LANG={lang}")
    return Opened(session.post(action, data=pairs), session, dict(pairs).get("AUTH_ID", ""))


def bank_statement(stack: Stack, orders: bytes, day: str = "2026-03-03") -> bytes:
    """The sandbox bank's statement for a payment-order file: every order's money left on ``day``."""
    answer = requests.post(f"{stack.portal.ui_url}bank/statement", params={"date": day}, data=orders,
                           headers={"Content-Type": "application/octet-stream"})
    assert answer.status_code == 200, answer.text
    return answer.content
