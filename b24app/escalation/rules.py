"""Which reminders and alerts are due now for one open request. Pure: no I/O, ``now`` is a parameter.

The clock of a step is *working time used*: working time since the step was entered (this round),
minus the working time spent paused («Заморозка», «Запрос документов») — a pause keeps the time
already used, and the clock resumes where it stopped. A time rule of the step (workflow YAML,
``time_rules``) is due when:

* ``after: D`` — the used time reaches D (D counted from the step's start: "2 working days" is the
  working time between the start and the same clock time two working days later);
* ``every: P`` — each multiple of P of used time, while the condition holds (``while:``), and only
  while the used time is inside the step's allowance: from then on the ``after`` rules take over
  (remind once more, then alert);
* ``when: tasks_overdue`` — an open task of the step is past its deadline (once per task and deadline).

Only the latest occurrence of a rule is ever due (a missed "every" occurrence is not sent late), and
nothing is due while the request is paused. Each :class:`Notice` has a deterministic key
``{etid}:{item}:{step}:r{round}:{rule index}:{occurrence}``; :meth:`Notice.deliveries` adds the
recipient, and a notice whose deliveries are all in ``sent`` is not due again.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from b24app.workflow.actors import effective
from b24app.workflow.conditions import TASK_CONDITIONS, overdue, request_holds
from b24app.workflow.effects import add_duration
from b24app.workflow.models import Absence, ActorRule, Duration, Step, TimeRule
from b24app.worktime import WorkCalendar


@dataclass(frozen=True)
class OpenTask:
    """An open (not completed) task of the request's current step and round."""

    id: int
    part: str                      # the marker's part: "head_approval", "payment:sub0", "docs:4"
    status: int
    responsible: int
    deadline: datetime | None = None
    title: str = ""


@dataclass(frozen=True)
class Pause:
    start: datetime
    end: datetime | None = None    # None: still paused


@dataclass(frozen=True)
class OpenRequest:
    """What the escalation sees of one open request (built by :mod:`b24app.escalation.state`)."""

    workflow: str
    entity_type_id: int
    item_id: int
    title: str
    stage: str                       # the card's stage (YAML code)
    step: str | None                 # the current step (for a pause: the step it returns to)
    round: int
    approver: int | None
    initiator: int
    started_at: datetime | None      # when the step was entered in this round
    pauses: tuple[Pause, ...] = ()
    tasks: tuple[OpenTask, ...] = ()
    fields: Mapping[str, Any] = field(default_factory=dict)

    @property
    def paused(self) -> bool:
        return any(p.end is None for p in self.pauses)

    def main_task(self) -> OpenTask | None:
        return next((t for t in self.tasks if t.part == self.step), None)


@dataclass(frozen=True)
class Notice:
    """One reminder or alert that is due, to be sent once to each recipient."""

    key: str
    action: str                      # "remind" | "alert"
    rule_index: int
    occurrence: str
    recipients: tuple[int, ...]
    channels: tuple[str, ...]
    offer_decision: bool
    used: timedelta                  # working time used at the step
    task: OpenTask | None = None     # for an overdue-task alert

    def deliveries(self) -> list[tuple[str, int]]:
        """(marker key, user) per recipient: what is remembered as sent."""
        return [(f"{self.key}:u{user}", user) for user in self.recipients]


# -- the step's clock -------------------------------------------------------------------------------

def used_time(request: OpenRequest, now: datetime, calendar: WorkCalendar) -> timedelta:
    """Working time used at the step: since its start, minus the paused working time."""
    if request.started_at is None or now <= request.started_at:
        return timedelta(0)
    used = calendar.working_hours_between(request.started_at, now)
    for pause in request.pauses:
        end = pause.end or now
        if end > pause.start:
            used -= calendar.working_hours_between(max(pause.start, request.started_at), min(end, now))
    return max(used, timedelta(0))


def span(calendar: WorkCalendar, start: datetime, duration: Duration) -> timedelta:
    """A duration as working time counted from ``start`` ("2 working days" = 18 h on ordinary days)."""
    if duration.working and not duration.days:          # working hours are working time as they are
        return timedelta(hours=duration.hours, minutes=duration.minutes)
    end = add_duration(calendar, start, duration)
    if end is None:
        return timedelta(0)
    if not duration.working:
        return end - start
    return calendar.working_hours_between(start, end)


def shortest_day(calendar: WorkCalendar) -> timedelta:
    """A lower bound of any working day's working time: the configured hours, less the lunch break and
    the pre-holiday hour (a working weekend day that stands in for another has the same hours)."""
    s = calendar.settings
    day = datetime.combine(date(2000, 1, 3), s.end) - datetime.combine(date(2000, 1, 3), s.start)
    if s.lunch is not None:
        day -= max(datetime.combine(date(2000, 1, 3), s.lunch[1]) - datetime.combine(date(2000, 1, 3), s.lunch[0]),
                   timedelta(0))
    if s.shorten_before_holidays:
        day -= timedelta(hours=1)
    return max(day, timedelta(0))


def least_span(shortest: timedelta, duration: Duration) -> timedelta:
    """A lower bound of :func:`span` whatever the start: ``d`` working days hold at least ``d`` of the
    shortest working day (the part of the first day after the clock time and the part of the last day
    before it add up to at least one day: see docs/performance.md), hours are what they are."""
    extra = timedelta(hours=duration.hours, minutes=duration.minutes)
    if not duration.working:
        return timedelta(days=duration.days) + extra
    return shortest * duration.days + extra


