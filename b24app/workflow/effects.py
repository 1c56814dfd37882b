"""Where a request stands (:class:`Position`, read from its log) and what must exist there.

:func:`effects` lists what the current position implies — the step's tasks, the people told, the
timeline entry of the last decision, tasks the route has moved past closed — each under a
deterministic key, so issuing it again is harmless (the handlers skip what was already done).
Pure: no I/O, ``now`` is a parameter.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from b24app.deadlines import DeadlineRules
from b24app.texts import approval as msg
from b24app.texts.common import ON_BEHALF_OF
from b24app.workflow.actions import Action, CompleteTask, CreateTask, LogTimeline, Notify, Reassign
from b24app.workflow.actors import (
    OPERATIONS_MANAGER,
    Person,
    Pick,
    effective,
    pick_head,
    pick_role,
    substitute_for,
)
from b24app.workflow.conditions import item_holds
from b24app.workflow.linkcheck import Links, summary
from b24app.workflow.models import Absence, ActorRule, Duration, Label, RuleRef, Step, TaskSpec, Workflow
from b24app.workflow.snapshot import Entry, Marker, Snapshot, is_yes, money
from b24app.worktime import WorkCalendar

DOCS_DEADLINE_DAYS = 2


@dataclass(frozen=True)
class Context:
    """What the engine needs besides the item: people, calendar, deadline rules (all resolved)."""

    roles: Mapping[str, int]
    calendar: WorkCalendar
    deadlines: DeadlineRules
    absences: tuple[Absence, ...] = ()
    head: int | None = None                   # the initiator's department head (actors.head_of)
    names: dict[int, str] = field(default_factory=dict)
    heads: tuple[int, ...] = ()               # every head up from the initiator's department, nearest first
    people: Mapping[int, Person] = field(default_factory=dict)   # the portal's view: dismissed, absent
    role_names: Mapping[str, Label] = field(default_factory=dict)
    #: the linked contract, its payments and duplicate candidates, read for the checked step
    links: Links | None = None

    def substitute(self, user: int | None, now: datetime) -> int | None:
        return substitute_for(user, self.absences, now.date()) if user else None

    def effective(self, user: int, now: datetime) -> int:
        return effective(user, self.absences, now)

    def resolve(self, rule: ActorRule, snap: Snapshot) -> int | None:
        if rule.role is not None:
            return self.roles.get(rule.role)
        if rule.name == "initiator":
            return snap.initiator
        if rule.name == "initiator_department_head":
            return self.head
        return None

    def actor(self, step: Step, snap: Snapshot) -> int | None:
        """The step's actor; the operations manager when nobody can be found (no head anywhere)."""
        return self.resolve(step.actor, snap) or self.roles.get(OPERATIONS_MANAGER)

    def pick(self, rule: ActorRule, snap: Snapshot, now: datetime) -> Pick:
        """Who acts by ``rule`` as the portal stands: a dismissed or absent head is skipped (next head
        up); a dismissed or absent role holder's work goes to the operations manager (the director when
        the operations manager is gone too). An absence in ``roles.yaml`` overrides the portal's."""
        people = {u: Person() if self.substitute(u, now) else p for u, p in self.people.items()}
        if rule.role is not None:
            fallbacks = (self.roles.get(OPERATIONS_MANAGER), self.roles.get("director"))
            return pick_role(self.roles.get(rule.role), people, fallbacks)
        if rule.name == "initiator_department_head" and self.heads:
            return pick_head(list(self.heads), people)
        return Pick(self.resolve(rule, snap))

    def choose(self, step: Step, snap: Snapshot, now: datetime) -> Pick:
        """:meth:`pick` for a step's actor; the operations manager when nobody can be found."""
        found = self.pick(step.actor, snap, now)
        if found.user is None:
            return Pick(self.roles.get(OPERATIONS_MANAGER), found.instead_of, found.why, found.until)
        return found


@dataclass(frozen=True)
class Position:
    stage: str
    step: str | None
    round: int
    approver: int | None
    last: Entry | None

    @property
    def started(self) -> bool:
        return self.last is not None


