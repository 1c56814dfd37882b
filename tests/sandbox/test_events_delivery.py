"""Event bindings and delivery: the wire format a real receiver parses, faults by seed, offline queue."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl

import requests

from b24sandbox import AppCredentials, SandboxPortal
from b24sandbox.shared import load_example
from tests.fixtures.sandbox import Receiver
from tests.fixtures.waits import WAIT


def call(portal: SandboxPortal, method: str, token: str, **params: Any) -> requests.Response:
    return requests.post(f"{portal.base_url}/rest/{method}", json={"auth": token, **params},
                         verify=portal.ca_bundle, timeout=10)


def installed(portal: SandboxPortal, receiver: Receiver, *events: str, path: str = "/ev") -> AppCredentials:
    app = portal.install_app(handler_url=receiver.url + "/app")
    for event in events:
        answer = call(portal, "event.bind", app.tokens["access_token"], event=event, handler=receiver.url + path)
        assert answer.json()["result"] is True, answer.text
    return app


def emit(portal: SandboxPortal, event: str, data: dict[str, Any], user_id: int | None = 1) -> None:
    with portal.state.lock:
        portal.state.emit(event, data, user_id)


def item_added(item_id: int, etid: int = 1220) -> dict[str, Any]:
    return {"FIELDS": {"ID": item_id, "ENTITY_TYPE_ID": etid}}


def test_wire_format_matches_the_documented_event(sandbox: SandboxPortal, event_receiver: Receiver) -> None:
    app = installed(sandbox, event_receiver, "ONCRMDYNAMICITEMADD")

    emit(sandbox, "ONCRMDYNAMICITEMADD", item_added(22))
    assert sandbox.drain_events(WAIT)

    [received] = event_receiver.at("/ev")
    assert received.content_type == "application/x-www-form-urlencoded"
    example = load_example("event.ONCRMDYNAMICITEMADD")
    documented = example["payloads_as_documented"][0]
    got = received.form
    assert set(got) == set(documented)
    assert got["data"] == {"FIELDS": {"ID": "22", "ENTITY_TYPE_ID": "1220"}}
    assert set(got["auth"]) == set(documented["auth"]) - {"refresh_token"}  # the prose: only where long-term access
    assert _all_strings(got)
    derived = [k for k, _ in example["form_encoded_derived"][0] if k != "auth[refresh_token]"]
    assert [k for k, _ in parse_qsl(received.body)] == derived
    assert got["event_handler_id"].isdigit()
    assert got["ts"] == str(int(sandbox.clock.timestamp()))
    assert got["auth"]["application_token"] == app.application_token
    assert got["auth"]["member_id"] == sandbox.member_id and got["auth"]["domain"] == sandbox.domain
    assert call(sandbox, "user.current", got["auth"]["access_token"]).json()["result"]["ID"] == "1"


def _all_strings(value: Any) -> bool:
    if isinstance(value, dict):
        return all(_all_strings(v) for v in value.values())
    if isinstance(value, list):
        return all(_all_strings(v) for v in value)
    return isinstance(value, str)


def test_automation_changes_carry_no_tokens(sandbox: SandboxPortal, event_receiver: Receiver) -> None:
    installed(sandbox, event_receiver, "ONCRMDYNAMICITEMUPDATE")

    emit(sandbox, "ONCRMDYNAMICITEMUPDATE", item_added(5), user_id=None)
    assert sandbox.drain_events(WAIT)

    [received] = event_receiver.at("/ev")
    assert set(received.form["auth"]) == {"domain", "client_endpoint", "server_endpoint", "member_id", "application_token"}


def test_auth_type_binding_sends_that_users_tokens(sandbox: SandboxPortal, event_receiver: Receiver) -> None:
    app = sandbox.install_app(handler_url=event_receiver.url + "/app")
    olga = sandbox.state.user_by_login("finance.manager")
    call(sandbox, "event.bind", app.tokens["access_token"], event="ONTASKADD", handler=event_receiver.url + "/ev",
         auth_type=olga.id)

    emit(sandbox, "ONTASKADD", {"FIELDS_BEFORE": "undefined", "FIELDS_AFTER": {"ID": 9}}, user_id=1)
    assert sandbox.drain_events(WAIT)

    [received] = event_receiver.at("/ev")
    assert received.form["data"]["FIELDS_BEFORE"] == "undefined"
    token = received.form["auth"]["access_token"]
    assert call(sandbox, "user.current", token).json()["result"]["ID"] == str(olga.id)


def test_per_type_binding_gets_only_its_type(sandbox: SandboxPortal, event_receiver: Receiver) -> None:
    installed(sandbox, event_receiver, "ONCRMDYNAMICITEMADD_31")

    emit(sandbox, "ONCRMDYNAMICITEMADD", item_added(1, etid=1220))
    emit(sandbox, "ONCRMDYNAMICITEMADD", item_added(2, etid=31))
    assert sandbox.drain_events(WAIT)

    assert [(r.form["event"], r.form["data"]["FIELDS"]["ID"]) for r in event_receiver.at("/ev")] == [
        ("ONCRMDYNAMICITEMADD_31", "2")]


def test_failed_deliveries_are_not_retried(sandbox: SandboxPortal, event_receiver: Receiver) -> None:
    installed(sandbox, event_receiver, "ONCRMDYNAMICITEMADD")
    event_receiver.status = 500

    emit(sandbox, "ONCRMDYNAMICITEMADD", item_added(3))
    assert sandbox.drain_events(WAIT)

    assert len(event_receiver.at("/ev")) == 1
    assert [d.status for d in sandbox.deliveries] == [500]


def test_bind_errors(sandbox: SandboxPortal, event_receiver: Receiver) -> None:
    app = installed(sandbox, event_receiver, "ONCRMTYPEADD")
    token = app.tokens["access_token"]

    unknown = call(sandbox, "event.bind", token, event="ONNOSUCHTHING", handler=event_receiver.url + "/ev")
    duplicate = call(sandbox, "event.bind", token, event="ONCRMTYPEADD", handler=event_receiver.url + "/ev")
    listed = call(sandbox, "event.get", token).json()["result"]
    removed = call(sandbox, "event.unbind", token, event="ONCRMTYPEADD", handler=event_receiver.url + "/ev")

    assert (unknown.status_code, unknown.json()["error"]) == (400, "ERROR_EVENT_NOT_FOUND")
    assert duplicate.json()["error"] == "ERROR_HANDLER_ALREADY_EXIST"
    assert listed == [{"event": "ONCRMTYPEADD", "handler": event_receiver.url + "/ev", "auth_type": "0", "offline": 0}]
    assert removed.json()["result"] == {"count": 1}


# --- faults ---------------------------------------------------------------------------------------


def _delivered_ids(make: Callable[..., SandboxPortal], receiver: Receiver, path: str, **faults: float) -> list[str]:
    portal = make(seed=7)
    portal.faults.events(**faults)
    installed(portal, receiver, "ONCRMDYNAMICITEMADD", path=path)
    for item_id in range(1, 21):
        emit(portal, "ONCRMDYNAMICITEMADD", item_added(item_id))
    assert portal.drain_events(WAIT)
    return [r.form["data"]["FIELDS"]["ID"] for r in receiver.at(path)]


def test_drops_are_reproducible_by_seed(sandbox_factory: Callable[..., SandboxPortal], event_receiver: Receiver) -> None:
    first = _delivered_ids(sandbox_factory, event_receiver, "/a", drop=0.3)
    second = _delivered_ids(sandbox_factory, event_receiver, "/b", drop=0.3)

    assert first == second
    assert 0 < len(first) < 20


def test_duplicates_are_reproducible_by_seed(sandbox_factory: Callable[..., SandboxPortal],
                                             event_receiver: Receiver) -> None:
    first = _delivered_ids(sandbox_factory, event_receiver, "/a", duplicate=0.3)
    second = _delivered_ids(sandbox_factory, event_receiver, "/b", duplicate=0.3)

    assert first == second
    assert 20 < len(first) < 40 and set(first) == {str(i) for i in range(1, 21)}


def test_reorder_swaps_neighbours(sandbox_factory: Callable[..., SandboxPortal], event_receiver: Receiver) -> None:
    delivered = _delivered_ids(sandbox_factory, event_receiver, "/a", reorder=1.0)

    assert delivered[:4] == ["2", "1", "4", "3"]
    assert sorted(delivered, key=int) == [str(i) for i in range(1, 21)]


def test_delayed_events_still_arrive(sandbox_factory: Callable[..., SandboxPortal], event_receiver: Receiver) -> None:
    delivered = _delivered_ids(sandbox_factory, event_receiver, "/a", delay=1.0, delay_seconds=0.2)

    assert sorted(delivered, key=int) == [str(i) for i in range(1, 21)]


# --- offline queue --------------------------------------------------------------------------------


def test_offline_events_queue_one_row_per_object(sandbox: SandboxPortal, event_receiver: Receiver) -> None:
    app = sandbox.install_app(handler_url=event_receiver.url + "/app")
    token = app.tokens["access_token"]
    assert call(sandbox, "event.bind", token, event="ONCRMDYNAMICITEMUPDATE", event_type="offline").json()["result"]

    for item_id in (7, 7, 8):
        emit(sandbox, "ONCRMDYNAMICITEMUPDATE", item_added(item_id))
    listed = call(sandbox, "event.offline.list", token).json()
    reserved = call(sandbox, "event.offline.get", token, clear=0, limit=1).json()["result"]
    again = call(sandbox, "event.offline.get", token, process_id=reserved["process_id"]).json()["result"]
    call(sandbox, "event.offline.clear", token, process_id=reserved["process_id"])
    rest = call(sandbox, "event.offline.get", token).json()["result"]
    empty = call(sandbox, "event.offline.get", token).json()["result"]

    assert listed["total"] == 2
    assert set(listed["result"][0]) == {"ID", "TIMESTAMP_X", "EVENT_NAME", "EVENT_DATA", "EVENT_ADDITIONAL",
                                        "MESSAGE_ID", "PROCESS_ID", "ERROR"}
    assert reserved["process_id"] and [e["EVENT_DATA"]["FIELDS"]["ID"] for e in reserved["events"]] == ["7"]
    assert again["events"] == reserved["events"]
    assert rest["process_id"] is None and [e["EVENT_DATA"]["FIELDS"]["ID"] for e in rest["events"]] == ["8"]
    assert empty["events"] == []
    assert event_receiver.at("/ev") == []


def test_onofflineevent_signals_new_rows_throttled_by_min_timeout(sandbox: SandboxPortal,
                                                                  event_receiver: Receiver) -> None:
    app = sandbox.install_app(handler_url=event_receiver.url + "/app")
    token = app.tokens["access_token"]
    call(sandbox, "event.bind", token, event="ONCRMDYNAMICITEMADD", event_type="offline")
    call(sandbox, "event.bind", token, event="ONOFFLINEEVENT", handler=event_receiver.url + "/signal",
         options={"minTimeout": 5})

    emit(sandbox, "ONCRMDYNAMICITEMADD", item_added(1))
    emit(sandbox, "ONCRMDYNAMICITEMADD", item_added(2))
    assert sandbox.drain_events(WAIT)
    first = list(event_receiver.at("/signal"))
    sandbox.clock.advance(timedelta(seconds=6))
    emit(sandbox, "ONCRMDYNAMICITEMADD", item_added(3))
    assert sandbox.drain_events(WAIT)

    assert len(first) == 1 and len(event_receiver.at("/signal")) == 2
    documented = load_example("event.ONOFFLINEEVENT")["form_encoded_derived"][0]
    sent = [k for k, _ in parse_qsl(first[0].body) if k != "event_handler_id"]
    assert sent == [k for k, _ in documented]


def test_unverified_event_switches(sandbox_factory: Callable[..., SandboxPortal], event_receiver: Receiver) -> None:
    portal = sandbox_factory(event_refresh_token=True, task_event_handler_id=False)
    installed(portal, event_receiver, "ONTASKUPDATE", "ONCRMDYNAMICITEMADD")

    emit(portal, "ONTASKUPDATE", {"FIELDS_BEFORE": {"ID": 1}, "FIELDS_AFTER": {"ID": 1}})
    emit(portal, "ONCRMDYNAMICITEMADD", item_added(1))
    assert portal.drain_events(WAIT)

    task, item = (r.form for r in event_receiver.at("/ev"))
    assert "event_handler_id" not in task and "event_handler_id" in item
    assert "refresh_token" in task["auth"] and "refresh_token" in item["auth"]  # as the documented examples


def test_refresh_tokens_come_only_with_events_that_need_long_term_access(
    sandbox: SandboxPortal, event_receiver: Receiver
) -> None:
    app = installed(sandbox, event_receiver, "ONCRMDYNAMICITEMADD", "ONAPPINSTALL")
    call(sandbox, "event.bind", app.tokens["access_token"], event="ONCRMDYNAMICITEMUPDATE", event_type="offline")
    call(sandbox, "event.bind", app.tokens["access_token"], event="ONOFFLINEEVENT", handler=event_receiver.url + "/sig")

    emit(sandbox, "ONCRMDYNAMICITEMADD", item_added(1))
    emit(sandbox, "ONCRMDYNAMICITEMUPDATE", item_added(1))
    assert sandbox.drain_events(WAIT)

    [ordinary] = [r.form for r in event_receiver.at("/ev") if r.form["event"] == "ONCRMDYNAMICITEMADD"]
    [signal] = [r.form for r in event_receiver.at("/sig")]
    assert "access_token" in ordinary["auth"] and "refresh_token" not in ordinary["auth"]
    assert "refresh_token" in signal["auth"]


def test_what_an_automation_rule_does_comes_without_tokens(sandbox: SandboxPortal, event_receiver: Receiver) -> None:
    app = installed(sandbox, event_receiver, "ONCRMDYNAMICITEMADD")
    added = call(sandbox, "crm.type.add", app.tokens["access_token"], fields={"title": "Robots"}).json()
    entity_type_id = int(added["result"]["type"]["entityTypeId"])

    sandbox.as_user("admin").create_item(entity_type_id, {"title": "by hand"})
    sandbox.as_automation("admin").create_item(entity_type_id, {"title": "by a robot"})
    assert sandbox.drain_events(WAIT)

    by_hand, by_robot = (r.form["auth"] for r in event_receiver.at("/ev"))
    assert "access_token" in by_hand
    assert set(by_robot) == {"domain", "client_endpoint", "server_endpoint", "member_id", "application_token"}


def test_deliveries_wait_the_queue_delay(sandbox_factory: Callable[..., SandboxPortal], event_receiver: Receiver) -> None:
    from b24sandbox.portal import DEFAULT_EVENT_DELAY

    assert DEFAULT_EVENT_DELAY > 0  # a real portal delivers through a queue (REFERENCE §3.2)
    portal = sandbox_factory(event_delay=3600.0)
    installed(portal, event_receiver, "ONCRMDYNAMICITEMADD")

    emit(portal, "ONCRMDYNAMICITEMADD", item_added(22))

    assert not portal.drain_events(timeout=0.2)  # still queued: due an hour from now
    assert event_receiver.at("/ev") == [] and portal.deliveries == []


def test_offline_error_marks_rows_which_are_then_left_out_unless_asked_for(sandbox: SandboxPortal,
                                                                         event_receiver: Receiver) -> None:
    app = sandbox.install_app(handler_url=event_receiver.url + "/app")
    token = app.tokens["access_token"]
    call(sandbox, "event.bind", token, event="ONCRMDYNAMICITEMUPDATE", event_type="offline")
    for item_id in (7, 8):
        emit(sandbox, "ONCRMDYNAMICITEMUPDATE", item_added(item_id))
    reserved = call(sandbox, "event.offline.get", token, clear=0).json()["result"]
    failed = next(e["MESSAGE_ID"] for e in reserved["events"] if e["EVENT_DATA"]["FIELDS"]["ID"] == "7")

    answer = call(sandbox, "event.offline.error", token, process_id=reserved["process_id"], message_id=[failed])
    call(sandbox, "event.offline.clear", token, process_id=reserved["process_id"])
    plain = call(sandbox, "event.offline.get", token, clear=0).json()["result"]
    with_errors = call(sandbox, "event.offline.get", token, clear=0, error=1).json()["result"]

    assert answer.status_code == 200 and answer.json()["result"] is True
    assert set(answer.json()) >= set(load_example("event.offline.error")["response"]["bodies"][0])
    assert plain["events"] == []                   # the errored row is kept but not handed out again ...
    assert [e["EVENT_DATA"]["FIELDS"]["ID"] for e in with_errors["events"]] == ["7"]   # ... unless asked for
