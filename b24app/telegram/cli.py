"""``b24app telegram set-webhook | delete-webhook | poll`` (FOUNDATION adds ``telegram_group`` to the CLI)."""

from __future__ import annotations

import logging
from typing import Any

import click
from redis.exceptions import RedisError
from telegram import Bot, Update

from b24app.deps import current
from b24app.errors import SettingsError
from b24app.notify.telegram import run_bot
from b24app.telegram.config import TelegramConfig
from b24app.telegram.context import TelegramRuntime
from b24app.telegram.runtime import process_config
from b24app.telegram.updates import UpdateHandler

log = logging.getLogger(__name__)


def _config() -> TelegramConfig:
    config = process_config()
    if not config.enabled:
        raise click.ClickException("Telegram is off: set B24APP_TELEGRAM_TOKEN.")
    return config


@click.group("telegram")
def telegram_group() -> None:
    """Telegram bot: webhook registration and local polling."""


@telegram_group.command("set-webhook")
@click.option("--url", default=None, help="Public HTTPS URL of /telegram/webhook (default B24APP_TELEGRAM_WEBHOOK_URL).")
def set_webhook(url: str | None) -> None:
    """Register the webhook with the secret token (B24APP_TELEGRAM_SECRET)."""
    config = _config()
    url = url or config.webhook_url
    if not url or not config.webhook_secret:
        raise click.ClickException("Set B24APP_TELEGRAM_WEBHOOK_URL (or --url) and B24APP_TELEGRAM_SECRET.")
    run_bot(config, lambda bot: bot.set_webhook(url, secret_token=config.webhook_secret,
                                                allowed_updates=["message", "callback_query"]))
    click.echo(f"Webhook set: {url}")


@telegram_group.command("delete-webhook")
def delete_webhook() -> None:
    run_bot(_config(), lambda bot: bot.delete_webhook())
    click.echo("Webhook deleted.")


@telegram_group.command("poll")
@click.option("--once", is_flag=True, help="Handle the updates waiting now and exit.")
@click.option("--timeout", default=25, show_default=True, help="Long-poll timeout, seconds.")
def poll(once: bool, timeout: int) -> None:
    """Fetch updates with getUpdates (no public URL needed) and handle them like the webhook does."""
    config = _config()
    try:
        deps = current()
        deps.redis.ping()
    except (SettingsError, RedisError) as exc:
        raise click.ClickException(f"Redis is needed (the same one the worker uses): {exc}") from None
    runtime = deps.telegram
    run_bot(config, lambda bot: bot.delete_webhook())
    offset = 0
    while True:
        for update in _fetch(config, offset, 0 if once else timeout):
            offset = update.update_id + 1
            handle_polled(runtime, update)
        if once:
            _fetch(config, offset, 0)  # confirms what was handled
            return


def _fetch(config: TelegramConfig, offset: int, timeout: int) -> tuple[Update, ...]:
    return run_bot(config, lambda bot: bot.get_updates(offset=offset, timeout=timeout,
                                                       allowed_updates=["message", "callback_query"]))


def handle_polled(runtime: TelegramRuntime, update: Update) -> None:
    """Handle one update and make its reply call through the Bot API."""
    reply = UpdateHandler(runtime).handle(update)
    if reply:
        method, params = reply["method"], {k: v for k, v in reply.items() if k != "method"}
        run_bot(runtime.config, lambda bot: _call(bot, method, params))


async def _call(bot: Bot, method: str, params: dict[str, Any]) -> Any:
    if method == "sendMessage":
        return await bot.send_message(chat_id=params["chat_id"], text=params["text"])
    if method == "answerCallbackQuery":
        return await bot.answer_callback_query(params["callback_query_id"], text=params.get("text"),
                                               show_alert=bool(params.get("show_alert")))
    raise ValueError(f"unexpected reply method {method}")
