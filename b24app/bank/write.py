"""Payment orders for the bank: approved requests -> one 1CClientBankExchange file (cp1251, CRLF).

``write_payment_orders(requests, payer, version=..., today=..., now=..., first_number=...)`` returns
a :class:`PaymentOrderFile`: the file's bytes with one «Платежное поручение» per request that can be
written, and for every other request exactly what is missing or malformed. Nothing is guessed: a value
the bank client would refuse (a bad ИНН, an account that does not match its БИК, an amount with more
than two decimals, a character cp1251 lacks) keeps its request out of the file, and a payer config with
any problem raises :class:`PayerConfigError` before anything is written.

The writer builds :class:`~b24app.bank.model.Document` values and serialises them; before returning,
it parses its own bytes back with :func:`~b24app.bank.parse.parse_statement` and requires the very same
documents, so a file our own strict reader would refuse is never handed out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import date, datetime
from decimal import Decimal

from b24app.bank import checks, codec
from b24app.bank.issues import Issue
from b24app.bank.model import Document, Party
from b24app.bank.parse import parse_statement

OPERATION_KIND = "01"     # ВидОплаты: the Bank of Russia's code of a payment order
PRIORITY = "5"            # Очередность: ordinary payments to suppliers (Civil Code art. 855)
MAX_PURPOSE = 210         # characters of НазначениеПлатежа (field 24 of a payment order)
MAX_NUMBER = 999_999      # a payment order number has at most 6 digits
WRITE_VERSIONS = ("1.02", "1.03")


@dataclass(frozen=True)
class BankDetails:
    """A party as the bank needs it. Every field is mandatory except ``kpp`` for a 12-digit ИНН."""

    name: str | None = None
    inn: str | None = None
    kpp: str | None = None
    account: str | None = None
    bank_name: str | None = None
    bank_city: str | None = None
    bik: str | None = None
    corr_account: str | None = None


@dataclass(frozen=True)
class ApprovedRequest:
    """One approved request at the accounting step, with its counterparty's bank details."""

    request_id: int
    request_number: str
    amount: Decimal | None
    invoice_number: str | None
    invoice_date: date | None
    recipient: BankDetails
    vat: str | None = None    # e.g. "В т.ч. НДС 20% - 1666.67 руб."; appended only when given


@dataclass(frozen=True)
class Refused:
    request_id: int
    request_number: str
    problems: tuple[Issue, ...]


@dataclass(frozen=True)
class PaymentOrderFile:
    content: bytes | None                       # None when no request could be written
    orders: tuple[tuple[int, Document], ...]    # (request id, the order written for it)
    refused: tuple[Refused, ...]