def position_of(workflow: Workflow, snap: Snapshot) -> Position:
    log = snap.route_log          # a ``version`` entry records a file; it does not move the request
    if not log:
        return Position(workflow.initial_stage.code, None, 0, None, None)
    last = log[-1]
    return Position(last.stage, last.next_step, last.round, last.approver, last)


def route(workflow: Workflow, target: str, snap: Snapshot) -> tuple[str, str | None]:
    """(stage, step) a decision's target leads to, skipping steps whose ``when`` does not hold."""
    seen: set[str] = set()
    while not target.isupper():
        step = workflow.step(target)
        if step.when is None or item_holds(step.when, snap) or target in seen:
            return step.stage, step.code
        seen.add(target)
        target = step.decisions.get("approve") or step.decisions.get("complete") or workflow.success_stage.code
    return target, None


# -- what the position implies ----------------------------------------------------------------------

def effects(workflow: Workflow, snap: Snapshot, pos: Position, now: datetime, ctx: Context) -> list[Action]:
    if pos.last is None:
        return []
    base = f"b24app:{workflow.code}:{snap.item_id}"
    actions: list[Action] = [_timeline(workflow, base, pos.last, ctx)]
    actions += _close_stale(workflow, snap, pos)
    step = workflow.step(pos.step) if pos.step else None
    if step is not None and pos.stage == step.stage:
        actions += _step_work(workflow, snap, pos, step, ctx)
    elif step is not None and pos.last.decision == "request_documents":
        actions += _docs_work(workflow, snap, pos, ctx)
    elif step is not None and pos.last.decision == "freeze":
        text = msg.paused(snap.title, workflow.stage(pos.stage).name, _who(pos.last, ctx), pos.last.reason)
        actions.append(Notify(snap.initiator, text, f"{base}:e{pos.last.seq}:paused"))
    elif workflow.stage(pos.stage).final:
        actions += _final_news(workflow, snap, pos, base, ctx)
    return actions


def _who(entry: Entry, ctx: Context) -> str:
    who = msg.person(entry.by, ctx.names)
    if entry.on_behalf_of:
        who += ON_BEHALF_OF.ru.format(name=msg.person(entry.on_behalf_of, ctx.names))
    return who


def _timeline(workflow: Workflow, base: str, entry: Entry, ctx: Context) -> LogTimeline:
    step_name = workflow.step_name(entry.step) if entry.step else None
    title, text = msg.timeline(entry.decision, step_name,
                               msg.person(entry.by, ctx.names),
                               msg.person(entry.on_behalf_of, ctx.names) if entry.on_behalf_of else None,
                               datetime.fromisoformat(entry.at), entry.reason, entry.via,
                               workflow.stage(entry.stage).name,
                               msg.bank_note(entry.bank_doc, entry.bank_date) if entry.bank_doc else None)
    return LogTimeline(f"{base}:e{entry.seq}", title, text)


def _current_parts(workflow: Workflow, pos: Position) -> set[str]:
    if pos.step is None:
        return set()
    step = workflow.step(pos.step)
    parts = {step.code} | {f"{step.code}:sub{i}" for i in range(len(step.task.subtasks) if step.task else 0)}
    if pos.last is not None and pos.last.decision == "request_documents" and pos.stage != step.stage:
        parts.add(f"docs:{pos.last.seq}")
    return parts


def _close_stale(workflow: Workflow, snap: Snapshot, pos: Position) -> list[Action]:
    current = _current_parts(workflow, pos)
    stale: list[Action] = []
    for task in snap.tasks:
        m = task.marker
        if m is None or task.done or m.workflow != workflow.code or m.item_id != snap.item_id:
            continue
        if m.round != pos.round or m.part not in current:
            stale.append(CompleteTask(task.id))
    return stale


