"""From ENGINE's :class:`~b24app.workflow.snapshot.Snapshot` to the escalation's :class:`OpenRequest`. Pure.

Where a request stands comes from the engine's approval log (``position_of``): the current step, its
approver and round. The step's start is the ``at`` of the log entry that entered the step in this
round (start, resubmit, or the previous step's decision); a ``freeze``/``request_documents`` entry
opens a pause, the following ``unfreeze``/``docs_provided`` closes it. Without a log (an item the
engine has not started, e.g. moved by hand before the app was installed) the step is the first step
of the card's stage and its start is the item's ``movedTime``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from b24app.escalation.rules import OpenRequest, OpenTask, Pause
from b24app.workflow.effects import position_of
from b24app.workflow.models import Workflow
from b24app.workflow.snapshot import DONE_STATUSES, Entry, Snapshot, TaskInfo

PAUSING = ("freeze", "request_documents")
RESUMING = ("unfreeze", "docs_provided")


def open_request(workflow: Workflow, entity_type_id: int, snap: Snapshot,
                 tasks: Iterable[TaskInfo] = ()) -> OpenRequest | None:
    """The request's escalation view, or None when it is not at a step (new, final, unknown stage)."""
    if not snap.route_log:
        return _without_log(workflow, entity_type_id, snap, tasks)
    pos = position_of(workflow, snap)
    if pos.step is None or not _known(workflow, pos.stage) or workflow.stage(pos.stage).final:
        return None
    started, pauses = step_clock(snap.route_log, pos.round, pos.step, workflow.step(pos.step).stage)
    return OpenRequest(
        workflow=workflow.code, entity_type_id=entity_type_id, item_id=snap.item_id, title=snap.title,
        stage=snap.stage, step=pos.step, round=pos.round, approver=pos.approver, initiator=snap.initiator,
        started_at=started, pauses=pauses, tasks=_step_tasks(workflow.code, snap.item_id, pos.round, pos.step, tasks),
        fields=snap.fields,
    )


def step_clock(log: Iterable[Entry], round_: int, step: str, stage: str) -> tuple[datetime | None, tuple[Pause, ...]]:
    """When ``step`` was entered in ``round_``, and the pauses since then."""
    started: datetime | None = None
    pauses: list[Pause] = []
    opened: datetime | None = None
    for entry in log:
        if entry.round != round_:
            continue
        at = datetime.fromisoformat(entry.at)
        if entry.decision in PAUSING and entry.step == step:
            opened = at
        elif entry.decision in RESUMING and opened is not None:
            pauses.append(Pause(opened, at))
            opened = None
        elif entry.next_step == step and entry.stage == stage and entry.decision not in RESUMING:
            started, pauses, opened = at, [], None
    if opened is not None:
        pauses.append(Pause(opened, None))
    return started, tuple(pauses)


def _step_tasks(workflow: str, item_id: int, round_: int, step: str, tasks: Iterable[TaskInfo]) -> tuple[OpenTask, ...]:
    found: list[OpenTask] = []
    for task in tasks:
        m = task.marker
        if m is None or task.status in DONE_STATUSES or m.workflow != workflow or m.item_id != item_id:
            continue
        if m.round != round_ or m.step != step:
            continue
        deadline = datetime.fromisoformat(task.deadline) if task.deadline else None
        found.append(OpenTask(task.id, m.part, task.status, task.responsible, deadline, task.title))
    return tuple(found)


def _known(workflow: Workflow, stage: str) -> bool:
    return any(s.code == stage for s in workflow.stages)


def _without_log(workflow: Workflow, entity_type_id: int, snap: Snapshot,
                 tasks: Iterable[TaskInfo]) -> OpenRequest | None:
    step = next((s for s in workflow.steps if s.stage == snap.stage), None)
    if step is None or not snap.moved_time:
        return None
    return OpenRequest(
        workflow=workflow.code, entity_type_id=entity_type_id, item_id=snap.item_id, title=snap.title,
        stage=snap.stage, step=step.code, round=0, approver=_int(snap.fields.get("CURRENT_APPROVER")),
        initiator=snap.initiator, started_at=datetime.fromisoformat(snap.moved_time),
        tasks=_step_tasks(workflow.code, snap.item_id, 0, step.code, tasks), fields=snap.fields,
    )


def _int(value: object) -> int | None:
    try:
        return int(str(value)) if value not in (None, "", False) else None
    except ValueError:
        return None