class PayerConfigError(ValueError):
    """Our own bank details are unusable: every problem, one per line."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(self.problems))


_ROLE = {codec.PAYER: "payer", codec.RECIPIENT: "recipient"}


def party_problems(details: BankDetails, prefix: str) -> list[Issue]:
    """Everything missing or malformed in one party's details, named by the file's keys."""
    problems: list[Issue] = []
    for item in fields(BankDetails):
        value = getattr(details, item.name)
        key = prefix + ("1" if item.name == "name" else codec.PARTY_SUFFIXES[item.name])
        if not value or not str(value).strip():
            if item.name != "kpp" or len(details.inn or "") == 10:
                problems.append(Issue("missing", key))
            continue
        problems += [replace(p, key=key) for p in _text_problems(str(value))]
    checked = [
        ("ИНН", details.inn, checks.inn_problem),
        ("КПП", details.kpp, checks.kpp_problem),
        ("БИК", details.bik, checks.bik_problem),
    ]
    bik = (details.bik or "").strip()
    if not checks.bik_problem(bik):   # the accounts' control keys need a good БИК
        checked += [
            ("Счет", details.account, lambda v: checks.account_problem(v, bik)),
            ("Корсчет", details.corr_account, lambda v: checks.account_problem(v, bik, correspondent=True)),
        ]
    for suffix, value, check in checked:
        reason = check(value.strip()) if value and value.strip() else None
        if reason:
            problems.append(replace(reason, key=f"{prefix}{suffix}"))
    return problems


def _text_problems(value: str) -> list[Issue]:
    if "\n" in value or "\r" in value:
        return [Issue("multiline")]
    try:
        value.encode("cp1251")
    except UnicodeEncodeError as exc:
        return [Issue.of("cp1251", char=value[exc.start])]
    return []


def purpose_text(request: ApprovedRequest) -> str:
    """«Оплата по счёту № {invoice} от {date} (заявка №{request})», then the VAT phrase if given."""
    if request.invoice_date is None:
        raise ValueError("the purpose needs the invoice date")
    text = (f"Оплата по счёту № {(request.invoice_number or '').strip()} от "
            f"{codec.format_date(request.invoice_date)} (заявка №{request.request_number.strip()})")
    return f"{text}. {request.vat.strip()}" if request.vat and request.vat.strip() else text


def _decimals(amount: Decimal) -> int:
    exponent = amount.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def request_problems(request: ApprovedRequest) -> list[Issue]:
    """What keeps one request out of the file (its payer side is checked once, separately)."""
    problems = party_problems(request.recipient, codec.RECIPIENT)
    amount = request.amount
    if amount is None:
        problems.append(Issue("missing", "Сумма"))
    elif not amount.is_finite() or amount <= 0:
        problems.append(Issue.of("amount_not_positive", "Сумма", value=amount))
    elif _decimals(amount) > 2:
        problems.append(Issue.of("amount_decimals", "Сумма", value=amount))
    if not (request.invoice_number or "").strip():
        problems.append(Issue("invoice_number_missing"))
    if request.invoice_date is None:
        problems.append(Issue("invoice_date_missing"))
    if not request.request_number.strip():
        problems.append(Issue("request_number_missing"))
    if not problems:
        purpose = purpose_text(request)
        problems += [replace(p, key="НазначениеПлатежа") for p in _text_problems(purpose)]
        if len(purpose) > MAX_PURPOSE:
            problems.append(Issue.of("purpose_length", "НазначениеПлатежа", length=len(purpose), limit=MAX_PURPOSE))
    return problems


def _party(details: BankDetails) -> Party:
    def clean(value: str | None) -> str | None:
        return value.strip() if value and value.strip() else None

    inn, name = clean(details.inn), clean(details.name)
    return Party(account=clean(details.account), inn=inn, kpp=clean(details.kpp), text=f"ИНН {inn} {name}",
                 name=name, settlement_account=clean(details.account), bank_name=clean(details.bank_name),
                 bank_city=clean(details.bank_city), bik=clean(details.bik),
                 corr_account=clean(details.corr_account))


def _order(request: ApprovedRequest, payer: Party, number: int, today: date) -> Document:
    assert request.amount is not None
    return Document(kind=codec.PAYMENT_ORDER, number=str(number), date=today,
                    amount=request.amount.quantize(Decimal("0.01")), payer=payer,
                    recipient=_party(request.recipient), purpose=purpose_text(request),
                    operation_kind=OPERATION_KIND, priority=PRIORITY)


def _party_lines(party: Party, prefix: str) -> Iterable[str]:
    for attr, suffix in codec.PARTY_SUFFIXES.items():
        value = getattr(party, attr)
        if value is not None:
            yield f"{prefix}{suffix}={value}"


def _document_lines(doc: Document) -> Iterable[str]:
    yield f"{codec.DOCUMENT_BEGIN}={doc.kind}"
    yield f"Номер={doc.number}"
    yield f"Дата={codec.format_date(doc.date)}"
    yield f"Сумма={codec.format_amount(doc.amount)}"
    yield from _party_lines(doc.payer, codec.PAYER)
    yield from _party_lines(doc.recipient, codec.RECIPIENT)
    for key, value in (("ВидОплаты", doc.operation_kind), ("Очередность", doc.priority),
                       ("НазначениеПлатежа", doc.purpose)):
        if value is not None:
            yield f"{key}={value}"
    yield codec.DOCUMENT_END


def write_payment_orders(requests: Sequence[ApprovedRequest], payer: BankDetails, *, version: str,
                         today: date, now: datetime, first_number: int,
                         numbers: Mapping[int, int] | None = None, sender: str = "b24app") -> PaymentOrderFile:
    """One file of payment orders, dated ``today``. A request in ``numbers`` (request id -> number) keeps
    the number it was given; the others are numbered from ``first_number`` in the order given."""
    if version not in WRITE_VERSIONS:
        raise ValueError(f"version {version!r}: expected one of {', '.join(WRITE_VERSIONS)}")
    payer_problems = party_problems(payer, codec.PAYER) + [replace(p, key="Отправитель") for p in _text_problems(sender)]
    if payer_problems:
        raise PayerConfigError([str(p) for p in payer_problems])
    payer_party = _party(payer)
    orders: list[tuple[int, Document]] = []
    refused: list[Refused] = []
    fresh = 0
    for request in requests:
        problems = request_problems(request)
        number = (numbers or {}).get(request.request_id, first_number + fresh)
        if not problems and not 0 < number <= MAX_NUMBER:
            problems = [Issue.of("number_range", "Номер", value=number, limit=MAX_NUMBER)]
        if problems:
            refused.append(Refused(request.request_id, request.request_number, tuple(problems)))
        else:
            orders.append((request.request_id, _order(request, payer_party, number, today)))
            fresh += request.request_id not in (numbers or {})
    if not orders:
        return PaymentOrderFile(content=None, orders=(), refused=tuple(refused))
    content = _serialise([doc for _, doc in orders], payer_party, version, sender, now, today)
    back = parse_statement(content)
    if back.documents != tuple(doc for _, doc in orders):
        raise RuntimeError("the payment-order file does not read back as written")
    return PaymentOrderFile(content=content, orders=tuple(orders), refused=tuple(refused))


def _serialise(documents: Sequence[Document], payer: Party, version: str, sender: str,
               now: datetime, today: date) -> bytes:
    lines = [
        codec.SIGNATURE, f"ВерсияФормата={version}", "Кодировка=Windows", f"Отправитель={sender}",
        f"ДатаСоздания={codec.format_date(now.date())}", f"ВремяСоздания={codec.format_time(now.time())}",
        f"ДатаНачала={codec.format_date(today)}", f"ДатаКонца={codec.format_date(today)}",
        f"РасчСчет={payer.account}", f"Документ={codec.PAYMENT_ORDER}",
    ]
    for doc in documents:
        lines += _document_lines(doc)
    lines.append(codec.FILE_END)
    return ("\r\n".join(lines) + "\r\n").encode("cp1251")
