"""The fake Bot API answers like the real one: JSON or form bodies, error shapes PTB understands."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest
import requests
from telegram import Bot
from telegram.error import Forbidden, RetryAfter

from b24sandbox.telegram_api import FakeBotApi


def test_json_and_form_bodies_and_errors(fake_api: FakeBotApi) -> None:
    url = f"{fake_api.base_url}{fake_api.token}"
    markup = {"inline_keyboard": [[{"text": "Согласовать", "callback_data": "abc"}]]}
    sent = requests.post(f"{url}/sendMessage", json={"chat_id": 5, "text": "hi", "reply_markup": markup}, timeout=5)
    assert sent.json()["result"]["reply_markup"] == markup
    form = requests.post(f"{url}/sendMessage", data={"chat_id": "5", "text": "again",
                                                      "reply_markup": json.dumps(markup)}, timeout=5)
    assert form.json()["ok"] and fake_api.last_message(5).buttons()[0]["callback_data"] == "abc"
    assert requests.post(f"{fake_api.base_url}999:wrong/getMe", timeout=5).status_code == 401
    fake_api.fail_next("sendMessage", 429, retry_after=7)
    limited = requests.post(f"{url}/sendMessage", data={"chat_id": "5", "text": "x"}, timeout=5)
    assert limited.status_code == 429 and limited.json()["parameters"] == {"retry_after": 7}
    fake_api.call("setWebhook", {"url": "http://127.0.0.1:9/hook"})
    assert requests.get(f"{url}/getUpdates", timeout=5).status_code == 409


def test_python_telegram_bot_sees_typed_errors(fake_api: FakeBotApi) -> None:
    async def send(chat_id: int) -> None:
        async with Bot(fake_api.token, base_url=fake_api.base_url) as bot:
            await bot.send_message(chat_id, "x")

    fake_api.block(6)
    with pytest.raises(Forbidden):
        asyncio.run(send(6))
    fake_api.fail_next("sendMessage", 429, retry_after=3)
    with pytest.raises(RetryAfter) as caught:
        asyncio.run(send(7))
    assert caught.value._retry_after == timedelta(seconds=3)
    asyncio.run(send(7))
    assert [m.text for m in fake_api.messages(7)] == ["x"]
