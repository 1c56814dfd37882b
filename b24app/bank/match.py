"""Bank statement lines -> open payment requests: one clear match, a list to resolve, or nothing.

``match_statement(documents, our_account, requests, known_keys)`` looks only at *outgoing* documents:
``ДатаСписано`` set and ``ПлательщикСчет`` equal to our account (everything else is ``ignored``).
For each one, among the open requests at the accounting step:

* **candidates** are the requests whose recipient ИНН equals the document's ``ПолучательИНН`` and whose
  amount equals ``Сумма`` exactly;
* a request is **referenced** when its invoice number, or «заявка №<its number>», appears in
  ``НазначениеПлатежа`` as a whole token;
* exactly one candidate -> **matched** (``referenced`` says whether the purpose confirms it); several
  candidates of which exactly one is referenced -> **matched** to that one; several otherwise ->
  **ambiguous**, all listed;
* no candidate, but requests to the same ИНН with another amount (a partial payment, or a different
  sum) -> **ambiguous**, those listed; nothing for that ИНН -> **unmatched**;
* two documents of one statement matched to the same request -> both **ambiguous** (a request is
  never paid twice by guessing);
* a document whose stable key is in ``known_keys`` (already applied by an earlier import) -> **known**,
  and it takes no part in matching, so re-importing a statement changes nothing.

Pure and deterministic: the same inputs give the same report, whatever the order of ``requests``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from enum import StrEnum

from b24app.bank.codec import format_amount
from b24app.bank.issues import Issue
from b24app.bank.model import Document


class Outcome(StrEnum):
    MATCHED = "matched"
    AMBIGUOUS = "ambiguous"
    UNMATCHED = "unmatched"
    KNOWN = "known"


@dataclass(frozen=True)
class OpenRequest:
    """A request waiting at the accounting step, as the matcher needs it."""

    request_id: int
    request_number: str
    recipient_inn: str | None
    amount: Decimal | None
    invoice_number: str | None = None
    invoice_date: date | None = None


@dataclass(frozen=True)
class Candidate:
    request: OpenRequest
    exact_amount: bool
    referenced: bool


@dataclass(frozen=True)
class Match:
    key: str
    document: Document
    outcome: Outcome
    reason: Issue
    request: OpenRequest | None = None        # set only when matched
    referenced: bool = False                  # the purpose names the matched request or its invoice
    candidates: tuple[Candidate, ...] = ()


@dataclass(frozen=True)
class MatchReport:
    matched: tuple[Match, ...]
    ambiguous: tuple[Match, ...]
    unmatched: tuple[Match, ...]
    known: tuple[Match, ...]
    ignored: tuple[Document, ...]             # not outgoing from our account


def document_key(doc: Document) -> str:
    """Number, date, amount, payer and recipient accounts: the same bank document in any re-import."""
    return "|".join((doc.number, doc.date.isoformat(), format_amount(doc.amount),
                     doc.payer.account or "", doc.recipient.account or ""))


def document_keys(documents: Sequence[Document]) -> tuple[str, ...]:
    """Stable keys for a statement's documents; a repeat within the statement gets ``#2``, ``#3``…"""
    seen: Counter[str] = Counter()
    keys = []
    for doc in documents:
        key = document_key(doc)
        seen[key] += 1
        keys.append(key if seen[key] == 1 else f"{key}#{seen[key]}")
    return tuple(keys)


_AFTER = r"(?![\w/-]|[.,]\d)"


def _token(value: str) -> str:
    return rf"(?<![\w/-]){re.escape(value.strip().casefold())}{_AFTER}"


def is_referenced(purpose: str | None, request: OpenRequest) -> bool:
    """The invoice number, or «заявка №N», appears in the purpose as a whole token."""
    text = (purpose or "").casefold()
    invoice = (request.invoice_number or "").strip()
    if invoice and re.search(_token(invoice), text):
        return True
    number = request.request_number.strip()
    pattern = rf"заявк\w*\s*(?:№|n|#)?\s*{re.escape(number.casefold())}{_AFTER}"
    return bool(number) and re.search(pattern, text) is not None


def _classify(key: str, doc: Document, requests: Sequence[OpenRequest]) -> Match:
    inn = (doc.recipient.inn or "").strip()
    if not inn:
        return Match(key, doc, Outcome.UNMATCHED, Issue("no_inn"))
    same_inn = [r for r in requests if (r.recipient_inn or "").strip() == inn]
    found = tuple(Candidate(r, r.amount == doc.amount, is_referenced(doc.purpose, r)) for r in same_inn)
    exact = [c for c in found if c.exact_amount]
    if not found:
        return Match(key, doc, Outcome.UNMATCHED, Issue.of("no_request", inn=inn))
    if not exact:
        return Match(key, doc, Outcome.AMBIGUOUS, _amount_reason(doc, found), candidates=found)
    referenced = [c for c in exact if c.referenced]
    if len(exact) == 1 or len(referenced) == 1:
        chosen = exact[0] if len(exact) == 1 else referenced[0]
        return Match(key, doc, Outcome.MATCHED, Issue("matched_referenced" if chosen.referenced else "matched"),
                     request=chosen.request,
            referenced=chosen.referenced, candidates=(chosen,))
    listed = tuple(referenced) or tuple(exact)
    return Match(key, doc, Outcome.AMBIGUOUS, Issue.of("several", count=len(listed), inn=inn), candidates=listed)


def _amount_reason(doc: Document, found: tuple[Candidate, ...]) -> Issue:
    amounts = ", ".join(format_amount(c.request.amount) if c.request.amount is not None else "—"
                        for c in found)
    partial = any(c.request.amount is not None and doc.amount < c.request.amount for c in found)
    return Issue.of("partial" if partial else "amount_differs", paid=format_amount(doc.amount), requested=amounts)


def match_statement(documents: Sequence[Document], our_account: str, requests: Sequence[OpenRequest],
                    known_keys: Collection[str] = frozenset()) -> MatchReport:
    """Classify every outgoing document of a statement; see the module docstring for the rules."""
    ordered = sorted(requests, key=lambda r: r.request_id)
    results: list[Match] = []
    ignored: list[Document] = []
    for key, doc in zip(document_keys(documents), documents, strict=True):
        if doc.debited_on is None or doc.payer.account != our_account:
            ignored.append(doc)
        elif key in known_keys:
            results.append(Match(key, doc, Outcome.KNOWN, Issue("known")))
        else:
            results.append(_classify(key, doc, ordered))
    results = _no_double_payment(results)
    by = {o: tuple(m for m in results if m.outcome is o) for o in Outcome}
    return MatchReport(matched=by[Outcome.MATCHED], ambiguous=by[Outcome.AMBIGUOUS],
                       unmatched=by[Outcome.UNMATCHED], known=by[Outcome.KNOWN], ignored=tuple(ignored))


def _no_double_payment(results: list[Match]) -> list[Match]:
    """Two documents matched to one request: neither is trusted."""
    claims = Counter(m.request.request_id for m in results if m.request is not None)
    return [replace(m, outcome=Outcome.AMBIGUOUS, request=None, referenced=False,
                    reason=Issue.of("double", count=claims[m.request.request_id], request=m.request.request_number))
            if m.request is not None and claims[m.request.request_id] > 1 else m
            for m in results]
