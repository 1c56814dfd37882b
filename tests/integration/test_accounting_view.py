"""The accounting view (#18) over real HTTP: the sandbox portal hands out a person's frame-open form, the
app (the real Flask app on loopback, jobs on the real Redis) identifies them with the portal and shows,
refuses, sends the payment-order file or applies a statement."""

from __future__ import annotations

import base64
import json
import re
import shutil
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests

from b24app.bank import service
from b24app.control import read as control
from b24app.control.link import control_room_url
from b24app.scenario.stack import Stack
from b24app.web.access import portal_now
from b24app.web.accounting import STATEMENT_MAX_BYTES
from b24sandbox.clock import SandboxClock
from b24sandbox.tls import SandboxCA
from tests.bank import fixtures as bank
from tests.fixtures.stack import START
from tests.integration.accounting_env import at_payment, bank_statement, open_app, paid_statement, view

pytestmark = pytest.mark.timeout(240)


def upload(stack: Stack, token: str, data: bytes, name: str = "kl_to_1c.txt") -> requests.Response:
    return requests.post(f"{stack.web_url}/b24/accounting/statement", data={"pass": token},
                         files={"statement": (name, data, "text/plain")})


def test_an_employee_without_the_role_is_refused_and_nothing_changes(stack: Stack) -> None:
    item = at_payment(stack, "Реклама у блогеров", 95000, "44")
    statement = paid_statement(item, "95000.00", "44")

    employee = open_app(stack, "a.ivanova", "/b24/accounting")
    assert employee.response.status_code == 403
    assert "бухгалтерам и администраторам" in employee.text and employee.token == ""
    assert 'id="statement"' not in employee.text
    assert open_app(stack, "a.ivanova").response.status_code == 403       # the app's page: refused as well
    english = open_app(stack, "a.ivanova", "/b24/accounting", lang="en")
    assert english.response.status_code == 403 and "This page is for the accountants" in english.text

    manager = open_app(stack, "ops.manager")                           # the control room, but no accountant
    assert manager.response.status_code == 200 and manager.token
    assert manager.response.headers["Referrer-Policy"] == "no-referrer"     # its links carry the pass
    assert 'id="accounting-link"' not in manager.text
    for token in ("", "forged.pass.value", manager.token):              # a control-room pass opens nothing here
        got = requests.get(f"{stack.web_url}/b24/accounting/orders", params={"pass": token})
        assert got.status_code == 403 and "Откройте приложение" in got.text
        assert "attachment" not in got.headers.get("Content-Disposition", "")
        assert requests.get(f"{stack.web_url}/b24/accounting", params={"pass": token}).status_code == 403
        assert upload(stack, token, statement).status_code == 403
        assert requests.post(f"{stack.web_url}/b24/accounting/resolve",
                             data={"pass": token, "document": "x", "item": str(item)}).status_code == 403
    stack.settle()
    assert view(stack).stage_code(item) == "PAYMENT"
    assert service.uploads(stack.deps, stack.member_id) == []


def test_an_accountant_downloads_the_orders_uploads_the_statement_and_the_request_is_paid(stack: Stack) -> None:
    ready = at_payment(stack, "Реклама у блогеров", 95000, "44")
    lacking = at_payment(stack, "Баннеры", 30000, "45", recipient=False)

    page = open_app(stack, "chief.accountant")                 # the app's page of an accountant: this view
    assert page.response.status_code == 200, page.text
    assert "Бухгалтерия: платёжные поручения и выписки" in page.text and page.token
    assert "Accounting: payment orders and bank statements" in open_app(stack, "chief.accountant", lang="en").text
    rows = dict(re.findall(r'<tr data-item="(\d+)" class="(ready|missing)"', page.text))
    assert rows == {str(ready): "ready", str(lacking): "missing"}
    lacking_row = page.text.split(f'<tr data-item="{lacking}"', 1)[1].split("</tr>", 1)[0]
    assert "ПолучательИНН: не заполнено (реквизиты получателя в заявке)" in lacking_row    # listed, not guessed
    assert "missing" not in lacking_row.replace('class="missing"', "")          # in Russian, not English
    english = open_app(stack, "chief.accountant", lang="en").text.split(f'<tr data-item="{lacking}"', 1)[1]
    assert "ПолучательИНН: missing (the request&#39;s recipient fields)" in english.split("</tr>", 1)[0]

    orders = requests.get(f"{stack.web_url}{page.link('orders-download')}")
    assert orders.status_code == 200
    assert orders.headers["Content-Disposition"].startswith("attachment; filename=")
    text = orders.content.decode("cp1251")
    assert text.startswith("1CClientBankExchange\r\n")
    assert f"(заявка №{ready})" in text and f"(заявка №{lacking})" not in text

    statement = bank_statement(stack, orders.content)            # the sandbox bank: the money left on 03.03
    done = upload(stack, page.token, statement)
    assert done.status_code == 200, done.text
    stack.settle()
    assert view(stack).stage_code(ready) == "PAID" and view(stack).stage_code(lacking) == "PAYMENT"
    report = done.text.split('id="report"', 1)[1]
    assert re.search(r'data-kind="paid">[^<]*<span class="count">1<', report)
    assert f'<tr data-item="{ready}">' in report
    [record] = service.uploads(stack.deps, stack.member_id)
    assert record.user_id == 10 and record.paid == (ready,)
    assert record.sha256 in done.text or record.sha256[:16] in done.text        # the upload record
    assert record.at.utcoffset() == timedelta(0)                 # an aware UTC instant, shown on the calendar
    assert abs(record.at - stack.deps.now()) < timedelta(minutes=1)
    shown = record.at.astimezone(ZoneInfo("Europe/Moscow")).strftime("%d.%m.%Y %H:%M")
    assert f"<tr><td>{shown}</td>" in done.text.split('id="uploads"', 1)[1]

    again = upload(stack, page.token, statement)                 # the same statement again: nothing changes
    assert again.status_code == 200
    assert re.search(r'data-kind="unchanged">[^<]*<span class="count">1<', again.text)
    assert re.search(r'data-kind="paid">[^<]*<span class="count">0<', again.text)
    assert len(service.uploads(stack.deps, stack.member_id)) == 2


