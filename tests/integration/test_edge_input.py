"""Malformed input at the two public edges, over real HTTP with a private Redis: ``/b24/events`` and
``/telegram/webhook`` answer 4xx (never 500) and store or enqueue nothing; a Telegram update whose
handling failed is handled again when Telegram redelivers it."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import redis
import requests
from flask import Flask
from rq import Queue

from b24app import queue as queues
from b24app.deps import Deps
from b24app.telegram.callbacks import ActionRegistry, CallbackRecord, Outcome
from b24app.telegram.config import TelegramConfig
from b24app.telegram.context import TelegramRuntime
from b24app.web.telegram import SECRET_HEADER, init_telegram
from tests.integration.helpers import APP_TOKEN, MEMBER_ID, install, make_settings
from tests.integration.webserver import serve

SECRET = "edge-webhook-secret_1"


@pytest.fixture
def deps(redis_url: str) -> Deps:
    return Deps(make_settings(redis_url, telegram_token="123:abcdefghijk", telegram_secret=SECRET))


def _queued(conn: redis.Redis) -> int:
    return sum(Queue(name, connection=conn).count for name in queues.ALL_QUEUES)


@pytest.mark.parametrize("pairs", [
    [("event", "ONCRMDYNAMICITEMADD"), ("auth[member_id][a]", "x"), ("auth[application_token]", APP_TOKEN)],
    [("event", "ONCRMDYNAMICITEMADD"), ("auth[member_id]", MEMBER_ID), ("auth[application_token][]", APP_TOKEN)],
    [("event[]", "ONCRMDYNAMICITEMADD"), ("auth[member_id]", MEMBER_ID), ("auth[application_token]", APP_TOKEN)],
    [("event", "ONAPPUNINSTALL"), ("auth[member_id][0]", MEMBER_ID), ("auth[application_token]", APP_TOKEN)],
    [("event", "ONAPPINSTALL"), ("auth[member_id][a]", "1"), ("auth[domain]", "d"), ("auth[access_token]", "a"),
     ("auth[refresh_token]", "r"), ("auth[application_token]", "t")],
])
def test_events_refuse_non_string_identity_fields(
    deps: Deps, base_url: str, redis_conn: redis.Redis, pairs: list[tuple[str, str]]
) -> None:
    install(deps)
    before = deps.installations.get(MEMBER_ID).to_hash()
    response = requests.post(f"{base_url}/b24/events", data=pairs, timeout=10)
    assert response.status_code in (400, 401)
    assert deps.installations.member_ids() == [MEMBER_ID]
    assert deps.installations.get(MEMBER_ID).to_hash() == before
    assert _queued(redis_conn) == 0


def _fuzz_forms(rng: random.Random) -> Iterator[list[tuple[str, str]]]:
    keys = ["event", "event[]", "auth", "auth[member_id]", "auth[member_id][a]", "auth[application_token]",
            "auth[application_token][]", "data", "data[FIELDS][ID]", "data[FIELDS][ID][]", "data[FIELDS][ID][x]",
            "ts", "ts[]", "auth[refresh_token]", "auth[client_endpoint]", "auth[expires_in]", "[]", "a[b]]", "%%"]
    values = ["", "ONAPPINSTALL", "ONAPPUNINSTALL", "ONCRMDYNAMICITEMUPDATE", MEMBER_ID, "forged", "1e400", "nan",
              "-1", "[1", "{}", "x" * 3000, "\u0000", "кириллица"]
    for _ in range(60):
        yield [(rng.choice(keys), rng.choice(values)) for _ in range(rng.randint(0, 8))]


def test_fuzzed_event_forms_never_crash_nor_store_anything(deps: Deps, base_url: str, redis_conn: redis.Redis) -> None:
    install(deps)
    before = deps.installations.get(MEMBER_ID).to_hash()
    for pairs in _fuzz_forms(random.Random(20261128)):
        response = requests.post(f"{base_url}/b24/events", data=pairs, timeout=10)
        assert response.status_code < 500, (pairs, response.text)
    raw = requests.post(f"{base_url}/b24/events", data=b"%%%%&&==[", timeout=10,
                        headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert raw.status_code < 500
    assert deps.installations.member_ids() == [MEMBER_ID]
    assert deps.installations.get(MEMBER_ID).to_hash() == before
    assert _queued(redis_conn) == 0  # no forged token got through


def _webhook(base_url: str, body: Any, raw: bool = False) -> requests.Response:
    data = body if raw else json.dumps(body)
    return requests.post(f"{base_url}/telegram/webhook", data=data, timeout=10,
                         headers={SECRET_HEADER: SECRET, "Content-Type": "application/json"})


PRESS = {"id": "7", "from": {"id": 5, "is_bot": False, "first_name": "x"}, "chat_instance": "1", "data": "x"}


@pytest.mark.parametrize("body", [
    {"update_id": 1, "callback_query": {"id": "1", "data": "x"}},             # no chat_instance, no from
    {"update_id": 2, "callback_query": {**PRESS, "from": {"id": "five"}}},
    {"update_id": "abc"},
    {"update_id": True, "message": {}},
    {"update_id": 3.5},
    {"update_id": 4, "message": {"message_id": 1, "date": 0, "chat": {"id": "x"}}},
    {"update_id": 5, "message": "hello"},
    {"update_id": 6, "callback_query": []},
    [1, 2, 3],
    "text",
])
def test_malformed_telegram_updates_get_400(base_url: str, body: Any) -> None:
    assert _webhook(base_url, body).status_code == 400


def test_fuzzed_telegram_updates_never_crash(base_url: str) -> None:
    rng = random.Random(7)
    parts: list[Any] = [None, 0, -1, 10**30, "", "x", [], {}, {"id": 1}, True, 1.5]
    names = ["update_id", "message", "callback_query", "edited_message", "chat", "from", "id", "data", "text"]
    for n in range(80):
        body: dict[str, Any] = {"update_id": n} if n % 3 else {}
        for _ in range(rng.randint(0, 4)):
            value = rng.choice(parts) if rng.random() < 0.6 else {rng.choice(names): rng.choice(parts)}
            body[rng.choice(names)] = value
        response = _webhook(base_url, body)
        assert response.status_code < 500, (body, response.text)
    assert _webhook(base_url, b"{not json", raw=True).status_code == 400
    assert _webhook(base_url, {"update_id": 10**6, "callback_query": PRESS}).status_code == 200


@dataclass(frozen=True)
class FlakyRuntime(TelegramRuntime):
    """Its queue fails once, as Redis can while the webhook enqueues the decision."""

    failures: list[int] = field(default_factory=lambda: [1])

    def enqueue(self, func: Any, *args: Any) -> None:
        if self.failures:
            self.failures.pop()
            raise redis.ConnectionError("queue unavailable")
        super().enqueue(func, *args)


def test_an_update_whose_job_could_not_be_enqueued_is_handled_on_redelivery(redis_url: str) -> None:
    conn = redis.Redis.from_url(redis_url)
    registry = ActionRegistry()
    registry.add("approve", lambda press: Outcome.done("ok"))
    runtime = FlakyRuntime(config=TelegramConfig(bot_token="1:x", webhook_secret=SECRET), redis=conn,
                           registry=registry)
    link_token = runtime.links.issue_token(MEMBER_ID, 17)
    assert runtime.links.consume_token(link_token, 5) is not None
    ref = runtime.callbacks.create(CallbackRecord(MEMBER_ID, 1100, 3, "head", "approve"))
    app = Flask("edge")
    init_telegram(app, runtime)
    update = {"update_id": 42, "callback_query": {**PRESS, "data": ref}}
    with serve(app) as url:
        first = _webhook(url, update)
        assert first.status_code == 500  # Telegram redelivers an update it got no 200 for
        assert Queue(runtime.config.queue_name, connection=conn).count == 0
        second = _webhook(url, update)
        assert second.status_code == 200
        assert Queue(runtime.config.queue_name, connection=conn).count == 1
        assert _webhook(url, update).status_code == 200  # a third delivery is a duplicate: dropped
        assert Queue(runtime.config.queue_name, connection=conn).count == 1
