"""A tiny in-memory portal for the pure engine tests: applies the engine's actions to a snapshot."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from b24app.deadlines import DeadlineRules
from b24app.workflow.actions import (
    Action,
    CompleteTask,
    CreateTask,
    MoveStage,
    Notify,
    PersonDecision,
    Refresh,
    Refuse,
    RenewTask,
    SetFields,
    Trigger,
)
from b24app.workflow.config import load_org_config
from b24app.workflow.engine import Context, decide
from b24app.workflow.loader import load_workflows
from b24app.workflow.models import Absence, Workflow
from b24app.workflow.snapshot import Marker, Snapshot, TaskInfo, parse_log
from b24app.worktime import WorkCalendar

ROOT = Path(__file__).resolve().parents[2]
MSK = ZoneInfo("Europe/Moscow")
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=MSK)          # Monday
APP = 1
INITIATOR, HEAD, FINANCE, OPS, CHIEF, JUNIOR, DIRECTOR, OUTSIDER = 4, 3, 8, 9, 10, 11, 2, 7
FULL = {"AMOUNT": "150000|RUB", "EXPENSE_ITEM": 1, "INVOICE": [{"id": 5}], "COUNTERPARTY_NAME": "ООО «Ромашка»"}


@cache
def workflows() -> dict[str, Workflow]:
    org, _ = load_org_config(ROOT / "config")
    return {w.code: w for w in load_workflows(ROOT / "workflows", org)}


@cache
def calendar() -> WorkCalendar:
    return WorkCalendar.default()


def context(head: int | None = HEAD, absences: tuple[Absence, ...] = ()) -> Context:
    org, _ = load_org_config(ROOT / "config")
    roles = {code: role.user_id for code, role in org.roles.items()}
    return Context(roles=roles, calendar=calendar(), deadlines=DeadlineRules(calendar()), absences=absences,
                   head=head)


@dataclass
class World:
    workflow: Workflow
    snap: Snapshot
    ctx: Context
    notified: list[tuple[int, str]] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)
    created: list[CreateTask] = field(default_factory=list)
    timeline: list[str] = field(default_factory=list)
    next_id: int = 100

    @classmethod
    def new(cls, code: str = "payment_requests", fields: dict[str, Any] | None = None, initiator: int = INITIATOR,
            ctx: Context | None = None) -> World:
        snap = Snapshot(item_id=7, title="Заявка №7", stage="NEW", initiator=initiator,
                        fields=dict(FULL if fields is None else fields))
        return cls(workflows()[code], snap, ctx or context())

    def run(self, trigger: Trigger | None = None, now: datetime = NOW) -> list[Action]:
        actions = decide(self.workflow, self.snap, trigger or Refresh(), now, self.ctx)
        self.apply(actions)
        return actions

    def decide(self, user: int, decision: str, reason: str = "", now: datetime = NOW) -> list[Action]:
        return self.run(PersonDecision(user, decision, reason), now)

    # -- applying actions as the portal would ---------------------------------------------------
    def apply(self, actions: list[Action]) -> None:
        for action in actions:
            if isinstance(action, MoveStage):
                self.snap = replace(self.snap, stage=action.stage, moved_by=APP)
            elif isinstance(action, SetFields):
                fields = {**self.snap.fields, **action.fields}
                self.snap = replace(self.snap, fields=fields, log=parse_log(fields.get("DECISIONS")))
            elif isinstance(action, CreateTask):
                self._create(action)
            elif isinstance(action, CompleteTask | RenewTask):
                status, closer = (5, APP) if isinstance(action, CompleteTask) else (2, None)
                self._task_update(action.task_id, status=status, closed_by=closer)
            elif isinstance(action, Notify) and (action.user, action.tag) not in self.notified:
                self.notified.append((action.user, action.tag))
            elif isinstance(action, Refuse):
                self.refused.append((action.user, action.message.ru))

    def _create(self, action: CreateTask) -> None:
        self.created.append(action)
        parent = next((t for t in self.snap.tasks if t.marker and str(t.marker) == action.parent_marker), None)
        task = TaskInfo(self.next_id, action.title, 2, action.responsible, Marker.parse(action.description),
                        parent_id=parent.id if parent else None, deadline=str(action.deadline))
        self.next_id += 1
        self.snap = replace(self.snap, tasks=(*self.snap.tasks, task))

    def _task_update(self, task_id: int, **changes: Any) -> None:
        tasks = tuple(replace(t, **changes) if t.id == task_id else t for t in self.snap.tasks)
        self.snap = replace(self.snap, tasks=tasks)

    # -- people ---------------------------------------------------------------------------------
    def task(self, part: str, round: int | None = None) -> TaskInfo:
        wanted = [t for t in self.snap.tasks if t.marker and t.marker.part == part
                  and (round is None or t.marker.round == round)]
        assert wanted, f"no task {part!r} among {[str(t.marker) for t in self.snap.tasks]}"
        return wanted[-1]

    def complete(self, part: str, by: int, files: tuple[int, ...] = ()) -> list[Action]:
        task = self.task(part)
        self._task_update(task.id, status=5, closed_by=by, files=files, closed_date=f"c{by}")
        return self.run()

    def drag(self, stage: str, by: int, **fields: Any) -> list[Action]:
        self.snap = replace(self.snap, stage=stage, moved_by=by, moved_time=f"t{len(self.refused)}-{stage}",
                            fields={**self.snap.fields, **fields})
        return self.run()

    def edit(self, **fields: Any) -> list[Action]:
        self.snap = replace(self.snap, fields={**self.snap.fields, **fields})
        return self.run()

    @property
    def decisions(self) -> list[str]:
        return [e.decision for e in self.snap.log]


def of(kind: type, actions: list[Action]) -> list[Any]:
    return [a for a in actions if isinstance(a, kind)]
