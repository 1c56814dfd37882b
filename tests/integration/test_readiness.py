"""``/healthz/ready`` over real HTTP: 503 with a reason when Redis is unreachable, when there is no active
installation, and when a portal refused the app's tokens for good (said once, loudly); 200 again after an
administrator re-opens the app. ``/healthz`` stays liveness."""

from __future__ import annotations

import logging

import pytest
import requests

from b24app.deps import Deps
from b24app.errors import OAuthError
from b24app.web import create_app
from tests.fixtures.redis import free_port
from tests.integration.helpers import make_settings
from tests.integration.install_env import World, world
from tests.integration.webserver import serve

__all__ = ["world"]


def _ready(url: str) -> tuple[int, dict[str, object]]:
    response = requests.get(f"{url}/healthz/ready", timeout=10)
    return response.status_code, response.json()


def test_ready_only_with_an_active_installation(world: World) -> None:
    status, body = _ready(world.url)
    assert status == 503 and "no active installation" in str(body["reason"])
    assert requests.get(f"{world.url}/healthz", timeout=10).status_code == 200  # alive all the same
    world.genuine_install()
    assert _ready(world.url) == (200, {"status": "ready", "portals": 1})


def test_not_ready_while_redis_is_unreachable() -> None:
    deps = Deps(make_settings(f"redis://127.0.0.1:{free_port()}/0"))
    with serve(create_app(deps=deps)) as url:
        status, body = _ready(url)
        assert status == 503 and "Redis is unreachable" in str(body["reason"])
        assert requests.get(f"{url}/healthz", timeout=10).status_code == 503


def test_a_portal_that_refuses_the_tokens_is_reported_once_and_cleared_by_an_admin_reopen(
        world: World, caplog: pytest.LogCaptureFixture) -> None:
    world.genuine_install()
    member = world.creds.member_id
    stored = world.deps.installations.get(member)
    # Redis restored from an old snapshot: the pair it holds was rotated since (here: spent behind its back)
    world.deps.refresher.exchange(stored.refresh_token, world.deps.credentials.default())  # type: ignore[arg-type]
    world.sandbox.expire_tokens()
    with pytest.raises(OAuthError, match="invalid_grant"):
        world.deps.bitrix(member).call("app.info")
    status, body = _ready(world.url)
    assert status == 503 and member in str(body["reason"]) and "invalid_grant" in str(body["reason"])
    stored_now = world.deps.installations.find(member)
    assert stored_now is not None and stored_now.removed  # no periodic job calls it any more
    from b24app.auth.lifecycle import portal_refused

    portal_refused(world.deps, member, "token refresh answered invalid_grant")  # the next job finds it again
    errors = [r for r in caplog.records if r.levelno == logging.ERROR and "refuses the app's tokens" in r.getMessage()]
    assert len(errors) == 1 and "opens the app again" in errors[0].getMessage()
    world.genuine_install()
    assert _ready(world.url)[0] == 200
