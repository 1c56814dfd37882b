"""The composition root's own state: the app secret every process shares."""

from __future__ import annotations

from b24app.deps import Deps
from tests.integration.helpers import make_settings


def test_a_generated_app_secret_is_shared_by_every_process_through_redis(redis_url: str) -> None:
    first, second = Deps(make_settings(redis_url)), Deps(make_settings(redis_url))

    assert len(first.app_secret) == 64
    assert second.app_secret == first.app_secret


def test_the_configured_secret_key_wins_and_is_never_logged(redis_url: str) -> None:
    deps = Deps(make_settings(redis_url, secret_key="configured-secret-0123456789"))

    assert deps.app_secret == b"configured-secret-0123456789"
    assert "configured-secret-0123456789" in deps.settings.secrets()
