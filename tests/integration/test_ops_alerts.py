"""A portal that refuses the app's tokens for good, or tokens that are gone, is said once, loudly: one ERROR
log line with the fix and one Telegram message to the operations manager's linked chat.

The real stack: the sandbox over HTTPS (portal and OAuth server), its events delivered to the app's
``/b24/events``, the sweep and the Telegram deliveries run as RQ jobs by the BurstWorker on a private Redis,
the fake Bot API recording what the operations manager receives.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
import requests

from b24app import keys
from b24app import queue as queues
from b24app.auth.store import InstallationStore
from b24app.deps import set_current
from b24sandbox import SandboxPortal
from b24sandbox.telegram_api import SentMessage
from tests.integration.telegram_env import TgEnv, telegram_env

OPS, OPS_CHAT = 9, 9009  # operations_manager in config/roles.yaml


@pytest.fixture
def tg(sandbox: SandboxPortal, redis_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[TgEnv]:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(sandbox.ca_bundle))
    with telegram_env(sandbox, redis_url, monkeypatch) as built:
        set_current(built.env.deps)
        _sweep(built)  # a healthy sweep (and the day's digest) before the operations manager links a chat
        built.link(OPS, OPS_CHAT)
        yield built
        assert not built.failed_jobs()


def _sweep(tg: TgEnv) -> None:
    """The 5-minute sweep as ``rq cron`` enqueues it, then every job it causes (Telegram deliveries too)."""
    tg.env.deps.queue(queues.DEFAULT).enqueue("b24app.escalation.jobs.sweep_job")
    tg.settle()


def _alerts(tg: TgEnv) -> list[SentMessage]:
    return [m for m in tg.bot.messages(OPS_CHAT) if "подключён" not in m.text]


def _errors(caplog: pytest.LogCaptureFixture, words: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR and words in r.getMessage()]


def _rolled_back(tg: TgEnv) -> None:
    """Redis restored from an old snapshot: the stored pair was rotated since, so the refresh is refused."""
    deps = tg.env.deps
    stored = deps.installations.get(tg.env.member_id)
    deps.refresher.exchange(stored.refresh_token, deps.credentials.default())  # type: ignore[arg-type]
    tg.env.sandbox.expire_tokens()


def test_refused_tokens_are_said_once_in_the_log_and_to_the_operations_manager(
        tg: TgEnv, caplog: pytest.LogCaptureFixture) -> None:
    domain = tg.env.sandbox.domain
    fields = tg.env.request_fields()
    _sweep(tg)  # a healthy sweep: nothing to say
    assert _alerts(tg) == [] and _errors(caplog, "refuses the app's tokens") == []
    _rolled_back(tg)
    _sweep(tg)
    [error] = _errors(caplog, "refuses the app's tokens")
    assert domain in error and "invalid_grant" in error and "opens the app again" in error
    [alert] = _alerts(tg)
    assert domain in alert.text and "открывает приложение ещё раз" in alert.text
    stored = tg.env.deps.installations.find(tg.env.member_id)
    assert stored is not None and stored.removed
    for _ in range(2):  # the next sweeps skip the portal; the next event from it is refused: nothing more
        _sweep(tg)
    tg.env.as_user("a.ivanova").create_item(1100, fields)
    tg.settle()
    assert len(_errors(caplog, "refuses the app's tokens")) == 1 and len(_alerts(tg)) == 1


def test_an_uninstall_the_app_never_heard_of_reaches_the_operations_manager_once(
        tg: TgEnv, caplog: pytest.LogCaptureFixture) -> None:
    env = tg.env
    env.client.call("event.unbind", {"event": "ONAPPUNINSTALL", "handler": f"{env.url}/b24/events"})
    env.sandbox.uninstall_app()
    env.settle()
    _sweep(tg)
    _sweep(tg)
    [error] = _errors(caplog, "refuses the app's tokens")
    assert env.sandbox.domain in error and "opens the app again" in error
    [alert] = _alerts(tg)
    assert env.sandbox.domain in alert.text and "переустанавливает" in alert.text


def test_an_announced_uninstall_is_no_incident(tg: TgEnv, caplog: pytest.LogCaptureFixture) -> None:
    tg.env.sandbox.uninstall_app()
    tg.settle()
    _sweep(tg)
    stored = tg.env.deps.installations.find(tg.env.member_id)
    assert stored is not None and stored.removed
    assert _errors(caplog, "refuses the app's tokens") == [] and _alerts(tg) == []


@pytest.mark.parametrize("lost", ["the portal's tokens", "every installation"])
def test_events_whose_tokens_are_gone_are_said_once(tg: TgEnv, caplog: pytest.LogCaptureFixture, lost: str) -> None:
    env = tg.env
    fields = env.request_fields()
    forged = [("event", "ONCRMDYNAMICITEMADD"), ("data[FIELDS][ID]", "1"), ("auth[member_id]", "f" * 32),
              ("auth[application_token]", "x")]
    assert requests.post(f"{env.url}/b24/events", data=forged, timeout=10).status_code == 401
    assert not [r for r in caplog.records if r.levelno == logging.ERROR]  # an unknown portal alone proves nothing
    env.deps.redis.delete(InstallationStore.key(env.member_id))  # evicted, or lost with part of the data
    if lost == "every installation":
        env.deps.redis.delete(keys.INSTALLATIONS)  # the Telegram links survived (restored apart, say)
    for _ in range(2):
        env.as_user("a.ivanova").create_item(1100, fields)
        tg.settle()
    assert requests.post(f"{env.url}/b24/events", data=forged, timeout=10).status_code == 401
    [error] = _errors(caplog, "no installation is stored" if lost == "every installation" else "is not stored")
    assert "appendonly yes" in error and "opens the app again" in error
    [alert] = _alerts(tg)
    assert "открывает приложение ещё раз" in alert.text and "appendonly yes" in alert.text
    if lost == "the portal's tokens":
        assert env.member_id in error and env.member_id in alert.text
