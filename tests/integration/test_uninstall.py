"""A genuine uninstall reaches the app and stops its jobs: the provisioned stack (events delivered by the
sandbox to the real ``/b24/events``, jobs through RQ on a real Redis), the sandbox's own uninstall action."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from b24app.deps import set_current
from b24app.escalation.jobs import sweep_job
from b24sandbox import SandboxPortal
from tests.integration.approval_env import Env, approval_env


@pytest.fixture
def env(sandbox: SandboxPortal, redis_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(sandbox.ca_bundle))
    with approval_env(sandbox, redis_url) as running:
        set_current(running.deps)
        yield running


def test_install_binds_onappuninstall(env: Env) -> None:
    bound = env.client.call("event.get")
    assert any(row["event"] == "ONAPPUNINSTALL" and row["handler"] == f"{env.url}/b24/events" for row in bound)


def test_the_sandboxs_uninstall_marks_the_installation_removed_and_stops_its_jobs(env: Env) -> None:
    sweep_job()  # a healthy sweep first
    env.sandbox.uninstall_app()
    env.settle()
    stored = env.deps.installations.find(env.member_id)
    assert stored is not None and stored.removed
    assert env.deps.installations.active() == []
    before = len(env.sandbox.calls)
    assert sweep_job() == []  # no portal is swept any more, and the job does not fail
    assert len(env.sandbox.calls) == before
    assert env.failed_jobs() == []


def test_an_uninstall_the_app_never_heard_of_is_found_by_the_sweep_once(
        env: Env, caplog: pytest.LogCaptureFixture) -> None:
    env.client.call("event.unbind", {"event": "ONAPPUNINSTALL", "handler": f"{env.url}/b24/events"})
    env.sandbox.uninstall_app()
    env.settle()
    assert not env.deps.installations.get(env.member_id).removed  # nothing told the app
    assert sweep_job() == []  # the portal refuses the tokens: it is marked removed — an outcome, not a failure
    stored = env.deps.installations.find(env.member_id)
    assert stored is not None and stored.removed
    before = len(env.sandbox.calls)
    for _ in range(3):
        assert sweep_job() == []
    assert len(env.sandbox.calls) == before
    loud = [r for r in caplog.records if r.levelno == logging.ERROR and "refuses the app's tokens" in r.getMessage()]
    assert len(loud) == 1
