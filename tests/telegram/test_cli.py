"""``b24app telegram set-webhook`` and ``poll`` against the fake Bot API over HTTP."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from b24app.telegram.cli import telegram_group
from b24app.telegram.context import TelegramRuntime
from b24app.telegram.links import LinkStore
from b24sandbox.telegram_api import FakeBotApi
from tests.telegram.conftest import MEMBER, SECRET


def test_set_webhook_registers_the_url_with_the_secret(fake_api: FakeBotApi, runtime: TelegramRuntime) -> None:
    result = CliRunner().invoke(telegram_group, ["set-webhook", "--url", "https://app.example/telegram/webhook"])
    assert result.exit_code == 0, result.output
    assert (fake_api.webhook_url, fake_api.webhook_secret) == ("https://app.example/telegram/webhook", SECRET)
    assert SECRET not in result.output


def test_poll_handles_updates_like_the_webhook(fake_api: FakeBotApi, runtime: TelegramRuntime, redis_url: str,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("B24APP_REDIS_URL", redis_url)
    token = LinkStore(runtime.redis).issue_token(MEMBER, 7)  # real clock, like the poller's
    assert fake_api.send_text(1001, f"/start {token}").status == 0  # no webhook: queued for getUpdates
    result = CliRunner().invoke(telegram_group, ["poll", "--once"])
    assert result.exit_code == 0, result.output
    assert runtime.links.by_chat(1001) is not None
    assert "подключён" in fake_api.last_message(1001).text
    result = CliRunner().invoke(telegram_group, ["poll", "--once"])  # the update was confirmed: not handled twice
    assert result.exit_code == 0 and len(fake_api.messages(1001)) == 1


def test_without_a_token_the_commands_say_how_to_turn_telegram_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("B24APP_TELEGRAM_TOKEN", raising=False)
    result = CliRunner().invoke(telegram_group, ["poll", "--once"])
    assert result.exit_code != 0 and "B24APP_TELEGRAM_TOKEN" in result.output
