"""The matcher on parsed synthetic statements: matched, ambiguous, unmatched, known, ignored."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from b24app.bank.match import (
    OpenRequest,
    document_key,
    document_keys,
    is_referenced,
    match_statement,
)
from b24app.bank.model import Document
from b24app.bank.parse import parse_statement
from tests.bank import fixtures as fx


def docs(*documents: list[str]) -> tuple[Document, ...]:
    return parse_statement(fx.encode(fx.statement(list(documents)))).documents


def req(request_id: int, amount: str, inn: str = fx.SUPPLIER_INN, invoice: str | None = None) -> OpenRequest:
    return OpenRequest(request_id=request_id, request_number=str(request_id), recipient_inn=inn,
                       amount=Decimal(amount), invoice_number=invoice, invoice_date=date(2025, 3, 1))


def test_a_typical_statement() -> None:
    statement = parse_statement(fx.encode(fx.typical())).documents
    requests = [req(12, "1000.50", invoice="А-15"), req(30, "250.00", inn=fx.TRADER_INN), req(31, "99.00")]
    report = match_statement(statement, fx.OUR_ACCOUNT, requests)
    [first, second] = report.matched
    assert (first.request, first.referenced, first.document.number) == (requests[0], True, "501")
    assert str(first.reason) == "ИНН and amount match, confirmed by the purpose"
    assert (second.request, second.referenced) == (requests[1], False)   # "Сумма=250" equals 250.00
    assert [d.number for d in report.ignored] == ["88"]                  # the incoming payment
    assert report.ambiguous == report.unmatched == report.known == ()


def test_one_candidate_is_a_match_even_without_a_reference() -> None:
    [m] = match_statement(docs(fx.outgoing("1", "03.03.2025", "500.00", "Оплата за товар")),
                          fx.OUR_ACCOUNT, [req(5, "500.00")]).matched
    assert (m.request.request_id if m.request else None, m.referenced, str(m.reason)) == (5, False, "ИНН and amount match")


def test_several_candidates_are_ambiguous_unless_the_purpose_names_one() -> None:
    requests = [req(7, "500.00", invoice="44"), req(8, "500.00", invoice="45")]
    plain = match_statement(docs(fx.outgoing("1", "03.03.2025", "500.00", "Оплата за товар")),
                            fx.OUR_ACCOUNT, requests)
    [m] = plain.ambiguous
    assert [c.request.request_id for c in m.candidates] == [7, 8] and m.request is None
    assert str(m.reason) == f"2 open requests with ИНН {fx.SUPPLIER_INN} and this amount"
    by_invoice = match_statement(docs(fx.outgoing("1", "03.03.2025", "500.00", "Оплата по счету 45 от 01.03.2025")),
                                 fx.OUR_ACCOUNT, requests)
    assert [(x.request.request_id if x.request else None, x.referenced) for x in by_invoice.matched] == [(8, True)]
    by_request = match_statement(docs(fx.outgoing("1", "03.03.2025", "500.00", "Оплата (заявка № 7)")),
                                 fx.OUR_ACCOUNT, requests)
    assert [x.request.request_id if x.request else None for x in by_request.matched] == [7]


def test_a_partial_or_different_amount_is_ambiguous_never_matched() -> None:
    requests = [req(9, "1000.00")]
    [partial] = match_statement(docs(fx.outgoing("1", "03.03.2025", "400.00", "Аванс (заявка №9)")),
                                fx.OUR_ACCOUNT, requests).ambiguous
    assert str(partial.reason) == "ИНН matches but a partial payment: 400.00 paid, requested 1000.00"
    assert [(c.request.request_id, c.exact_amount, c.referenced) for c in partial.candidates] == [(9, False, True)]
    [more] = match_statement(docs(fx.outgoing("1", "03.03.2025", "1000.01", "Оплата")),
                             fx.OUR_ACCOUNT, requests).ambiguous
    assert str(more.reason) == "ИНН matches but the amount differs: 1000.01 paid, requested 1000.00"


def test_nothing_for_the_inn_is_unmatched() -> None:
    report = match_statement(docs(fx.outgoing("1", "03.03.2025", "500.00", "Оплата")), fx.OUR_ACCOUNT,
                             [req(5, "500.00", inn=fx.TRADER_INN)])
    [m] = report.unmatched
    assert str(m.reason) == f"no open request for ИНН {fx.SUPPLIER_INN}" and report.matched == ()


def test_only_outgoing_documents_of_our_account_are_considered() -> None:
    other = fx.replaced(fx.outgoing("2", "03.03.2025", "500.00", "Оплата"),
                        f"ПлательщикСчет={fx.OUR_ACCOUNT}", "ПлательщикСчет=40702810900000000002")
    not_debited = fx.replaced(fx.outgoing("3", "03.03.2025", "500.00", "Оплата"), "ДатаСписано=03.03.2025",
                              "ДатаСписано=")
    report = match_statement(docs(other, not_debited, fx.incoming("4", "03.03.2025", "500.00", "Оплата")),
                             fx.OUR_ACCOUNT, [req(5, "500.00")])
    assert [d.number for d in report.ignored] == ["2", "3", "4"] and report.matched == ()


def test_two_documents_for_one_request_are_both_ambiguous() -> None:
    report = match_statement(docs(fx.outgoing("1", "03.03.2025", "500.00", "Оплата (заявка №5)"),
                                  fx.outgoing("2", "04.03.2025", "500.00", "Оплата")),
                             fx.OUR_ACCOUNT, [req(5, "500.00"), req(6, "70.00")])
    assert report.matched == ()
    assert [(m.document.number, str(m.reason)) for m in report.ambiguous] == [
        ("1", "2 bank documents match request №5"), ("2", "2 bank documents match request №5")]


def test_a_re_import_changes_nothing() -> None:
    statement = parse_statement(fx.encode(fx.typical())).documents
    requests = [req(12, "1000.50", invoice="А-15"), req(30, "250.00", inn=fx.TRADER_INN)]
    first = match_statement(statement, fx.OUR_ACCOUNT, requests)
    applied = {m.key for m in first.matched}
    again = match_statement(parse_statement(fx.encode(fx.typical(), "utf-8", newline="\n")).documents,
                            fx.OUR_ACCOUNT, requests, known_keys=applied)
    assert again.matched == again.ambiguous == again.unmatched == ()
    assert [m.key for m in again.known] == [m.key for m in first.matched]


def test_the_report_does_not_depend_on_the_order_of_requests() -> None:
    statement = docs(fx.outgoing("1", "03.03.2025", "500.00", "Оплата"),
                     fx.outgoing("2", "03.03.2025", "70.00", "Оплата по счету 9"))
    requests = [req(3, "500.00"), req(1, "500.00"), req(2, "70.00", invoice="9"), req(4, "70.00")]
    assert match_statement(statement, fx.OUR_ACCOUNT, requests) == match_statement(
        statement, fx.OUR_ACCOUNT, list(reversed(requests)))


def test_stable_keys_and_repeats_within_a_statement() -> None:
    one = fx.outgoing("1", "03.03.2025", "500.00", "Оплата")
    statement = docs(one, one, fx.outgoing("1", "03.03.2025", "500.5", "Оплата"))
    base = f"1|2025-03-03|500.00|{fx.OUR_ACCOUNT}|{fx.SUPPLIER_ACCOUNT}"
    assert document_key(statement[0]) == base
    assert document_keys(statement) == (base, base + "#2", f"1|2025-03-03|500.50|{fx.OUR_ACCOUNT}|{fx.SUPPLIER_ACCOUNT}")


@pytest.mark.parametrize(("purpose", "invoice", "number", "expected"), [
    ("Оплата по счету № 44 от 01.03.2025", "44", "900", True),
    ("Оплата по счету № 443 от 01.03.2025", "44", "900", False),
    ("Оплата по счету № 44/1 от 01.03.2025", "44", "900", False),
    ("Оплата по счету № А-15.", "А-15", "900", True),
    ("Оплата по счету № а-15", "А-15", "900", True),          # case does not matter
    ("Оплата по счету № Б-А-15", "А-15", "900", False),
    ("Оплата по счету 7 (заявка №12)", None, "12", True),
    ("Оплата по счету 7 (заявка № 120)", None, "12", False),
    ("Оплата 12 штук", None, "12", False),                    # a bare number is not a request number
    (None, "44", "12", False),
])
def test_references_are_whole_tokens(purpose: str | None, invoice: str | None, number: str, expected: bool) -> None:
    request = OpenRequest(request_id=1, request_number=number, recipient_inn=None, amount=None,
                          invoice_number=invoice)
    assert is_referenced(purpose, request) is expected

