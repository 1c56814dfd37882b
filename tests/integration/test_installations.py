"""The installation store in a real Redis: several portals, rotation, removal."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
import redis

from b24app.auth.credentials import PortalCredentials
from b24app.auth.refresh import TokenRefresher
from b24app.auth.store import Installation, InstallationStore
from b24app.errors import InstallationNotFound, OAuthError
from b24app.settings import load_settings
from tests.integration.webserver import serve


def installation(member_id: str, **changes: Any) -> Installation:
    values: dict[str, Any] = {
        "member_id": member_id,
        "domain": f"{member_id}.bitrix24.ru",
        "client_endpoint": f"https://{member_id}.bitrix24.ru/rest/",
        "access_token": f"access-{member_id}",
        "refresh_token": f"refresh-{member_id}",
        "expires_at": 1000.5,
        "application_token": f"app-{member_id}",
        "scopes": ("crm", "task"),
        "installed_at": 999.25,
    }
    values.update(changes)
    return Installation(**values)


def test_several_portals_round_trip(redis_conn: redis.Redis) -> None:
    store = InstallationStore(redis_conn)
    store.save(installation("one"))
    store.save(installation("two", client_endpoint="https://127.0.0.1:8443/rest/"))
    assert store.member_ids() == ["one", "two"]
    assert store.get("one") == installation("one")
    assert store.get("two").rest_host == "127.0.0.1:8443"
    assert "access-one" not in repr(store.get("one"))


def test_rotated_pair_is_stored(redis_conn: redis.Redis) -> None:
    store = InstallationStore(redis_conn)
    store.save(installation("one"))
    store.update_tokens("one", "access-2", "refresh-2", 2000.0)
    stored = store.get("one")
    assert (stored.access_token, stored.refresh_token, stored.expires_at) == ("access-2", "refresh-2", 2000.0)
    assert stored.application_token == "app-one"


def test_removed_installation_is_not_active(redis_conn: redis.Redis) -> None:
    store = InstallationStore(redis_conn)
    store.save(installation("one"))
    store.save(installation("two"))
    assert store.mark_removed("one")
    assert not store.mark_removed("never-installed")
    with pytest.raises(InstallationNotFound):
        store.get("one")
    found = store.find("one")
    assert found is not None and found.removed
    assert [i.member_id for i in store.active()] == ["two"]
    store.save(installation("one"))
    assert not store.get("one").removed


class FakeOAuthServer:
    """An OAuth token endpoint that rotates tokens and is slow enough for callers to overlap."""

    def __init__(self) -> None:
        from flask import Flask, jsonify, request

        self.calls = 0
        self.app = Flask("oauth")

        @self.app.get("/oauth/token/")
        def token() -> Any:
            self.calls += 1
            time.sleep(0.2)
            if request.args.get("client_secret") != "secret-123456":
                return jsonify(error="invalid_client", error_description="Wrong client"), 401
            n = self.calls
            return jsonify(access_token=f"access-new-{n}", refresh_token=f"refresh-new-{n}", expires_in=3600)


def _credentials(conn: redis.Redis, oauth_server: str, secret: str) -> PortalCredentials:
    return PortalCredentials(conn, load_settings(env_file=None, client_id="c", client_secret=secret,
                                                 oauth_server=oauth_server))


def test_concurrent_refreshes_spend_the_refresh_token_once(redis_conn: redis.Redis) -> None:
    store = InstallationStore(redis_conn)
    store.save(installation("one"))
    server = FakeOAuthServer()
    results: list[str] = []
    with serve(server.app) as url:
        refresher = TokenRefresher(redis_conn, store, _credentials(redis_conn, url, "secret-123456"))
        threads = [
            threading.Thread(target=lambda: results.append(refresher.refresh("one", "access-one").access_token))
            for _ in range(4)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert server.calls == 1
    assert results == ["access-new-1"] * 4
    assert store.get("one").refresh_token == "refresh-new-1"
    assert refresher.refresh_count("one") == 1


def test_refused_refresh_is_a_typed_error_without_secrets(redis_conn: redis.Redis) -> None:
    store = InstallationStore(redis_conn)
    store.save(installation("one"))
    with serve(FakeOAuthServer().app) as url:
        refresher = TokenRefresher(redis_conn, store, _credentials(redis_conn, url, "wrong-secret-1"))
        with pytest.raises(OAuthError) as caught:
            refresher.refresh("one", "access-one")
    assert (caught.value.status, caught.value.code) == (401, "invalid_client")
    assert "wrong-secret-1" not in str(caught.value) and "refresh-one" not in str(caught.value)
    assert store.get("one").refresh_token == "refresh-one"


def test_rotated_tokens_for_an_unknown_portal_create_nothing(redis_conn: redis.Redis) -> None:
    """A refresh finishing after the installation vanished must not leave a half hash that breaks reads."""
    store = InstallationStore(redis_conn)
    store.update_tokens("ghost", "access-g", "refresh-g", 5.0)
    assert store.find("ghost") is None
    assert store.member_ids() == []


def test_removal_keeps_the_tokens(redis_conn: redis.Redis) -> None:
    store = InstallationStore(redis_conn)
    store.save(installation("one"))
    assert store.mark_removed("one")
    removed = store.find("one")
    assert removed is not None and removed.removed
    assert (removed.access_token, removed.refresh_token) == ("access-one", "refresh-one")
    assert store.active() == []
