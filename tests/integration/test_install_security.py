"""Install trust over real HTTP, with the sandbox as the OAuth server and a private Redis.

An install POST is only a claim: the app refreshes the posted refresh token once at the OAuth server and
stores what *that* answer says. These are the reviewer's attacks (endpoint takeover with a known
``APPLICATION_TOKEN``, a fake portal, a late ``ONAPPINSTALL`` rolling tokens back) plus the genuine path.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import redis
from rq import Queue
from rq.job import JobStatus
from rq.registry import FailedJobRegistry

from b24app import queue as queues
from b24app.deps import Deps
from b24app.rest.client import RestClient
from b24app.web import create_app
from b24sandbox import SandboxPortal
from b24sandbox.install import frame_pairs, install_event_pairs
from b24sandbox.portal import AppCredentials
from tests.integration.install_env import ATTACKER, World, install_settings, world
from tests.integration.webserver import serve

__all__ = ["world"]  # the fixture


def _forged(member_id: str, token: str, endpoint: str = ATTACKER) -> list[tuple[str, str]]:
    return [("event", "ONAPPINSTALL"), ("auth[member_id]", member_id), ("auth[domain]", urlsplit(endpoint).netloc),
            ("auth[client_endpoint]", endpoint), ("auth[access_token]", "forged-access-1"),
            ("auth[refresh_token]", "forged-refresh-1"), ("auth[application_token]", token)]


def test_genuine_install_stores_what_the_oauth_server_says(world: World) -> None:
    posted = world.genuine_install()
    stored = world.deps.installations.get(world.creds.member_id)
    assert stored.client_endpoint == world.creds.client_endpoint
    assert stored.domain == world.sandbox.domain
    assert stored.application_token == world.creds.application_token
    assert stored.refresh_token != posted["refresh_token"]  # the posted one was spent proving it
    assert set(stored.scopes) == set(world.creds.tokens["scope"].split(","))
    assert len(world.install_jobs()) == 1
    assert world.deps.bitrix(world.creds.member_id).call("app.info")["INSTALLED"] is True


def test_endpoint_takeover_with_a_known_application_token_is_refused(world: World) -> None:
    world.genuine_install()
    before = world.deps.installations.get(world.creds.member_id)
    jobs = world.install_jobs()
    forged_frame = [("member_id", world.creds.member_id), ("AUTH_ID", "x1"), ("REFRESH_ID", "y1"),
                    ("APPLICATION_TOKEN", world.creds.application_token)]
    assert world.frame_post(forged_frame, domain="attacker.example").status_code == 401
    forged_event = _forged(world.creds.member_id, world.creds.application_token)
    assert world.post("/b24/events", forged_event).status_code == 401
    assert world.post("/b24/install", forged_event).status_code == 401
    assert world.deps.installations.get(world.creds.member_id).to_hash() == before.to_hash()
    assert world.install_jobs() == jobs


def test_genuine_tokens_cannot_carry_a_posted_endpoint_or_another_member_id(world: World) -> None:
    pairs = install_event_pairs(world.sandbox, world.tokens())
    pairs = [(k, ATTACKER if k == "auth[client_endpoint]" else "attacker.example" if k == "auth[domain]" else v)
             for k, v in pairs]
    assert world.post("/b24/events", pairs).status_code == 200
    assert world.deps.installations.get(world.creds.member_id).client_endpoint == world.creds.client_endpoint
    other = [(k, "0" * 32 if k == "auth[member_id]" else v) for k, v in install_event_pairs(world.sandbox, world.tokens())]
    assert world.post("/b24/events", other).status_code == 401
    assert world.deps.installations.find("0" * 32) is None


def test_a_fake_portal_is_refused_and_the_real_one_stays_the_only_one(world: World, redis_conn: redis.Redis) -> None:
    world.genuine_install()
    jobs = world.install_jobs()
    response = world.post("/b24/events", _forged("evil-member", "any-token"))
    assert response.status_code == 401 and response.json()["error"] == "install_refused"
    assert world.deps.installations.find("evil-member") is None
    assert [i.member_id for i in world.deps.installations.active()] == [world.creds.member_id]
    assert world.install_jobs() == jobs
    fresh = Deps(world.deps.settings)  # the webhook-less default client still resolves the real portal
    assert fresh.bitrix(None).call("app.info")["INSTALLED"] is True


def test_a_late_onappinstall_does_not_roll_tokens_back(world: World) -> None:
    form = install_event_pairs(world.sandbox, world.tokens())
    assert world.post("/b24/install", form).json() == {"result": "installed"}
    stored = world.deps.installations.get(world.creds.member_id)
    rotated = world.deps.refresher.refresh(stored.member_id, stored.access_token)  # what a worker does later
    late = world.post("/b24/events", form)  # the same ONAPPINSTALL delivered again / late
    assert late.status_code == 401 and "invalid_grant" in late.json()["description"]
    after = world.deps.installations.get(world.creds.member_id)
    assert after.refresh_token == rotated.refresh_token
    world.sandbox.expire_tokens()
    assert world.deps.bitrix(world.creds.member_id).call("app.info")["INSTALLED"] is True  # still refreshable


def test_a_failed_hook_job_does_not_block_a_later_install(world: World) -> None:
    world.genuine_install()
    queue = Queue(queues.DEFAULT, connection=world.deps.redis)
    job = queue.fetch_job(world.install_jobs()[0])
    assert job is not None
    queue.remove(job)  # the hook job failed (its retries used up) and stays in the failed registry
    job.set_status(JobStatus.FAILED)
    FailedJobRegistry(queue=queue).add(job, exc_string="RestError: portal unavailable")
    world.genuine_install()  # the administrator installs again: the hooks must run again
    again = world.install_jobs()
    assert len(again) == 1 and again != [job.id]


def test_webhook_mode_refuses_installs(redis_url: str, sandbox: SandboxPortal, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(sandbox.ca_bundle))
    sandbox.install_app(handler_url="http://127.0.0.1:9/unused")
    deps = Deps(install_settings(redis_url, sandbox, None, webhook_url=sandbox.webhook_url(sandbox.state.portal.admin_login)))
    with serve(create_app(deps=deps)) as url:
        world = World(sandbox, AppCredentials.__new__(AppCredentials), deps, url)
        response = world.frame_post(frame_pairs(sandbox, world.tokens()))
        assert response.status_code == 400 and response.json()["error"] == "install_not_supported"
        assert "B24APP_CLIENT_ID" in response.json()["description"]
        event = world.post("/b24/events", install_event_pairs(sandbox, world.tokens()))
        assert event.status_code == 400
    assert deps.installations.member_ids() == []


def test_an_install_before_credentials_are_set_is_proved_on_first_use(
    redis_url: str, sandbox: SandboxPortal, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(sandbox.ca_bundle))
    creds = sandbox.install_app(handler_url="http://127.0.0.1:9/unused")
    early = Deps(install_settings(redis_url, sandbox, None))
    with serve(create_app(deps=early)) as url:
        world = World(sandbox, creds, early, url)
        world.genuine_install()
        forged = _forged("fake-member", "t")
        assert world.post("/b24/events", forged).status_code == 202
    assert early.installations.member_ids() == []  # held, not an installation
    configured = Deps(install_settings(redis_url, sandbox, creds))
    client: RestClient = configured.bitrix(creds.member_id)
    assert client.call("app.info")["INSTALLED"] is True
    assert configured.installations.get(creds.member_id).client_endpoint == creds.client_endpoint
    with pytest.raises(Exception, match="fake-member"):
        configured.bitrix("fake-member")  # its held claim fails the proof and is dropped
    assert configured.installations.find("fake-member") is None
