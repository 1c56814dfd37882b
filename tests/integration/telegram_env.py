"""The approval stack of ``approval_env`` with Telegram switched on: the fake Bot API on loopback, its webhook
registered at the app's ``/telegram/webhook`` with the secret, and the Telegram queue run by an RQ worker on
the same private Redis as the events.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from rq import Queue
from rq.registry import FailedJobRegistry, ScheduledJobRegistry
from rq.scheduler import RQScheduler

from b24app import queue as queues
from b24app.telegram.links import LinkStore
from b24app.worker import BurstWorker
from b24sandbox import SandboxPortal, oauth
from b24sandbox.telegram_api import FakeBotApi, SentMessage
from tests.fixtures.waits import nap_until_next_scheduled
from tests.integration.approval_env import ROOT, Env, approval_env

SECRET = "flow-webhook-secret_42"


@dataclass
class TgEnv:
    env: Env
    bot: FakeBotApi

    @property
    def queue(self) -> Queue:
        return Queue(queues.TELEGRAM, connection=self.env.deps.redis)

    def settle(self, rounds: int = 50) -> None:
        """Portal events, engine jobs and Telegram jobs (scheduled ones when due) until all are done."""
        scheduler = RQScheduler([self.queue], connection=self.env.deps.redis)
        scheduler.acquire_locks()
        try:
            for _ in range(rounds):
                self.env.settle()
                scheduler.enqueue_scheduled_jobs()
                if self.queue.count:
                    BurstWorker([self.queue], connection=self.env.deps.redis).work(burst=True)
                    continue
                if self.env.settle():                  # the Telegram jobs' own effects on the portal
                    continue
                if not self.queue.scheduled_job_registry.count:
                    return
                nap_until_next_scheduled(self.queue)  # a scheduled job (a paced resend) is not due yet
        finally:
            scheduler.release_locks()
        raise AssertionError("jobs kept coming")

    def failed_jobs(self) -> list[str]:
        conn = self.env.deps.redis
        found = FailedJobRegistry(queues.TELEGRAM, connection=conn).get_job_ids()
        return found + ScheduledJobRegistry(queues.TELEGRAM, connection=conn).get_job_ids()

    def link(self, user_id: int, chat_id: int) -> None:
        """The person opens the deep link the app issued for their Bitrix24 account: ``/start <token>``."""
        links = LinkStore(self.env.deps.redis)
        token = links.issue_token(self.env.member_id, user_id)
        deep_link = links.deep_link(self.bot.username, token)
        assert deep_link == f"https://t.me/{self.bot.username}?start={token}" and len(token) <= 64
        delivery = self.bot.send_text(chat_id, f"/start {token}")
        assert delivery.status == 200 and "подключён" in self.bot.last_message(chat_id).text
        link = links.for_user(self.env.member_id, user_id)
        assert link is not None and link.chat_id == chat_id

    def link_page(self, user_id: int, access_token: str | None = None) -> requests.Response:
        """The person opens the app's Telegram page inside Bitrix24 (the portal posts their ``AUTH_ID``)."""
        sandbox = self.env.sandbox
        with sandbox.state.lock:
            tokens = oauth.issue_user_tokens(sandbox.state, user_id)
        app = oauth.installed_app(sandbox.state)
        form = {"AUTH_ID": access_token or tokens["access_token"], "AUTH_EXPIRES": "3600",
                "REFRESH_ID": tokens["refresh_token"], "member_id": self.env.member_id, "status": "L",
                "APPLICATION_TOKEN": app.application_token if app else ""}
        return requests.post(f"{self.env.url}/telegram/link", params={"DOMAIN": sandbox.domain, "LANG": "ru"},
                             data=form, timeout=30)

    def link_from_bitrix24(self, user_id: int, chat_id: int) -> None:
        """The deep link shown on that page, opened in Telegram: ``/start <token>`` through the webhook."""
        page = self.link_page(user_id)
        assert page.status_code == 200, page.text
        found = re.search(r'id="deep-link" href="https://t\.me/([^?"]+)\?start=([A-Za-z0-9_-]{1,64})"', page.text)
        assert found is not None and found.group(1) == self.bot.username
        delivery = self.bot.send_text(chat_id, f"/start {found.group(2)}")
        assert delivery.status == 200 and "подключён" in self.bot.last_message(chat_id).text

    def with_buttons(self, chat_id: int) -> list[SentMessage]:
        return [m for m in self.bot.messages(chat_id) if m.buttons()]


@contextmanager
def telegram_env(sandbox: SandboxPortal, redis_url: str, monkeypatch: pytest.MonkeyPatch,
                 config_dir: Path = ROOT / "config") -> Iterator[TgEnv]:
    with FakeBotApi() as bot:
        settings = {"TOKEN": bot.token, "SECRET": SECRET, "BOT_USERNAME": bot.username,
                    "API_BASE_URL": bot.base_url, "QUEUE": queues.TELEGRAM, "CHAT_INTERVAL": "0.05"}
        for name, value in settings.items():
            monkeypatch.setenv(f"B24APP_TELEGRAM_{name}", value)
        monkeypatch.delenv("B24APP_TELEGRAM_ACTION_MODULES", raising=False)
        with approval_env(sandbox, redis_url, config_dir) as env:
            bot.call("setWebhook", {"url": f"{env.url}/telegram/webhook", "secret_token": SECRET})
            yield TgEnv(env, bot)