def test_a_malformed_statement_is_refused_with_its_line_and_changes_nothing(stack: Stack) -> None:
    item = at_payment(stack, "Реклама у блогеров", 95000, "44")
    page = open_app(stack, "junior.accountant", "/b24/accounting")
    assert page.response.status_code == 200 and page.token
    lines = bank.statement([bank.outgoing("701", "03.03.2026", "95000.00", f"Оплата (заявка №{item})")])
    broken = bank.replaced(lines, "Сумма=95000.00", "Сумма=95 000,00")
    refused = upload(stack, page.token, bank.encode(broken))
    assert refused.status_code == 400
    assert f"line {bank.line_of(broken, 'Сумма=95 000,00')}:" in refused.text
    assert "Выписка не принята, ничего не изменено" in refused.text
    stack.settle()
    assert view(stack).stage_code(item) == "PAYMENT"
    assert service.uploads(stack.deps, stack.member_id) == []


def test_a_portal_administrator_reaches_it_from_the_control_room(stack: Stack) -> None:
    at_payment(stack, "Реклама у блогеров", 95000, "44")
    room = open_app(stack, "admin")
    assert room.response.status_code == 200 and "Контрольная панель согласований" in room.text
    link = room.link("accounting-link")
    assert link.startswith("/b24/accounting?pass=")
    books = requests.get(f"{stack.web_url}{link}")
    assert books.status_code == 200 and 'id="statement"' in books.text


def test_an_ambiguous_payment_is_left_for_the_accountant_and_resolved_with_a_button(stack: Stack) -> None:
    first = at_payment(stack, "Реклама у блогеров", 42000, "44")
    second = at_payment(stack, "Реклама в подкасте", 42000, "45")
    page = open_app(stack, "chief.accountant")
    statement = bank.encode(bank.statement([bank.outgoing("702", "03.03.2026", "42000.00", "Оплата услуг")],
                                           day_from="03.03.2026", day_to="03.03.2026"))
    done = upload(stack, page.token, statement)                      # same ИНН and amount, no reference
    assert done.status_code == 200
    assert re.search(r'data-kind="ambiguous">[^<]*<span class="count">1<', done.text)
    pending = done.text.split('id="pending"', 1)[1]
    assert f'name="item" value="{first}"' in pending and f'name="item" value="{second}"' in pending
    assert "2 открытые заявки с ИНН" in pending and "open requests" not in pending     # the reason, in Russian
    [line] = service.pending(stack.deps, stack.member_id)
    assert view(stack).stage_code(first) == view(stack).stage_code(second) == "PAYMENT"

    chosen = requests.post(f"{stack.web_url}/b24/accounting/resolve",
                           data={"pass": page.token, "document": line.key, "item": str(second)})
    assert chosen.status_code == 200, chosen.text
    assert f"Платёж сопоставлен с заявкой №{second}." in chosen.text
    stack.settle()
    assert view(stack).stage_code(second) == "PAID" and view(stack).stage_code(first) == "PAYMENT"
    assert service.pending(stack.deps, stack.member_id) == []


def test_a_page_view_takes_no_order_number_and_a_large_statement_is_taken(stack: Stack) -> None:
    item = at_payment(stack, "Реклама у блогеров", 95000, "44")
    page = open_app(stack, "chief.accountant")
    for _ in range(2):                                              # looking at the page writes nothing
        assert requests.get(f"{stack.web_url}/b24/accounting", params={"pass": page.token}).status_code == 200
    orders = requests.get(f"{stack.web_url}{page.link('orders-download')}").content.decode("cp1251")
    assert "\r\nНомер=1\r\n" in orders and f"(заявка №{item})" in orders

    others = [bank.outgoing(str(1000 + n), "03.03.2026", f"{100 + n}.00", f"Оплата по договору {n}",
                            inn=bank.TRADER_INN, account=bank.TRADER_ACCOUNT) for n in range(400)]
    large = bank.encode(bank.statement(others, day_from="03.03.2026", day_to="03.03.2026"))
    assert len(large) > stack.deps.settings.max_request_bytes                 # past the other routes' limit
    done = upload(stack, page.token, large)
    assert done.status_code == 200, done.text[:300]
    assert re.search(r'data-kind="unmatched">[^<]*<span class="count">400<', done.text)


