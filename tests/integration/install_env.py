"""A sandbox portal playing the OAuth server, our app configured with its client id and secret, the web
app over real HTTP: what the install tests post genuine and forged install forms to."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from rq import Queue

from b24app import queue as queues
from b24app.deps import Deps
from b24app.web import create_app
from b24app.worker import BurstWorker
from b24sandbox import SandboxPortal, oauth
from b24sandbox.install import frame_pairs
from b24sandbox.portal import AppCredentials
from tests.integration.helpers import make_settings
from tests.integration.webserver import serve

ATTACKER = "https://attacker.example/rest/"


@dataclass
class World:
    sandbox: SandboxPortal
    creds: AppCredentials
    deps: Deps
    url: str

    def tokens(self, login: str | None = None) -> dict[str, Any]:
        """Genuine tokens of our app for the portal admin (what the portal posts on install), or for
        ``login`` (what that person's browser gets in every widget frame POST)."""
        with self.sandbox.state.lock:
            user = self.sandbox.state.user_by_login(login or self.sandbox.state.portal.admin_login)
            return oauth.issue_user_tokens(self.sandbox.state, user.id)

    def frame_post(self, pairs: list[tuple[str, str]], domain: str | None = None) -> requests.Response:
        query = dict(parse_qsl(urlsplit(self.sandbox.frame_url("http://x/")).query))
        if domain is not None:
            query["DOMAIN"] = domain
        return requests.post(f"{self.url}/b24/install", params=query, data=pairs, timeout=30)

    def post(self, path: str, pairs: list[tuple[str, str]]) -> requests.Response:
        return requests.post(f"{self.url}{path}", data=pairs, timeout=30)

    def genuine_install(self) -> dict[str, Any]:
        tokens = self.tokens()
        response = self.frame_post(frame_pairs(self.sandbox, tokens))
        assert response.status_code == 200, response.text
        return tokens

    def run_jobs(self) -> None:
        """Run what the edge queued (the uninstall check, install hooks) in a real RQ worker, once."""
        queue_list = [Queue(name, connection=self.deps.redis) for name in (queues.EVENTS, queues.DEFAULT)]
        BurstWorker(queue_list, connection=self.deps.redis).work(burst=True)

    def install_jobs(self) -> list[str]:
        queue = Queue(queues.DEFAULT, connection=self.deps.redis)
        return [str(job.id) for job in queue.jobs if job.func_name == "b24app.jobs.after_install"]


def install_settings(redis_url: str, sandbox: SandboxPortal, creds: AppCredentials | None, **extra: Any) -> Any:
    values: dict[str, Any] = {"oauth_server": sandbox.base_url, "retry_base_delay": 0.0, **extra}
    if creds is not None:
        values |= {"client_id": creds.client_id, "client_secret": creds.client_secret}
    else:
        values |= {"client_id": None, "client_secret": None}
    return make_settings(redis_url, **values)


@pytest.fixture
def world(redis_url: str, sandbox: SandboxPortal, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(sandbox.ca_bundle))
    creds = sandbox.install_app(handler_url="http://127.0.0.1:9/unused")  # no install POST: the tests post
    deps = Deps(install_settings(redis_url, sandbox, creds))
    with serve(create_app(deps=deps)) as url:
        yield World(sandbox, creds, deps, url)


