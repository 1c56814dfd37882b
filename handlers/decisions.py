"""The approval API the widget, the Telegram bot and the scenario runner use (docs: ENGINE-API).

* :func:`decide` — a person's decision; authorised by the engine against the item's current state;
  refused with a clear Russian message (and nothing changed) otherwise. Idempotent: the same decision
  repeated finds the route moved on and changes nothing.
* :func:`approval_sheet` — what the approval tab shows, including the decisions this person may make.
* :func:`workflow_for_entity_type` — the workflow code of a provisioned smart process.

Importable without side effects.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from b24app.errors import B24AppError
from b24app.workflow import messages as msg
from b24app.workflow.actions import PersonDecision
from b24app.workflow.engine import Outcome, allowed_decisions, outcome, position_of
from b24app.workflow.models import Label
from handlers.itemstate import ItemBusy, load, process, workflow_code_for

if TYPE_CHECKING:
    from b24app.deps import Deps

log = logging.getLogger(__name__)

__all__ = ["Outcome", "Sheet", "SheetEntry", "approval_sheet", "decide", "workflow_for_entity_type"]

NOT_FOUND = Label("Заявка не найдена.", "The request was not found.")
BUSY = Label("Заявка сейчас обрабатывается. Повторите через минуту.", "The request is being processed; retry in a minute.")
UNREACHABLE = Label("Битрикс24 не ответил, решение могло не сохраниться. Обновите вкладку и проверьте лист согласования.",
                    "Bitrix24 did not answer; the decision may not be saved. Reload the tab and check the approval sheet.")


@dataclass(frozen=True)
class SheetEntry:
    step: str                    # step code ("" for start / resubmit)
    step_name: Label | None
    decision: str
    decision_name: Label
    by: int
    by_name: str
    on_behalf_of: int | None
    on_behalf_of_name: str | None
    at: str                      # ISO 8601, portal time
    reason: str
    via: str


@dataclass(frozen=True)
class Sheet:
    workflow: str
    item_id: int
    title: str
    stage: str
    stage_name: Label
    step: str | None
    step_name: Label | None
    approver: int | None
    approver_name: str | None
    entries: tuple[SheetEntry, ...]
    allowed: tuple[str, ...]


def decide(deps: Deps, member_id: str, workflow_code: str, item_id: int, user_id: int, decision: str,
           reason: str | None = None, via: str = "card") -> Outcome:
    trigger = PersonDecision(int(user_id), decision, reason or "", via)
    try:
        loaded, actions = process(deps, member_id, workflow_code, int(item_id), trigger)
    except ItemBusy:
        log.warning("decision on item %s: the item is busy", item_id)
        return Outcome(False, BUSY)
    except B24AppError as exc:
        log.warning("decision on item %s failed: %s", item_id, exc)
        return Outcome(False, UNREACHABLE)
    if loaded is None:
        return Outcome(False, NOT_FOUND)
    return outcome(loaded.workflow, loaded.snap, actions)


def approval_sheet(deps: Deps, member_id: str, workflow_code: str, item_id: int, user_id: int) -> Sheet:
    loaded = load(deps, member_id, workflow_code, int(item_id))
    if loaded is None:
        return Sheet(workflow_code, int(item_id), NOT_FOUND.ru, "", NOT_FOUND, None, None, None, None, (), ())
    workflow, snap, ctx = loaded.workflow, loaded.snap, loaded.ctx
    pos = position_of(workflow, snap)
    allowed = allowed_decisions(workflow, snap, pos, int(user_id), ctx, loaded.now)
    entries = tuple(
        SheetEntry(
            step=e.step or "",
            step_name=workflow.stage(workflow.step(e.step).stage).name if e.step else None,
            decision=e.decision,
            decision_name=msg.done_name(e.decision),
            by=e.by,
            by_name=msg.person(e.by, ctx.names),
            on_behalf_of=e.on_behalf_of,
            on_behalf_of_name=msg.person(e.on_behalf_of, ctx.names) if e.on_behalf_of else None,
            at=e.at,
            reason=e.reason,
            via=e.via,
        )
        for e in snap.log
    )
    stage_known = any(s.code == snap.stage for s in workflow.stages)
    step = workflow.step(pos.step) if pos.step else None
    return Sheet(
        workflow=workflow.code, item_id=snap.item_id, title=snap.title, stage=snap.stage,
        stage_name=workflow.stage(snap.stage).name if stage_known else Label(snap.stage, snap.stage),
        step=pos.step, step_name=workflow.stage(step.stage).name if step else None,
        approver=pos.approver, approver_name=msg.person(pos.approver, ctx.names) if pos.approver else None,
        entries=entries, allowed=tuple(allowed),
    )


def workflow_for_entity_type(deps: Deps, member_id: str, entity_type_id: int) -> str | None:
    return workflow_code_for(deps, member_id, int(entity_type_id))
