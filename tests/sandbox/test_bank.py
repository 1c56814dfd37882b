"""The sandbox bank (``b24sandbox/bank.py``): the app's payment-order file in, a statement the app's parser
reads and its matcher closes requests from (issue #18). The app side is imported only here, to prove
the round trip; the sandbox never imports it."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
import requests

from b24app.bank.match import OpenRequest, match_statement
from b24app.bank.model import Statement
from b24app.bank.parse import parse_statement
from b24app.bank.write import ApprovedRequest, BankDetails, write_payment_orders
from b24sandbox import bank

DEBIT = date(2026, 3, 4)
OUR_ACCOUNT = "40702810600000000505"
# Our own details as tests and the demo use them (docs/sandbox.md «Bank»): valid check digits.
PAYER = BankDetails(name="ООО «Лаванда Косметикс»", inn="7705123452", kpp="770501001",
                    account=OUR_ACCOUNT, bank_name="АО «Песочный Банк»", bank_city="г. Москва",
                    bik="044525505", corr_account="30101810900000000505")
# The seeded counterparties 1 (ООО «Флакон-Пак») and 3 (a sole trader), as their requisites read.
FLAKON = BankDetails(name="ООО «Флакон-Пак»", inn="7728012340", kpp="772801001", account="40702810200000001001",
                     bank_name="АО «Песочный Банк»", bank_city="г. Москва", bik="044525101",
                     corr_account="30101810100000000101")
TRADER = BankDetails(name="ИП Григорьев Алексей Викторович", inn="500312345614", account="40802810300000003003",
                     bank_name="АО «Песочный Банк»", bank_city="г. Москва", bik="044525303",
                     corr_account="30101810500000000303")


def orders(version: str = "1.03") -> bytes:
    written = write_payment_orders([
        ApprovedRequest(21, "21", Decimal("95000.00"), "А-15", date(2026, 3, 1), FLAKON),
        ApprovedRequest(22, "22", Decimal("1250.5"), "44", date(2026, 3, 2), TRADER, vat="НДС не облагается"),
    ], PAYER, version=version, today=date(2026, 3, 3), now=datetime(2026, 3, 3, 11, 30), first_number=101)
    assert written.content is not None and not written.refused
    return written.content


def open_requests() -> list[OpenRequest]:
    return [OpenRequest(21, "21", FLAKON.inn, Decimal("95000.00"), "А-15", date(2026, 3, 1)),
            OpenRequest(22, "22", TRADER.inn, Decimal("1250.50"), "44", date(2026, 3, 2))]


def test_every_order_comes_back_debited_on_the_given_day_with_its_keys_kept() -> None:
    sent = parse_statement(orders())
    back = parse_statement(bank.statement_for_orders(orders(), debit_date=DEBIT))
    assert back.charset == "cp1251" and back.header.version == "1.03"
    assert (back.header.date_from, back.header.date_to, back.header.accounts) == (DEBIT, DEBIT, (OUR_ACCOUNT,))
    assert [d.debited_on for d in back.documents] == [DEBIT, DEBIT]
    assert [d.credited_on for d in back.documents] == [None, None]
    assert [(d.number, d.date, d.amount, d.payer, d.recipient, d.purpose, d.operation_kind, d.priority)
            for d in back.documents] == [
        (d.number, d.date, d.amount, d.payer, d.recipient, d.purpose, d.operation_kind, d.priority)
        for d in sent.documents]
    assert [d.number for d in back.documents] == ["101", "102"]
    (balances,) = back.accounts
    assert (balances.account, balances.opening_balance, balances.total_in, balances.total_out,
            balances.closing_balance) == (OUR_ACCOUNT, Decimal("1000000.00"), Decimal("0.00"),
                                          Decimal("96250.50"), Decimal("903749.50"))


def test_the_app_s_matcher_closes_both_requests_from_the_statement() -> None:
    back = parse_statement(bank.statement_for_orders(orders(), debit_date=DEBIT))
    report = match_statement(back.documents, OUR_ACCOUNT, open_requests())
    assert [(m.request.request_id if m.request else None, m.referenced) for m in report.matched] == [
        (21, True), (22, True)]
    assert not report.ambiguous and not report.unmatched


def test_extra_documents_an_unmatched_payment_and_an_incoming_one() -> None:
    extra = [bank.ExtraDocument("9001", Decimal("4500"), "Оплата по договору 15/2026"),
             bank.ExtraDocument("7001", Decimal("12000.00"), "Оплата за косметику", incoming=True,
                                counterparty=bank.CUSTOMER)]
    back = parse_statement(bank.statement_for_orders(orders(), debit_date=DEBIT, extra=extra,
                                                     opening_balance=Decimal("50000")))
    outsider, incoming = back.documents[2:]
    assert (outsider.number, outsider.amount, outsider.debited_on, outsider.recipient.inn) == (
        "9001", Decimal("4500.00"), DEBIT, bank.OUTSIDER.inn)
    assert outsider.payer == back.documents[0].payer  # our own keys, as the orders state them
    assert (incoming.credited_on, incoming.debited_on, incoming.recipient.account, incoming.payer.inn) == (
        DEBIT, None, OUR_ACCOUNT, bank.CUSTOMER.inn)
    assert incoming.recipient.inn == PAYER.inn and incoming.recipient.name == PAYER.name
    report = match_statement(back.documents, OUR_ACCOUNT, open_requests())
    assert len(report.matched) == 2
    assert [m.document.number for m in report.unmatched] == ["9001"]
    assert [d.number for d in report.ignored] == ["7001"]
    (balances,) = back.accounts
    assert (balances.total_in, balances.total_out, balances.closing_balance) == (
        Decimal("12000.00"), Decimal("100750.50"), Decimal("-38750.50"))


def test_dos_encoding_and_unknown_keys_are_read_by_the_app_s_parser() -> None:
    content = bank.statement_for_orders(orders("1.02"), debit_date=DEBIT, encoding="DOS", unknown_keys=True)
    assert "Кодировка=DOS\r\n".encode("cp866") in content and b"\n" not in content.replace(b"\r\n", b"")
    back = parse_statement(content)
    assert (back.charset, back.header.encoding, back.header.version) == ("cp866", "DOS", "1.02")
    assert bank.UNKNOWN_HEADER in back.header.extra and bank.UNKNOWN_BALANCE in back.accounts[0].extra
    assert all(d.extra.get(bank.UNKNOWN_DOCUMENT) == "SBX" for d in back.documents)
    assert len(match_statement(back.documents, OUR_ACCOUNT, open_requests()).matched) == 2


def test_a_dos_statement_has_the_same_documents_with_ascii_quotes() -> None:
    windows = parse_statement(bank.statement_for_orders(orders(), debit_date=DEBIT))
    dos = parse_statement(bank.statement_for_orders(orders(), debit_date=DEBIT, encoding="DOS"))
    assert dos.documents[0].recipient.name == 'ООО "Флакон-Пак"'  # cp866 has no «»
    assert [(d.number, d.amount, d.payer.inn, d.recipient.inn, d.recipient.account, d.purpose, d.debited_on)
            for d in dos.documents] == [
        (d.number, d.amount, d.payer.inn, d.recipient.inn, d.recipient.account, d.purpose, d.debited_on)
        for d in windows.documents]


@pytest.mark.parametrize("mutate, problem", [
    (lambda t: t.replace("1CClientBankExchange", "Выписка"), "line 1: the file must start with 1CClientBankExchange"),
    (lambda t: t.replace("КонецФайла", ""), "no КонецФайла"),
    (lambda t: t.replace("Сумма=95000.00", "Сумма=95 000"), "line 14: Сумма=95 000 is not an amount"),
    (lambda t: t.replace("Номер=101\r\n", ""), "line 11: the order lacks Номер"),
    (lambda t: t.replace("Очередность=5", "Очередность 5", 1), "expected key=value or a section marker"),
])
def test_an_unreadable_orders_file_is_refused_with_line_numbers(mutate: Any, problem: str) -> None:
    broken = mutate(orders().decode("cp1251")).encode("cp1251")
    with pytest.raises(bank.OrdersFileError) as caught:
        bank.statement_for_orders(broken, debit_date=DEBIT)
    assert any(problem in p for p in caught.value.problems), caught.value.problems


def post(portal: Any, body: bytes, query: str) -> requests.Response:
    return requests.post(f"{portal.base_url}/sandbox/bank/statement?{query}", data=body,
                         verify=portal.ca_bundle, timeout=10)


def test_over_http_the_body_is_the_orders_file_and_the_answer_the_statement(sandbox: Any) -> None:
    answer = post(sandbox, orders(), "date=2026-03-04")
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "text/plain; charset=windows-1251"
    assert answer.headers["Content-Disposition"] == "attachment; filename=kl_to_1c_20260304.txt"
    assert answer.content == bank.statement_for_orders(orders(), debit_date=DEBIT)
    options = post(sandbox, orders(), "date=2026-03-04&encoding=DOS&unknown_keys=1&unmatched=4500&incoming=12000")
    back: Statement = parse_statement(options.content)
    assert back.charset == "cp866" and [d.number for d in back.documents] == ["101", "102", "9001", "7001"]
    assert bank.UNKNOWN_HEADER in back.header.extra


def test_over_http_without_a_date_money_leaves_on_the_portal_s_today(sandbox: Any) -> None:
    back = parse_statement(post(sandbox, orders(), "").content)
    assert back.documents[0].debited_on == date(2026, 3, 2)  # the fixture's frozen clock


def test_over_http_a_bad_file_or_option_answers_400_naming_the_problem(sandbox: Any) -> None:
    broken = post(sandbox, orders().replace("Номер=101\r\n".encode("cp1251"), b""), "date=2026-03-04")
    assert broken.status_code == 400 and "line 11: the order lacks Номер" in broken.text
    assert post(sandbox, orders(), "date=04.03.2026").text == "date: '04.03.2026' is not YYYY-MM-DD\n"
    assert post(sandbox, orders(), "date=2026-03-04&encoding=KOI8").status_code == 400
    assert "at most two decimals" in post(sandbox, orders(), "unmatched=1.005").text


def test_the_bank_page_uploads_an_orders_file_and_downloads_the_statement(sandbox: Any) -> None:
    page = requests.get(f"{sandbox.base_url}/sandbox/bank", verify=sandbox.ca_bundle, timeout=10)
    assert page.status_code == 200 and 'name="orders"' in page.text and 'value="2026-03-02"' in page.text
    assert "/sandbox/bank" in requests.get(f"{sandbox.base_url}/sandbox/", verify=sandbox.ca_bundle,
                                           timeout=10).text  # «Банк» in the header
    answer = requests.post(f"{sandbox.base_url}/sandbox/bank/statement", verify=sandbox.ca_bundle, timeout=10,
                           files={"orders": ("orders.txt", orders())},
                           data={"date": "2026-03-04", "encoding": "Windows", "incoming": "12000,00"})
    back = parse_statement(answer.content)
    assert [d.number for d in back.documents] == ["101", "102", "7001"]
    assert back.documents[2].amount == Decimal("12000.00")


def test_an_orders_file_re_saved_as_utf8_or_lf_is_read_and_a_false_encoding_refused() -> None:
    text = orders().decode("cp1251")
    expected = parse_statement(bank.statement_for_orders(orders(), debit_date=DEBIT)).documents
    for variant in (b"\xef\xbb\xbf" + text.encode("utf-8"), text.replace("\r\n", "\n").encode("cp1251")):
        assert parse_statement(bank.statement_for_orders(variant, debit_date=DEBIT)).documents == expected
    lying = text.replace("Кодировка=Windows", "Кодировка=DOS").encode("cp1251")
    with pytest.raises(bank.OrdersFileError) as caught:
        bank.statement_for_orders(lying, debit_date=DEBIT)
    assert caught.value.problems == ["line 3: Кодировка=DOS does not match the file's bytes"]
