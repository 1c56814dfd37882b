"""The wired shell's own conversions: portal values at the boundary, and the statement extract."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from b24app.bank.parse import parse_statement
from b24app.bank.portal import company_id, day, money
from b24app.bank.service import extract
from tests.bank import fixtures as fx


@pytest.mark.parametrize(("value", "expected"), [
    ("12", 12), ("CO_12", 12), (12, 12), (["CO_7"], 7), ("", None), (None, None), ("C_3", None), ("0", None),
])
def test_a_company_link_is_read_in_both_shapes(value: object, expected: int | None) -> None:
    assert company_id(value) == expected


def test_money_and_dates_from_the_portal() -> None:
    assert money("1000.50|RUB") == Decimal("1000.50") and money("") is None and money("abc|RUB") is None
    assert day("2026-02-27T00:00:00+03:00") == date(2026, 2, 27) and day("") is None and day("27.02") is None


@pytest.mark.parametrize(("charset", "encoding"), [("cp1251", "Windows"), ("cp866", "DOS")])
def test_the_extract_is_a_valid_file_of_that_one_document(charset: str, encoding: str) -> None:
    data = fx.encode(fx.typical() if encoding == "Windows" else fx.statement(
        [fx.outgoing("501", "03.03.2025", "10.00", "x"), fx.outgoing("502", "04.03.2025", "250", "y")],
        encoding="DOS"), charset)
    statement = parse_statement(data)
    second = statement.documents[-1]
    part = extract(statement, data, second)
    back = parse_statement(part)
    assert back.documents == (second,) and back.charset == charset
    assert back.header == statement.header
