"""The sandbox "bank": payment orders in, a bank statement out (1CClientBankExchange, issue #18).

:func:`statement_for_orders` reads a file of payment orders as an accounting program sends it to the
bank client (versions 1.01–1.03; ``Кодировка`` Windows = cp1251, DOS = cp866, or UTF-8; CRLF or LF) and
answers the statement the bank would send back for the day the money left: the header, one
``СекцияРасчСчет`` per payer account with its balances, each order as an outgoing
``СекцияДокумент=Платежное поручение`` with ``ДатаСписано`` = the debit date (every key of the order kept:
number, date, amount, both parties' ИНН, КПП, accounts and banks, purpose), then ``КонецФайла``.

A scenario may add what a real statement also carries (:class:`ExtraDocument`): a payment that matches
no request (made outside the process) or an incoming payment; and may ask for a cp866 (``Кодировка=DOS``)
file or for keys no program knows (``unknown_keys``), which a reader must ignore.

The reader here is the sandbox's own (it never imports b24app); it is small and refuses what it cannot
turn into a statement with :class:`OrdersFileError`, every problem as ``line N: message``. The format
follows docs/bank.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation

SIGNATURE = "1CClientBankExchange"
PAYMENT_ORDER = "Платежное поручение"
CHARSETS = {"windows": "cp1251", "dos": "cp866", "utf-8": "utf-8", "utf8": "utf-8"}
OUTPUT_CHARSETS = {"Windows": "cp1251", "DOS": "cp866"}
#: cp866 has no typographic quotes or dashes: a DOS statement writes them as ASCII (anything else it
#: cannot encode as ``?``), as a bank's DOS export must.
DOS_REPLACEMENTS = str.maketrans({"«": '"', "»": '"', "“": '"', "”": '"', "„": '"', "—": "-", "–": "-"})
REQUIRED = ("Номер", "Дата", "Сумма", "ПлательщикСчет", "ПолучательСчет")
BANK_NAME = "Песочный банк (sandbox)"
#: Keys that no standard names, written with ``unknown_keys=True`` (header, balances, each document).
UNKNOWN_HEADER, UNKNOWN_BALANCE, UNKNOWN_DOCUMENT = "ИдентификаторВыгрузкиПесочницы", "ОстатокВВалюте", "КодБанкаСвой"
PARTY_KEYS = ("Счет", "", "ИНН", "КПП", "1", "РасчСчет", "Банк1", "Банк2", "БИК", "Корсчет")

Pairs = list[tuple[str, str]]


class OrdersFileError(ValueError):
    """The orders file cannot be read; ``problems`` are ``line N: message`` strings."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Counterparty:
    """The other side of an extra document (its ИНН, account and bank keys)."""

    name: str
    inn: str
    account: str
    bik: str
    corr_account: str
    bank_name: str
    bank_city: str = "г. Москва"
    kpp: str = ""

    def pairs(self, side: str) -> Pairs:
        values = (self.account, f"ИНН {self.inn} {self.name}", self.inn, self.kpp, self.name, self.account,
                  self.bank_name, self.bank_city, self.bik, self.corr_account)
        return [(side + suffix, value) for suffix, value in zip(PARTY_KEYS, values, strict=True)]


#: A supplier paid outside the process (check digits valid: ИНН, account and corr. account vs БИК).
OUTSIDER = Counterparty('ООО «Сторонний Поставщик»', "5003007892", "40702810200000001001", "044525404",
                        "30101810700000000404", "АО «Песочный Банк»", kpp="500301001")
#: A customer who pays us.
CUSTOMER = Counterparty('ООО «Покупатель Лаванды»', "7709003212", "40702810800000000101", "044525101",
                        "30101810100000000101", "АО «Песочный Банк»", kpp="770901001")


@dataclass(frozen=True)
class ExtraDocument:
    """A document the statement carries besides the orders: ``incoming`` money to us, or an outgoing
    payment of ours that no request asked for. ``day`` defaults to the debit date."""

    number: str
    amount: Decimal
    purpose: str
    incoming: bool = False
    counterparty: Counterparty = OUTSIDER
    day: date | None = None


@dataclass
class _Document:
    line: int
    pairs: Pairs = field(default_factory=list)
    lines: dict[str, int] = field(default_factory=dict)  # key -> its line number

    def get(self, key: str) -> str:
        return next((v for k, v in self.pairs if k == key), "")


@dataclass
class _Orders:
    header: Pairs
    documents: list[_Document]