def _step_work(workflow: Workflow, snap: Snapshot, pos: Position, step: Step, ctx: Context) -> list[Action]:
    assert pos.last is not None
    entered = datetime.fromisoformat(pos.last.at)
    base = f"b24app:{workflow.code}:{snap.item_id}:r{pos.round}:{step.code}"
    approver = pos.approver or ctx.roles.get(OPERATIONS_MANAGER)
    if approver is None:
        return []
    responsible = ctx.effective(approver, entered)
    if step.task is None:
        return [Notify(responsible, msg.assigned(workflow.step_name(step.code).ru, None), f"{base}:assigned")]
    main = Marker(workflow.code, snap.item_id, pos.round, step.code)
    deadline = _deadline(step.task, entered, snap, ctx, None)
    title = _title(step.task.title, snap)
    actions: list[Action] = _stand_in(snap, pos, step, responsible, base, ctx)
    existing = snap.task(main)
    checked = _checks(workflow, snap, step, ctx)
    if existing is None:
        description = _description(snap, main)
        if checked:
            description = "\n".join(line.ru for line in checked) + "\n\n" + description
        actions.append(CreateTask(step.code, str(main), responsible, title, deadline, description))
    elif pos.last.decision == "reroute" and not existing.done and existing.responsible != responsible:
        actions.append(Reassign(existing.id, responsible))
    offer = tuple(d for d in step.decisions if d != "complete")
    told = f"{base}:e{pos.last.seq}:assigned" if pos.last.decision == "reroute" else f"{base}:assigned"
    actions.append(Notify(responsible, _with_lines(msg.assigned(title, deadline), checked), told, step.code, offer))
    if pos.last.decision in ("unfreeze", "docs_provided"):
        text = msg.returned(snap.title, msg.done_name(pos.last.decision), _who(pos.last, ctx))
        actions.append(Notify(responsible, text, f"{base}:e{pos.last.seq}:returned", step.code, offer))
    for index, spec in enumerate(step.task.subtasks):
        marker = Marker(workflow.code, snap.item_id, pos.round, f"{step.code}:sub{index}")
        picked = ctx.pick(spec.responsible, snap, entered) if spec.responsible else Pick(approver)
        who = ctx.effective(picked.user or approver, entered)
        if picked.instead_of and spec.responsible is not None and spec.responsible.role:
            actions += _role_gone(snap, spec.responsible.role, picked, f"{base}:sub{index}", ctx)
        sub_deadline = _deadline(spec, entered, snap, ctx, deadline)
        sub_title = _title(spec.title, snap)
        if snap.task(marker) is None:
            actions.append(CreateTask(step.code, str(marker), who, sub_title, sub_deadline,
                                      _description(snap, marker), parent_marker=str(main)))
        actions.append(Notify(who, msg.assigned(sub_title, sub_deadline), f"{base}:sub{index}:assigned"))
    return actions


def _checks(workflow: Workflow, snap: Snapshot, step: Step, ctx: Context) -> list[Label]:
    """The contract's standing and the flags, at the checked step only (:mod:`b24app.workflow.linkcheck`)."""
    if workflow.checks is None or workflow.checks.step != step.code:
        return []
    return summary(workflow, snap, ctx.links)


def _with_lines(text: Label, lines: list[Label]) -> Label:
    if not lines:
        return text
    return Label("\n".join([text.ru, *(line.ru for line in lines)]), "\n".join([text.en, *(line.en for line in lines)]))


def _stand_in(snap: Snapshot, pos: Position, step: Step, responsible: int, base: str,
              ctx: Context) -> list[Action]:
    """The route's person could not act: the one who got the step and the initiator are told why; a
    dismissed role holder also alerts the operations manager (``roles.yaml`` needs fixing)."""
    entry = pos.last
    if entry is None or not entry.instead_of:
        return []
    tag = f"{base}:e{entry.seq}:instead"
    absent = ctx.people.get(entry.instead_of, Person()).absent_until if entry.why == "absent" else None
    text = msg.stands_in(snap.title, msg.person(entry.instead_of, ctx.names), msg.person(responsible, ctx.names),
                         entry.why, absent)
    gone = _role_gone(snap, step.actor.role, Pick(responsible, entry.instead_of, entry.why), tag, ctx) \
        if entry.why == "dismissed" and step.actor.role else []
    actions: list[Action] = [] if any(n.user == responsible for n in gone) else [Notify(responsible, text, tag)]
    if snap.initiator != responsible:
        actions.append(Notify(snap.initiator, text, f"{tag}:initiator"))
    return actions + gone


