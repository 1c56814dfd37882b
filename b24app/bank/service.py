"""The bank round trip, wired (issue #18): payment orders out, statements in, through the portal.

The shell around the pure core of :mod:`b24app.bank` — what the accounting view, the CLI and the
scenarios call:

* :func:`orders_file` — the payment-order file for the approved requests waiting at the accounting
  step (stage ``PAYMENT``); what is missing per request is listed, never guessed.
* :func:`import_statement` — a bank statement applied: each clear match is paid through the approval
  engine (trigger :class:`~b24app.workflow.actions.BankPayment`), ambiguous lines are stored for the
  accountant, unmatched ones listed; a malformed file raises :class:`BankFileError` and changes nothing.
* :func:`pending` / :func:`resolve` — the lines waiting for the accountant, and their choice applied.
* :func:`uploads` — every upload: who, when, the file's sha256 and what it changed.
* :func:`may_exchange` — whether a user holds one of the accountant roles of ``config/bank.yaml``
  (portal administrators are checked by the caller, which knows the portal user).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from b24app.bank.model import BankFileError

if TYPE_CHECKING:
    from b24app.deps import Deps

__all__ = [
    "BankFileError", "ImportReport", "Line", "OrdersResult", "ResolveError", "Upload", "import_statement",
    "may_exchange", "orders_file", "pending", "resolve", "uploads",
]


@dataclass(frozen=True)
class OrdersResult:
    """The payment-order file (``data`` None when no request could be written) and what kept others out."""

    data: bytes | None
    filename: str
    included: list[int] = field(default_factory=list)                  # item ids, in file order
    missing: list[tuple[int, list[str]]] = field(default_factory=list)  # item id -> what is missing


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
    reason: str                    # why it is paid / ambiguous / unmatched (English, for logs and the view)
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

    at: str                        # ISO time of the portal's clock
    user_id: int
    sha256: str
    filename: str
    paid: tuple[int, ...]          # item ids paid by it
    ambiguous: int
    unmatched: int
    unchanged: int


class ResolveError(ValueError):
    """The accountant's choice cannot be applied (no such pending line, not one of its candidates, ...)."""


def may_exchange(deps: Deps, member_id: str, user_id: int) -> bool:
    """The user holds one of the roles named in ``config/bank.yaml``."""
    raise NotImplementedError


def orders_file(deps: Deps, member_id: str, *, today: date) -> OrdersResult:
    """Payment orders for every request at the accounting step (one batched read of their counterparties)."""
    raise NotImplementedError


def import_statement(deps: Deps, member_id: str, data: bytes, *, user_id: int,
                     filename: str = "statement.txt") -> ImportReport:
    """Apply a statement; raises :class:`BankFileError` (``line N: message``) before changing anything."""
    raise NotImplementedError


def pending(deps: Deps, member_id: str) -> list[Line]:
    """The ambiguous lines waiting for the accountant, oldest first."""
    raise NotImplementedError


def resolve(deps: Deps, member_id: str, document_key: str, item_id: int, *, user_id: int) -> Line:
    """The accountant says the pending document ``document_key`` paid request ``item_id``: it is paid."""
    raise NotImplementedError


def uploads(deps: Deps, member_id: str) -> list[Upload]:
    """Every statement upload, newest first."""
    raise NotImplementedError
