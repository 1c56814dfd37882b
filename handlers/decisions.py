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
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from b24app import keys
from b24app.errors import B24AppError
from b24app.escalation.standing import RoutePoint, StepClock, VersionRow, route, step_clock, version_rows
from b24app.pipeline import linkview
from b24app.pipeline.definitions import workflow_code_for
from b24app.pipeline.linkview import CheckLine, PaymentRow
from b24app.pipeline.process import ItemBusy, process
from b24app.pipeline.read import Loaded, load
from b24app.texts import approval as msg
from b24app.texts import common as texts
from b24app.texts.decisions import UNKNOWN_OPTION
from b24app.workflow.actions import PersonDecision
from b24app.workflow.engine import Outcome, allowed_decisions, outcome, position_of
from b24app.workflow.listoptions import option_names
from b24app.workflow.models import FieldType, Label, Workflow
from b24app.workflow.snapshot import ItemNames, has_value, money

if TYPE_CHECKING:
    from b24app.deps import Deps

log = logging.getLogger(__name__)

__all__ = ["Outcome", "SentNotice", "Sheet", "SheetEntry", "approval_sheet", "decide", "workflow_for_entity_type"]

NOT_FOUND, BUSY, UNREACHABLE = texts.NOT_FOUND, texts.BUSY, texts.UNREACHABLE


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
    note: Label | None = None    # why the step went to someone else (absent or dismissed)
    version: int | None = None   # the file version current when the entry was made (``versions:``)


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
    #: The request at a glance: (label, value) for the fields of SUMMARY_FIELDS that have a value, then the
    #: initiator. Read from the item the sheet was built from; list values need the portal's option names
    #: (one ``crm.item.fields`` per portal and day, cached in Redis).
    summary: tuple[tuple[Label, str], ...] = ()
    #: The approval round the request is in (1 after the start, +1 per resubmission after a rejection).
    round: int = 0
    #: The route as a progress line (``b24app.escalation.standing``), from the same read.
    route: tuple[RoutePoint, ...] = ()
    #: The current step's clock: since when, deadline, working time left, paused (None: not at a step).
    clock: StepClock | None = None
    #: Reminders and alerts already delivered, oldest first (from Redis: no REST request).
    reminders: tuple[SentNotice, ...] = ()
    #: A payment's contract, what is paid against it, and the flags (``checks:``; one batch).
    checks: tuple[CheckLine, ...] = ()
    #: A contract's payment requests and their stages (one batch); None: not a workflow others link to.
    payments: tuple[PaymentRow, ...] | None = None
    #: The file's versions (``versions:``), newest first, from the approval log; names by user id.
    versions: tuple[VersionRow, ...] = ()
    names: Mapping[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SentNotice:
    action: str                  # "remind" | "alert"
    to_name: str
    at: str                      # ISO 8601, portal time


#: Fields shown at the top of the approval tab, in this order, when the workflow has them.
SUMMARY_FIELDS = ("COUNTERPARTY_NAME", "AMOUNT", "EXPENSE_ITEM", "INVOICE_NUMBER", "INVOICE_DATE", "PAY_BY",
                  "URGENT")
INITIATOR = texts.INITIATOR
YES, NO = texts.YES.ru, texts.NO.ru
ENUM_TTL = keys.ENUM_TTL


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
    loaded = load(deps, member_id, workflow_code, int(item_id), digest_files=False)
    if loaded is None:
        return Sheet(workflow_code, int(item_id), NOT_FOUND.ru, "", NOT_FOUND, None, None, None, None, (), ())
    workflow, snap, ctx = loaded.workflow, loaded.snap, loaded.ctx
    pos = position_of(workflow, snap)
    allowed = allowed_decisions(workflow, snap, pos, int(user_id), ctx, loaded.now)
    entries = tuple(
        SheetEntry(
            step=e.step or "",
            step_name=workflow.step_name(e.step) if e.step else None,
            decision=e.decision,
            decision_name=msg.done_name(e.decision),
            by=e.by,
            by_name=msg.person(e.by, ctx.names),
            on_behalf_of=e.on_behalf_of,
            on_behalf_of_name=msg.person(e.on_behalf_of, ctx.names) if e.on_behalf_of else None,
            at=e.at,
            reason=e.reason,
            via=e.via,
            note=msg.routed_note(e.why, msg.person(e.instead_of, ctx.names)) if e.instead_of
            else msg.bank_note(e.bank_doc, e.bank_date) if e.bank_doc else None,
            version=e.version if workflow.versions is not None else None,
        )
        for e in snap.log
    )
    stage_known = any(s.code == snap.stage for s in workflow.stages)
    step = workflow.step(pos.step) if pos.step else None
    return Sheet(
        workflow=workflow.code, item_id=snap.item_id, title=snap.title, stage=snap.stage,
        stage_name=workflow.stage(snap.stage).name if stage_known else Label(snap.stage, snap.stage),
        step=pos.step, step_name=workflow.step_name(step.code) if step else None,
        approver=pos.approver, approver_name=msg.person(pos.approver, ctx.names) if pos.approver else None,
        entries=entries, allowed=tuple(allowed), summary=summary(deps, member_id, loaded), round=pos.round,
        route=route(workflow, snap, texts.SUBMISSION),
        clock=step_clock(workflow, loaded.names.entity_type_id, snap, loaded.now, ctx.calendar),
        reminders=sent_notices(deps, member_id, loaded),
        checks=linkview.checks(deps, member_id, loaded),
        payments=linkview.payments(deps, member_id, loaded),
        versions=version_rows(snap), names=dict(ctx.names),
    )


def sent_notices(deps: Deps, member_id: str, loaded: Loaded) -> tuple[SentNotice, ...]:
    """The escalation's deliveries about the item (``keys.escalation_history``), oldest first."""
    pipe = deps.redis.pipeline(transaction=False)
    pipe.hgetall(keys.escalation_history(member_id, loaded.names.entity_type_id, loaded.snap.item_id))
    pipe.hgetall(keys.names(member_id))                  # the sweep's cache of the people it told
    raw, cached = pipe.execute()
    names = {int(k): _text(v) for k, v in cached.items()} | dict(loaded.ctx.names)
    found: list[SentNotice] = []
    for value in raw.values():
        action, user, at = _text(value).split("|", 2)
        found.append(SentNotice(action, msg.person(int(user), names), at))
    return tuple(sorted(found, key=lambda n: n.at))


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


# -- the summary ------------------------------------------------------------------------------------

def summary(deps: Deps, member_id: str, loaded: Loaded) -> tuple[tuple[Label, str], ...]:
    workflow, snap = loaded.workflow, loaded.snap
    rows: list[tuple[Label, str]] = []
    known = {f.code for f in workflow.fields}
    for code in SUMMARY_FIELDS:
        value = snap.fields.get(code)
        if code not in known or not has_value(value):
            continue
        shown = _shown(deps, member_id, loaded.names, workflow, code, value)
        if shown:
            rows.append((workflow.field(code).label, shown))
    if snap.initiator:
        rows.append((INITIATOR, msg.person(snap.initiator, dict(loaded.ctx.names))))
    return tuple(rows)


def _shown(deps: Deps, member_id: str, names: ItemNames, workflow: Workflow, code: str, value: Any) -> str:
    kind = workflow.field(code).type
    if kind is FieldType.MONEY:
        return format_money(value)
    if kind in (FieldType.DATE, FieldType.DATETIME):
        return _date(value, with_time=kind is FieldType.DATETIME)
    if kind is FieldType.BOOLEAN:
        return YES if str(value).upper() in ("Y", "1", "TRUE") else NO
    if kind is FieldType.ENUMERATION:
        return _option(deps, member_id, names, workflow, code, value)
    return str(value).strip()


def format_money(value: Any) -> str:
    """``"150000|RUB"`` -> ``150 000 RUB``; kopecks shown only when there are any (``1 500,50 RUB``)."""
    amount, currency = money(value)
    text = f"{amount:,.0f}" if amount == amount.to_integral_value() else f"{amount:,.2f}".replace(".", "#")
    return f"{text.replace(',', ' ').replace('#', ',')} {currency}"


def _date(value: Any, with_time: bool) -> str:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return moment.strftime("%d.%m.%Y %H:%M" if with_time else "%d.%m.%Y")


def _option(deps: Deps, member_id: str, names: ItemNames, workflow: Workflow, code: str, value: Any) -> str:
    """The portal's name of a list value (the item holds the option's id)."""
    key, slot = keys.enums(member_id, names.entity_type_id), f"{names.field(code)}:{value}"
    cached = deps.redis.hget(key, slot)
    if cached is None:
        try:
            options = option_names(deps.bitrix(member_id).call(
                "crm.item.fields", {"entityTypeId": names.entity_type_id, "useOriginalUfNames": "Y"}),
                {v.code: v.name.ru for v in workflow.field(code).values})
        except B24AppError as exc:
            log.warning("approval sheet: the list values of %s are unavailable: %s", code, exc)
            return UNKNOWN_OPTION
        options.setdefault(slot, UNKNOWN_OPTION)   # an unknown id is not asked for again today
        entries: dict[Any, Any] = dict(options)
        pipe = deps.redis.pipeline()
        pipe.hset(key, mapping=entries)
        pipe.expire(key, ENUM_TTL)
        pipe.execute()
        cached = options[slot]
    return cached.decode() if isinstance(cached, bytes) else str(cached)


def workflow_for_entity_type(deps: Deps, member_id: str, entity_type_id: int) -> str | None:
    return workflow_code_for(deps, member_id, int(entity_type_id))