def quiet_until_elapsed(step: Step, calendar: WorkCalendar) -> timedelta | None:
    """Wall-clock time at the step before which none of its rules can be due, or None when a rule does
    not depend on time alone (``when:``). Working time used never exceeds the wall-clock time since the
    step's start, and each ``after``/``every`` needs at least :func:`least_span` of it."""
    shortest = shortest_day(calendar)
    bounds: list[timedelta] = []
    for rule in step.time_rules.rules:
        if rule.after is not None:
            bounds.append(least_span(shortest, rule.after))
        elif rule.every is not None:
            bounds.append(least_span(shortest, rule.every))
        else:
            return None
    return min(bounds) if bounds else timedelta.max


def past_allowance(step: Step, request: OpenRequest, now: datetime, calendar: WorkCalendar) -> bool:
    """Whether the request has used more than its step's allowance (for the daily digest)."""
    allowance = step.time_rules.allowance
    if allowance is None or request.started_at is None:
        return False
    return used_time(request, now, calendar) > span(calendar, request.started_at, allowance)


def overdue_tasks(request: OpenRequest, now: datetime) -> list[OpenTask]:
    return overdue(request.tasks, now)


# -- conditions ---------------------------------------------------------------------------------------

def holds(name: str, request: OpenRequest, now: datetime, assume: Container[str] = ()) -> bool:
    """A time rule's condition (``b24app.workflow.conditions``; ``assume``: taken as true)."""
    return name in assume or request_holds(name, request, now)


# -- recipients ---------------------------------------------------------------------------------------

def recipients(to: Iterable[ActorRule], request: OpenRequest, now: datetime, roles: Mapping[str, int],
               absences: Iterable[Absence] = ()) -> tuple[int, ...]:
    """The people a rule addresses (each replaced by their substitute during an absence)."""
    absences = tuple(absences)
    found: list[int] = []
    for rule in to:
        if rule.role is not None:
            user = roles.get(rule.role)
        elif rule.name == "initiator":
            user = request.initiator
        else:                                        # actor, initiator_department_head: the approver
            user = request.approver
        if user:
            user = effective(user, absences, now)
            if user not in found:
                found.append(user)
    return tuple(found)


# -- what is due --------------------------------------------------------------------------------------

def due_notices(step: Step, request: OpenRequest, now: datetime, calendar: WorkCalendar,
                sent: Container[str] = frozenset(), *, roles: Mapping[str, int] | None = None,
                absences: Iterable[Absence] = (), assume: Container[str] = ()) -> list[Notice]:
    """The notices due now for ``request`` at ``step`` that ``sent`` does not hold yet.

    ``assume`` names conditions taken as true — the sweep asks "would a notice be due if the task were
    not started?" before it spends a request on reading the task.
    """
    if request.step != step.code or request.paused or request.started_at is None:
        return []
    quiet = quiet_until_elapsed(step, calendar)
    if quiet is not None and now - request.started_at < quiet:      # nothing can be due yet: no arithmetic
        return []
    used = used_time(request, now, calendar)
    start = request.started_at
    spans: dict[tuple[int, int, int, bool], timedelta] = {}

    def measured(duration: Duration) -> timedelta:          # each duration measured once per request
        key = (duration.days, duration.hours, duration.minutes, duration.working)
        if key not in spans:
            if duration.working and duration.days and (duration.hours or duration.minutes):
                # days first, then working hours (add_duration): the hours add as they are
                spans[key] = measured(Duration(days=duration.days)) + \
                    timedelta(hours=duration.hours, minutes=duration.minutes)
            else:
                spans[key] = span(calendar, start, duration)
        return spans[key]

    allowance = measured(step.time_rules.allowance) if step.time_rules.allowance else None
    base = f"{request.entity_type_id}:{request.item_id}:{step.code}:r{request.round}"
    notices: list[Notice] = []
    for index, rule in enumerate(step.time_rules.rules):
        if rule.while_ is not None and not holds(rule.while_.name, request, now, assume):
            continue
        for occurrence, task in _occurrences(rule, request, now, measured, used, allowance):
            people = recipients(rule.to, request, now, roles or {}, absences)
            if not people:
                continue
            notice = Notice(f"{base}:{index}:{occurrence}", rule.action, index, occurrence, people,
                            rule.channels, rule.offer_decision, used, task)
            if not _already_sent(notice, sent):
                notices.append(notice)
    return notices


def _occurrences(rule: TimeRule, request: OpenRequest, now: datetime, measured: Callable[[Duration], timedelta],
                 used: timedelta, allowance: timedelta | None) -> list[tuple[str, OpenTask | None]]:
    if rule.after is not None:
        return [("after", None)] if used >= measured(rule.after) else []
    if rule.every is not None:
        period = measured(rule.every)
        if period <= timedelta(0):
            return []
        count = int(used / period)
        if count < 1 or (allowance is not None and used >= allowance):
            return []
        return [(f"every{count}", None)]
    if rule.when is not None and rule.when.name == "tasks_overdue":
        return [(f"task{t.id}@{t.deadline:%Y%m%dT%H%M}", t) for t in overdue_tasks(request, now)]
    if rule.when is not None and holds(rule.when.name, request, now):
        return [("when", None)]
    return []


def task_rules(step: Step) -> list[int]:
    """Indexes of the step's rules that look at its tasks."""
    return [i for i, r in enumerate(step.time_rules.rules)
            if (r.while_ and r.while_.name in TASK_CONDITIONS) or (r.when and r.when.name in TASK_CONDITIONS)]


def _already_sent(notice: Notice, sent: Container[str]) -> bool:
    return notice.key in sent or all(key in sent for key, _ in notice.deliveries())
