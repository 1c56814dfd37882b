"""What the wired bank exchange returns and records (:mod:`b24app.bank.service`): frozen values."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from b24app.bank.issues import Issue


@dataclass(frozen=True)
class Missing:
    """One thing that keeps a request out of the payment-order file; for a recipient's detail, ``source``
    says where the details were read (the company's CRM requisites or the request's fields)."""

    issue: Issue
    source: Issue | None = None

    def __str__(self) -> str:
        return f"{self.issue} ({self.source})" if self.source is not None else str(self.issue)


@dataclass(frozen=True)
class OrdersResult:
    """The payment-order file (``data`` None when no request could be written) and what kept others out."""

    data: bytes | None
    filename: str
    included: list[int] = field(default_factory=list)                  # item ids, in file order
    missing: list[tuple[int, list[Missing]]] = field(default_factory=list)  # item id -> what is missing


@dataclass(frozen=True)
class Line:
    """One bank document of a statement, as reported to the accountant."""

    key: str                       # match.document_key: the same document in any re-import
    number: str                    # the bank's document number (Номер)
    date: date                     # Дата
    amount: Decimal                # Сумма
    recipient_inn: str | None
    recipient_name: str | None
    purpose: str | None
    reason: Issue                  # why it is paid / ambiguous / unmatched (rendered by b24app/texts/bank.py)
    item_id: int | None = None     # the request paid
    candidates: tuple[int, ...] = ()   # ambiguous: the requests it might pay


@dataclass(frozen=True)
class ImportReport:
    sha256: str
    paid: list[Line] = field(default_factory=list)
    ambiguous: list[Line] = field(default_factory=list)     # stored for the accountant (pending)
    unmatched: list[Line] = field(default_factory=list)     # payments made outside the process
    unchanged: list[Line] = field(default_factory=list)     # already applied by an earlier import


@dataclass(frozen=True)
class Upload:
    """One statement upload, as recorded."""

    at: datetime                   # when the app recorded it: an aware UTC instant of the app's clock (staff
                                   # see it on the portal's calendar, b24app.web.accounting)
    user_id: int
    sha256: str
    filename: str
    paid: tuple[int, ...]          # item ids paid by it
    ambiguous: int
    unmatched: int
    unchanged: int


class ResolveError(ValueError):
    """The accountant's choice cannot be applied (no such pending line, not one of its candidates, ...)."""

    def __init__(self, issue: Issue) -> None:
        self.issue = issue
        super().__init__(str(issue))