def test_the_chief_accountants_task_names_the_accounting_view_once_the_apps_page_is_known(stack: Stack) -> None:
    def payment_task(item: int) -> str:
        listed = stack.deps.bitrix(stack.member_id).call("tasks.task.list", {
            "filter": {"RESPONSIBLE_ID": 10}, "select": ["ID", "TITLE", "DESCRIPTION", "PARENT_ID"]})
        return next(str(t["description"]) for t in listed["tasks"]
                    if f"№{item}" in str(t["title"]) and not int(t.get("parentId") or 0))

    before = at_payment(stack, "Реклама у блогеров", 95000, "44")        # the app's page not known yet
    assert "Бухгалтерия" not in payment_task(before)
    url, asked = control_room_url(stack.deps, stack.member_id, stack.portal.domain)   # as the daily digest does
    assert asked == 1 and re.fullmatch(r"https://[^/]+/marketplace/app/\d+/", url)
    after = at_payment(stack, "Баннеры", 30000, "45")
    description = payment_task(after)
    assert f"в приложении «Бухгалтерия»: {url}" in description
    assert description.rstrip().endswith("]") and description.index(url) < description.rindex("[b24app:")


def test_the_chief_accountants_substitute_may_open_it_during_the_absence(
        redis_url: str, sandbox_ca: SandboxCA, tmp_path: Path) -> None:
    config = tmp_path / "config"
    shutil.copytree(Path(__file__).resolve().parents[2] / "config", config)
    today = START.date()            # the portal's day (months from the machine's): absences are judged on it
    roles = (config / "roles.yaml").read_text(encoding="utf-8").replace(
        "absences: []", f"absences:\n  - {{user_id: 10, from: {today - timedelta(days=1)}, "
                        f"to: {today + timedelta(days=1)}, substitute_id: 12}}")
    (config / "roles.yaml").write_text(roles, encoding="utf-8")
    clock = SandboxClock(START)
    clock.freeze()
    with Stack(redis_url, clock, ca=sandbox_ca, config_dir=config) as stack:
        control.view(stack.deps, stack.member_id)                  # the portal's clock offset is measured
        assert portal_now(stack.deps, stack.member_id).date() == today
        substitute = open_app(stack, "p.fedorov")                                # stands in for user 10
        assert substitute.response.status_code == 200 and substitute.token
        assert open_app(stack, "d.petrov").response.status_code == 403
        again = f"{stack.web_url}/b24/accounting"
        assert requests.get(again, params={"pass": substitute.token}).status_code == 200

        stack.clock.set(START + timedelta(days=3))                      # the absence is over on the portal
        control.view(stack.deps, stack.member_id, fresh=True)
        stale = requests.get(again, params={"pass": substitute.token})
        assert stale.status_code == 403 and "Откройте приложение" in stale.text   # the pass no longer opens it
        assert upload(stack, substitute.token, b"anything").status_code == 403
        assert open_app(stack, "p.fedorov").response.status_code == 403


def test_a_statement_over_the_limit_is_refused_politely_and_changes_nothing(stack: Stack) -> None:
    page = open_app(stack, "chief.accountant")
    huge = b"1CClientBankExchange\r\n" + b"x" * STATEMENT_MAX_BYTES
    assert page.response.headers["Referrer-Policy"] == "no-referrer"
    assert page.auth_id and page.auth_id not in page.text          # the person's token never reaches the page
    pass_data = json.loads(base64.urlsafe_b64decode(page.token.split(".")[0] + "=="))
    assert set(pass_data) == {"m", "u", "l", "a"} and page.auth_id not in page.token
    english = open_app(stack, "chief.accountant", lang="en")
    assert 'action="/b24/accounting/statement?lang=en"' in english.text
    stale = requests.post(f"{stack.web_url}/b24/accounting/statement?lang=en", data={"pass": "forged"},
                          files={"statement": ("s.txt", b"x", "text/plain")})
    assert stale.status_code == 403 and "The link has expired" in stale.text       # in the page's language
    for lang, words in (("ru", "больше 2 МБ"), ("en", "larger than 2 MB")):
        refused = requests.post(f"{stack.web_url}/b24/accounting/statement", params={"lang": lang},
                                data={"pass": page.token}, files={"statement": ("big.txt", huge, "text/plain")})
        assert refused.status_code == 413 and words in refused.text, refused.text[:300]
        assert refused.headers["Content-Type"].startswith("text/html")
    assert service.uploads(stack.deps, stack.member_id) == []
