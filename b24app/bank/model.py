"""What a 1CClientBankExchange file holds, as frozen values, and the one error the parser raises.

The parser returns these; the writer builds :class:`Document` values and serialises them, so "the
parser reads back what the writer wrote" is plain dataclass equality. Source line numbers are kept
for messages but take no part in equality.

Each section keeps the keys it does not model in ``extra`` (in file order): unknown keys, and
standard keys this app has no use for (budget-payment indicators, receipt lines, letter-of-credit
terms). See ``docs/bank.md`` for the list of modelled keys.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType

_EMPTY: Mapping[str, str] = MappingProxyType({})


def frozen_map(pairs: Mapping[str, str] | None = None) -> Mapping[str, str]:
    """A read-only copy of ``pairs`` (insertion order kept)."""
    return MappingProxyType(dict(pairs or {}))


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file, at a 1-based line."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class BankFileError(ValueError):
    """A file that cannot be read: carries every problem found, each as ``line N: message``."""

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]) -> None:
        self.problems: tuple[Problem, ...] = tuple(sorted(problems, key=lambda p: p.line))
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass(frozen=True)
class Header:
    """The general part before the first section (the standard's «Заголовок файла»)."""

    version: str                      # ВерсияФормата: 1.01, 1.02 or 1.03
    encoding: str                     # Кодировка as declared: Windows, DOS (or UTF-8, not in the standard)
    date_from: dt.date                   # ДатаНачала
    date_to: dt.date                     # ДатаКонца
    accounts: tuple[str, ...]         # РасчСчет (the standard allows several lines)
    sender: str | None = None         # Отправитель
    receiver: str | None = None       # Получатель
    created_on: dt.date | None = None    # ДатаСоздания
    created_at: dt.time | None = None    # ВремяСоздания
    document_kinds: tuple[str, ...] = ()  # Документ (several lines allowed)
    extra: Mapping[str, str] = field(default_factory=lambda: _EMPTY)


@dataclass(frozen=True)
class AccountSection:
    """``СекцияРасчСчет`` … ``КонецРасчСчет``: balances of one account over an interval."""

    account: str                      # РасчСчет
    date_from: dt.date                   # ДатаНачала
    opening_balance: Decimal          # НачальныйОстаток
    date_to: dt.date | None = None       # ДатаКонца
    total_in: Decimal | None = None   # ВсегоПоступило
    total_out: Decimal | None = None  # ВсегоСписано
    closing_balance: Decimal | None = None  # КонечныйОстаток
    extra: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    line: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Party:
    """One side of a document; ``prefix`` keys are ``Плательщик…`` or ``Получатель…``."""

    account: str | None = None          # …Счет
    inn: str | None = None              # …ИНН
    kpp: str | None = None              # …КПП
    text: str | None = None             # the bare key (Плательщик / Получатель): "ИНН … name"
    name: str | None = None             # …1
    settlement_account: str | None = None  # …РасчСчет
    bank_name: str | None = None        # …Банк1
    bank_city: str | None = None        # …Банк2
    bik: str | None = None              # …БИК
    corr_account: str | None = None     # …Корсчет


@dataclass(frozen=True)
class Document:
    """``СекцияДокумент=<kind>`` … ``КонецДокумента``."""

    kind: str                            # the value of СекцияДокумент, e.g. "Платежное поручение"
    number: str                          # Номер
    date: dt.date                        # Дата
    amount: Decimal                      # Сумма
    payer: Party
    recipient: Party
    purpose: str | None = None           # НазначениеПлатежа
    debited_on: dt.date | None = None       # ДатаСписано: the money left the payer's account
    credited_on: dt.date | None = None      # ДатаПоступило: the money reached the recipient's account
    operation_kind: str | None = None    # ВидОплаты (01 for a payment order)
    payment_kind: str | None = None      # ВидПлатежа
    priority: str | None = None          # Очередность
    code: str | None = None              # Код (УИН)
    purpose_code: str | None = None      # КодНазПлатежа
    extra: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    line: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Statement:
    """A whole file: header, account sections and documents, in file order."""

    header: Header
    accounts: tuple[AccountSection, ...]
    documents: tuple[Document, ...]
    charset: str                         # the codec the bytes were decoded with: cp1251, cp866, utf-8
