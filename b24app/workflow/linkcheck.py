"""What the actor of the checked step is told about a payment's contract and duplicate invoices. Pure.

The pipeline reads, in one batch, the linked contract, the contract's payments and the duplicate
candidates (:mod:`b24app.pipeline.links`) into a :class:`Links`; :func:`flags` turns them into the
warnings shown in the task, the approval tab and Telegram, each marked as blocking when the workflow's
``checks:`` says ``block`` for its kind (the approval at the step is then refused with the reason).

- **Contract**: flagged when it is not signed (not in its workflow's success stage), or when this
  payment exceeds what is left of it: the contract amount less what is paid (the payments in the
  success stage) and what is being paid (the payments in a stage after the checked step's).
- **Duplicates** (rows the one filtered list found; each classified by the rule it meets): the same
  counterparty and invoice number, the same invoice file (content hash), or the same counterparty and
  amount with the other request created within :data:`WINDOW_DAYS` days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from b24app.texts import links as txt
from b24app.workflow.models import Checks, Label, Workflow
from b24app.workflow.snapshot import Snapshot, money

WINDOW_DAYS = 30
#: The duplicate rules, in the order they are reported.
RULES = ("invoice_number", "invoice_file", "amount")


@dataclass(frozen=True)
class Payment:
    """A payment request linked to the contract (a row of the contract's payments)."""

    id: int
    title: str
    stage: str                      # YAML stage code
    amount: Decimal


@dataclass(frozen=True)
class Contract:
    id: int
    title: str
    stage: str                      # YAML stage code of the contracts workflow
    stage_name: Label
    signed: bool
    amount: Decimal
    currency: str = "RUB"
    counterparty: str = ""          # the company link (``CO_5``-style or an id), as stored
    counterparty_name: str = ""


@dataclass(frozen=True)
class Candidate:
    """Another payment request the duplicate filter found."""

    id: int
    title: str
    stage: str
    counterparty: str
    counterparty_name: str
    invoice_number: str
    invoice_hash: str
    amount: Decimal
    created: datetime | None


@dataclass(frozen=True)
class Links:
    contract: Contract | None = None
    payments: tuple[Payment, ...] = ()
    candidates: tuple[Candidate, ...] = ()
    #: the contract's id when the request names one (the contract itself may be missing or unreadable)
    contract_id: int | None = None
    #: the card address of a request without its id: ``https://portal/crm/type/1100/details/``
    card_url: str = ""
    #: SHA-256 of this request's invoice file ("" unknown), to store in ``INVOICE_HASH``
    invoice_hash: str = ""


@dataclass(frozen=True)
class Duplicate:
    id: int
    title: str
    rules: tuple[str, ...]


@dataclass(frozen=True)
class Flag:
    kind: str                       # "unsigned" | "over" | "duplicate"
    text: Label
    blocks: bool
    links: tuple[int, ...] = ()     # ids of the other requests (duplicates)


@dataclass(frozen=True)
class Standing:
    """What is paid against the contract: paid (success stage), being paid, left."""

    paid: Decimal
    in_payment: Decimal
    left: Decimal


def standing(workflow: Workflow, checks: Checks, links: Links, item_id: int) -> Standing | None:
    contract = links.contract
    if contract is None:
        return None
    later = _later_stages(workflow, checks)
    others = [p for p in links.payments if p.id != item_id]
    paid = sum((p.amount for p in others if p.stage == workflow.success_stage.code), Decimal(0))
    going = sum((p.amount for p in others if p.stage in later), Decimal(0))
    return Standing(paid, going, contract.amount - paid - going)


def _later_stages(workflow: Workflow, checks: Checks) -> set[str]:
    """Working stages after the checked step's stage (in the file's order): a payment there is approved."""
    codes = [s.code for s in workflow.stages]
    start = codes.index(workflow.step(checks.step).stage)
    return {s.code for s in workflow.stages[start + 1:] if not s.final and not s.pause}


def duplicates(snap: Snapshot, candidates: tuple[Candidate, ...]) -> list[Duplicate]:
    """The candidates that meet a rule (the filter may be broader), each with the rules it meets."""
    amount, _ = money(snap.fields.get("AMOUNT"))
    number = _norm(snap.fields.get("INVOICE_NUMBER"))
    digest = _norm(snap.fields.get("INVOICE_HASH"))
    mine = counterparty_key(snap.fields.get("COUNTERPARTY"), snap.fields.get("COUNTERPARTY_NAME"))
    found: list[Duplicate] = []
    for other in candidates:
        if other.id == snap.item_id:
            continue
        same_party = bool(mine) and counterparty_key(other.counterparty, other.counterparty_name) == mine
        rules = []
        if same_party and number and _norm(other.invoice_number) == number:
            rules.append("invoice_number")
        if digest and _norm(other.invoice_hash) == digest:
            rules.append("invoice_file")
        if same_party and amount and other.amount == amount and _within(snap.created, other.created):
            rules.append("amount")
        if rules:
            found.append(Duplicate(other.id, other.title, tuple(rules)))
    return sorted(found, key=lambda d: d.id)


def counterparty_key(company: object, name: object) -> str:
    """Who is paid: the company link when set, else the name (trimmed, case-insensitive)."""
    link = _norm(company)
    return f"company:{link}" if link else (f"name:{_norm(name).casefold()}" if _norm(name) else "")


def _within(mine: datetime | None, other: datetime | None) -> bool:
    return mine is not None and other is not None and abs(mine - other) <= timedelta(days=WINDOW_DAYS)


def _norm(value: object) -> str:
    if isinstance(value, list | tuple):
        value = value[0] if value else ""
    return str(value or "").strip()


def flags(workflow: Workflow, snap: Snapshot, links: Links | None) -> list[Flag]:
    """The warnings for the checked step's actor (empty when the workflow has no checks)."""
    checks = workflow.checks
    if checks is None or links is None:
        return []
    found: list[Flag] = []
    contract, amount = links.contract, money(snap.fields.get("AMOUNT"))[0]
    blocks = checks.contract == "block"
    if contract is not None and not contract.signed:
        found.append(Flag("unsigned", txt.unsigned(contract.title, contract.stage_name), blocks))
    state = standing(workflow, checks, links, snap.item_id)
    if contract is not None and state is not None and amount > state.left:
        found.append(Flag("over", txt.over(money_text(amount), money_text(max(state.left, Decimal(0))), money_text(contract.amount)),
                          blocks))
    for dup in duplicates(snap, links.candidates):
        found.append(Flag("duplicate", txt.duplicate(dup.id, dup.title, dup.rules, _url(links, dup.id)), checks.duplicates == "block",
                          (dup.id,)))
    return found


def _url(links: Links, item_id: int) -> str:
    return f"{links.card_url}{item_id}/" if links.card_url else ""


def blocking(workflow: Workflow, snap: Snapshot, links: Links | None) -> list[Flag]:
    return [f for f in flags(workflow, snap, links) if f.blocks]


def contract_lines(workflow: Workflow, snap: Snapshot, links: Links | None) -> list[Label]:
    """The contract's status and what is paid against it, for the task, the tab and Telegram."""
    checks = workflow.checks
    if checks is None or links is None or links.contract is None:
        return []
    contract = links.contract
    state = standing(workflow, checks, links, snap.item_id)
    assert state is not None
    return [txt.contract_line(contract.title, contract.stage_name),
            txt.paid_line(money_text(state.paid), money_text(state.in_payment), money_text(contract.amount), money_text(state.left))]


def summary(workflow: Workflow, snap: Snapshot, links: Links | None) -> list[Label]:
    """Every line the checked step's actor reads: the contract's standing, then each flag."""
    return [*contract_lines(workflow, snap, links), *(f.text for f in flags(workflow, snap, links))]


def money_text(value: Decimal) -> str:
    return f"{value:,.0f} RUB".replace(",", " ")
