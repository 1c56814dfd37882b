"""The registry of conditions: each name workflow YAML may use, its implementation, and where it works.

A condition is used in one of three places: a step's ``when:`` (the engine skips the step when it does not
hold, on the item's snapshot), a time rule's ``when:`` (the escalation sends when it holds) and a time
rule's ``while:`` (an ``every`` reminder repeats while it holds) — the last two on the open request the
sweep reads. :data:`CONDITIONS` pairs each name with the implementation for the item, for the request,
or both; the places follow from that, and the loader refuses a condition used where nothing implements
it (naming file:line), so no condition silently evaluates to false. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol, TypeVar

from b24app.workflow.models import RuleRef
from b24app.workflow.rules import Param, RuleSpec
from b24app.workflow.snapshot import Snapshot, is_yes, money

STEP_WHEN = "a step's 'when'"
TIME_WHEN = "a time rule's 'when'"
TIME_WHILE = "a time rule's 'while'"
#: ``tasks.task`` status of a task taken into work.
IN_PROGRESS = 3


class TaskView(Protocol):
    @property
    def status(self) -> int: ...
    @property
    def deadline(self) -> datetime | None: ...


T = TypeVar("T", bound=TaskView)


class RequestView(Protocol):
    """What a time-rule condition reads of an open request (``b24app.escalation.rules.OpenRequest``)."""

    @property
    def tasks(self) -> Sequence[TaskView]: ...
    def main_task(self) -> TaskView | None: ...


ItemCheck = Callable[[RuleRef, Snapshot], bool]
RequestCheck = Callable[[RequestView, datetime], bool]


@dataclass(frozen=True)
class Condition:
    spec: RuleSpec
    item: ItemCheck | None = None          # a step's ``when:`` (the engine)
    request: RequestCheck | None = None    # a time rule's ``when:`` / ``while:`` (the escalation)

    @property
    def places(self) -> tuple[str, ...]:
        return ((STEP_WHEN,) if self.item else ()) + ((TIME_WHEN, TIME_WHILE) if self.request else ())


# -- the implementations ---------------------------------------------------------------------------------

def _amount_at_least(rule: RuleRef, snap: Snapshot) -> bool:
    amount, currency = money(snap.fields.get("AMOUNT"))
    wanted = rule.params.get("currency")
    return amount >= Decimal(str(rule.params["amount"])) and (wanted is None or wanted == currency)


def _urgent(rule: RuleRef, snap: Snapshot) -> bool:
    return is_yes(snap.fields.get("URGENT"))


def _no_decision(request: RequestView, now: datetime) -> bool:
    return True                                            # a decision moves the request on


def _task_not_started(request: RequestView, now: datetime) -> bool:
    task = request.main_task()
    return task is not None and task.status != IN_PROGRESS     # no open task: done or unknown


def overdue(tasks: Iterable[T], now: datetime) -> list[T]:
    """The tasks past their deadline (the open ones: the sweep reads only those)."""
    return [t for t in tasks if t.deadline is not None and t.deadline < now]


def _tasks_overdue(request: RequestView, now: datetime) -> bool:
    return bool(overdue(request.tasks, now))


CONDITIONS: dict[str, Condition] = {c.spec.name: c for c in (
    Condition(RuleSpec("amount_at_least", "the item's AMOUNT is at least the given amount (in the given currency)",
                       (Param("amount", float), Param("currency", str, required=False))), item=_amount_at_least),
    Condition(RuleSpec("urgent", "the item's URGENT flag is set"), item=_urgent),
    Condition(RuleSpec("no_decision", "no decision has been made at this step yet"), request=_no_decision),
    Condition(RuleSpec("task_not_started", "the step's task is not taken into work (not started) and no decision "
                       "is made"), request=_task_not_started),
    Condition(RuleSpec("tasks_overdue", "one of the step's tasks is past its deadline and not complete"),
              request=_tasks_overdue),
)}
#: Conditions that read the request's tasks (the sweep reads tasks only for the rules that use them).
TASK_CONDITIONS = ("task_not_started", "tasks_overdue")


def usable_in(place: str) -> list[str]:
    return sorted(name for name, c in CONDITIONS.items() if place in c.places)


def item_holds(rule: RuleRef, snap: Snapshot) -> bool:
    """A step's ``when:`` on the item (the loader admits only conditions with an item implementation)."""
    check = CONDITIONS[rule.name].item
    if check is None:
        raise ValueError(f"condition {rule.name!r} cannot be used in {STEP_WHEN}")
    return check(rule, snap)


def request_holds(name: str, request: RequestView, now: datetime) -> bool:
    """A time rule's ``when:`` / ``while:`` on the open request (the loader admits only those implemented)."""
    check = CONDITIONS[name].request
    if check is None:
        raise ValueError(f"condition {name!r} cannot be used in {TIME_WHEN} or {TIME_WHILE}")
    return check(request, now)
