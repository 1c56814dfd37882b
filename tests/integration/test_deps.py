"""The composition root's own state: the app secret every process shares."""

from __future__ import annotations

import redis

from b24app.deps import Deps
from tests.integration.helpers import make_settings


def test_the_app_secret_is_derived_from_the_client_secret_so_it_survives_losing_redis(
        redis_url: str, redis_conn: redis.Redis) -> None:
    before = Deps(make_settings(redis_url)).app_secret
    redis_conn.flushdb()
    after = Deps(make_settings(redis_url)).app_secret

    assert len(before) == 64 and after == before
    assert b"client-secret-xyz" not in before
    assert Deps(make_settings(redis_url, client_secret="another-secret")).app_secret != before


def test_without_credentials_a_generated_secret_is_shared_by_every_process_through_redis(redis_url: str) -> None:
    webhook = "https://portal.example/rest/1/abcdefghijklmnop/"
    first = Deps(make_settings(redis_url, client_id=None, client_secret=None, webhook_url=webhook))
    second = Deps(make_settings(redis_url, client_id=None, client_secret=None, webhook_url=webhook))

    assert len(first.app_secret) == 64
    assert second.app_secret == first.app_secret


def test_the_configured_secret_key_wins_and_is_never_logged(redis_url: str) -> None:
    deps = Deps(make_settings(redis_url, secret_key="configured-secret-0123456789"))

    assert deps.app_secret == b"configured-secret-0123456789"
    assert "configured-secret-0123456789" in deps.settings.secrets()
