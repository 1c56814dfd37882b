"""Fixtures for the Telegram tests: the fake Bot API, the webhook over real HTTP, in-process RQ runs.

Redis is the private redis-server of ``tests/fixtures/redis.py`` (``redis_url``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from redis import Redis
from rq import Queue
from rq.scheduler import RQScheduler

from b24app.deps import Deps, set_current
from b24app.settings import Settings
from b24app.telegram.callbacks import ActionRegistry, actions
from b24app.telegram.config import TelegramConfig
from b24app.telegram.context import TelegramRuntime
from b24app.web.telegram import init_app
from b24app.worker import BurstWorker
from b24sandbox.telegram_api import FakeBotApi
from tests.fixtures.waits import nap_until_next_scheduled
from tests.integration.webserver import serve

SECRET = "test-webhook-secret_0123456789"
QUEUE = "telegram-test"
MEMBER = "a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4"


class TestClock:
    __test__ = False

    def __init__(self) -> None:
        self.moment = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, **kwargs: float) -> None:
        self.moment += timedelta(**kwargs)


@pytest.fixture(autouse=True)
def fresh_deps() -> Iterator[None]:
    """Jobs and CLI commands read settings through ``b24app.deps.current()``: rebuild it per test."""
    set_current(None)
    yield
    set_current(None)


@pytest.fixture()
def redis(redis_url: str) -> Iterator[Redis]:
    """A client of FOUNDATION's private redis-server (tests/fixtures/redis.py), flushed around each test."""
    client = Redis.from_url(redis_url)
    client.flushdb()
    yield client
    client.flushdb()


@pytest.fixture()
def fake_api() -> Iterator[FakeBotApi]:
    with FakeBotApi() as api:
        yield api


@pytest.fixture()
def config(fake_api: FakeBotApi, monkeypatch: pytest.MonkeyPatch) -> TelegramConfig:
    env = {"B24APP_TELEGRAM_TOKEN": fake_api.token, "B24APP_TELEGRAM_BOT_USERNAME": fake_api.username,
           "B24APP_TELEGRAM_SECRET": SECRET, "B24APP_TELEGRAM_API_BASE_URL": fake_api.base_url,
           "B24APP_TELEGRAM_QUEUE": QUEUE}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return TelegramConfig.from_env()


@pytest.fixture()
def clock() -> TestClock:
    return TestClock()


@pytest.fixture()
def registry() -> Iterator[ActionRegistry]:
    """The process-wide registry (the in-process worker reads it), emptied around each test."""
    actions.clear()
    yield actions
    actions.clear()


@pytest.fixture()
def deps(config: TelegramConfig, redis_url: str, redis: Redis, clock: TestClock, registry: ActionRegistry) -> Deps:
    """The process's Deps (the in-process worker's jobs read it too) with the test's clock and registry."""
    built = Deps(Settings(redis_url=redis_url), clock=clock, telegram_actions=registry)
    set_current(built)
    return built


@pytest.fixture()
def runtime(deps: Deps) -> TelegramRuntime:
    return deps.telegram


@pytest.fixture()
def webhook(deps: Deps, fake_api: FakeBotApi) -> Iterator[str]:
    """The Flask webhook served over real HTTP, registered with the fake Bot API."""
    app = Flask("telegram-test")
    init_app(app, deps)
    with serve(app) as base:
        url = f"{base}/telegram/webhook"
        fake_api.call("setWebhook", {"url": url, "secret_token": SECRET})
        yield url


def run_jobs(redis: Redis) -> None:
    """Run queued jobs in-process, moving scheduled ones when due, until nothing is left."""
    queue = Queue(QUEUE, connection=redis)
    scheduler = RQScheduler([queue], connection=redis)
    scheduler.acquire_locks()
    try:
        while True:
            scheduler.enqueue_scheduled_jobs()
            if queue.count:
                BurstWorker([queue], connection=redis).work(burst=True)
                continue
            if not queue.scheduled_job_registry.count:
                return
            nap_until_next_scheduled(queue)
    finally:
        scheduler.release_locks()


def jobs_path() -> Path:
    return Path(__file__).resolve().parents[2]
