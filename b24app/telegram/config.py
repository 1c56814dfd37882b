"""Telegram settings from ``B24APP_TELEGRAM_*`` environment variables (no token -> Telegram off).

``B24APP_TELEGRAM_TOKEN`` and ``B24APP_TELEGRAM_SECRET`` are also fields of ``b24app.settings.Settings``
(``from_settings`` takes them from there); the rest are read from the environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

#: The approval engine's button actions (approve, reject, ...), registered on import.
DEFAULT_ACTION_MODULE = "handlers.telegram_actions"
DEFAULT_BASE_URL = "https://api.telegram.org/bot"


@dataclass(frozen=True)
class TelegramConfig:
    """Everything the Telegram side needs; ``enabled`` is False when there is no bot token."""

    bot_token: str = ""
    bot_username: str = ""
    webhook_secret: str = ""
    webhook_url: str = ""
    base_url: str = DEFAULT_BASE_URL
    queue_name: str = "b24app-telegram"
    global_per_second: int = 25
    chat_interval: float = 1.05
    timezone: str = "Europe/Moscow"
    action_modules: tuple[str, ...] = (DEFAULT_ACTION_MODULE,)

    @property
    def enabled(self) -> bool:
        return bool(self.bot_token)

    def __repr__(self) -> str:  # never show the token or the secret
        return f"TelegramConfig(bot_username={self.bot_username!r}, base_url={self.base_url!r}, enabled={self.enabled})"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> TelegramConfig:
        env = os.environ if env is None else env

        def get(name: str, default: str = "") -> str:
            return env.get(f"B24APP_TELEGRAM_{name}", default).strip()

        modules = tuple(m.strip() for m in get("ACTION_MODULES", DEFAULT_ACTION_MODULE).split(",") if m.strip())
        public = env.get("B24APP_PUBLIC_URL", "").strip().rstrip("/")
        return cls(
            bot_token=get("TOKEN") or get("BOT_TOKEN"),
            bot_username=get("BOT_USERNAME").lstrip("@"),
            webhook_secret=get("SECRET") or get("WEBHOOK_SECRET"),
            webhook_url=get("WEBHOOK_URL") or (f"{public}/telegram/webhook" if public else ""),
            base_url=get("API_BASE_URL", DEFAULT_BASE_URL),
            queue_name=get("QUEUE", "b24app-telegram"),
            global_per_second=int(get("GLOBAL_PER_SECOND", "25")),
            chat_interval=float(get("CHAT_INTERVAL", "1.05")),
            timezone=get("TIMEZONE", "Europe/Moscow"),
            action_modules=modules,
        )

    @classmethod
    def from_settings(cls, settings: Any, env: Mapping[str, str] | None = None) -> TelegramConfig:
        """Token and secret from ``b24app.settings.Settings`` (SecretStr), everything else from the environment."""
        config = cls.from_env(env)
        token, secret = settings.telegram_token, settings.telegram_secret
        public = (settings.public_url or "").rstrip("/")
        return replace(
            config,
            bot_token=token.get_secret_value() if token else config.bot_token,
            webhook_secret=secret.get_secret_value() if secret else config.webhook_secret,
            webhook_url=config.webhook_url or (f"{public}/telegram/webhook" if public else ""),
        )
