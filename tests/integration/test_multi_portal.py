"""One deployment, two portals, two local apps with their own client id and secret (the registry), over
real HTTP with the sandbox portals over HTTPS (each its own OAuth server) and a private Redis: both install,
both run their install hooks and refresh with their own pair, and a claim for one with the other's
tokens is refused."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from rq import Queue

from b24app import queue as queues
from b24app.deps import Deps, set_current
from b24app.web import create_app
from b24app.worker import BurstWorker
from b24sandbox import SandboxPortal, oauth
from b24sandbox.install import frame_pairs
from b24sandbox.portal import AppCredentials
from tests.integration.approval_env import ROOT
from tests.integration.helpers import make_settings
from tests.integration.webserver import serve


class _Late:
    app: Any = None

    def __call__(self, environ: Any, start_response: Any) -> Any:
        return self.app(environ, start_response)


@dataclass
class Hosted:
    portals: list[SandboxPortal]
    creds: list[AppCredentials]
    deps: Deps
    url: str

    def install(self, portal: SandboxPortal, tokens_from: SandboxPortal | None = None) -> requests.Response:
        source = tokens_from or portal
        with source.state.lock:
            admin = source.state.user_by_login(source.state.portal.admin_login)
            tokens = oauth.issue_user_tokens(source.state, admin.id)
        query = dict(parse_qsl(urlsplit(portal.frame_url("http://x/")).query))
        return requests.post(f"{self.url}/b24/install", params=query, data=frame_pairs(source, tokens), timeout=30)


@pytest.fixture
def hosted(sandbox_factory: Callable[..., SandboxPortal], redis_url: str,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[Hosted]:
    portals = [sandbox_factory(member_id="a" * 32), sandbox_factory(member_id="b" * 32)]
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(portals[0].ca_bundle))
    late = _Late()
    with serve(late) as url:
        settings = make_settings(redis_url, client_id=None, client_secret=None, secret_key="hosting-key-0123456789",
                                 public_url=url, retry_base_delay=0.0, config_dir=ROOT / "config",
                                 workflows_dir=ROOT / "workflows")
        deps = Deps(settings)
        late.app = create_app(deps=deps)
        creds = [p.install_app(handler_url="http://127.0.0.1:9/unused") for p in portals]
        for portal, cred in zip(portals, creds, strict=True):
            deps.credentials.add(portal.domain, cred.client_id, cred.client_secret, oauth_server=portal.base_url)
        yield Hosted(portals, creds, deps, url)
        set_current(None)


def test_two_portals_with_their_own_credentials_both_install_and_run(hosted: Hosted) -> None:
    a, b = hosted.portals
    assert hosted.creds[0].client_id != hosted.creds[1].client_id
    for portal in (a, b):
        assert hosted.install(portal).status_code == 200
    stored = {i.member_id: i for i in hosted.deps.installations.active()}
    assert set(stored) == {a.member_id, b.member_id}
    assert stored[a.member_id].client_id == hosted.creds[0].client_id
    assert stored[b.member_id].client_id == hosted.creds[1].client_id
    # the install hooks re-bind events on each portal with that portal's pair (through RQ, on real Redis)
    queue_list = [Queue(name, connection=hosted.deps.redis) for name in (queues.EVENTS, queues.DEFAULT)]
    BurstWorker(queue_list, connection=hosted.deps.redis).work(burst=True)
    for portal in (a, b):
        bound = hosted.deps.bitrix(portal.member_id).call("event.get")
        assert {row["event"] for row in bound} >= {"ONAPPUNINSTALL", "ONCRMDYNAMICITEMUPDATE"}
    # refreshes use the right pair and the right OAuth server
    for portal in (a, b):
        portal.expire_tokens()
        assert hosted.deps.bitrix(portal.member_id).call("app.info")["CODE"] in {c.client_id for c in hosted.creds}
        assert portal.refresh_count >= 2  # the install proof, then this refresh


def test_a_portal_cannot_be_installed_with_the_other_portals_tokens(hosted: Hosted) -> None:
    a, b = hosted.portals
    refused = hosted.install(a, tokens_from=b)  # b's genuine admin tokens, claimed for a's domain
    assert refused.status_code == 401
    assert hosted.deps.installations.member_ids() == []


def test_the_registry_keeps_secrets_encrypted(hosted: Hosted) -> None:
    raw = hosted.deps.redis.hgetall("b24app:portal-credentials")
    assert len(raw) == 2
    for cred in hosted.creds:
        assert all(cred.client_secret.encode() not in value and cred.client_id.encode() not in value
                   for value in raw.values())
