"""The statement parser on synthetic files: what it reads, and every refusal with its ``line N:``."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, time
from decimal import Decimal

import pytest

from b24app.bank.model import BankFileError
from b24app.bank.parse import parse_statement
from tests.bank import fixtures as fx


def refusal(lines: list[str], charset: str = "cp1251", **kw: object) -> list[str]:
    with pytest.raises(BankFileError) as caught:
        parse_statement(fx.encode(lines, charset, **kw))  # type: ignore[arg-type]
    assert str(caught.value) == "\n".join(str(p) for p in caught.value.problems)
    return [str(p) for p in caught.value.problems]


def test_a_typical_statement_is_read_whole() -> None:
    result = parse_statement(fx.encode(fx.typical()))
    header = result.header
    assert (header.version, header.encoding, result.charset) == ("1.03", "Windows", "cp1251")
    assert (header.date_from, header.date_to, header.accounts) == (
        date(2025, 3, 1), date(2025, 3, 5), (fx.OUR_ACCOUNT,))
    assert (header.sender, header.created_on, header.created_at) == (
        "Тестбанк Онлайн", date(2025, 3, 6), time(9, 15))
    assert dict(header.extra) == {"ИдентификаторВыгрузки": "ab12-cd34"}
    [balance] = result.accounts
    assert (balance.account, balance.opening_balance, balance.total_out, balance.closing_balance) == (
        fx.OUR_ACCOUNT, Decimal("150000.00"), Decimal("63234.57"), Decimal("98765.43"))
    assert dict(balance.extra) == {"ОстатокВВалюте": "0.00"}
    first, second, third = result.documents
    assert (first.kind, first.number, first.date, first.amount) == (
        "Платежное поручение", "501", date(2025, 3, 3), Decimal("1000.50"))
    assert (first.debited_on, first.credited_on) == (date(2025, 3, 3), None)  # "ДатаПоступило=" is empty
    assert (first.payer.account, first.payer.inn, first.payer.kpp, first.payer.bik) == (
        fx.OUR_ACCOUNT, fx.OUR_INN, "770701001", fx.OUR_BIK)
    assert (first.recipient.inn, first.recipient.account, first.recipient.corr_account) == (
        fx.SUPPLIER_INN, fx.SUPPLIER_ACCOUNT, fx.SUPPLIER_CORR)
    assert first.purpose == "Оплата по счёту № А-15 от 01.03.2025 (заявка №12)"
    assert (first.operation_kind, first.priority) == ("01", "5")
    assert dict(first.extra) == {"КодБанкаСвой": "77"}
    assert (second.debited_on, second.credited_on, second.payer.inn) == (None, date(2025, 3, 4), fx.CUSTOMER_INN)
    assert third.amount == Decimal("250") and third.recipient.inn == fx.TRADER_INN
    assert first.line == fx.line_of(fx.typical(), "СекцияДокумент=Платежное поручение")


@pytest.mark.parametrize(("charset", "declared", "bom"), [
    ("cp1251", "Windows", False), ("cp866", "DOS", False), ("utf-8", "UTF-8", False),
    ("utf-8", "Windows", True),   # a BOM means UTF-8, whatever an editor left in Кодировка
])
@pytest.mark.parametrize("newline", ["\r\n", "\n"])
def test_encodings_and_line_ends_give_the_same_statement(charset: str, declared: str, bom: bool,
                                                         newline: str) -> None:
    reference = parse_statement(fx.encode(fx.typical()))
    lines = fx.replaced(fx.typical(), "Кодировка=Windows", f"Кодировка={declared}")
    result = parse_statement(fx.encode(lines, charset, newline=newline, bom=bom))
    assert result.charset == charset
    assert result.documents == reference.documents and result.accounts == reference.accounts
    assert result.header == replace(reference.header, encoding=declared)
    assert result.documents[0].recipient.name == "Поставщик"


def test_a_cp866_statement_with_an_unknown_key_is_read() -> None:
    lines = fx.statement([fx.outgoing("7", "05.03.2025", "99.90", "Оплата", extra=("НовыйКлючБанка=да",))],
                         encoding="DOS")
    [doc] = parse_statement(fx.encode(lines, "cp866")).documents
    assert dict(doc.extra) == {"НовыйКлючБанка": "да"} and doc.recipient.bank_city == "г. Санкт-Петербург"


@pytest.mark.parametrize("version", ["1.01", "1.02", "1.03"])
def test_every_supported_version_is_read(version: str) -> None:
    lines = fx.replaced(fx.typical(), "ВерсияФормата=1.03", f"ВерсияФормата={version}")
    assert parse_statement(fx.encode(lines)).header.version == version


def test_missing_end_of_file_is_refused_at_the_last_line() -> None:
    lines = fx.without(fx.typical(), "КонецФайла")
    assert refusal(lines) == [f"line {len(lines)}: КонецФайла is missing at the end of the file"]


def test_a_document_without_its_end_is_refused_at_its_start() -> None:
    good = fx.typical()
    lines = fx.without(good, "КонецДокумента", occurrence=2)
    start = fx.line_of(lines, "СекцияДокумент=Платежное поручение", 2)
    nxt = fx.line_of(lines, "СекцияДокумент=Платежное поручение", 3)
    assert refusal(lines) == [f"line {start}: section is not closed by КонецДокумента before line {nxt}"]


def test_a_last_document_cut_off_reports_both_problems() -> None:
    lines = fx.typical()[:-2]   # no КонецДокумента, no КонецФайла
    start = fx.line_of(lines, "СекцияДокумент=Платежное поручение", 3)
    assert refusal(lines) == [
        f"line {start}: section is not closed by КонецДокумента before the end of the file",
        f"line {len(lines)}: КонецФайла is missing at the end of the file"]


def test_a_bad_amount_is_refused_at_its_line() -> None:
    lines = fx.replaced(fx.typical(), "Сумма=1000.50", "Сумма=1 000,50")
    n = fx.line_of(lines, "Сумма=1 000,50")
    assert refusal(lines) == [f"line {n}: Сумма: '1 000,50' is not an amount (digits, a dot and at most 2 decimals)"]


@pytest.mark.parametrize(("bad", "reason"), [
    ("2025-03-03", "'2025-03-03' is not a date дд.мм.гггг"),
    ("31.02.2025", "'31.02.2025' is not a calendar date"),
])
def test_a_bad_date_is_refused_at_its_line(bad: str, reason: str) -> None:
    lines = fx.replaced(fx.typical(), "Дата=03.03.2025", f"Дата={bad}")
    assert refusal(lines) == [f"line {fx.line_of(lines, f'Дата={bad}')}: Дата: {reason}"]


def test_an_unknown_encoding_is_refused() -> None:
    lines = fx.replaced(fx.typical(), "Кодировка=Windows", "Кодировка=KOI8-R")
    assert refusal(lines) == ["line 3: unknown Кодировка 'KOI8-R' (expected Windows or DOS)"]


def test_a_declared_encoding_contradicted_by_the_bytes_is_refused() -> None:
    lines = fx.replaced(fx.typical(), "Кодировка=Windows", "Кодировка=DOS")
    assert refusal(lines, "cp1251") == ["line 3: Кодировка=DOS, but the file is written in cp1251"]


def test_an_unsupported_version_is_refused() -> None:
    lines = fx.replaced(fx.typical(), "ВерсияФормата=1.03", "ВерсияФормата=2.00")
    assert refusal(lines) == ["line 2: unsupported ВерсияФормата 2.00 (expected 1.01, 1.02, 1.03)"]


def test_not_an_exchange_file() -> None:
    assert refusal(["Выписка", "КонецФайла"]) == [
        "line 1: not a 1CClientBankExchange file (line 1 must be 1CClientBankExchange)"]


def test_bytes_invalid_in_their_encoding_are_refused_with_their_line() -> None:
    data = fx.encode(fx.typical()).replace("Поставщик".encode("cp1251"), b"\x98", 1)
    with pytest.raises(BankFileError) as caught:
        parse_statement(data)
    n = fx.line_of(fx.typical(), f"Получатель=ИНН {fx.SUPPLIER_INN} Поставщик")
    assert str(caught.value) == f"line {n}: the bytes are not valid cp1251"


def test_structural_mistakes_are_all_reported_at_once() -> None:
    lines = fx.typical()
    lines = fx.replaced(lines, "Номер=502", "Номер=502 ")        # trailing spaces are tolerated
    end_of_balances = fx.line_of(lines, "КонецРасчСчет")
    lines.insert(end_of_balances, "РасчСчет=40702810900000000002")          # between sections
    lines.insert(fx.line_of(lines, "Сумма=250"), "Сумма=260")                # repeated key
    lines = fx.without(lines, "Номер=88")                                   # missing mandatory key
    lines.insert(len(lines) - 1, "ПросоСтрока")                             # neither key=value nor marker
    lines.append("КонецДокумента")                                          # after the end of the file
    problems = refusal(lines)
    incoming_start = fx.line_of(lines, "СекцияДокумент=Платежное поручение", 2)
    assert problems == [
        f"line {end_of_balances + 1}: РасчСчет outside a section",
        f"line {incoming_start}: СекцияДокумент=Платежное поручение: Номер is missing",
        f"line {fx.line_of(lines, 'Сумма=260')}: Сумма is repeated (first at line {fx.line_of(lines, 'Сумма=250')})",
        f"line {fx.line_of(lines, 'ПросоСтрока')}: unexpected line 'ПросоСтрока' (expected key=value or a section marker)",
        f"line {len(lines)}: text after КонецФайла",
    ]


def test_a_missing_header_key_and_a_stray_end_marker() -> None:
    lines = fx.without(fx.typical(), "ДатаНачала=01.03.2025")    # the header's, not the balance section's
    lines.insert(fx.line_of(lines, "СекцияРасчСчет") - 1, "КонецДокумента")
    assert refusal(lines) == ["line 1: header: ДатаНачала is missing",
                              f"line {fx.line_of(lines, 'КонецДокумента')}: КонецДокумента without an open section"]


def test_problems_in_several_documents_are_listed_in_line_order() -> None:
    lines = fx.replaced(fx.typical(), "Сумма=250", "Сумма=-250")
    lines = fx.replaced(lines, "ДатаСписано=03.03.2025", "ДатаСписано=3.3.2025")
    assert refusal(lines) == [
        f"line {fx.line_of(lines, 'ДатаСписано=3.3.2025')}: ДатаСписано: '3.3.2025' is not a date дд.мм.гггг",
        f"line {fx.line_of(lines, 'Сумма=-250')}: Сумма: '-250' is not an amount (digits, a dot and at most 2 decimals)",
    ]


def test_a_negative_balance_is_a_balance() -> None:
    lines = fx.statement([], opening="-10.00", closing="-5.5")
    [balance] = parse_statement(fx.encode(lines)).accounts
    assert (balance.opening_balance, balance.closing_balance) == (Decimal("-10.00"), Decimal("-5.5"))


def test_a_bad_creation_time_and_a_document_without_a_kind() -> None:
    lines = fx.replaced(fx.typical(), "ВремяСоздания=09:15:00", "ВремяСоздания=25:00:00")
    lines = fx.replaced(lines, "СекцияДокумент=Платежное поручение", "СекцияДокумент=")
    assert refusal(lines) == [
        "line 7: ВремяСоздания: '25:00:00' is not a time of day",
        f"line {fx.line_of(lines, 'СекцияДокумент=')}: СекцияДокумент has no document kind"]
