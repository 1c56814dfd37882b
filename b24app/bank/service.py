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
* :func:`accountants` — the holders of the roles of ``config/bank.yaml`` (who may exchange files with
  the bank, substitutes and administrators included, is one rule: :func:`b24app.web.access.may_exchange`).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date
from typing import TYPE_CHECKING

from b24app.bank import codec, portal
from b24app.bank.config import BANK_FILE, BankConfig, cached_bank_config
from b24app.bank.issues import Issue
from b24app.bank.match import Match, OpenRequest, match_statement
from b24app.bank.model import BankFileError, Document, Statement
from b24app.bank.parse import parse_statement
from b24app.bank.report import ImportReport, Line, Missing, OrdersResult, ResolveError, Upload
from b24app.bank.store import BankStore
from b24app.bank.write import ApprovedRequest, request_problems, write_payment_orders
from b24app.errors import B24AppError, RestError
from b24app.notify.itemnotes import written_entry
from b24app.pipeline.definitions import config_for, definitions
from b24app.pipeline.many import process_many
from b24app.pipeline.process import process
from b24app.workflow.actions import Action, BankPayment
from b24app.workflow.snapshot import Entry

if TYPE_CHECKING:
    from b24app.deps import Deps
    from b24app.pipeline.read import Loaded

__all__ = [
    "BankFileError", "BankNotConfigured", "ImportReport", "Issue", "Line", "Missing", "OrdersResult", "ResolveError", "Upload",
    "accountants", "import_statement", "orders_file", "pending", "preview", "resolve", "uploads",
]

log = logging.getLogger(__name__)


class BankNotConfigured(B24AppError):
    """``config/bank.yaml`` is missing for this portal."""


def bank_config(deps: Deps, member_id: str) -> BankConfig:
    """The portal's ``bank.yaml`` (its own over the shared one), validated against its roles; read once
    per change of the file (:func:`~b24app.bank.config.cached_bank_config`)."""
    path = config_for(deps, member_id) / BANK_FILE
    if not path.exists():
        raise BankNotConfigured(f"{path} is missing: copy config/bank.yaml and put your organisation's details there")
    return cached_bank_config(path, definitions(deps, member_id).org.roles)


def accountants(deps: Deps, member_id: str) -> frozenset[int]:
    """The user ids holding the roles of ``bank.yaml``."""
    roles = definitions(deps, member_id).roles
    return frozenset(roles[r] for r in bank_config(deps, member_id).roles if r in roles)


# -- payment orders out ------------------------------------------------------------------------------

def orders_file(deps: Deps, member_id: str, *, today: date) -> OrdersResult:
    """Payment orders for every request at the accounting step (batched reads of their counterparties).

    A request's number is given once — on the first download that includes it, continuing the portal's
    sequence — and every later download writes the same number again, so downloading twice never makes
    the bank client see two orders for one request. A request that cannot be written takes none."""
    cfg, requests, approved = _orders_input(deps, member_id)
    store = BankStore(deps.redis, member_id)
    writable = [a.request_id for a in approved if not request_problems(a)]
    with store.numbering_lock():
        numbers = store.assign_order_numbers(writable)
    return _write(deps, member_id, cfg, requests, approved, today, numbers, first=store.last_order_number() + 1)


def preview(deps: Deps, member_id: str, *, today: date) -> OrdersResult:
    """What :func:`orders_file` would write now, taking no numbers (a page view changes nothing)."""
    cfg, requests, approved = _orders_input(deps, member_id)
    store = BankStore(deps.redis, member_id)
    numbers = store.order_numbers([a.request_id for a in approved])
    return _write(deps, member_id, cfg, requests, approved, today, numbers, first=store.last_order_number() + 1)


def _orders_input(deps: Deps, member_id: str) -> tuple[BankConfig, list[portal.PortalRequest],
                                                        list[ApprovedRequest]]:
    cfg = bank_config(deps, member_id)
    requests = portal.open_requests(deps, member_id)
    approved = [ApprovedRequest(r.item_id, r.number, r.amount, r.invoice_number, r.invoice_date, r.recipient)
                for r in requests]
    return cfg, requests, approved


def _write(deps: Deps, member_id: str, cfg: BankConfig, requests: list[portal.PortalRequest],
           approved: list[ApprovedRequest], today: date, numbers: dict[int, int], *, first: int) -> OrdersResult:
    now = deps.now().astimezone(definitions(deps, member_id).calendar.tz)
    written = write_payment_orders(approved, cfg.payer, version=cfg.version, today=today, now=now,
                                   first_number=first, numbers=numbers)
    source = {r.item_id: r.source for r in requests}
    missing = [(x.request_id, [Missing(p, source[x.request_id] if p.key.startswith(codec.RECIPIENT) else None)
                               for p in x.problems]) for x in written.refused]
    return OrdersResult(written.content, f"payment_orders_{today.isoformat()}.txt",
                        [item for item, _ in written.orders], missing)