def _role_gone(snap: Snapshot, role: str, picked: Pick, tag: str, ctx: Context) -> list[Notify]:
    ops = ctx.roles.get(OPERATIONS_MANAGER) or picked.user
    if ops is None or picked.why != "dismissed":
        return []
    text = msg.role_holder_gone(snap.title, ctx.role_names.get(role, Label(role, role)), msg.person(picked.instead_of, ctx.names),
                                msg.person(picked.user, ctx.names))
    return [Notify(ops, text, f"{tag}:ops")]


def _docs_work(workflow: Workflow, snap: Snapshot, pos: Position, ctx: Context) -> list[Action]:
    assert pos.last is not None
    entered = datetime.fromisoformat(pos.last.at)
    marker = Marker(workflow.code, snap.item_id, pos.round, f"docs:{pos.last.seq}")
    title = msg.docs_task_title(snap.item_id).ru
    deadline = ctx.calendar.add_working_days(entered, DOCS_DEADLINE_DAYS)
    actions: list[Action] = []
    if snap.task(marker) is None:
        description = f"{pos.last.reason}\n\n{_description(snap, marker)}"
        actions.append(CreateTask("docs", str(marker), snap.initiator, title, deadline, description))
    text = msg.paused(snap.title, workflow.stage(pos.stage).name, _who(pos.last, ctx), pos.last.reason)
    actions.append(Notify(snap.initiator, text, f"b24app:{workflow.code}:{snap.item_id}:e{pos.last.seq}:paused"))
    return actions


def _final_news(workflow: Workflow, snap: Snapshot, pos: Position, base: str, ctx: Context) -> list[Action]:
    assert pos.last is not None
    stage = workflow.stage(pos.stage)
    tag = f"{base}:e{pos.last.seq}:final"
    if stage.code == workflow.success_stage.code:
        return [Notify(snap.initiator, msg.finished(snap.title, stage.name), tag)]
    text = msg.rejected(snap.title, _who(pos.last, ctx), pos.last.reason or "—")
    told = [snap.initiator]
    head = next((e.approver for e in snap.log if e.round == pos.round and e.decision in ("start", "resubmit", "restart")), None)
    if head and head not in (snap.initiator, pos.last.by):
        told.append(head)
    return [Notify(user, text, f"{tag}:{user}") for user in told]


# -- task details -----------------------------------------------------------------------------------

def _deadline(spec: TaskSpec, start: datetime, snap: Snapshot, ctx: Context,
              parent: datetime | None) -> datetime | None:
    rule = spec.deadline
    if isinstance(rule, Duration):
        return add_duration(ctx.calendar, start, rule)
    if isinstance(rule, RuleRef) and rule.name == "accounting_deadline":
        amount, _ = money(snap.fields.get("AMOUNT"))
        return ctx.deadlines.payment_deadline(start, urgent=is_yes(snap.fields.get("URGENT")), amount=amount)
    if isinstance(rule, RuleRef) and rule.name == "accounting_subtask_deadline" and parent is not None:
        return ctx.deadlines.subtask_deadline(parent)
    return None


def add_duration(calendar: WorkCalendar, start: datetime, span: Duration) -> datetime | None:
    if not (span.days or span.hours or span.minutes):
        return None
    if not span.working:
        return start + timedelta(days=span.days, hours=span.hours, minutes=span.minutes)
    moment = calendar.add_working_days(start, span.days) if span.days else start
    if span.hours or span.minutes:
        moment = calendar.add_working_hours(moment, span.hours + span.minutes / 60)
    return moment


def _title(label: Label, snap: Snapshot) -> str:
    amount, currency = money(snap.fields.get("AMOUNT"))
    values = {
        "id": snap.item_id,
        "counterparty": str(snap.fields.get("COUNTERPARTY_NAME") or snap.title or "—"),
        "amount": f"{amount:,.0f} {currency}".replace(",", " "),
        "title": snap.title,
    }
    try:
        return label.ru.format_map(values)
    except (KeyError, ValueError):
        return label.ru


def _description(snap: Snapshot, marker: Marker) -> str:
    return f"{msg.task_description(snap.title, item_id=snap.item_id).ru}\n\n[{marker}]"
