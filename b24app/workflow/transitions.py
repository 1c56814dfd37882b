"""A person's decision: who may make which, and the log entry (and field changes) it makes. Pure.

:func:`apply` authorises against the request's position (current approver, their substitute, the
operations manager on their behalf; whoever froze it for unfreezing; the initiator for resubmitting)
and returns a :class:`Change` — or a :class:`Refusal` with the reason, changing nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from b24app.texts import approval as msg
from b24app.texts import links as links_msg
from b24app.workflow.actions import Action, MoveDeadline, PersonDecision
from b24app.workflow.actors import OPERATIONS_MANAGER, Person, Pick
from b24app.workflow.effects import Context, Position, route
from b24app.workflow.linkcheck import blocking
from b24app.workflow.models import FieldType, Label, Workflow
from b24app.workflow.rules import DECISIONS
from b24app.workflow.snapshot import Entry, Marker, Snapshot, file_ids

PAUSE_DECISIONS = ("freeze", "request_documents")

@dataclass(frozen=True)
class Refusal:
    message: Label


@dataclass(frozen=True)
class Change:
    """A transition: the new log entry and the fields written with it."""

    entry: Entry
    fields: Mapping[str, Any] = field(default_factory=dict)
    extra: tuple[Action, ...] = ()


# -- who may decide what ----------------------------------------------------------------------------

def allowed_decisions(workflow: Workflow, snap: Snapshot, pos: Position, user: int, ctx: Context,
                      now: datetime) -> dict[str, int | None]:
    """Decision -> on whose behalf it would be recorded (None: in one's own name)."""
    ops = ctx.roles.get(OPERATIONS_MANAGER)
    if not pos.started or pos.stage == workflow.success_stage.code:
        return {}
    if workflow.stage(pos.stage).final:
        return _for(["resubmit"], user, snap.initiator, ops)
    if pos.last is not None and pos.stage != _step_stage(workflow, pos):
        if pos.last.decision == "freeze":
            return _for(["unfreeze"], user, pos.last.by, ops)
        return _for(["resubmit"], user, snap.initiator, ops)
    if pos.step is None or pos.approver is None:
        return {}
    names = [d for d in workflow.step(pos.step).decisions if d != "complete"]
    if user == pos.approver:
        return {d: None for d in names}
    if user == ctx.substitute(pos.approver, now) or user == ops:
        return {d: pos.approver for d in names}
    return {}


def _for(names: list[str], user: int, owner: int, ops: int | None) -> dict[str, int | None]:
    if user == owner:
        return {d: None for d in names}
    if user == ops:
        return {d: owner for d in names}
    return {}


def _step_stage(workflow: Workflow, pos: Position) -> str | None:
    return workflow.step(pos.step).stage if pos.step else None


# -- a person's decision ----------------------------------------------------------------------------

def apply(workflow: Workflow, snap: Snapshot, pos: Position, trigger: PersonDecision, now: datetime,
          ctx: Context) -> Change | Refusal:
    allowed = allowed_decisions(workflow, snap, pos, trigger.user, ctx, now)
    decision, reason = trigger.decision, trigger.reason.strip()
    if decision not in allowed:
        return Refusal(why_not(workflow, snap, pos, trigger.user, decision, ctx, now))
    spec = DECISIONS.get(decision)
    if spec is not None and spec.reason_required and not reason:
        return Refusal(msg.reason_required(decision))
    on_behalf = allowed[decision]
    stopped = _blocked(workflow, snap, pos, decision, ctx)
    if stopped is not None:
        return stopped
    if decision == "resubmit" and workflow.stage(pos.stage).final:
        return restart(workflow, snap, pos, trigger.user, now, ctx, "resubmit", trigger.via, on_behalf)
    return _transition(workflow, snap, pos, decision, trigger.user, on_behalf, reason, trigger.via, now, ctx)


def _blocked(workflow: Workflow, snap: Snapshot, pos: Position, decision: str, ctx: Context) -> Refusal | None:
    """At the checked step, a blocking flag (``checks: ... block``) refuses the approval, saying why."""
    checks = workflow.checks
    if decision != "approve" or checks is None or pos.step != checks.step:
        return None
    found = blocking(workflow, snap, ctx.links)
    return Refusal(links_msg.blocked([f.text for f in found])) if found else None


def why_not(workflow: Workflow, snap: Snapshot, pos: Position, user: int, decision: str, ctx: Context,
             now: datetime) -> Label:
    stage = workflow.stage(pos.stage).name
    for someone in _people(workflow, snap, pos, ctx):
        if someone != user and decision in allowed_decisions(workflow, snap, pos, someone, ctx, now):
            return msg.not_entitled(msg.person(_owner(workflow, snap, pos), ctx.names))
    return msg.unavailable(decision, stage)


def _people(workflow: Workflow, snap: Snapshot, pos: Position, ctx: Context) -> list[int]:
    found = [snap.initiator, pos.approver, pos.last.by if pos.last else None, ctx.roles.get(OPERATIONS_MANAGER)]
    return [p for p in found if p]


def _owner(workflow: Workflow, snap: Snapshot, pos: Position) -> int | None:
    if workflow.stage(pos.stage).final or (pos.last and pos.last.decision == "request_documents"
                                          and pos.stage != _step_stage(workflow, pos)):
        return snap.initiator
    if pos.last is not None and pos.last.decision == "freeze" and pos.stage != _step_stage(workflow, pos):
        return pos.last.by
    return pos.approver


def _transition(workflow: Workflow, snap: Snapshot, pos: Position, decision: str, by: int,
                on_behalf: int | None, reason: str, via: str, now: datetime, ctx: Context) -> Change | Refusal:
    step = workflow.step(pos.step) if pos.step else None
    if decision in ("unfreeze", "resubmit", "docs_provided"):      # back to the paused step
        assert step is not None and pos.last is not None
        if pos.last.decision == "request_documents" and not documents_added(workflow, snap, pos):
            return Refusal(msg.attach_documents())
        entry = make_entry(snap, pos, "docs_provided" if decision == "resubmit" else decision, by, on_behalf, now,
                       step.stage, step.code, pos.approver, reason, via, step=None)
        return Change(entry, {"RETURN_STEP": ""}, _give_time_back(workflow, snap, pos, now, ctx))
    assert step is not None
    target = step.decisions[decision]
    if decision in PAUSE_DECISIONS:
        entry = make_entry(snap, pos, decision, by, on_behalf, now, target, step.code, pos.approver, reason, via,
                           step=step.code)
        if decision == "request_documents":
            entry = replace(entry, files=tuple(sorted(item_files(workflow, snap))))
        return Change(entry, {"RETURN_STEP": step.code})
    stage, next_step = route(workflow, target, snap)
    pick = ctx.choose(workflow.step(next_step), snap, now) if next_step else Pick(None)
    entry = make_entry(snap, pos, decision, by, on_behalf, now, stage, next_step, pick.user, reason, via,
                       step=step.code)
    entry = replace(entry, instead_of=pick.instead_of, why=pick.why)
    fields = {"REJECTION_REASON": reason} if decision == "reject" else {}
    return Change(entry, fields)


def item_files(workflow: Workflow, snap: Snapshot) -> set[int]:
    found: set[int] = set()
    for spec in workflow.fields:
        if spec.type is FieldType.FILE:
            found |= file_ids(snap.fields.get(spec.code))
    return found


def documents_added(workflow: Workflow, snap: Snapshot, pos: Position) -> bool:
    """Documents came back: a file on the documents task, or a file in the card that was not there."""
    assert pos.last is not None
    docs = snap.task(Marker(workflow.code, snap.item_id, pos.round, f"docs:{pos.last.seq}"))
    return bool(docs is not None and docs.files) or bool(item_files(workflow, snap) - set(pos.last.files))


def _give_time_back(workflow: Workflow, snap: Snapshot, pos: Position, now: datetime,
                    ctx: Context) -> tuple[Action, ...]:
    """A pause stops the step's clocks: its open tasks' deadlines move by the working time it took."""
    assert pos.last is not None
    paused = ctx.calendar.working_hours_between(datetime.fromisoformat(pos.last.at), now)
    if paused <= timedelta(0):
        return ()
    moved: list[Action] = []
    for task in snap.tasks:
        m = task.marker
        if task.done or not task.deadline or m is None or m.round != pos.round or m.step != pos.step:
            continue
        try:
            deadline = datetime.fromisoformat(task.deadline)
        except ValueError:
            continue
        moved.append(MoveDeadline(task.id, ctx.calendar.add_working_hours(deadline, paused)))
    return tuple(moved)


def restart(workflow: Workflow, snap: Snapshot, pos: Position, by: int, now: datetime, ctx: Context,
             decision: str, via: str, on_behalf: int | None = None) -> Change | Refusal:
    missing = [label for _, label in missing_data(workflow, snap)]
    if missing:
        return Refusal(msg.missing_fields(snap.title, missing))
    stage, step = route(workflow, workflow.start, snap)
    pick = ctx.choose(workflow.step(step), snap, now) if step else Pick(None)
    entry = make_entry(snap, pos, decision, by, on_behalf, now, stage, step, pick.user, "", via, step=None,
                   round=pos.round + 1)
    entry = replace(entry, instead_of=pick.instead_of, why=pick.why)
    return Change(entry, {"REJECTION_REASON": "", "RETURN_STEP": ""} if pos.started else {})


def reroute(workflow: Workflow, snap: Snapshot, pos: Position, now: datetime, ctx: Context) -> Change | None:
    """The current approver was dismissed mid-way: the step goes to whom the route names now (the next
    head up, or the operations manager for a role), recorded as a ``reroute`` entry; None otherwise."""
    if pos.step is None or pos.approver is None or ctx.people.get(pos.approver, Person()).active:
        return None
    step = workflow.step(pos.step)
    if pos.stage != step.stage:
        return None
    pick = ctx.choose(step, snap, now)
    if pick.user is None or pick.user == pos.approver:
        return None
    entry = make_entry(snap, pos, "reroute", pick.user, None, now, pos.stage, step.code, pick.user, "", "auto",
                       step=None)
    return Change(replace(entry, instead_of=pos.approver, why="dismissed"))


def missing_data(workflow: Workflow, snap: Snapshot) -> list[tuple[str, Label]]:
    """(code, label) of what the initiator must still fill: each empty required field, and each
    ``required_one_of`` group with no field filled (labelled «A или B»)."""
    missing: list[tuple[str, Label]] = []
    groups: dict[str, list[Label]] = {}
    filled: set[str] = set()
    for spec in workflow.fields:
        if spec.required and not snap.has_value(spec.code):
            missing.append((spec.code, spec.label))
        if spec.one_of:
            groups.setdefault(spec.one_of, []).append(spec.label)
            if snap.has_value(spec.code):
                filled.add(spec.one_of)
    for group, labels in groups.items():
        if group not in filled:
            missing.append((group, msg.one_of(labels)))
    return missing


def make_entry(snap: Snapshot, pos: Position, decision: str, by: int, on_behalf: int | None, now: datetime,
           stage: str, next_step: str | None, approver: int | None, reason: str, via: str, *, step: str | None,
           round: int | None = None) -> Entry:
    seq = (snap.log[-1].seq + 1) if snap.log else 1      # version entries count too (pos.last skips them)
    current = next((e.version for e in reversed(snap.log) if e.file is not None), None)
    return Entry(seq=seq, round=pos.round if round is None else round, decision=decision, by=by,
                 at=now.isoformat(timespec="seconds"), stage=stage, step=step, next_step=next_step,
                 approver=approver, on_behalf_of=on_behalf, reason=reason, via=via, version=current)
