"""What the engine asks the handlers to do, and what wakes it: frozen values, no I/O.

Field values in :class:`SetFields` are keyed by YAML field code; stages by YAML stage code; the
handlers translate them to the portal's names. Every action that must happen once carries a
deterministic key (``marker`` of a task, ``tag`` of a notification, ``key`` of a timeline entry).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from b24app.workflow.models import Label

# -- triggers ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Refresh:
    """The item or one of its tasks changed (or a sweep looks at it): act on the current state."""

    source: str = "item"   # "item" | "task" | "sweep" (informational only)


@dataclass(frozen=True)
class PersonDecision:
    """A person decides from the widget, Telegram or the scenario runner."""

    user: int
    decision: str
    reason: str = ""
    via: str = "card"


@dataclass(frozen=True)
class BankPayment:
    """A bank statement shows the request paid (issue #18): the accounting step completes "by bank
    statement", on the accountants' behalf, with the bank's document number and date in the log.

    ``user`` uploaded the statement (or resolved its line); ``key`` is the document's stable key."""

    user: int
    number: str
    date: str          # ISO date of the bank document
    amount: str        # two decimals, as in the statement
    key: str


Trigger = Refresh | PersonDecision | BankPayment


# -- actions ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class MoveStage:
    stage: str


@dataclass(frozen=True)
class SetFields:
    fields: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CreateTask:
    step: str
    marker: str
    responsible: int
    title: str
    deadline: datetime | None
    description: str = ""
    parent_marker: str | None = None
    bind: bool = True


@dataclass(frozen=True)
class RenewTask:
    task_id: int
    reason: Label


@dataclass(frozen=True)
class Reassign:
    """Give an open task to another person (its approver was dismissed mid-way)."""

    task_id: int
    user: int


@dataclass(frozen=True)
class MoveDeadline:
    """Give a task back the time a pause took from it (freeze, documents requested)."""

    task_id: int
    deadline: datetime


@dataclass(frozen=True)
class CompleteTask:
    """Close a task the route has moved past (a decision made elsewhere, a rejection)."""

    task_id: int


@dataclass(frozen=True)
class Notify:
    """Tell a person something; ``offer`` lists decisions of ``step`` they may make from the message
    (buttons in Telegram)."""

    user: int
    message: Label
    tag: str
    step: str | None = None
    offer: tuple[str, ...] = ()


@dataclass(frozen=True)
class LogTimeline:
    key: str
    title: Label
    text: Label


@dataclass(frozen=True)
class Refuse:
    """Tell a person why what they did was not accepted (and, for a drag, that it was put back)."""

    user: int
    message: Label
    tag: str


Action = MoveStage | SetFields | CreateTask | RenewTask | Reassign | MoveDeadline | CompleteTask | Notify | LogTimeline | Refuse
