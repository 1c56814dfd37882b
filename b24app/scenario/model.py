"""The validated shape of a scenario file: frozen values, no I/O.

A scenario is a list of steps run against a fresh sandbox portal. Steps act as a person
(:class:`Action`), move the portal's clock (:class:`Advance`), switch event faults on or off
(:class:`Faults`), or check what the portal looks like (:class:`Expect`). Every step remembers the
file and line it was written on, so a failure names it. The format is documented in
``docs/scenarios.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from b24app.workflow.models import Duration

#: Actions that are approval decisions (made through ``handlers.decisions.decide``).
DECISIONS = ("approve", "reject", "request_documents", "freeze", "unfreeze", "resubmit")
#: Every action a step may perform.
ACTIONS = ("create", "edit", *DECISIONS, "move", "start_task", "complete_task", "attach", "link_telegram")
#: The ways a person can do something, and which actions each applies to.
VIA: Mapping[str, tuple[str, ...]] = {
    "card": DECISIONS,
    "task_card": DECISIONS,
    "task": ("approve", "start_task", "complete_task"),
    "kanban": ("move",),
    "telegram": ("approve", "reject"),
}
#: What ``via`` is when a step does not say.
DEFAULT_VIA: Mapping[str, str] = {
    **{d: "card" for d in DECISIONS},
    "move": "kanban",
    "start_task": "task",
    "complete_task": "task",
}
#: Ways the runner cannot drive yet; rejected at load time with a clear message (none at the moment).
UNSUPPORTED_VIA: Mapping[str, str] = {}
#: Task statuses as scenarios name them -> Bitrix24 task status numbers (REFERENCE §7.2).
TASK_STATUSES: Mapping[str, int] = {
    "pending": 2, "in_progress": 3, "awaiting_control": 4, "completed": 5, "deferred": 6,
}


@dataclass(frozen=True)
class Where:
    """The file and line a step or expectation was written on."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class Action:
    """A person does something: ``approve: {as: m.orlova, via: card}``."""

    kind: str
    login: str
    via: str | None
    where: Where
    request: str | None = None          # a request named by ``create: {ref: ...}``; default: the last one
    ref: str | None = None              # create: the name later steps use
    title: str | None = None            # create: the item's title
    fields: Mapping[str, Any] = field(default_factory=dict)  # create: workflow field code -> value
    reason: str | None = None           # reject / request_documents / freeze: the text typed
    stage: str | None = None            # move: the target stage code
    task: str | None = None             # task actions, attach to a task: words of the task's title
    target: str | None = None           # attach: "item" or "task"
    field: str | None = None            # attach to the item: the workflow field code
    file: str | None = None             # attach: the file name
    refused: bool | tuple[str, ...] = False  # expected refusal: True, or words the refusal must all contain
    note: str | None = None
    workflow: str | None = None         # create: the workflow of the request (default: the scenario's)
    contract: str | None = None         # create/edit: the ref of the contract the payment links to
    parent: tuple[int, int] | None = None   # (entity type id, item id) of that contract, set by the runner


@dataclass(frozen=True)
class Advance:
    """Move the portal's clock: by durations in order ("1 working hour + 58 minutes") or to a moment."""

    where: Where
    by: tuple[Duration, ...] = ()
    to: datetime | None = None


@dataclass(frozen=True)
class PersonChange:
    """An administrator deactivates (a dismissal) or reactivates a person: ``deactivate: m.orlova``."""

    where: Where
    kind: str                           # "deactivate" | "reactivate"
    login: str


@dataclass(frozen=True)
class Absence:
    """An entry in the portal's absence chart: ``absence: {person, from, to, reason}``."""

    where: Where
    login: str
    start: datetime
    end: datetime
    reason: str = "Отпуск"


@dataclass(frozen=True)
class Faults:
    """The sandbox's event fault knobs (``portal.faults.events``) from this step on; all zero = off."""

    where: Where
    drop: float = 0.0
    duplicate: float = 0.0
    delay: float = 0.0
    reorder: float = 0.0


@dataclass(frozen=True)
class TaskExpectation:
    """At least one (or exactly ``count``) task of the request matches every given attribute."""

    where: Where
    title: str | None = None            # words of the title
    responsible: str | None = None      # login
    status: str | None = None           # a TASK_STATUSES name
    deadline: datetime | None = None
    count: int | None = None
    files: int | None = None            # how many files are attached to the task


