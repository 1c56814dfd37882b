"""Fixtures shared by the integration tests of the whole approval stack."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from b24app.deps import Deps, set_current
from b24app.web import create_app
from b24sandbox import SandboxPortal
from tests.integration.approval_env import Env, approval_env
from tests.integration.helpers import make_settings
from tests.integration.webserver import serve


@pytest.fixture
def deps(redis_url: str) -> Deps:
    """The app's composition root on the private Redis, with the tests' settings (a module may override)."""
    return Deps(make_settings(redis_url))


@pytest.fixture
def base_url(deps: Deps) -> Iterator[str]:
    """The real Flask app of ``deps`` on loopback (the event edge, the pages)."""
    with serve(create_app(deps=deps)) as url:
        yield url


@pytest.fixture
def env(sandbox: SandboxPortal, redis_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    """The app installed and provisioned on the sandbox, its web edge on loopback, jobs on the private Redis;
    the test fails if any job ended in the failed registry."""
    assert sandbox.ca_bundle
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", sandbox.ca_bundle)
    with approval_env(sandbox, redis_url) as built:
        set_current(built.deps)
        yield built
        assert not built.failed_jobs()
