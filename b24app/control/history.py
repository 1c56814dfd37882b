"""Step durations from the approval logs already written on the items, and the figures over them. Pure.

A step is *entered* by the log entry whose ``next_step`` names it (start, resubmit, the previous step's
decision) and *left* by the next entry decided at it (approve, reject, a return, ...); ``freeze`` /
``request_documents`` open a pause and ``unfreeze`` / ``docs_provided`` close it, so the duration is the
working time between the two minus the paused working time — the same clock as the escalation's
(:func:`b24app.escalation.rules.used_time`). A ``reroute`` (the approver changed) keeps the step's clock.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from b24app.escalation.state import PAUSING, RESUMING
from b24app.workflow.snapshot import Entry, route_entries
from b24app.worktime import WorkCalendar

KEEPS_STEP = ("reroute",)


@dataclass(frozen=True)
class StepTime:
    """One step done: who decided, when, and the working time it took."""

    workflow: str
    step: str
    approver: int
    ended_at: datetime
    duration: timedelta


@dataclass(frozen=True)
class Figure:
    """Median and 90th percentile of a group of step durations (working hours)."""

    key: tuple[str, ...]
    count: int
    median_hours: float
    p90_hours: float


def step_times(workflow: str, log: Iterable[Entry], calendar: WorkCalendar) -> list[StepTime]:
    """Every step the log shows done, with its working time (pauses excluded)."""
    done: list[StepTime] = []
    step: str | None = None
    round_, entered = 0, None
    pauses: list[tuple[datetime, datetime]] = []
    opened: datetime | None = None
    for entry in sorted(route_entries(log), key=lambda e: e.seq):
        at = datetime.fromisoformat(entry.at)
        if entry.decision in PAUSING:
            opened = opened or at
            continue
        if entry.decision in RESUMING:
            if opened is not None:
                pauses.append((opened, at))
                opened = None
            continue
        if entry.decision in KEEPS_STEP and entry.step == step:
            continue
        if step is not None and entered is not None and entry.step == step and entry.round == round_:
            used = calendar.working_hours_between(entered, at)
            used -= sum((calendar.working_hours_between(a, b) for a, b in pauses), timedelta(0))
            done.append(StepTime(workflow, step, entry.on_behalf_of or entry.by, at, max(used, timedelta(0))))
        step, round_, entered, pauses, opened = entry.next_step, entry.round, at, [], None
    return done


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (``share`` 0.5 = median) of non-empty ``values``."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def figures(times: Iterable[StepTime], since: datetime, by_approver: bool = False) -> list[Figure]:
    """Median and p90 per (workflow, step) — or per approver — of the steps done since ``since``,
    slowest median first."""
    groups: dict[tuple[str, ...], list[float]] = defaultdict(list)
    for t in times:
        if t.ended_at >= since:
            key = (str(t.approver),) if by_approver else (t.workflow, t.step)
            groups[key].append(t.duration.total_seconds() / 3600)
    found = [Figure(k, len(v), percentile(v, 0.5), percentile(v, 0.9)) for k, v in groups.items()]
    return sorted(found, key=lambda f: (-f.median_hours, f.key))
