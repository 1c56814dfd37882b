"""The fake Telegram Bot API's chats in the sandbox UI (``/sandbox/telegram``): read and answer the bot.

Shown when a :class:`b24sandbox.telegram_api.FakeBotApi` runs next to the portal (``portal.telegram``;
``b24app demo`` and the scenario stack set it). Each chat lists what the bot sent, newest last, with
its inline buttons as they are now (an edited message shows its new text and keyboard). A callback
button is a form: pressing it is :meth:`FakeBotApi.press` from that chat's user, so the bot's webhook
gets the same ``callback_query`` update a Telegram client would send; the text box sends a message
from the chat's user, as a reply to the bot's last question (``force_reply``) when there is one — how a
rejection reason is typed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Flask, abort, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from b24sandbox.telegram_api import FakeBotApi, SentMessage

if TYPE_CHECKING:
    from b24sandbox.ui import SandboxUI


def add_routes(app: Flask, ui: SandboxUI) -> None:
    portal = ui.portal

    def bot() -> FakeBotApi:
        if portal.telegram is None:
            abort(404)
        return portal.telegram

    @app.get("/telegram")
    def telegram() -> str:
        api = portal.telegram
        return render_template("telegram.html", api=api, chats=api.chats() if api else [],
                               error=request.args.get("error"))

    @app.post("/telegram/<int:chat_id>/<int:message_id>/press")
    def telegram_press(chat_id: int, message_id: int) -> Response:
        api = bot()
        if message_id not in {m.message_id for m in api.messages(chat_id)}:
            abort(404)
        delivery = api.press(chat_id, message_id, data=request.form.get("data", ""))
        return _back(chat_id, delivery.status)

    @app.post("/telegram/<int:chat_id>/send")
    def telegram_send(chat_id: int) -> Response:
        api = bot()
        text = request.form.get("text", "")
        if not text:
            return redirect(url_for("telegram", error="type a message first") + f"#chat-{chat_id}")
        question = _last_question(api.messages(chat_id))
        delivery = api.send_text(chat_id, text, reply_to=question.message_id if question else None)
        return _back(chat_id, delivery.status)


def _last_question(messages: list[SentMessage]) -> SentMessage | None:
    """The bot's last message, when it asks for an answer (``force_reply``)."""
    last = messages[-1] if messages else None
    return last if last is not None and (last.reply_markup or {}).get("force_reply") else None


def _back(chat_id: int, status: int) -> Response:
    error: dict[str, Any] = {} if status in (0, 200) else {"error": f"the bot's webhook answered HTTP {status}"}
    return redirect(url_for("telegram", **error) + f"#chat-{chat_id}")
