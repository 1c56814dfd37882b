"""POST /b24/install over real HTTP: both install shapes are proved with the sandbox's OAuth server,
stored, and the install hook is queued; refused installs store and enqueue nothing."""

from __future__ import annotations

import requests

from b24sandbox.install import frame_pairs, install_event_pairs
from tests.integration.install_env import World, world

__all__ = ["world"]  # the fixture


def test_frame_post_is_stored_and_answers_the_install_finish_page(world: World) -> None:
    tokens = world.tokens()
    response = world.frame_post(frame_pairs(world.sandbox, tokens))
    assert response.status_code == 200
    assert "BX24.installFinish()" in response.text
    assert "//api.bitrix24.com/api/v1/" in response.text
    stored = world.deps.installations.get(world.creds.member_id)
    assert stored.domain == world.sandbox.domain
    assert stored.client_endpoint == world.creds.client_endpoint
    assert stored.access_token and stored.access_token != tokens["access_token"]  # the proved, rotated pair
    assert stored.application_token == world.creds.application_token
    assert set(stored.scopes) == set(tokens["scope"].split(","))
    assert stored.installed_at > 0 and not stored.removed
    assert len(world.install_jobs()) == 1


def test_install_event_form_is_stored_once_with_one_hook_job(world: World) -> None:
    form = install_event_pairs(world.sandbox, world.tokens())
    first = world.post("/b24/install", form)
    assert first.status_code == 200 and first.json() == {"result": "installed"}
    stored = world.deps.installations.get(world.creds.member_id)
    again = world.post("/b24/install", form)  # a duplicate delivery: its refresh token is spent
    assert again.status_code == 401
    assert world.deps.installations.get(world.creds.member_id).to_hash() == stored.to_hash()
    assert stored.client_endpoint == world.creds.client_endpoint
    assert stored.application_token == world.creds.application_token
    assert len(world.install_jobs()) == 1


def test_active_installation_is_not_hijacked(world: World) -> None:
    """Another application token only counts with an administrator's proved tokens (who has those owns the
    portal anyway); an employee's genuine tokens are refused (tests/integration/test_install_trust.py)."""
    world.genuine_install()
    stored = world.deps.installations.get(world.creds.member_id)
    forged = [(k, "attacker-token-0000" if k == "APPLICATION_TOKEN" else v)
              for k, v in frame_pairs(world.sandbox, world.tokens("e.smirnova"))]  # an employee's genuine tokens
    assert world.frame_post(forged).status_code == 403
    assert world.deps.installations.get(world.creds.member_id).to_hash() == stored.to_hash()


def test_incomplete_install_post_is_rejected(world: World) -> None:
    response = requests.post(f"{world.url}/b24/install", data={"member_id": "x"}, timeout=10)
    assert response.status_code == 400
    assert "AUTH_ID" in response.json()["description"]
    malformed = world.post("/b24/install", [("member_id[a]", "x"), ("AUTH_ID", "a"), ("REFRESH_ID", "r"),
                                            ("APPLICATION_TOKEN", "t")])
    assert malformed.status_code == 400 and "member_id" in malformed.json()["description"]
    assert world.deps.installations.member_ids() == []
    assert world.install_jobs() == []
