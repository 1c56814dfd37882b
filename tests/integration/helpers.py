"""Shared helpers for the foundation's integration tests: settings, an installed portal, the app."""

from __future__ import annotations

import time

from b24app.auth.store import Installation, InstallationStore
from b24app.deps import Deps
from b24app.settings import Settings, load_settings

MEMBER_ID = "a223c6b3710f85df22e9377d6c4f7553"
APP_TOKEN = "51856fefc120afa4b628cc82d3935cce"


def make_settings(redis_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "redis_url": redis_url,
        "client_id": "local.test",
        "client_secret": "client-secret-xyz",
    }
    values.update(overrides)
    return load_settings(env_file=None, **values)


def install(deps: Deps, member_id: str = MEMBER_ID, app_token: str = APP_TOKEN) -> Installation:
    installation = Installation(
        member_id=member_id,
        domain="portal.example",
        client_endpoint="https://portal.example/rest/",
        access_token="access-token-1111",
        refresh_token="refresh-token-2222",
        expires_at=time.time() + 3600,
        application_token=app_token,
        scopes=("crm", "task"),
        installed_at=time.time(),
    )
    InstallationStore(deps.redis).save(installation)
    return installation


def event_form(name: str = "ONCRMDYNAMICITEMADD", token: str = APP_TOKEN, item_id: str = "22") -> dict[str, object]:
    """An event as Bitrix24 sends it (REFERENCE §3.2), before form encoding."""
    return {
        "event": name,
        "event_handler_id": "5",
        "data": {"FIELDS": {"ID": item_id, "ENTITY_TYPE_ID": "1220"}},
        "ts": "1723534033",
        "auth": {
            "access_token": "user-access-token-3333",
            "expires_in": "3600",
            "scope": "crm",
            "domain": "portal.example",
            "server_endpoint": "https://oauth.bitrix.info/rest/",
            "status": "L",
            "client_endpoint": "https://portal.example/rest/",
            "member_id": MEMBER_ID,
            "application_token": token,
        },
    }
