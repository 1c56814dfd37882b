"""The approval engine: ``decide(workflow, snapshot, trigger, now, ctx) -> [Action]``. Pure.

Where a request stands is read from its approval log (:class:`Position`); the portal's stage is
compared with it, so a card dragged by a person is recognised (accepted as a decision, or put back),
while the app's own writes — stage and log written together in one update — change nothing. Apart
from a person's decision, everything is derived from the current state: a completed approval task
approves, completed accounting tasks finish the step, a missing task or notification is (re)issued
under its deterministic key. So a repeated, reordered or dropped-then-repeated event converges.
A :class:`~b24app.workflow.actions.BankPayment` (a bank statement shows the request paid) completes a
step that has a ``complete`` decision, "by bank statement"; anywhere else it changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from b24app.texts import approval as msg
from b24app.workflow import versions
from b24app.workflow.actions import (
    Action,
    BankPayment,
    MoveStage,
    Notify,
    PersonDecision,
    Refuse,
    RenewTask,
    SetFields,
    Trigger,
)
from b24app.workflow.effects import Context, Position, effects, position_of, route
from b24app.workflow.models import Label, Step, Workflow
from b24app.workflow.snapshot import VERSION, Entry, Marker, Snapshot, TaskInfo
from b24app.workflow.transitions import (
    PAUSE_DECISIONS,
    Change,
    Refusal,
    allowed_decisions,
    apply,
    make_entry,
    missing_data,
    reroute,
    restart,
    why_not,
)

__all__ = ["Context", "Outcome", "Position", "allowed_decisions", "decide", "outcome", "position_of"]


def decide(workflow: Workflow, snap: Snapshot, trigger: Trigger, now: datetime, ctx: Context) -> list[Action]:
    """The actions that bring the portal in line with the current state (and the trigger, if a decision).

    A new file version (``versions:``, :mod:`b24app.workflow.versions`) is recorded first: a person's
    decision made while it was not yet recorded is refused (they decided on another file); otherwise what
    the state implies is decided on the log that holds it, unless the version restarted approval."""
    pos = position_of(workflow, snap)
    version = versions.detect(workflow, snap, pos, now, ctx)
    if version is None:
        return _decide(workflow, snap, trigger, pos, now, ctx)
    restarted = version.entry.decision == versions.RESTART
    after = replace(snap, log=(*snap.log, version.entry), stage=version.entry.stage if restarted else snap.stage)
    actions = [*_write(snap, version)]
    if isinstance(trigger, PersonDecision):
        step = version.entry.next_step if restarted else None
        why = msg.version_refused(versions.label(version.entry), workflow.step_name(step) if step else None)
        actions.append(Refuse(trigger.user, why, f"{_base(workflow, snap)}:refuse:v{version.entry.version}"))
    elif version.entry.decision == VERSION:
        following = _decide(workflow, after, trigger, position_of(workflow, after), now, ctx)
        if any(isinstance(a, SetFields) and "DECISIONS" in a.fields for a in following):
            return following                           # its log write holds the version entry too
        return actions + following
    return actions + effects(workflow, after, position_of(workflow, after), now, ctx) \
        + versions.effects(workflow, after, ctx)


def _decide(workflow: Workflow, snap: Snapshot, trigger: Trigger, pos: Position, now: datetime,
            ctx: Context) -> list[Action]:
    actions: list[Action] = []
    change: Change | Refusal | None = None
    if isinstance(trigger, PersonDecision):
        unseen = versions.unseen_final(workflow, snap, pos, trigger, now, ctx)
        if unseen is not None:
            restart, why = unseen
            after = replace(snap, log=(*snap.log, restart.entry), stage=restart.entry.stage)
            return [*_write(snap, restart), Refuse(trigger.user, why, f"{_base(workflow, snap)}:refuse:unseen"),
                    *effects(workflow, after, position_of(workflow, after), now, ctx),
                    *versions.effects(workflow, after, ctx)]
        change = apply(workflow, snap, pos, trigger, now, ctx)
        if isinstance(change, Refusal):
            return [Refuse(trigger.user, change.message, f"{_base(workflow, snap)}:refuse:{trigger.decision}")]
    elif isinstance(trigger, BankPayment) and snap.stage == pos.stage and _paying(workflow, pos):
        change = _bank_payment(workflow, snap, pos, trigger, now)
    elif snap.stage != pos.stage:
        change, actions = _drift(workflow, snap, pos, now, ctx)
    else:
        change, actions = _from_state(workflow, snap, pos, now, ctx)
    if isinstance(change, Change):
        actions += [*_write(snap, change), *change.extra]
        snap = replace(snap, log=(*snap.log, change.entry), stage=change.entry.stage)
        pos = position_of(workflow, snap)
    return actions + effects(workflow, snap, pos, now, ctx) + versions.effects(workflow, snap, ctx)


def _base(workflow: Workflow, snap: Snapshot) -> str:
    return f"b24app:{workflow.code}:{snap.item_id}"


def _write(snap: Snapshot, change: Change) -> list[Action]:
    entry = change.entry
    log = [e.to_text() for e in (*snap.log, entry)]
    if entry.decision == VERSION:                     # a file version: the request does not move
        return [SetFields({"DECISIONS": log})]
    fields: dict[str, Any] = {
        "DECISIONS": log,
        "CURRENT_APPROVER": entry.approver or "",
        "LAST_DECISION_BY": entry.by,
        "LAST_DECISION_AT": entry.at,
        **change.fields,
    }
    actions: list[Action] = []
    if snap.stage != entry.stage:
        actions.append(MoveStage(entry.stage))
    actions.append(SetFields(fields))
    return actions


# -- a card moved by a person -----------------------------------------------------------------------

def _drift(workflow: Workflow, snap: Snapshot, pos: Position, now: datetime,
           ctx: Context) -> tuple[Change | None, list[Action]]:
    mover = snap.moved_by or snap.updated_by or snap.initiator
    actual = snap.stage
    tag = f"{_base(workflow, snap)}:drift:{snap.moved_time or now.isoformat()}:{actual}"
    target = workflow.stage(actual).name if _known(workflow, actual) else Label(actual, actual)
    back = workflow.stage(pos.stage).name
    if not pos.started:
        started = restart(workflow, snap, pos, snap.initiator, now, ctx, "start", "kanban")
        if isinstance(started, Change):
            return started, []
        return None, [MoveStage(pos.stage), Refuse(mover, msg.put_back(back, started.message), tag)]
    decision, reason = _drag_meaning(workflow, snap, pos, actual)
    if decision is None:
        allowed = allowed_decisions(workflow, snap, pos, mover, ctx, now)
        why = msg.no_skipping(target) if allowed else why_not(workflow, snap, pos, mover, "approve", ctx, now)
        return None, [MoveStage(pos.stage), Refuse(mover, msg.put_back(back, why), tag)]
    result = apply(workflow, snap, pos, PersonDecision(mover, decision, reason, "kanban"), now, ctx)
    if isinstance(result, Refusal):
        why = msg.use_the_tab(target) if decision in ("reject", *PAUSE_DECISIONS) and not reason \
            and decision in allowed_decisions(workflow, snap, pos, mover, ctx, now) else result.message
        return None, [MoveStage(pos.stage), Refuse(mover, msg.put_back(back, why), tag)]
    return result, []


def _known(workflow: Workflow, code: str) -> bool:
    return any(s.code == code for s in workflow.stages)


def _drag_meaning(workflow: Workflow, snap: Snapshot, pos: Position, actual: str) -> tuple[str | None, str]:
    """The decision a drag to ``actual`` stands for, and its reason (from the card's fields)."""
    if not _known(workflow, actual):
        return None, ""
    if workflow.stage(pos.stage).final:
        start_stage, _ = route(workflow, workflow.start, snap)
        reopen = pos.stage != workflow.success_stage.code and actual in (workflow.initial_stage.code, start_stage)
        return ("resubmit" if reopen else None), ""
    step = workflow.step(pos.step) if pos.step else None
    if step is None:
        return None, ""
    if pos.stage != step.stage:                       # paused: a drag back to the step resumes it
        if actual == step.stage and pos.last is not None:
            return ("unfreeze" if pos.last.decision == "freeze" else "resubmit"), ""
        return None, ""
    for decision, target in step.decisions.items():
        if decision == "complete":
            continue
        stage = target if target.isupper() else route(workflow, target, snap)[0]
        if stage == actual and stage != pos.stage:
            reason = str(snap.fields.get("REJECTION_REASON") or "") if decision == "reject" else ""
            return decision, reason.strip()
    return None, ""


# -- what the current state implies -----------------------------------------------------------------

def _from_state(workflow: Workflow, snap: Snapshot, pos: Position, now: datetime,
                ctx: Context) -> tuple[Change | None, list[Action]]:
    if not pos.started:
        if snap.stage != workflow.initial_stage.code:
            return None, []
        started = restart(workflow, snap, pos, snap.initiator, now, ctx, "start", "auto")
        if isinstance(started, Change):
            return started, []
        missing = missing_data(workflow, snap)
        labels = [label for _, label in missing]
        codes = ",".join(code for code, _ in missing)
        tag = f"{_base(workflow, snap)}:missing:{codes}"
        return None, [Notify(snap.initiator, msg.missing_fields(snap.title, labels), tag)]
    if pos.step is None:
        return None, []
    step = workflow.step(pos.step)
    moved = reroute(workflow, snap, pos, now, ctx)
    if moved is not None:
        return moved, []
    if pos.stage != step.stage:
        return _while_paused(workflow, snap, pos, step, now, ctx)
    if step.task is not None and step.task.subtasks:
        return _accounting(workflow, snap, pos, step, now)
    return _approval_task(workflow, snap, pos, step, now, ctx)


def _approval_task(workflow: Workflow, snap: Snapshot, pos: Position, step: Step, now: datetime,
                   ctx: Context) -> tuple[Change | None, list[Action]]:
    task = snap.task(Marker(workflow.code, snap.item_id, pos.round, step.code))
    if task is None or not task.done:
        return None, []
    closer = task.closed_by or task.responsible
    result = apply(workflow, snap, pos, PersonDecision(closer, "approve", "", "task"), now, ctx)
    if isinstance(result, Refusal):
        return None, _renew(workflow, snap, task, closer, result.message)
    return result, []


def _accounting(workflow: Workflow, snap: Snapshot, pos: Position, step: Step,
                now: datetime) -> tuple[Change | None, list[Action]]:
    assert step.task is not None
    main = snap.task(Marker(workflow.code, snap.item_id, pos.round, step.code))
    subs = [snap.task(Marker(workflow.code, snap.item_id, pos.round, f"{step.code}:sub{i}"))
            for i in range(len(step.task.subtasks))]
    actions: list[Action] = []
    complete = main is not None and main.done
    for spec, sub in zip(step.task.subtasks, subs, strict=True):
        if sub is None or not sub.done:
            complete = False
            continue
        field_code = spec.requires_field
        if field_code and not sub.files and not snap.has_value(field_code):
            label = workflow.field(field_code).label
            actions += _renew(workflow, snap, sub, sub.closed_by or sub.responsible, msg.order_missing(label))
            complete = False
    if not complete or "complete" not in step.decisions or main is None:
        return None, actions
    stage, next_step = route(workflow, step.decisions["complete"], snap)
    by = main.closed_by or main.responsible
    entry = make_entry(snap, pos, "complete", by, None, now, stage, next_step, None, "", "task", step=step.code)
    return Change(entry), actions


def _paying(workflow: Workflow, pos: Position) -> bool:
    """The request waits at a step that a payment completes (an accounting step with a ``complete``)."""
    step = workflow.step(pos.step) if pos.step else None
    return step is not None and pos.stage == step.stage and "complete" in step.decisions


def _bank_payment(workflow: Workflow, snap: Snapshot, pos: Position, trigger: BankPayment,
                  now: datetime) -> Change:
    """A bank statement shows the payment: the step completes "by bank statement", on the accountants'
    behalf (the step's approver), with the bank document's number and date in the log entry. The
    step's tasks are then closed as stale (``effects``), whoever had them open."""
    assert pos.step is not None
    step = workflow.step(pos.step)
    stage, next_step = route(workflow, step.decisions["complete"], snap)
    on_behalf = pos.approver if pos.approver and pos.approver != trigger.user else None
    entry = make_entry(snap, pos, "complete", trigger.user, on_behalf, now, stage, next_step, None, "", "bank",
                       step=step.code)
    return Change(replace(entry, bank_doc=trigger.number, bank_date=trigger.date))


def _while_paused(workflow: Workflow, snap: Snapshot, pos: Position, step: Step, now: datetime,
                  ctx: Context) -> tuple[Change | None, list[Action]]:
    assert pos.last is not None
    actions: list[Action] = []
    stage = workflow.stage(pos.stage).name
    for task in snap.tasks:
        m = task.marker
        if task.done and m and m.round == pos.round and m.step == step.code and m.workflow == workflow.code:
            actions += _renew(workflow, snap, task, task.closed_by or task.responsible, msg.paused_task(stage))
    if pos.last.decision == "request_documents":
        docs = snap.task(Marker(workflow.code, snap.item_id, pos.round, f"docs:{pos.last.seq}"))
        if docs is not None and docs.done:
            closer = docs.closed_by or docs.responsible
            result = apply(workflow, snap, pos, PersonDecision(closer, "resubmit", "", "task"), now, ctx)
            if isinstance(result, Refusal):
                return None, actions + _renew(workflow, snap, docs, closer, result.message)
            return result, actions
    return None, actions


def _renew(workflow: Workflow, snap: Snapshot, task: TaskInfo, closer: int, why: Label) -> list[Action]:
    tag = f"{_base(workflow, snap)}:renew:{task.id}:{task.closed_date or ''}"
    return [RenewTask(task.id, why), Refuse(closer, why, tag)]


# -- for the decisions API --------------------------------------------------------------------------

@dataclass(frozen=True)
class Outcome:
    ok: bool
    message: Label
    stage: str | None = None


def outcome(workflow: Workflow, snap: Snapshot, actions: list[Action]) -> Outcome:
    """What a person's decision came to, from the actions ``decide`` returned for it."""
    refused = next((a for a in actions if isinstance(a, Refuse)), None)
    if refused is not None:
        return Outcome(False, refused.message, snap.stage)
    fields = next((a for a in actions if isinstance(a, SetFields) and "DECISIONS" in a.fields), None)
    entries = fields.fields.get("DECISIONS") if fields else None
    if not entries:
        return Outcome(True, msg.NOTHING_CHANGED, snap.stage)
    entry = Entry.parse(entries[-1])
    assert entry is not None
    return Outcome(True, msg.decision_done(entry.decision, workflow.stage(entry.stage).name), entry.stage)