def _decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    for charset in ("utf-8", "cp1251", "cp866"):
        key = "Кодировка=".encode(charset)
        if data.startswith(key) or b"\n" + key in data:
            at = 0 if data.startswith(key) else data.index(b"\n" + key) + 1
            declared = data[at + len(key):].split(b"\n", 1)[0].strip().decode("ascii", "replace")
            wanted = CHARSETS.get(declared.lower())
            if wanted is None or (wanted != charset and charset != "utf-8"):  # a re-saved UTF-8 file is fine
                line = data[:at].count(b"\n") + 1
                raise OrdersFileError([f"line {line}: Кодировка={declared} does not match the file's bytes"])
            return data.decode(charset)
    raise OrdersFileError(["line 1: no Кодировка= key"])


def read_orders(data: bytes) -> _Orders:
    """The header pairs and the payment orders of an orders file; :class:`OrdersFileError` otherwise."""
    try:
        lines = _decode(data).replace("\r\n", "\n").split("\n")
    except UnicodeDecodeError as exc:
        raise OrdersFileError([f"line 1: cannot decode the file ({exc.reason})"]) from None
    if lines[0].strip() != SIGNATURE:
        raise OrdersFileError([f"line 1: the file must start with {SIGNATURE}"])
    header: Pairs = []
    documents: list[_Document] = []
    problems: list[str] = []
    current: _Document | None = None
    in_balances, ended = False, False
    for number, raw in enumerate(lines[1:], start=2):
        text = raw.strip()
        if not text:
            continue
        if ended:
            problems.append(f"line {number}: text after КонецФайла")
            break
        key, sep, value = (part.strip() for part in text.partition("="))
        if key == "СекцияДокумент":
            if value != PAYMENT_ORDER:
                problems.append(f"line {number}: the sandbox bank takes only «{PAYMENT_ORDER}», not «{value}»")
            current = _Document(number)
        elif text == "КонецДокумента" and current is not None:
            problems += [f"line {current.line}: the order lacks {k}" for k in REQUIRED if not current.get(k)]
            documents.append(current)
            current = None
        elif text in ("СекцияРасчСчет", "КонецРасчСчет"):
            in_balances = text == "СекцияРасчСчет"
        elif text == "КонецФайла":
            ended = True
        elif not sep:
            problems.append(f"line {number}: expected key=value or a section marker, got {text!r}")
        elif current is not None:
            current.pairs.append((key, value))
            current.lines[key] = number
        elif not in_balances:
            header.append((key, value))
    if current is not None:
        problems.append(f"line {current.line}: the document is not closed with КонецДокумента")
    if not ended:
        problems.append(f"line {len(lines)}: no КонецФайла")
    for doc in documents:
        try:
            Decimal(doc.get("Сумма") or "0")
        except InvalidOperation:
            problems.append(f"line {doc.lines['Сумма']}: Сумма={doc.get('Сумма')} is not an amount")
    if problems:
        raise OrdersFileError(problems)
    return _Orders(header, documents)


def _day(value: date) -> str:
    return value.strftime("%d.%m.%Y")


def _amount(value: Decimal) -> str:
    return f"{value:.2f}"


def _outgoing(doc: _Document, debit_date: date, unknown_keys: bool) -> Pairs:
    """An order as the statement shows it: every key kept, ``ДатаСписано`` set, ``ДатаПоступило`` empty."""
    pairs: Pairs = []
    for key, value in doc.pairs:
        if key in ("ДатаСписано", "ДатаПоступило"):
            continue
        pairs.append((key, value))
        if key == "ПлательщикСчет":
            pairs.append(("ДатаСписано", _day(debit_date)))
        elif key == "ПолучательСчет":
            pairs.append(("ДатаПоступило", ""))
    return pairs + ([(UNKNOWN_DOCUMENT, "SBX")] if unknown_keys else [])


def _ours(orders: _Orders, account: str) -> Pairs:
    """Our own party keys (``Плательщик…``) as the first order from ``account`` states them."""
    for doc in orders.documents:
        if doc.get("ПлательщикСчет") == account:
            return [(k, v) for k, v in doc.pairs if k.startswith("Плательщик")]
    return [("ПлательщикСчет", account), ("ПлательщикРасчСчет", account)]


