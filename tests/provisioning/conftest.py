"""Fixtures for provisioning against the sandbox: an installed app and the real REST client."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from b24app.auth.store import Installation, InstallationStore
from b24app.checks import load_definitions
from b24app.deps import Deps
from b24app.rest.client import RestClient
from b24app.settings import load_settings
from b24app.workflow.models import Workflow
from b24sandbox import SandboxPortal

ROOT = Path(__file__).resolve().parents[2]
PUBLIC_URL = "https://app.example.test"


@dataclass
class Installed:
    """The app installed on a sandbox portal: a client with the app's own (admin) authorisation."""

    portal: SandboxPortal
    client: RestClient
    member_id: str
    deps: Deps


@pytest.fixture
def workflows() -> list[Workflow]:
    return load_definitions(ROOT / "config", ROOT / "workflows")[1]


@pytest.fixture
def installed(sandbox: SandboxPortal, redis_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Installed]:
    assert sandbox.ca_bundle
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", sandbox.ca_bundle)
    creds = sandbox.install_app(handler_url="http://127.0.0.1:9/unused")
    deps = Deps(load_settings(env_file=None, redis_url=redis_url, client_id=creds.client_id,
                              client_secret=creds.client_secret, oauth_server=sandbox.base_url, retry_base_delay=0.01))
    tokens = creds.tokens
    InstallationStore(deps.redis).save(Installation(
        member_id=creds.member_id, domain=creds.domain, client_endpoint=creds.client_endpoint,
        access_token=tokens["access_token"], refresh_token=tokens["refresh_token"], expires_at=time.time() + 3600,
        application_token=creds.application_token, scopes=tuple(str(tokens.get("scope", "")).split(",")),
        installed_at=time.time(),
    ))
    yield Installed(sandbox, deps.bitrix(creds.member_id), creds.member_id, deps)