# -- statements in -----------------------------------------------------------------------------------

def import_statement(deps: Deps, member_id: str, data: bytes, *, user_id: int,
                     filename: str = "statement.txt") -> ImportReport:
    """Apply a statement; raises :class:`BankFileError` (``line N: message``) before changing anything.

    One import at a time per portal. Clear matches are paid through the engine together (each
    request's own lock; the reads and the writes in shared batches), their extracts attached in
    batches; ambiguous lines are stored for the accountant; a document already applied is
    ``unchanged``. The upload is recorded. A request that could not be paid even on its own path
    raises its error once the others are recorded and their extracts attached (a re-import pays it)."""
    statement = parse_statement(data)
    cfg = bank_config(deps, member_id)
    assert cfg.payer.account is not None
    sha = hashlib.sha256(data).hexdigest()
    store = BankStore(deps.redis, member_id)
    with store.import_lock():
        requests = [OpenRequest(r.item_id, r.number, r.recipient.inn, r.amount, r.invoice_number, r.invoice_date)
                    for r in portal.open_requests(deps, member_id)]
        found = match_statement(statement.documents, cfg.payer.account, requests, store.applied_keys())
        done = _pay(deps, member_id, store, statement, data, found.matched, user_id)
        paid, late = done.paid, done.late
        _attach(deps, member_id, done.extracts)
        if done.failed:
            raise done.failed[0]      # the queue / the accountant retries; what was paid is recorded
        ambiguous = [(_line(m), extract(statement, data, m.document)) for m in found.ambiguous]
        store.put_pending(ambiguous)
        report = ImportReport(sha, paid, [line for line, _ in ambiguous],
                              [_line(m) for m in found.unmatched] + late, [_line(m) for m in found.known])
        store.record_upload(Upload(deps.now().astimezone(UTC).replace(microsecond=0), int(user_id), sha, filename,
                                   tuple(line.item_id for line in paid if line.item_id is not None),
                                   len(report.ambiguous), len(report.unmatched), len(report.unchanged)))
    log.info("bank statement %s imported by %s: %d paid, %d ambiguous, %d unmatched, %d unchanged", sha[:12],
             user_id, len(report.paid), len(report.ambiguous), len(report.unmatched), len(report.unchanged))
    return report


def pending(deps: Deps, member_id: str) -> list[Line]:
    """The ambiguous lines waiting for the accountant, oldest first."""
    return BankStore(deps.redis, member_id).pending()


def resolve(deps: Deps, member_id: str, document_key: str, item_id: int, *, user_id: int) -> Line:
    """The accountant says the pending document ``document_key`` paid request ``item_id``: it is paid
    (through the engine, like a clear match). Raises :class:`ResolveError` when that cannot be."""
    store = BankStore(deps.redis, member_id)
    with store.import_lock():
        stored = store.pending_line(document_key)
        if stored is None:
            raise ResolveError(Issue.of("no_pending", document=document_key))
        line, content = stored
        if int(item_id) not in line.candidates:
            shown = ", ".join(f"№{c}" for c in line.candidates) or "—"
            raise ResolveError(Issue.of("not_candidate", request=item_id, number=line.number, candidates=shown))
        if document_key in store.applied_keys():
            store.drop_pending(document_key)
            raise ResolveError(Issue.of("already_applied", number=line.number))
        result = _pay_one(deps, member_id, store, line, int(item_id), int(user_id))
        if result is None:
            raise ResolveError(Issue.of("not_at_payment", request=item_id))
        paid, task_id = result
        if task_id is not None:
            _attach(deps, member_id, [(task_id, _extract_name(line), content)])
        store.drop_pending(document_key)
        return paid


def uploads(deps: Deps, member_id: str) -> list[Upload]:
    """Every statement upload, newest first."""
    return BankStore(deps.redis, member_id).uploads()


# -- paying ------------------------------------------------------------------------------------------

@dataclass
class Paid:
    """What paying the clear matches did: the lines paid, those no longer at the payment step, the
    extracts to attach (task id, file name, content), and the errors of requests that failed."""

    paid: list[Line] = field(default_factory=list)
    late: list[Line] = field(default_factory=list)
    extracts: list[tuple[int, str, bytes]] = field(default_factory=list)
    failed: list[B24AppError] = field(default_factory=list)


