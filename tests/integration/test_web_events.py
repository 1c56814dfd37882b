"""POST /b24/events over real HTTP with a real Redis: verify, de-duplicate, enqueue exactly once."""

from __future__ import annotations

from typing import Any

import pytest
import redis
import requests
from rq import Queue

from b24app import phpform
from b24app import queue as queues
from b24app.deps import Deps, set_current
from b24app.worker import BurstWorker
from tests.fixtures.waits import WAIT
from tests.integration.helpers import MEMBER_ID, event_form, install, make_settings


def post(base_url: str, form: dict[str, object]) -> requests.Response:
    return requests.post(
        f"{base_url}/b24/events",
        data=phpform.flatten(form),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=10,
    )


def events_queue(conn: redis.Redis) -> Queue:
    return Queue(queues.EVENTS, connection=conn)


def test_wrong_application_token_is_refused_and_nothing_enqueued(
    deps: Deps, base_url: str, redis_conn: redis.Redis
) -> None:
    install(deps)
    response = post(base_url, event_form(token="forged-token-000000"))
    assert response.status_code == 401
    assert events_queue(redis_conn).count == 0


def test_unknown_portal_is_refused(deps: Deps, base_url: str, redis_conn: redis.Redis) -> None:
    response = post(base_url, event_form())
    assert response.status_code == 401
    assert events_queue(redis_conn).count == 0


def test_right_token_enqueues_exactly_one_job_even_when_posted_twice(
    deps: Deps, base_url: str, redis_conn: redis.Redis
) -> None:
    install(deps)
    first = post(base_url, event_form())
    second = post(base_url, event_form())
    assert (first.status_code, second.status_code) == (200, 200)
    queue = events_queue(redis_conn)
    assert queue.count == 1
    job = queue.jobs[0]
    assert job.func_name == "b24app.jobs.handle_event"
    assert job.args[:4] == (MEMBER_ID, "ONCRMDYNAMICITEMADD", {"FIELDS": {"ID": "22", "ENTITY_TYPE_ID": "1220"}}, "1723534033")
    assert "user-access-token-3333" not in repr(job.args)


def test_the_same_event_after_its_job_started_gets_a_job_of_its_own(
    deps: Deps, base_url: str, redis_conn: redis.Redis
) -> None:
    """A change made right after the app's own write can carry the same ids and even the same ``ts``
    second: once the first job has started (and read the state), the repeat must not be dropped."""
    install(deps)
    assert post(base_url, event_form()).json() == {"result": "queued"}
    assert post(base_url, event_form()).json() == {"result": "coalesced"}
    first = events_queue(redis_conn).job_ids
    set_current(deps)
    try:
        BurstWorker([events_queue(redis_conn)], connection=redis_conn).work(burst=True)
    finally:
        set_current(None)
    assert post(base_url, event_form()).json() == {"result": "queued"}
    second = events_queue(redis_conn).job_ids
    assert len(first) == 1 and len(second) == 1 and first != second


def test_distinct_events_get_distinct_jobs(deps: Deps, base_url: str, redis_conn: redis.Redis) -> None:
    install(deps)
    assert post(base_url, event_form(item_id="22")).status_code == 200
    assert post(base_url, event_form(item_id="23")).status_code == 200
    assert events_queue(redis_conn).count == 2


def test_uninstall_only_queues_a_check_with_the_portal(
    deps: Deps, base_url: str, redis_conn: redis.Redis
) -> None:
    """The event alone proves nothing (its token is in every widget POST): it queues one check job, and the
    installation stays active until the portal refuses the app's tokens (tests/integration/test_install_trust.py)."""
    install(deps)
    forged = event_form("ONAPPUNINSTALL", token="forged-token-000000")
    assert post(base_url, forged).status_code == 401
    assert events_queue(redis_conn).count == 0
    for _ in range(3):
        assert post(base_url, event_form("ONAPPUNINSTALL")).json() == {"result": "checking"}
    assert deps.installations.get(MEMBER_ID).removed is False
    assert [job.func_name for job in events_queue(redis_conn).jobs] == ["b24app.jobs.confirm_uninstall"]
    assert post(base_url, event_form()).json() == {"result": "queued"}


def test_sandbox_install_then_a_real_event_becomes_one_job(
    deps: Deps, base_url: str, redis_conn: redis.Redis, sandbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The portal posts the install page before the administrator could give the app its client id and
    secret: the install is held, then proved with the OAuth server once they are set."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", sandbox.ca_bundle)
    redis_url = deps.settings.redis_url or ""
    deps.settings = make_settings(redis_url, client_id=None, client_secret=None, oauth_server=sandbox.base_url)
    creds = sandbox.install_app(handler_url=f"{base_url}/b24/events", install_url=f"{base_url}/b24/install")
    assert deps.installations.find(creds.member_id) is None  # not proved yet: not stored
    deps.settings = make_settings(redis_url, client_id=creds.client_id, client_secret=creds.client_secret,
                                  oauth_server=sandbox.base_url)
    client = deps.bitrix(creds.member_id)
    stored = deps.installations.get(creds.member_id)
    assert stored.client_endpoint == creds.client_endpoint
    assert stored.application_token == creds.application_token
    assert client.call("event.bind", {"event": "ONCRMDYNAMICITEMADD", "handler": f"{base_url}/b24/events"}) is True
    etid = client.call("crm.type.add", {"fields": {"title": "Events"}})["type"]["entityTypeId"]
    item = client.call("crm.item.add", {"entityTypeId": etid, "fields": {"title": "Заявка"}})["item"]
    assert sandbox.drain_events(WAIT)
    jobs = [job for job in events_queue(redis_conn).jobs if job.args[1] == "ONCRMDYNAMICITEMADD"]
    assert len(jobs) == 1
    member_id, _, data, _ = jobs[0].args[:4]
    assert member_id == creds.member_id
    assert data["FIELDS"] == {"ID": str(item["id"]), "ENTITY_TYPE_ID": str(etid)}
