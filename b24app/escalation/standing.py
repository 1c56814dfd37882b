"""Where one request stands, for the approval tab: its route as a progress line and the clock of its
current step. Pure: no I/O, ``now`` and the calendar are parameters.

The route is the workflow's steps in order, without the steps whose ``when`` does not hold for this
request (the director's approval below the threshold): each is done, current, next, or — for the step
that rejected it — stopped; the submission comes first and the success stage (or the failure stage)
last. The clock is the escalation's (:mod:`b24app.escalation.rules`): working time used at the step,
pauses not counted. Time left is the step's allowance minus the used time; a step without an
allowance (payment) counts to its main task's deadline. While paused (frozen, documents requested)
the clock stands still: no deadline, the time left kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from b24app.escalation.rules import OpenRequest, span, used_time
from b24app.escalation.state import open_request
from b24app.workflow import versions
from b24app.workflow.conditions import item_holds
from b24app.workflow.effects import position_of
from b24app.workflow.models import Label, Semantics, Stage, Workflow
from b24app.workflow.snapshot import Snapshot
from b24app.worktime import WorkCalendar

DONE, CURRENT, NEXT, STOPPED = "done", "current", "next", "stopped"


@dataclass(frozen=True)
class RoutePoint:
    code: str                  # a step code; "" for the submission, a stage code for the end
    name: Label
    state: str                 # DONE | CURRENT | NEXT | STOPPED


@dataclass(frozen=True)
class StepClock:
    step: str
    since: datetime | None     # when the step (and its approver) got the request in this round
    used: timedelta            # working time used at the step
    left: timedelta | None     # working time left until the deadline (negative: overdue); None: no deadline
    deadline: datetime | None  # None while paused or without a deadline
    paused: bool
    paused_since: datetime | None = None


@dataclass(frozen=True)
class VersionRow:
    """One version of the request's file (``versions:``), newest first in :func:`version_rows`."""

    number: int
    file_name: str
    by: int
    at: datetime
    sha256: str
    url: str                   # the file's browser link: the person's own portal access decides
    current: bool
    approved_by: tuple[int, ...]   # who approved this version (in any round)


def version_rows(snap: Snapshot) -> tuple[VersionRow, ...]:
    """The file's versions from the approval log, newest first, each with who approved it."""
    found = versions.entries(snap.log)
    latest = found[-1].version if found else None
    rows = []
    for entry in found:
        approvers = tuple(dict.fromkeys(e.on_behalf_of or e.by for e in snap.log
                                        if e.decision == "approve" and e.version == entry.version))
        rows.append(VersionRow(entry.version or 0, entry.file_name, entry.by, datetime.fromisoformat(entry.at),
                               entry.sha256, entry.url, entry.version == latest, approvers))
    return tuple(reversed(rows))


def route(workflow: Workflow, snap: Snapshot, start: Label) -> tuple[RoutePoint, ...]:
    """The request's route with each point's state."""
    steps = [s for s in workflow.steps if s.when is None or item_holds(s.when, snap)]
    pos = position_of(workflow, snap)
    stage = _stage(workflow, snap.stage)
    finished = stage is not None and stage.semantics is Semantics.SUCCESS
    failed = stage is not None and stage.semantics is Semantics.FAILURE
    stopped_at = pos.last.step if failed and pos.last is not None else None
    codes = [s.code for s in steps]
    current = codes.index(pos.step) if pos.step in codes else None
    if stopped_at in codes:
        current = codes.index(stopped_at)
    points = [RoutePoint("", start, DONE if pos.started else CURRENT)]
    for index, step in enumerate(steps):
        if finished or (current is not None and index < current):
            state = DONE
        elif current == index and pos.started:
            state = STOPPED if failed else CURRENT
        else:
            state = NEXT
        points.append(RoutePoint(step.code, workflow.step_name(step.code), state))
    end = stage if failed and stage is not None else workflow.success_stage
    points.append(RoutePoint(end.code, end.name, STOPPED if failed else DONE if finished else NEXT))
    return tuple(points)


def step_clock(workflow: Workflow, entity_type_id: int, snap: Snapshot, now: datetime,
               calendar: WorkCalendar) -> StepClock | None:
    """The current step's clock, or None when the request is not at a step (new, finished)."""
    request = open_request(workflow, entity_type_id, snap, snap.tasks)
    if request is None or request.step is None:
        return None
    used = used_time(request, now, calendar)
    left, deadline = _left(workflow, request, used, now, calendar)
    paused_since = next((p.start for p in request.pauses if p.end is None), None)
    if request.paused:
        deadline = None
    return StepClock(request.step, request.started_at, used, left, deadline, request.paused, paused_since)


def _left(workflow: Workflow, request: OpenRequest, used: timedelta, now: datetime,
          calendar: WorkCalendar) -> tuple[timedelta | None, datetime | None]:
    allowance = workflow.step(request.step or "").time_rules.allowance
    if allowance is not None and request.started_at is not None:
        left = span(calendar, request.started_at, allowance) - used
        if left > timedelta(0):
            return left, calendar.add_working_hours(now, left)
        task = request.main_task()
        return left, task.deadline if task is not None else None
    task = request.main_task()
    if task is not None and task.deadline is not None:
        if task.deadline >= now:
            return calendar.working_hours_between(now, task.deadline), task.deadline
        return -calendar.working_hours_between(task.deadline, now), task.deadline
    return None, None


def _stage(workflow: Workflow, code: str) -> Stage | None:
    return next((s for s in workflow.stages if s.code == code), None)
