"""Payment orders: what goes into the file, what keeps a request out, and the round trip."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal

import pytest

from b24app.bank.issues import Issue
from b24app.bank.parse import parse_statement
from b24app.bank.write import (
    ApprovedRequest,
    BankDetails,
    PayerConfigError,
    PaymentOrderFile,
    write_payment_orders,
)
from tests.bank import fixtures as fx

PAYER = BankDetails(name='ООО "Заказчик"', inn=fx.OUR_INN, kpp="770701001", account=fx.OUR_ACCOUNT,
                    bank_name='АО "ТЕСТБАНК"', bank_city="г. Москва", bik=fx.OUR_BIK, corr_account=fx.OUR_CORR)
SUPPLIER = BankDetails(name='ООО "Поставщик"', inn=fx.SUPPLIER_INN, kpp="770001001", account=fx.SUPPLIER_ACCOUNT,
                       bank_name='ПАО "ДРУГОЙ БАНК"', bank_city="г. Санкт-Петербург", bik=fx.SUPPLIER_BIK,
                       corr_account=fx.SUPPLIER_CORR)
TRADER = replace(SUPPLIER, name="ИП Петров П.П.", inn=fx.TRADER_INN, kpp=None, account=fx.TRADER_ACCOUNT)
TODAY = date(2025, 3, 5)
NOW = datetime(2025, 3, 5, 14, 30, 5)


def request(request_id: int, **changes: object) -> ApprovedRequest:
    base = ApprovedRequest(request_id=request_id, request_number=str(request_id), amount=Decimal("1000.5"),
                           invoice_number="А-15", invoice_date=date(2025, 3, 1), recipient=SUPPLIER)
    return replace(base, **changes)  # type: ignore[arg-type]


def write(requests: list[ApprovedRequest], version: str = "1.03", **kw: object) -> PaymentOrderFile:
    return write_payment_orders(requests, kw.pop("payer", PAYER), version=version, today=TODAY, now=NOW,  # type: ignore[arg-type]
                                first_number=kw.pop("first_number", 41), **kw)  # type: ignore[arg-type]


def test_one_order_per_request_in_cp1251_with_crlf() -> None:
    result = write([request(12, vat="В т.ч. НДС 20% - 166.75 руб."), request(13, recipient=TRADER, amount=Decimal("250"))])
    assert result.refused == ()
    data = result.content
    assert data is not None
    assert data.count(b"\n") == data.count(b"\r\n") and data.endswith("КонецФайла\r\n".encode("cp1251"))
    lines = data.decode("cp1251").split("\r\n")
    assert lines[:11] == [
        "1CClientBankExchange", "ВерсияФормата=1.03", "Кодировка=Windows", "Отправитель=b24app",
        "ДатаСоздания=05.03.2025", "ВремяСоздания=14:30:05", "ДатаНачала=05.03.2025", "ДатаКонца=05.03.2025",
        f"РасчСчет={fx.OUR_ACCOUNT}", "Документ=Платежное поручение", "СекцияДокумент=Платежное поручение"]
    for line in ("Номер=41", "Номер=42", "Дата=05.03.2025", "Сумма=1000.50", "Сумма=250.00",
                 f"ПлательщикСчет={fx.OUR_ACCOUNT}", f"ПлательщикИНН={fx.OUR_INN}", "ПлательщикКПП=770701001",
                 f'Плательщик=ИНН {fx.OUR_INN} ООО "Заказчик"', f"ПлательщикБИК={fx.OUR_BIK}",
                 f"ПлательщикКорсчет={fx.OUR_CORR}", "ПлательщикБанк2=г. Москва",
                 f"ПолучательСчет={fx.SUPPLIER_ACCOUNT}", f"ПолучательИНН={fx.SUPPLIER_INN}",
                 "ПолучательКПП=770001001", 'Получатель1=ООО "Поставщик"', f"ПолучательБИК={fx.SUPPLIER_BIK}",
                 f"ПолучательКорсчет={fx.SUPPLIER_CORR}", f"ПолучательИНН={fx.TRADER_INN}",
                 "ВидОплаты=01", "Очередность=5",
                 "НазначениеПлатежа=Оплата по счёту № А-15 от 01.03.2025 (заявка №12). В т.ч. НДС 20% - 166.75 руб.",
                 "НазначениеПлатежа=Оплата по счёту № А-15 от 01.03.2025 (заявка №13)"):
        assert line in lines, line
    assert lines.count("КонецДокумента") == 2
    assert not any(line.startswith("ПолучательКПП") for line in lines[lines.index("Номер=42"):])  # a sole trader


def test_what_the_writer_writes_the_parser_reads_back_identically() -> None:
    result = write([request(12), request(13, recipient=TRADER, vat="НДС не облагается")])
    assert result.content is not None
    back = parse_statement(result.content)
    assert back.documents == tuple(doc for _, doc in result.orders)
    assert [rid for rid, _ in result.orders] == [12, 13]
    assert (back.header.version, back.header.encoding, back.charset) == ("1.03", "Windows", "cp1251")
    assert back.header.accounts == (fx.OUR_ACCOUNT,) and back.accounts == ()
    first = back.documents[0]
    assert (first.number, first.amount, first.payer.inn, first.recipient.kpp) == (
        "41", Decimal("1000.50"), fx.OUR_INN, "770001001")


@pytest.mark.parametrize("version", ["1.02", "1.03"])
def test_the_format_version_is_a_parameter(version: str) -> None:
    result = write([request(1)], version=version)
    assert result.content is not None
    assert parse_statement(result.content).header.version == version


def test_an_unknown_version_is_refused_before_anything_is_written() -> None:
    with pytest.raises(ValueError, match=r"version '1\.01': expected one of 1\.02, 1\.03"):
        write([request(1)], version="1.01")


def test_missing_details_are_listed_exactly_and_the_rest_is_still_written() -> None:
    bare = request(7, recipient=BankDetails(inn=fx.SUPPLIER_INN), amount=None, invoice_number=" ",
                   invoice_date=None)
    result = write([request(6), bare, request(8)])
    [refused] = result.refused
    assert (refused.request_id, refused.request_number) == (7, "7")
    assert tuple(map(str, refused.problems)) == (
        "Получатель1: missing", "ПолучательКПП: missing", "ПолучательСчет: missing",
        "ПолучательБанк1: missing", "ПолучательБанк2: missing", "ПолучательБИК: missing",
        "ПолучательКорсчет: missing", "Сумма: missing",
        "invoice number: missing (needed for НазначениеПлатежа)",
        "invoice date: missing (needed for НазначениеПлатежа)")
    # the refused request takes no number: the orders stay consecutive
    assert [(rid, doc.number) for rid, doc in result.orders] == [(6, "41"), (8, "42")]


@pytest.mark.parametrize(("changes", "problem"), [
    ({"recipient": replace(SUPPLIER, inn="7700000017")}, "ПолучательИНН: ИНН 7700000017 fails its check digits"),
    ({"recipient": replace(SUPPLIER, kpp="77000100")}, "ПолучательКПП: КПП '77000100' must be 9 characters (NNNNPPNNN)"),
    ({"recipient": replace(SUPPLIER, bik="04403077")}, "ПолучательБИК: БИК '04403077' must be 9 digits"),
    ({"recipient": replace(SUPPLIER, account="40702810100000012345")},
     "ПолучательСчет: account 40702810100000012345 does not match БИК 044030777 (control key)"),
    ({"recipient": replace(SUPPLIER, corr_account="30101810600000000999")},
     "ПолучательКорсчет: correspondent account 30101810600000000999 does not match БИК 044030777 (control key)"),
    ({"recipient": replace(SUPPLIER, name="ООО «Ромашка» 中")}, "Получатель1: character '中' cannot be written in cp1251"),
    ({"recipient": replace(SUPPLIER, bank_name="ПАО\nБанк")}, "ПолучательБанк1: must be a single line"),
    ({"amount": Decimal("0")}, "Сумма: 0 must be greater than zero"),
    ({"amount": Decimal("-5.00")}, "Сумма: -5.00 must be greater than zero"),
    ({"amount": Decimal("10.005")}, "Сумма: 10.005 has more than 2 decimals"),
    ({"invoice_number": "№" * 200}, "НазначениеПлатежа: 244 characters, at most 210"),
    ({"vat": "НДС €"}, None),   # € exists in cp1251
    ({"vat": "НДС ∑"}, "НазначениеПлатежа: character '∑' cannot be written in cp1251"),
])
def test_a_value_the_bank_would_refuse_keeps_its_request_out(changes: dict[str, object], problem: str | None) -> None:
    result = write([request(5, **changes)])
    if problem is None:
        assert result.refused == () and result.content is not None
    else:
        assert result.content is None and result.orders == ()
        assert [tuple(map(str, r.problems)) for r in result.refused] == [(problem,)]


def test_a_sole_trader_needs_no_kpp_but_an_organisation_does() -> None:
    assert write([request(1, recipient=TRADER)]).refused == ()
    assert tuple(map(str, write([request(1, recipient=replace(SUPPLIER, kpp=None))]).refused[0].problems)) == (
        "ПолучательКПП: missing",)


def test_a_bad_payer_config_raises_with_every_problem() -> None:
    payer = replace(PAYER, account="40702810600000000002", bank_city=" ", corr_account=None)
    with pytest.raises(PayerConfigError) as caught:
        write([request(1)], payer=payer)
    assert caught.value.problems == (
        "ПлательщикБанк2: missing", "ПлательщикКорсчет: missing",
        "ПлательщикСчет: account 40702810600000000002 does not match БИК 044525999 (control key)")


def test_numbers_beyond_six_digits_are_refused() -> None:
    result = write([request(1), request(2)], first_number=999_999)
    assert [doc.number for _, doc in result.orders] == ["999999"]
    assert tuple(map(str, result.refused[0].problems)) == ("Номер: 1000000 is outside 1..999999",)
    assert result.refused[0].problems[0] == Issue.of("number_range", "Номер", value=1_000_000, limit=999_999)


def test_a_request_keeps_the_number_it_was_given_and_new_ones_continue_the_sequence() -> None:
    result = write([request(1), request(2), request(3)], numbers={2: 7}, first_number=41)
    assert [(item, doc.number) for item, doc in result.orders] == [(1, "41"), (2, "7"), (3, "42")]
