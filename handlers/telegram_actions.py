"""Decisions from Telegram buttons: the engine's handlers for the bot's action registry.

Registered at import and again by :func:`register_actions` (``B24APP_TELEGRAM_ACTION_MODULES`` names this
module; the web process, the workers and the poller import it). A press is decided like a click in the
approval tab (``via="telegram"``): entitlement is the engine's (approver, substitute, operations manager
on the approver's behalf); a press on a step the route has left — or a button of an earlier round of the
same step (a resubmitted request) — is stale and answers who decided and when.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from b24app.deps import current
from b24app.telegram.callbacks import ActionRegistry, Outcome, Press, actions
from b24app.texts import common as texts
from b24app.texts.telegram import bot_text
from handlers.decisions import SheetEntry, approval_sheet, decide, workflow_for_entity_type

NEED_REASON = ("reject", "request_documents", "freeze")
DECISIONS = ("approve", *NEED_REASON)


def handler_for(decision: str) -> Callable[[Press], Outcome]:
    def handle(press: Press) -> Outcome:
        deps = current()
        record = press.record
        code = workflow_for_entity_type(deps, press.member_id, record.entity_type_id)
        if code is None:
            return Outcome.refused(texts.NOT_FOUND.ru)
        sheet = approval_sheet(deps, press.member_id, code, record.item_id, press.user_id)
        if sheet.step != record.step or (record.round is not None and record.round != sheet.round):
            return Outcome.stale(stale_text(sheet.entries, record.step))
        result = decide(deps, press.member_id, code, record.item_id, press.user_id, decision, press.reason,
                        via="telegram")
        if not result.ok:
            return Outcome.refused(result.message.ru)
        after = approval_sheet(deps, press.member_id, code, record.item_id, press.user_id)
        last = after.entries[-1] if after.entries else None
        if last is None:
            return Outcome.done(result.message.ru)
        by = who(last)
        return Outcome.done(texts.DECIDED_BY.ru.format(message=result.message.ru, by=by), decided_by_name=by,
                            decided_at=datetime.fromisoformat(last.at))

    return handle


def who(entry: SheetEntry) -> str:
    behalf = texts.ON_BEHALF_OF.ru.format(name=entry.on_behalf_of_name) if entry.on_behalf_of_name else ""
    return f"{entry.by_name}{behalf}"


def stale_text(entries: tuple[SheetEntry, ...], step: str) -> str:
    """«Решение по этому этапу уже принято: <кто>, <когда>» from the approval log."""
    done = [e for e in entries if e.step == step]
    if not done:
        return bot_text("unknown_button")
    last = done[-1]
    when = datetime.fromisoformat(last.at).strftime("%d.%m.%Y %H:%M")
    return f"{bot_text('decided', name=who(last), when=when)} ({last.decision_name.ru})"


def register_actions(registry: ActionRegistry = actions) -> None:
    """Register the decisions that are missing (``load_action_modules`` calls this on every start)."""
    for name in DECISIONS:
        if registry.get(name) is None:
            registry.add(name, handler_for(name), needs_reason=name in NEED_REASON)


register_actions()
