"""Only an administrator installs, a forged uninstall stops nothing, a genuine one is believed.

Real HTTP to the app, the sandbox over HTTPS as portal and OAuth server, a private Redis, jobs through RQ.
The employee below has exactly what every widget frame POST hands a person: ``member_id``,
``APPLICATION_TOKEN`` and genuine tokens of the app issued to *them*.
"""

from __future__ import annotations

from typing import Any

from b24sandbox.install import frame_pairs, install_event_pairs
from tests.integration.install_env import World, world

__all__ = ["world"]  # the fixture
EMPLOYEE = "a.ivanova"


def _uninstall_event(world: World) -> list[tuple[str, str]]:
    return [("event", "ONAPPUNINSTALL"), ("data[LANGUAGE_ID]", "ru"), ("data[CLEAN]", "0"),
            ("auth[domain]", world.sandbox.domain), ("auth[member_id]", world.creds.member_id),
            ("auth[application_token]", world.creds.application_token)]


def _event(world: World, token: str) -> list[tuple[str, str]]:
    return [("event", "ONCRMDYNAMICITEMUPDATE"), ("data[FIELDS][ID]", "1"), ("data[FIELDS][ENTITY_TYPE_ID]", "1030"),
            ("auth[member_id]", world.creds.member_id), ("auth[application_token]", token)]


def _with(pairs: list[tuple[str, str]], **values: str) -> list[tuple[str, str]]:
    return [(k, values.get(k, v)) for k, v in pairs]


def _employee_frame(world: World, tokens: dict[str, Any], app_token: str) -> list[tuple[str, str]]:
    return _with(frame_pairs(world.sandbox, tokens), APPLICATION_TOKEN=app_token)


def test_the_takeover_sequence_is_refused_at_each_step_and_an_admin_reopen_restores(world: World) -> None:
    world.genuine_install()
    member = world.creds.member_id
    before = world.deps.installations.get(member)
    # 1. a forged uninstall with the widget's application token: checked with the portal, ignored
    response = world.post("/b24/events", _uninstall_event(world))
    assert response.status_code == 200 and response.json() == {"result": "checking"}
    world.run_jobs()
    assert not world.deps.installations.get(member).removed
    # 2. a "re-install" with the employee's own genuine tokens and a token of their choosing: not an admin
    for attempt in (_employee_frame(world, world.tokens(EMPLOYEE), "attacker-token"),
                    _employee_frame(world, world.tokens(EMPLOYEE), world.creds.application_token)):
        refused = world.frame_post(attempt)
        assert refused.status_code == 403 and refused.json()["error"] == "install_not_admin"
    event_form = _with(install_event_pairs(world.sandbox, world.tokens(EMPLOYEE)),
                       **{"auth[application_token]": "attacker-token"})
    assert world.post("/b24/events", event_form).status_code == 403
    after = world.deps.installations.get(member)
    assert after.application_token == before.application_token
    assert after.access_token == before.access_token and after.user_id == before.user_id
    # 3. genuine events still count, the attacker's do not
    assert world.post("/b24/events", _event(world, world.creds.application_token)).json()["result"] == "queued"
    assert world.post("/b24/events", _event(world, "attacker-token")).status_code == 401
    # an administrator re-opening the install page works as always
    world.genuine_install()
    assert world.deps.bitrix(member).call("app.info")["INSTALLED"] is True


def test_after_a_forged_removal_only_an_admin_install_brings_the_portal_back(world: World) -> None:
    world.genuine_install()
    member = world.creds.member_id
    world.deps.installations.mark_removed(member)  # whatever removed it (e.g. an old version of the app)
    assert world.frame_post(_employee_frame(world, world.tokens(EMPLOYEE), "attacker-token")).status_code == 403
    stored = world.deps.installations.find(member)
    assert stored is not None and stored.removed and stored.application_token == world.creds.application_token
    world.genuine_install()
    restored = world.deps.installations.get(member)
    assert restored.application_token == world.creds.application_token
    assert world.post("/b24/events", _event(world, world.creds.application_token)).json()["result"] == "queued"


def test_a_genuine_uninstall_is_believed_once_the_portal_refuses_the_tokens(world: World) -> None:
    world.genuine_install()
    member = world.creds.member_id
    world.sandbox.uninstall_app()  # revokes the app's tokens (its ONAPPUNINSTALL binding is not ours here)
    assert world.post("/b24/events", _uninstall_event(world)).json() == {"result": "checking"}
    world.run_jobs()
    stored = world.deps.installations.find(member)
    assert stored is not None and stored.removed
    assert world.post("/b24/events", _event(world, world.creds.application_token)).status_code == 401


def test_repeated_uninstall_events_queue_one_check(world: World) -> None:
    world.genuine_install()
    before = len(world.sandbox.calls)
    answers = [world.post("/b24/events", _uninstall_event(world)).json()["result"] for _ in range(20)]
    assert answers == ["checking"] * 20
    world.run_jobs()
    assert [c.method for c in world.sandbox.calls[before:]] == ["app.info"]  # one cheap call for twenty events
    assert not world.deps.installations.get(world.creds.member_id).removed