@dataclass(frozen=True)
class NoticeExpectation:
    """A person received (or, with ``absent``, did not receive) a notification since the last expect."""

    where: Where
    to: str
    words: tuple[str, ...] = ()
    count: int | None = None
    absent: bool = False


@dataclass(frozen=True)
class WidgetExpectation:
    """What the approval tab shows a person: its buttons (exactly) and words in the page."""

    where: Where
    login: str
    buttons: tuple[str, ...] | None = None
    words: tuple[str, ...] = ()


@dataclass(frozen=True)
class TelegramExpectation:
    """A person received in Telegram (or, with ``absent``, did not) a message since the last expect —
    new, or edited (an outcome added, buttons taken off). ``buttons``: the message's buttons now, exactly."""

    where: Where
    login: str
    words: tuple[str, ...] = ()
    buttons: tuple[str, ...] | None = None
    count: int | None = None
    absent: bool = False


@dataclass(frozen=True)
class Expect:
    """Outcomes to check; only what is written is checked."""

    where: Where
    request: str | None = None
    stage: str | None = None
    assignee: str | None = None
    approver: str | None = None         # login, or "" for "nobody"
    tasks: tuple[TaskExpectation, ...] = ()
    task_count: int | None = None
    notified: tuple[NoticeExpectation, ...] = ()
    fields: Mapping[str, Any] = field(default_factory=dict)
    timeline: tuple[str, ...] = ()
    widget: WidgetExpectation | None = None
    telegram: tuple[TelegramExpectation, ...] = ()


#: The bank round trip's steps (issue #18, :mod:`b24app.scenario.bank`).
BANK_STEPS = ("bank_orders", "bank_statement", "bank_import")


@dataclass(frozen=True)
class Bank:
    """``bank_orders`` (an accountant downloads the payment-order file), ``bank_statement`` (the bank
    turns the last file into a statement: the money leaves on ``paid_on``) or ``bank_import`` (an
    accountant uploads the last statement). Only what is written is checked."""

    where: Where
    kind: str
    login: str | None = None
    paid_on: date | None = None                              # statement: ДатаСписано
    amounts: Mapping[str, str] = field(default_factory=dict)  # statement: request ref -> the sum the bank paid
    encoding: str = "Windows"                                # statement: Windows (cp1251) or DOS (cp866)
    unknown_keys: bool = False                               # statement: keys no program knows, to be ignored
    corrupt: bool = False                                    # import: one line of the statement broken
    refused: bool | tuple[str, ...] = False                  # import: the refusal (and its words) expected
    included: tuple[str, ...] | None = None                  # orders: the request refs in the file
    missing: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # orders: ref -> words of what is missing
    paid: tuple[str, ...] | None = None                      # import: the request refs paid
    ambiguous: int | None = None
    unmatched: int | None = None
    unchanged: int | None = None
    resolve: str | None = None                               # import: then resolve the only ambiguous line to this ref


Step = Action | Advance | Faults | Expect | PersonChange | Absence | Bank


@dataclass(frozen=True)
class AbsenceSpec:
    """``config: {absences: [...]}``: ``login`` is away ``start``..``end`` (inclusive), ``substitute`` stands in."""

    where: Where
    login: str
    start: date
    end: date
    substitute: str


@dataclass(frozen=True)
class Scenario:
    name: str
    file: str
    steps: tuple[Step, ...]
    workflow: str = "payment_requests"
    start: datetime | None = None
    description: str = ""
    org: str | None = None              # a sandbox organisation file (default: the sandbox's own)
    absences: tuple[AbsenceSpec, ...] = ()  # written into a temporary copy of config/ for the run
    checks: Mapping[str, str] = field(default_factory=dict)  # the workflow's checks: modes, in a copy of workflows/

    @property
    def uses_telegram(self) -> bool:
        """Whether the runner must start the fake Bot API (only then: scenarios without it stay fast)."""
        for step in self.steps:
            if isinstance(step, Action) and (step.via == "telegram" or step.kind == "link_telegram"):
                return True
            if isinstance(step, Expect) and step.telegram:
                return True
        return False
