"""Deciding a press in a worker: re-check, lock the step, call the engine's action handler, show the outcome.

Once the decision is made, showing it is best effort: a press that names a message the presser's chat
does not have (a crafted or stale callback) makes Telegram answer ``BadRequest: message to edit not
found``; that is logged and ignored — failing the job would retry a press that was already decided.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from telegram.error import BadRequest

from b24app.notify.telegram import answer_callback, edit_outcome, remove_buttons
from b24app.telegram.callbacks import Press, Status, StepRef
from b24app.telegram.context import TelegramRuntime
from b24app.telegram.runtime import job_runtime
from b24app.texts.telegram import bot_text, decided_text

log = logging.getLogger(__name__)
MAX_TEXT = 4096


@dataclass(frozen=True)
class PressJob:
    """A press (or a reject with its reason) ready to decide; plain values so it travels through RQ."""

    ref: str
    member_id: str
    user_id: int
    chat_id: int
    message_id: int
    message_text: str
    query_id: str | None  # None when the decision comes from a reason message (nothing to answer)
    reason: str | None


def process_press_job(data: dict[str, Any]) -> None:
    """RQ job entry point."""
    process_press(job_runtime(), PressJob(**data))


def process_press(rt: TelegramRuntime, job: PressJob) -> None:
    link = rt.links.by_chat(job.chat_id, job.member_id)
    lang = link.lang if link else "ru"
    record = rt.callbacks.get(job.ref)
    if link is None or (link.member_id, link.user_id) != (job.member_id, job.user_id):
        return _tell(rt, job, bot_text("not_linked", lang), alert=True)
    if record is None:
        return _tell(rt, job, bot_text("unknown_button", lang), alert=True)
    decided = rt.callbacks.decision(record)
    if decided is not None:
        return _tell(rt, job, decided_text(decided.by_name, decided.at, rt.config.timezone, lang), alert=True)
    action = rt.registry.get(record.action)
    if action is None:
        return _tell(rt, job, bot_text("unavailable", lang), alert=True)
    if action.needs_reason and not (job.reason or "").strip():
        return _tell(rt, job, bot_text("reason_required", lang), alert=True)
    if not rt.callbacks.step_lock(record):
        return _tell(rt, job, bot_text("busy", lang), alert=True)
    try:
        outcome = action.handler(Press(link.member_id, link.user_id, record, job.reason))
        if outcome.status is Status.DONE:
            name = outcome.decided_by_name or f"#{link.user_id}"
            rt.callbacks.mark_decided(record, link.user_id, name, outcome.decided_at)
    except Exception:
        _tell(rt, job, bot_text("failed", lang), alert=True)
        raise
    finally:
        rt.callbacks.release_step_lock(record)
    if outcome.status is not Status.DONE:
        return _tell(rt, job, outcome.text, alert=True)
    if job.message_id:
        kept = job.message_text[: max(MAX_TEXT - len(outcome.text) - 2, 0)]
        _show_outcome(rt, job, f"{kept}\n\n{outcome.text}" if kept else outcome.text)
    _tell(rt, job, outcome.text, alert=False)
    others = [m for m in rt.callbacks.step_messages(record) if m != (job.chat_id, job.message_id)]
    remove_buttons(rt.config, others)


def close_step(rt: TelegramRuntime, step: StepRef, by_user_id: int, by_name: str, at: datetime | None = None,
               action: str = "") -> bool:
    """A step was decided outside Telegram: old buttons answer who decided, and lose their buttons."""
    marked = rt.callbacks.mark_decided(step, by_user_id, by_name, at, action)
    if rt.config.enabled:
        remove_buttons(rt.config, rt.callbacks.step_messages(step))
    return marked


def close_step_job(member_id: str, entity_type_id: int, item_id: int, step: str, by_user_id: int, by_name: str,
                   at: str | None = None, action: str = "") -> bool:
    """RQ job form of ``close_step`` (``at`` as an ISO 8601 string)."""
    moment = datetime.fromisoformat(at) if at else None
    return close_step(job_runtime(), StepRef(member_id, entity_type_id, item_id, step), by_user_id, by_name,
                      moment, action)


def _show_outcome(rt: TelegramRuntime, job: PressJob, text: str) -> None:
    """Edit the pressed message to show the outcome; a message Telegram cannot edit is skipped."""
    try:
        edit_outcome(rt.config, job.chat_id, job.message_id, text)
    except BadRequest as exc:
        log.info("telegram: outcome not shown in message %s of chat %s: %s", job.message_id, job.chat_id, exc)


def _tell(rt: TelegramRuntime, job: PressJob, text: str, alert: bool) -> None:
    """Answer the press when Telegram still accepts it; otherwise (or for reason messages) send a message."""
    if job.query_id and answer_callback(rt.config, job.query_id, text, alert):
        return
    rt.outbox.put(job.chat_id, text)