def _pay(deps: Deps, member_id: str, store: BankStore, statement: Statement, data: bytes,
         matched: Sequence[Match], user_id: int) -> Paid:
    """The clear matches paid together (:func:`~b24app.pipeline.many.process_many`: every request's own
    lock, the reads and the writes in shared batches); a request that failed even on its own path is
    in ``failed`` (the others are paid and recorded)."""
    lines = [(_line(m), m) for m in matched]
    triggers = {line.item_id: _trigger(line, user_id) for line, _ in lines if line.item_id is not None}
    outcome = process_many(deps, member_id, portal.WORKFLOW, triggers)   # a request matches one line at most
    paid = Paid()
    for line, match in lines:
        assert match.request is not None and line.item_id is not None
        if line.item_id in outcome.failed:
            paid.failed.append(outcome.failed[line.item_id])
            continue
        loaded, actions = outcome.done[line.item_id]
        result = _paid(store, line, line.item_id, user_id, loaded, actions)
        if result is None:
            paid.late.append(replace(line, item_id=None,
                                     reason=Issue.of("not_at_payment", request=match.request.request_number)))
            continue
        done, task_id = result
        paid.paid.append(done)
        if task_id is not None:
            paid.extracts.append((task_id, _extract_name(line), extract(statement, data, match.document)))
    return paid


def _trigger(line: Line, user_id: int) -> BankPayment:
    return BankPayment(user_id, line.number, line.date.isoformat(), codec.format_amount(line.amount), line.key)


def _pay_one(deps: Deps, member_id: str, store: BankStore, line: Line, item_id: int,
             user_id: int) -> tuple[Line, int | None] | None:
    """Pay one request through the engine; the line as paid and the payment-order subtask's id, or None
    when the request is not (any more) at the payment step."""
    loaded, actions = process(deps, member_id, portal.WORKFLOW, item_id, _trigger(line, user_id))
    return _paid(store, line, item_id, user_id, loaded, actions)


def _paid(store: BankStore, line: Line, item_id: int, user_id: int, loaded: Loaded | None,
          actions: list[Action]) -> tuple[Line, int | None] | None:
    """The payment recorded once the engine wrote it (None: the request was not at the payment step)."""
    entry = written_entry(loaded.snap, actions) if loaded is not None else None
    if loaded is None or entry is None or entry.via != "bank" or entry.bank_doc != line.number:
        return None
    store.mark_applied(line.key, item_id, user_id, entry.at)
    store.forget_order_number(item_id)
    store.drop_pending(line.key)
    return replace(line, item_id=item_id, candidates=()), _subtask(loaded, entry)


def _attach(deps: Deps, member_id: str, files: list[tuple[int, str, bytes]]) -> None:
    """The extracts attached to their subtasks; one that could not be is logged (the payment stands, and
    the rest of the import — pending lines, the upload record — must not be lost to a Drive failure)."""
    try:
        attached = portal.attach_extracts(deps, member_id, files)
    except RestError as exc:
        log.warning("bank: the statement extracts could not be uploaded: %s", exc)
        attached = {}
    for task_id, name, _ in files:
        if task_id not in attached:
            log.warning("bank: the statement extract %s could not be attached to task %s", name, task_id)


def _subtask(loaded: Loaded, entry: Entry) -> int | None:
    """The payment-order subtask of the step the entry completed (the step's first subtask)."""
    for task in loaded.snap.tasks:
        m = task.marker
        if m is not None and m.round == entry.round and m.part == f"{entry.step}:sub0":
            return task.id
    return None


def _line(match: Match) -> Line:
    doc = match.document
    return Line(match.key, doc.number, doc.date, doc.amount, doc.recipient.inn, doc.recipient.name,
                doc.purpose, match.reason,
                match.request.request_id if match.request is not None else None,
                tuple(c.request.request_id for c in match.candidates) if match.request is None else ())


def _extract_name(line: Line) -> str:
    return f"bank_statement_{line.number}_{line.date.isoformat()}.txt"


def extract(statement: Statement, data: bytes, doc: Document) -> bytes:
    """The statement's header and this one document, in the statement's own encoding: a valid
    1CClientBankExchange file of one document (what is attached to the payment-order subtask)."""
    charset, body = codec.detect_charset(data)
    lines = body.decode(charset).splitlines()
    first_section = next(i for i, text in enumerate(lines)
                         if text.strip().startswith((codec.ACCOUNT_BEGIN, codec.DOCUMENT_BEGIN)))
    start = doc.line - 1
    end = next(i for i in range(start, len(lines)) if lines[i].strip() == codec.DOCUMENT_END)
    chosen = [*lines[:first_section], *lines[start:end + 1], codec.FILE_END]
    return ("\r\n".join(chosen) + "\r\n").encode(charset)
