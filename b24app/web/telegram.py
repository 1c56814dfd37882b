"""``POST /telegram/webhook``: verify the secret header, parse the update, hand it to ``UpdateHandler``.

The response body is the Bot API call to make in reply (``{"method": "answerCallbackQuery", ...}`` or
``sendMessage``), which Telegram executes; anything slow was enqueued by the handler. ``create_app``
calls ``init_app(app, deps)`` and the runtime is ``deps.telegram``; a test may attach a double of the
runtime with ``init_telegram(app, runtime)``. Without a bot token or secret the endpoint answers 404.
"""

from __future__ import annotations

import hmac
import logging
from html import escape
from typing import Any

from flask import Blueprint, Flask, abort, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from telegram import Update

from b24app.telegram.context import TelegramRuntime
from b24app.telegram.links import TOKEN_TTL, LinkStore
from b24app.telegram.updates import UpdateHandler
from b24app.texts import telegram as tg_texts

log = logging.getLogger(__name__)
telegram_bp = Blueprint("telegram", __name__)
EXTENSION = "b24app.telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def init_app(app: Flask, deps: Any) -> None:
    """Hook for ``b24app.web.app.create_app``: the runtime is ``deps.telegram``, built on first use."""
    app.extensions[EXTENSION + ".deps"] = deps
    app.register_blueprint(telegram_bp)


def _runtime() -> TelegramRuntime | None:
    runtime: TelegramRuntime | None = current_app.extensions.get(EXTENSION)
    deps = current_app.extensions.get(EXTENSION + ".deps")
    if runtime is None and deps is not None:
        runtime = deps.telegram
    return runtime


def init_telegram(app: Flask, runtime: TelegramRuntime) -> None:
    """Test hook: attach a runtime of the test's own (a double) and register the blueprint."""
    app.extensions[EXTENSION] = runtime
    app.register_blueprint(telegram_bp)


@telegram_bp.post("/telegram/webhook")
def webhook() -> ResponseReturnValue:
    runtime = _runtime()
    if runtime is None or not runtime.config.enabled or not runtime.config.webhook_secret:
        abort(404)
    given = request.headers.get(SECRET_HEADER, "")
    if not hmac.compare_digest(given.encode(), runtime.config.webhook_secret.encode()):
        log.warning("telegram webhook call with a missing or wrong secret header from %s", request.remote_addr)
        abort(403)
    update = _parse_update(request.get_json(silent=True))
    if update is None:
        return jsonify(error="bad_request", description="not a Telegram update"), 400
    reply = UpdateHandler(runtime).handle(update)
    return jsonify(reply or {})


def _parse_update(payload: Any) -> Update | None:
    """The update, or None when the body is not one (no integer update_id, a malformed part)."""
    if not isinstance(payload, dict):
        return None
    update_id = payload.get("update_id")
    if isinstance(update_id, bool) or not isinstance(update_id, int):
        return None
    try:
        update = Update.de_json(payload, bot=None)
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError):
        return None
    if update is None or not _well_formed(update):
        return None
    return update


def _well_formed(update: Update) -> bool:
    """What the handler relies on: a press has a sender and an id, a message a chat with an integer id."""
    query = update.callback_query
    if query is not None and (query.from_user is None or not isinstance(query.from_user.id, int)
                              or not isinstance(query.id, str) or not query.id):
        return False
    message = update.message
    return message is None or (message.chat is not None and isinstance(message.chat.id, int))


@telegram_bp.post("/telegram/link")
def link_page() -> ResponseReturnValue:
    """The deep link for the person who opened this page in Bitrix24 (single use, valid 10 minutes)."""
    from b24app.web.identity import WidgetAuthError

    runtime = _runtime()
    deps = current_app.extensions.get(EXTENSION + ".deps")
    if runtime is None or deps is None or not runtime.config.bot_username:
        abort(404)
    try:
        member_id, user_id = _person(deps)
    except WidgetAuthError as exc:
        log.warning("telegram link page: %s", exc)
        return tg_texts.link_page(tg_texts.LINK_PAGE_UNKNOWN_USER), 403
    token = runtime.links.issue_token(member_id, user_id)
    link = LinkStore.deep_link(runtime.config.bot_username, token)
    minutes = int(TOKEN_TTL.total_seconds() // 60)
    anchor = f'<a id="deep-link" href="{escape(link)}" target="_blank" rel="noopener">{escape(link)}</a>'
    return tg_texts.link_page(tg_texts.link_page_invite(anchor, minutes))


def _person(deps: Any) -> tuple[str, int]:
    from b24app.web.placement_auth import identify

    person, _, _ = identify(request.form, request.args, deps)
    return person.member_id, person.user_id
