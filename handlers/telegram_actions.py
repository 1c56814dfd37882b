"""Decisions from Telegram buttons: the engine's handlers for the bot's action registry.

Registered at import (``B24APP_TELEGRAM_ACTION_MODULES=handlers.telegram_actions``; the event worker
imports every ``handlers`` module anyway). A press is decided like a click in the approval tab
(``via="telegram"``): entitlement is the engine's; a press on a step the route has left is stale.
"""

from __future__ import annotations

from collections.abc import Callable

from b24app.deps import current
from b24app.telegram.callbacks import Outcome, Press, actions
from handlers.decisions import approval_sheet, decide, workflow_for_entity_type

NEED_REASON = ("reject", "request_documents", "freeze")
DECISIONS = ("approve", *NEED_REASON)


def handler_for(decision: str) -> Callable[[Press], Outcome]:
    def handle(press: Press) -> Outcome:
        deps = current()
        record = press.record
        code = workflow_for_entity_type(deps, press.member_id, record.entity_type_id)
        if code is None:
            return Outcome.refused("Заявка не найдена.")
        sheet = approval_sheet(deps, press.member_id, code, record.item_id, press.user_id)
        if sheet.step != record.step:
            last = sheet.entries[-1] if sheet.entries else None
            text = f"Уже решено: {last.decision_name.ru} — {last.by_name}." if last else "Шаг уже пройден."
            return Outcome.stale(text)
        result = decide(deps, press.member_id, code, record.item_id, press.user_id, decision, press.reason,
                        via="telegram")
        if not result.ok:
            return Outcome.refused(result.message.ru)
        after = approval_sheet(deps, press.member_id, code, record.item_id, press.user_id)
        by = after.entries[-1].by_name if after.entries else ""
        return Outcome.done(result.message.ru, decided_by_name=by)

    return handle


for _name in DECISIONS:
    if actions.get(_name) is None:
        actions.add(_name, handler_for(_name), needs_reason=_name in NEED_REASON)
