"""Handling one Telegram update — shared by the webhook and ``b24app telegram poll``.

``UpdateHandler.handle`` does only cheap Redis work: it links/unlinks chats, answers presses that
cannot proceed (unlinked, unknown, stale, reason needed) and enqueues the real decision
(``b24app.telegram.presses.process_press_job``). It returns the Bot API call to make in reply
(``{"method": ..., ...}``) — the webhook returns it as its response, the poller executes it.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Any

from telegram import CallbackQuery, ForceReply, Update
from telegram import Message as TgMessage

from b24app import keys
from b24app.telegram.callbacks import PendingReason
from b24app.telegram.context import TelegramRuntime
from b24app.telegram.presses import PressJob, process_press_job
from b24app.texts.telegram import bot_text, decided_text

log = logging.getLogger(__name__)
ApiCall = dict[str, Any]
#: How long a delivered update id is remembered (duplicates dropped), and how long one may be handled.
SEEN_TTL = 86400
CLAIM_TTL = 60


class UpdateHandler:
    def __init__(self, rt: TelegramRuntime) -> None:
        self._rt = rt

    def handle(self, update: Update) -> ApiCall | None:
        """Handle an update once. It is claimed while handled and marked seen only once handled (its
        job enqueued); if handling fails the claim is dropped, so Telegram's redelivery is handled."""
        key = keys.tg("update", update.update_id)
        if not self._rt.redis.set(key, "handling", nx=True, ex=CLAIM_TTL):
            return None
        try:
            reply = self._dispatch(update)
        except BaseException:
            self._rt.redis.delete(key)
            raise
        self._rt.redis.set(key, "seen", ex=SEEN_TTL)
        return reply

    def _dispatch(self, update: Update) -> ApiCall | None:
        if update.callback_query is not None:
            return self._on_press(update.callback_query)
        message = update.message
        if message is not None and message.chat.type == "private":
            return self._on_message(message)
        return None

    # -- messages ---------------------------------------------------------------------------------
    def _on_message(self, message: TgMessage) -> ApiCall | None:
        chat_id = message.chat.id
        text = (message.text or "").strip()
        lang = _lang(message.from_user.language_code if message.from_user else None)
        command, _, arg = text.partition(" ")
        command = command.split("@", 1)[0] if command.startswith("/") else ""
        if command == "/start":
            return self._start(chat_id, arg.strip(), message.from_user.language_code if message.from_user else None)
        if command == "/stop":
            self._rt.callbacks.take_reason(chat_id)
            self._rt.links.unlink_chat(chat_id)
            return _send(chat_id, bot_text("stopped", lang))
        if command == "/cancel" and self._rt.callbacks.take_reason(chat_id):
            return _send(chat_id, bot_text("cancelled", lang))
        if self._rt.callbacks.pending_reason(chat_id) is not None:
            return self._reason(chat_id, "" if command else text, lang)
        return _send(chat_id, bot_text("help", lang))

    def _start(self, chat_id: int, token: str, language_code: str | None) -> ApiCall:
        lang = _lang(language_code)
        if not token:
            link = self._rt.links.by_chat(chat_id)
            if link is None:
                return _send(chat_id, bot_text("start_help", lang))
            self._rt.links.set_active(chat_id, True)
            return _send(chat_id, bot_text("reactivated", link.lang))
        link = self._rt.links.consume_token(token, chat_id, language_code)
        return _send(chat_id, bot_text("linked" if link else "bad_token", lang))

    def _reason(self, chat_id: int, reason: str, lang: str) -> ApiCall | None:
        if not reason:
            return _send(chat_id, bot_text("reason_required", lang))
        pending = self._rt.callbacks.take_reason(chat_id)
        record = self._rt.callbacks.get(pending.ref) if pending is not None else None
        link = self._rt.links.by_chat(chat_id, record.member_id) if record is not None else None
        if pending is None or link is None or link.user_id != pending.user_id:
            return _send(chat_id, bot_text("not_linked", lang))
        job = PressJob(pending.ref, link.member_id, link.user_id, chat_id, pending.message_id,
                       pending.message_text, None, reason)
        self._rt.enqueue(process_press_job, asdict(job))
        return None

    # -- presses ----------------------------------------------------------------------------------
    def _on_press(self, query: CallbackQuery) -> ApiCall | None:
        chat_id = query.from_user.id  # buttons are only sent to private chats: chat id == user id
        link = self._rt.links.by_chat(chat_id)
        lang = link.lang if link else _lang(query.from_user.language_code)
        if link is None:
            return _answer(query.id, bot_text("not_linked", lang), alert=True)
        ref = query.data or ""
        record = self._rt.callbacks.get(ref)
        if record is None:
            return _answer(query.id, bot_text("unknown_button", lang), alert=True)
        link = self._rt.links.by_chat(chat_id, record.member_id)  # a button of a portal this chat is not linked on
        if link is None:
            return _answer(query.id, bot_text("not_linked", lang), alert=True)
        decided = self._rt.callbacks.decision(record)
        if decided is not None:
            return _answer(query.id, decided_text(decided.by_name, decided.at, self._rt.config.timezone, lang), alert=True)
        action = self._rt.registry.get(record.action)
        if action is None:
            return _answer(query.id, bot_text("unavailable", lang), alert=True)
        message_id, message_text = _pressed_message(query)
        if action.needs_reason:
            pending = PendingReason(ref, link.user_id, message_id, message_text)
            self._rt.callbacks.await_reason(chat_id, pending)
            force = ForceReply(input_field_placeholder=bot_text("ask_reason_short", lang)[:64]).to_dict()
            self._rt.outbox.put(chat_id, bot_text("ask_reason", lang), force)
            return _answer(query.id, bot_text("ask_reason_short", lang))
        job = PressJob(ref, link.member_id, link.user_id, chat_id, message_id, message_text, query.id, None)
        self._rt.enqueue(process_press_job, asdict(job))
        return None  # the job answers the callback with the real outcome


def _pressed_message(query: CallbackQuery) -> tuple[int, str]:
    message = query.message
    if message is None:
        return 0, ""
    text = getattr(message, "text", None) or ""
    return message.message_id, text


def _lang(code: str | None) -> str:
    return "en" if code and code.lower().startswith("en") else "ru"


def _send(chat_id: int, text: str) -> ApiCall:
    return {"method": "sendMessage", "chat_id": chat_id, "text": text}


def _answer(query_id: str, text: str, alert: bool = False) -> ApiCall:
    return {"method": "answerCallbackQuery", "callback_query_id": query_id, "text": text[:200], "show_alert": alert}
