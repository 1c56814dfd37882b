"""Hostile forms and bodies at every edge, over real HTTP with a private Redis: a key nested 10 000
levels or a form of thousands of keys is a 400 with one log line (never a RecursionError and a
traceback), a body over ``B24APP_MAX_REQUEST_BYTES`` is a 413 — on every route, the Telegram webhook too."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
import redis
import requests
from rq import Queue

from b24app import queue as queues
from b24app.deps import Deps
from b24app.web import create_app
from tests.integration.helpers import APP_TOKEN, MEMBER_ID, install, make_settings
from tests.integration.webserver import serve

FORM_ROUTES = ["/b24/events", "/b24/install", "/b24/placement", "/b24/placement/decide", "/telegram/link"]


@pytest.fixture
def deps(redis_url: str) -> Deps:
    return Deps(make_settings(redis_url, telegram_token="123:abcdefghijk", telegram_secret="edge-secret-1",
                              max_request_bytes=64 * 1024))


@pytest.fixture
def base_url(deps: Deps) -> Iterator[str]:
    install(deps)
    with serve(create_app(deps=deps)) as url:
        yield url


def _deep(levels: int = 10_000) -> str:
    return "event=ONCRMDYNAMICITEMADD&auth[member_id]=" + MEMBER_ID + "&a" + "[b]" * levels + "=1"


def _app_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name.startswith("b24app") and r.levelno >= logging.WARNING]


@pytest.mark.parametrize("path", FORM_ROUTES)
def test_a_key_nested_ten_thousand_levels_is_a_400_with_one_log_line(
        base_url: str, path: str, redis_conn: redis.Redis, caplog: pytest.LogCaptureFixture) -> None:
    body = _deep()
    assert 30_000 < len(body) < 64 * 1024
    response = requests.post(f"{base_url}{path}", data=body, timeout=30,
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 400, response.text
    assert "nested deeper" in response.json()["description"]
    records = _app_records(caplog)
    assert len(records) == 1 and records[0].levelno == logging.WARNING and records[0].exc_info is None
    assert sum(Queue(name, connection=redis_conn).count for name in queues.ALL_QUEUES) == 0


@pytest.mark.parametrize("path", FORM_ROUTES)
def test_a_form_of_thousands_of_keys_is_a_400(base_url: str, path: str) -> None:
    pairs = [("event", "ONCRMDYNAMICITEMADD"), ("auth[member_id]", MEMBER_ID), ("auth[application_token]", APP_TOKEN)]
    pairs += [(f"data[k{i}]", "v") for i in range(3000)]
    response = requests.post(f"{base_url}{path}", data=pairs, timeout=30)
    assert response.status_code == 400 and "form keys" in response.json()["description"]


@pytest.mark.parametrize("path", [*FORM_ROUTES, "/telegram/webhook", "/healthz"])
def test_a_body_over_the_limit_is_a_413_on_every_route(base_url: str, path: str) -> None:
    body = "x=" + "a" * (65 * 1024)
    response = requests.post(f"{base_url}{path}", data=body, timeout=30,
                             headers={"Content-Type": "application/x-www-form-urlencoded",
                                      "X-Telegram-Bot-Api-Secret-Token": "edge-secret-1"})
    assert response.status_code == 413


def test_the_telegram_webhook_refuses_a_large_json_body(base_url: str) -> None:
    update = '{"update_id": 1, "message": {"text": "' + "я" * 40_000 + '"}}'
    response = requests.post(f"{base_url}/telegram/webhook", data=update.encode(), timeout=30,
                             headers={"Content-Type": "application/json",
                                      "X-Telegram-Bot-Api-Secret-Token": "edge-secret-1"})
    assert response.status_code == 413


def test_an_ordinary_event_still_passes(base_url: str, deps: Deps) -> None:
    pairs = [("event", "ONCRMDYNAMICITEMADD"), ("data[FIELDS][ID]", "5"), ("data[FIELDS][ENTITY_TYPE_ID]", "1030"),
             ("auth[member_id]", MEMBER_ID), ("auth[application_token]", APP_TOKEN)]
    assert requests.post(f"{base_url}/b24/events", data=pairs, timeout=30).json() == {"result": "queued"}
