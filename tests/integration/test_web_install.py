"""POST /b24/install over real HTTP: both install shapes are stored and the install hook is queued."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
import requests
from rq import Queue

from b24app import queue as queues
from b24app.deps import Deps
from b24app.sandbox.shared import load_example
from b24app.web import create_app
from tests.integration.helpers import make_settings
from tests.integration.webserver import serve


@pytest.fixture
def deps(redis_url: str) -> Deps:
    return Deps(make_settings(redis_url))


@pytest.fixture
def base_url(deps: Deps) -> Iterator[str]:
    with serve(create_app(deps=deps)) as url:
        yield url


def frame_post(base_url: str, **changes: str) -> requests.Response:
    params = dict(load_example("app.frame_open_post")["params_as_documented"])
    params.update(changes)
    query = {k: params.pop(k) for k in ("DOMAIN", "PROTOCOL", "LANG", "APP_SID")}
    return requests.post(f"{base_url}/b24/install", params=query, data=params, timeout=10)


def install_jobs(conn: redis.Redis) -> list[str]:
    return [str(job.func_name) for job in Queue(queues.DEFAULT, connection=conn).jobs]


def test_frame_post_is_stored_and_answers_the_install_finish_page(
    deps: Deps, base_url: str, redis_conn: redis.Redis
) -> None:
    response = frame_post(base_url)
    assert response.status_code == 200
    assert "BX24.installFinish()" in response.text
    assert "//api.bitrix24.com/api/v1/" in response.text
    stored = deps.installations.get("a223c6b3710f85df22e9377d6c4f7553")
    assert stored.domain == "portal.bitrix24.com"
    assert stored.access_token == "ahodg4h37n89vo17gbkgq0x1l825nnb5"
    assert stored.refresh_token == "2lg086mxijlpvwh0h7r4nl19udm4try5"
    assert stored.application_token == "ec1b2074a9d3f5c81b6e40d27a95cf38"
    assert stored.scopes == ("crm", "entity", "im", "task")
    assert stored.installed_at > 0 and not stored.removed
    assert install_jobs(redis_conn) == ["b24app.jobs.after_install"]


def test_install_event_form_is_stored_once_with_one_hook_job(
    deps: Deps, base_url: str, redis_conn: redis.Redis
) -> None:
    example = load_example("event.ONAPPINSTALL")
    payload = example["payloads_as_documented"][0]
    form = [tuple(pair) for pair in example["form_encoded_derived"][0]]
    for _ in range(2):
        response = requests.post(f"{base_url}/b24/install", data=form, timeout=10)
        assert response.status_code == 200
        assert response.json() == {"result": "installed"}
    auth = payload["auth"]
    stored = deps.installations.get(auth["member_id"])
    assert stored.client_endpoint == auth["client_endpoint"]
    assert stored.application_token == auth["application_token"]
    assert install_jobs(redis_conn) == ["b24app.jobs.after_install"]


def test_active_installation_is_not_hijacked(deps: Deps, base_url: str) -> None:
    assert frame_post(base_url).status_code == 200
    response = frame_post(base_url, APPLICATION_TOKEN="attacker-token-0000", AUTH_ID="attacker-access-00")
    assert response.status_code == 401
    stored = deps.installations.get("a223c6b3710f85df22e9377d6c4f7553")
    assert stored.access_token == "ahodg4h37n89vo17gbkgq0x1l825nnb5"


def test_incomplete_install_post_is_rejected(deps: Deps, base_url: str, redis_conn: redis.Redis) -> None:
    response = requests.post(f"{base_url}/b24/install", data={"member_id": "x"}, timeout=10)
    assert response.status_code == 400
    assert "AUTH_ID" in response.json()["description"]
    assert deps.installations.find("x") is None
    assert install_jobs(redis_conn) == []
