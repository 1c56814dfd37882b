"""A small, strict reader of 1CClientBankExchange files (format versions 1.01–1.03).

``parse_statement(data)`` takes the file's bytes and returns a :class:`~b24app.bank.model.Statement`
or raises one :class:`~b24app.bank.model.BankFileError` listing every problem as ``line N: message``.

What it accepts: cp1251 (``Кодировка=Windows``), cp866 (``DOS``) and UTF-8, decided from the bytes
(see :func:`~b24app.bank.codec.detect_charset`); a UTF-8 BOM; CRLF or LF; blank lines; keys it does not
model (kept in ``extra``); an empty value is the same as an absent key. What it refuses: a missing
signature line, an unsupported version or encoding, a key outside a section, a section that is not
closed, a missing ``КонецФайла`` or text after it, a repeated key, a missing mandatory key, an amount
that is not ``руб[.коп]``, a date that is not ``дд.мм.гггг``.

Mandatory on reading (both directions in the standard): the header's ВерсияФормата, Кодировка,
ДатаНачала, ДатаКонца and РасчСчет; a balance section's ДатаНачала, РасчСчет and НачальныйОстаток;
a document's Номер, Дата, Сумма, ПлательщикСчет and ПолучательСчет. ИНН keys are read but not required
here (incoming payments from private persons may lack them); the matcher needs the recipient's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from b24app.bank import codec
from b24app.bank.model import (
    AccountSection,
    BankFileError,
    Document,
    Header,
    Party,
    Problem,
    Statement,
    frozen_map,
)

T = TypeVar("T")
_HEADER_MULTI = frozenset({"РасчСчет", "Документ"})


@dataclass
class _Section:
    name: str                      # "header", "account" or "document"
    line: int
    kind: str = ""                 # a document's СекцияДокумент value
    pairs: list[tuple[int, str, str]] = field(default_factory=list)


class _Fields:
    """The key=value lines of one section, read key by key; problems go to a shared list.

    A getter returns None for an absent (or empty) key, and also when it recorded a problem; the
    caller then discards the half-built value, which is why the typed getters return ``Any``.
    """

    def __init__(self, section: _Section, problems: list[Problem], multi: frozenset[str] = frozenset()):
        self.section = section
        self.problems = problems
        self.single: dict[str, tuple[int, str]] = {}
        self.multi: dict[str, list[str]] = {}
        self.used: set[str] = set()
        for line, key, value in section.pairs:
            if key in multi:
                self.multi.setdefault(key, []).append(value)
            elif key in self.single:
                problems.append(Problem(line, f"{key} is repeated (first at line {self.single[key][0]})"))
            else:
                self.single[key] = (line, value)

    def _get(self, key: str, required: bool, convert: Callable[[str], T]) -> T | None:
        self.used.add(key)
        line, value = self.single.get(key, (self.section.line, ""))
        if not value:
            if required:
                self.problems.append(Problem(self.section.line, f"{self._where()}: {key} is missing"))
            return None
        try:
            return convert(value)
        except ValueError as exc:
            self.problems.append(Problem(line, f"{key}: {exc}"))
            return None

    def text(self, key: str, required: bool = False) -> str | None:
        return self._get(key, required, str)

    def date(self, key: str, required: bool = False) -> Any:
        return self._get(key, required, codec.parse_date)

    def amount(self, key: str, required: bool = False, signed: bool = False) -> Any:
        return self._get(key, required, lambda v: codec.parse_amount(v, signed=signed))

    def time(self, key: str) -> Any:
        return self._get(key, False, codec.parse_time)

    def many(self, key: str, required: bool = False) -> tuple[str, ...]:
        self.used.add(key)
        values = tuple(v for v in self.multi.get(key, []) if v)
        if required and not values:
            self.problems.append(Problem(self.section.line, f"{self._where()}: {key} is missing"))
        return values

    def extra(self) -> dict[str, str]:
        return {k: v for k, (_, v) in self.single.items() if k not in self.used} | {
            k: "\n".join(v) for k, v in self.multi.items() if k not in self.used}

    def _where(self) -> str:
        return {"header": "header", "account": codec.ACCOUNT_BEGIN}.get(
            self.section.name, f"{codec.DOCUMENT_BEGIN}={self.section.kind}")


def parse_statement(data: bytes) -> Statement:
    """Read a whole file; raises :class:`BankFileError` with every problem found."""
    charset, body = codec.detect_charset(data)
    try:
        text = body.decode(charset)
    except UnicodeDecodeError as exc:
        line = body[:exc.start].count(b"\n") + 1
        raise BankFileError([Problem(line, f"the bytes are not valid {charset}")]) from None
    problems: list[Problem] = []
    sections = _sections(_lines(text), problems)
    header = _header(sections[0], charset, problems) if sections else None
    accounts = tuple(a for s in sections if s.name == "account" if (a := _account(s, problems)))
    documents = tuple(d for s in sections if s.name == "document" if (d := _document(s, problems)))
    if problems or header is None:
        raise BankFileError(problems or [Problem(1, "the file is empty")])
    return Statement(header=header, accounts=accounts, documents=documents, charset=charset)


def _lines(text: str) -> list[tuple[int, str]]:
    return [(n, raw.rstrip("\r").strip()) for n, raw in enumerate(text.split("\n"), start=1)]


def _sections(lines: list[tuple[int, str]], problems: list[Problem]) -> list[_Section]:
    """Split numbered lines into the header and the sections, checking the markers."""
    content = [(n, s) for n, s in lines if s]
    if not content or content[0][1] != codec.SIGNATURE:
        first = content[0][0] if content else 1
        problems.append(Problem(first, f"not a 1CClientBankExchange file (line 1 must be {codec.SIGNATURE})"))
        return []
    done: list[_Section] = []
    current: _Section | None = _Section("header", content[0][0])
    ends = {"account": codec.ACCOUNT_END, "document": codec.DOCUMENT_END}

    def open_section(section: _Section, at: int) -> None:
        nonlocal current
        if current is not None and current.name != "header":
            problems.append(Problem(current.line, f"section is not closed by {ends[current.name]} "
                                                  f"before line {at}"))
        elif current is not None:
            done.append(current)
        current = section

    for n, line in content[1:]:
        if line == codec.ACCOUNT_BEGIN:
            open_section(_Section("account", n), n)
        elif line.startswith(codec.DOCUMENT_BEGIN + "="):
            open_section(_Section("document", n, kind=line.partition("=")[2].strip()), n)
            if not current or not current.kind:
                problems.append(Problem(n, f"{codec.DOCUMENT_BEGIN} has no document kind"))
        elif line in (codec.ACCOUNT_END, codec.DOCUMENT_END):
            expected = "account" if line == codec.ACCOUNT_END else "document"
            if current is None or current.name != expected:
                problems.append(Problem(n, f"{line} without an open section"))
            else:
                done.append(current)
                current = None
        elif line == codec.FILE_END:
            open_section(_Section("end", n), n)
            trailing = [m for m, _ in content if m > n]
            if trailing:
                problems.append(Problem(trailing[0], f"text after {codec.FILE_END}"))
            return done
        elif "=" in line:
            key, _, value = line.partition("=")
            if current is None:
                problems.append(Problem(n, f"{key.strip()} outside a section"))
            elif not key.strip():
                problems.append(Problem(n, "a value without a key"))
            else:
                current.pairs.append((n, key.strip(), value.strip()))
        else:
            problems.append(Problem(n, f"unexpected line {line!r} (expected key=value or a section marker)"))
    last = content[-1][0]
    if current is not None and current.name != "header":
        problems.append(Problem(current.line, f"section is not closed by {ends[current.name]} "
                                              "before the end of the file"))
    elif current is not None:
        done.append(current)
    problems.append(Problem(last, f"{codec.FILE_END} is missing at the end of the file"))
    return done


def _header(section: _Section, charset: str, problems: list[Problem]) -> Header | None:
    f = _Fields(section, problems, multi=_HEADER_MULTI)
    before = len(problems)
    version = f.text("ВерсияФормата", required=True)
    if version is not None and version not in codec.VERSIONS:
        problems.append(Problem(f.single["ВерсияФормата"][0], f"unsupported ВерсияФормата {version} "
                                f"(expected {', '.join(codec.VERSIONS)})"))
    encoding = f.text("Кодировка", required=True)
    if encoding is not None:
        _check_encoding(encoding, charset, f.single["Кодировка"][0], problems)
    header = Header(
        version=version or "", encoding=encoding or "",
        date_from=f.date("ДатаНачала", required=True), date_to=f.date("ДатаКонца", required=True),
        accounts=f.many("РасчСчет", required=True), sender=f.text("Отправитель"),
        receiver=f.text("Получатель"), created_on=f.date("ДатаСоздания"),
        created_at=f.time("ВремяСоздания"),
        document_kinds=f.many("Документ"), extra=frozen_map(f.extra()))
    return header if len(problems) == before else None


def _check_encoding(declared: str, charset: str, line: int, problems: list[Problem]) -> None:
    expected = codec.CHARSETS.get(declared.lower())
    if expected is None:
        problems.append(Problem(line, f"unknown Кодировка {declared!r} (expected Windows or DOS)"))
    elif charset != "utf-8" and expected != charset:
        problems.append(Problem(line, f"Кодировка={declared}, but the file is written in {charset}"))


def _account(section: _Section, problems: list[Problem]) -> AccountSection | None:
    f = _Fields(section, problems)
    before = len(problems)
    result = AccountSection(
        account=f.text("РасчСчет", required=True) or "", date_from=f.date("ДатаНачала", required=True),
        opening_balance=f.amount("НачальныйОстаток", required=True, signed=True),
        date_to=f.date("ДатаКонца"), total_in=f.amount("ВсегоПоступило"),
        total_out=f.amount("ВсегоСписано"), closing_balance=f.amount("КонечныйОстаток", signed=True),
        extra=frozen_map(f.extra()), line=section.line)
    return result if len(problems) == before else None


def _party(f: _Fields, prefix: str) -> Party:
    values = {attr: f.text(prefix + suffix) for attr, suffix in codec.PARTY_SUFFIXES.items()}
    return Party(**values)


def _document(section: _Section, problems: list[Problem]) -> Document | None:
    f = _Fields(section, problems)
    before = len(problems)
    for key in ("ПлательщикСчет", "ПолучательСчет"):
        f.text(key, required=True)
    result = Document(
        kind=section.kind, number=f.text("Номер", required=True) or "", date=f.date("Дата", required=True),
        amount=f.amount("Сумма", required=True), payer=_party(f, codec.PAYER),
        recipient=_party(f, codec.RECIPIENT), purpose=f.text("НазначениеПлатежа"),
        debited_on=f.date("ДатаСписано"), credited_on=f.date("ДатаПоступило"),
        operation_kind=f.text("ВидОплаты"), payment_kind=f.text("ВидПлатежа"),
        priority=f.text("Очередность"), code=f.text("Код"), purpose_code=f.text("КодНазПлатежа"),
        extra=frozen_map(f.extra()), line=section.line)
    return result if len(problems) == before else None
