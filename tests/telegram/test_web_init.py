"""The app-factory hook: the webhook's runtime is ``Deps.telegram`` — Settings (token, secret) and Deps' Redis."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from flask import Flask
from pydantic import SecretStr

from b24app.deps import Deps
from b24app.settings import Settings
from b24app.telegram.config import TelegramConfig
from b24app.web.telegram import SECRET_HEADER, init_app
from b24sandbox.telegram_api import FakeBotApi

UPDATE = {"update_id": 77, "message": {"message_id": 1, "date": 0, "text": "hello",
                                       "chat": {"id": 1001, "type": "private"},
                                       "from": {"id": 1001, "is_bot": False, "first_name": "X"}}}


def _app(redis_url: str, token: str | None, secret: str) -> Flask:
    settings = Settings(redis_url=redis_url, telegram_token=SecretStr(token) if token else None,
                        telegram_secret=SecretStr(secret), public_url="https://app.example")
    app = Flask("telegram-init-test")
    init_app(app, Deps(settings))
    return app


def test_settings_secret_guards_the_webhook(fake_api: FakeBotApi, redis_url: str, config: TelegramConfig) -> None:
    client = _app(redis_url, fake_api.token, "settings-secret").test_client()
    assert client.post("/telegram/webhook", json=UPDATE, headers={SECRET_HEADER: config.webhook_secret}).status_code == 403
    answer = client.post("/telegram/webhook", json=UPDATE, headers={SECRET_HEADER: "settings-secret"})
    assert answer.status_code == 200 and answer.json["method"] == "sendMessage"  # type: ignore[index]
    bare = SimpleNamespace(telegram_token=None, telegram_secret=None, public_url="https://app.example/")
    assert TelegramConfig.from_settings(bare, env={}).webhook_url == "https://app.example/telegram/webhook"


def test_without_a_token_the_webhook_does_not_exist(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("B24APP_TELEGRAM_TOKEN", "B24APP_TELEGRAM_BOT_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    client = _app(redis_url, None, "settings-secret").test_client()
    assert client.post("/telegram/webhook", json=UPDATE, headers={SECRET_HEADER: "settings-secret"}).status_code == 404
