"""The text conventions of 1CClientBankExchange: markers, encodings, amounts, dates, party keys.

Shared by the parser and the writer so that both speak exactly one dialect.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from decimal import Decimal

SIGNATURE = "1CClientBankExchange"
VERSIONS = ("1.01", "1.02", "1.03")
ACCOUNT_BEGIN = "СекцияРасчСчет"
ACCOUNT_END = "КонецРасчСчет"
DOCUMENT_BEGIN = "СекцияДокумент"
DOCUMENT_END = "КонецДокумента"
FILE_END = "КонецФайла"
PAYMENT_ORDER = "Платежное поручение"

# Declared Кодировка -> Python codec. Windows and DOS are the standard's values; UTF-8 is not in the
# standard (see docs/bank.md) but is accepted when the bytes are UTF-8.
CHARSETS = {"windows": "cp1251", "dos": "cp866", "utf-8": "utf-8", "utf8": "utf-8"}
_BOM = b"\xef\xbb\xbf"
_ENCODING_KEY = "Кодировка="

_AMOUNT = re.compile(r"\d{1,15}(?:\.\d{1,2})?")
_BALANCE = re.compile(r"-?\d{1,15}(?:\.\d{1,2})?")
_DATE = re.compile(r"\d{2}\.\d{2}\.\d{4}")
_TIME = re.compile(r"\d{2}:\d{2}:\d{2}")

PAYER = "Плательщик"
RECIPIENT = "Получатель"
# Party attribute -> key suffix after Плательщик / Получатель ("" is the bare key).
PARTY_SUFFIXES = {
    "account": "Счет", "inn": "ИНН", "kpp": "КПП", "text": "", "name": "1",
    "settlement_account": "РасчСчет", "bank_name": "Банк1", "bank_city": "Банк2",
    "bik": "БИК", "corr_account": "Корсчет",
}


def detect_charset(data: bytes) -> tuple[str, bytes]:
    """The codec the bytes are written in, and the bytes without a BOM.

    A UTF-8 BOM means UTF-8. Otherwise the ``Кодировка=`` key is looked for at the start of a line
    in each candidate encoding: the key itself is Cyrillic, so its bytes differ between cp1251,
    cp866 and UTF-8 while its value (``Windows``/``DOS``) is ASCII in all three. Without that key
    the bytes are taken as UTF-8 if they decode as such, cp1251 otherwise (the parser then reports
    the missing key).
    """
    if data.startswith(_BOM):
        return "utf-8", data[len(_BOM):]
    for charset in ("utf-8", "cp1251", "cp866"):
        key = _ENCODING_KEY.encode(charset)
        if data.startswith(key) or b"\n" + key in data:
            return charset, data
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return "cp1251", data
    return "utf-8", data


def parse_amount(text: str, *, signed: bool = False) -> Decimal:
    """``руб[.коп]``: digits, optionally a dot and one or two digits (a minus only for balances)."""
    if not (_BALANCE if signed else _AMOUNT).fullmatch(text):
        raise ValueError(f"{text!r} is not an amount (digits, a dot and at most 2 decimals)")
    return Decimal(text)


def format_amount(amount: Decimal) -> str:
    """Two decimals, a dot, no grouping: ``1234.50``."""
    return f"{amount:.2f}"


def _strict(text: str, pattern: re.Pattern[str], fmt: str, shape: str, meaning: str) -> datetime:
    if not pattern.fullmatch(text):
        raise ValueError(f"{text!r} is not {shape}")
    try:
        return datetime.strptime(text, fmt)
    except ValueError:
        raise ValueError(f"{text!r} is not {meaning}") from None


def parse_date(text: str) -> date:
    """``дд.мм.гггг``, a real calendar date."""
    return _strict(text, _DATE, "%d.%m.%Y", "a date дд.мм.гггг", "a calendar date").date()


def format_date(value: date) -> str:
    return value.strftime("%d.%m.%Y")


def parse_time(text: str) -> time:
    """``чч:мм:сс``."""
    return _strict(text, _TIME, "%H:%M:%S", "a time чч:мм:сс", "a time of day").time()


def format_time(value: time) -> str:
    return value.strftime("%H:%M:%S")