def _extra(extra: ExtraDocument, ours: Pairs, debit_date: date) -> Pairs:
    day = _day(extra.day or debit_date)
    head = [("Номер", extra.number), ("Дата", day), ("Сумма", _amount(extra.amount))]
    if extra.incoming:
        recipient = [("Получатель" + k.removeprefix("Плательщик"), v) for k, v in ours]
        dates = [("ДатаСписано", ""), ("ДатаПоступило", day)]
        parties = extra.counterparty.pairs("Плательщик") + recipient
    else:
        dates = [("ДатаСписано", day), ("ДатаПоступило", "")]
        parties = ours + extra.counterparty.pairs("Получатель")
    tail = [("ВидОплаты", "01"), ("Очередность", "5"), ("НазначениеПлатежа", extra.purpose)]
    return head + dates + parties + tail


def statement_for_orders(
    orders: bytes,
    *,
    debit_date: date,
    extra: Sequence[ExtraDocument] = (),
    encoding: str = "Windows",
    unknown_keys: bool = False,
    opening_balance: Decimal = Decimal("1000000.00"),
    created: datetime | None = None,
) -> bytes:
    """The bank statement for ``orders`` (the bytes of a payment-order file), money leaving on
    ``debit_date``. ``encoding`` is ``"Windows"`` (cp1251) or ``"DOS"`` (cp866); lines end with CRLF.
    ``created`` (default: ``debit_date`` 18:00) is the statement's ДатаСоздания/ВремяСоздания."""
    if encoding not in OUTPUT_CHARSETS:
        raise ValueError(f"encoding must be one of {', '.join(OUTPUT_CHARSETS)}, not {encoding!r}")
    parsed = read_orders(orders)
    head = dict(parsed.header)
    accounts = [v for k, v in parsed.header if k == "РасчСчет"]
    for doc in parsed.documents:
        if doc.get("ПлательщикСчет") not in accounts:
            accounts.append(doc.get("ПлательщикСчет"))
    if not accounts:
        raise OrdersFileError(["line 1: no РасчСчет in the header and no orders: whose statement is it?"])
    moment = created or datetime.combine(debit_date, time(18, 0))
    documents = [_outgoing(doc, debit_date, unknown_keys) for doc in parsed.documents]
    documents += [_extra(e, _ours(parsed, accounts[0]), debit_date) for e in extra]
    lines = [SIGNATURE, f"ВерсияФормата={head.get('ВерсияФормата') or '1.03'}", f"Кодировка={encoding}",
             f"Отправитель={BANK_NAME}", f"Получатель={head.get('Отправитель', '')}",
             f"ДатаСоздания={_day(moment.date())}", f"ВремяСоздания={moment.strftime('%H:%M:%S')}",
             f"ДатаНачала={_day(debit_date)}", f"ДатаКонца={_day(debit_date)}",
             *(f"РасчСчет={a}" for a in accounts), f"Документ={PAYMENT_ORDER}"]
    if unknown_keys:
        lines.append(f"{UNKNOWN_HEADER}=sandbox-{debit_date:%Y%m%d}")
    for account in accounts:
        lines += _balances(account, documents, debit_date, opening_balance, unknown_keys)
    for pairs in documents:
        lines += [f"СекцияДокумент={PAYMENT_ORDER}", *(f"{k}={v}" for k, v in pairs), "КонецДокумента"]
    lines.append("КонецФайла")
    text = "\r\n".join(lines) + "\r\n"
    if encoding == "DOS":
        text = text.translate(DOS_REPLACEMENTS)
    return text.encode(OUTPUT_CHARSETS[encoding], errors="replace")


def _balances(account: str, documents: list[Pairs], debit_date: date, opening: Decimal,
              unknown_keys: bool) -> list[str]:
    def total(side: str, date_key: str) -> Decimal:
        return sum((Decimal(dict(p)["Сумма"]) for p in documents
                    if dict(p).get(side) == account and dict(p).get(date_key)), Decimal(0))

    received, spent = total("ПолучательСчет", "ДатаПоступило"), total("ПлательщикСчет", "ДатаСписано")
    return ["СекцияРасчСчет", f"ДатаНачала={_day(debit_date)}", f"ДатаКонца={_day(debit_date)}",
            f"РасчСчет={account}", f"НачальныйОстаток={_amount(opening)}", f"ВсегоПоступило={_amount(received)}",
            f"ВсегоСписано={_amount(spent)}", f"КонечныйОстаток={_amount(opening + received - spent)}",
            *([f"{UNKNOWN_BALANCE}=0.00"] if unknown_keys else []), "КонецРасчСчет"]
