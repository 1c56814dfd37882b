"""Sandbox widgets: placement.bind/unbind/get/list (REFERENCE §9)."""

from __future__ import annotations

from typing import Any

import pytest

from b24sandbox import registry
from b24sandbox.methods import placement
from b24sandbox.registry import Call, RestError
from b24sandbox.shared import load_example
from b24sandbox.state import PortalState

APP = "local.test.1"
HANDLER = "https://app.example/placement/"


@pytest.fixture
def state() -> PortalState:
    return PortalState.from_org_file()


def call(state: PortalState, method: str, params: dict[str, Any], user: int = 1, kind: str = "oauth",
         scopes: frozenset[str] = frozenset()) -> Any:
    spec = registry.find(method)
    assert spec is not None
    with state.lock:
        return spec.func(Call(state, spec.name, params, user, kind, APP, scopes))  # type: ignore[arg-type]


def error_of(*args: Any, **kwargs: Any) -> RestError:
    with pytest.raises(RestError) as caught:
        call(*args, **kwargs)
    return caught.value


def new_type(state: PortalState, explicit: int | None = None) -> int:
    fields: dict[str, Any] = {"title": "Договоры"}
    if explicit is not None:
        fields["entityTypeId"] = explicit
    return int(registry.invoke(state, "crm.type.add", {"fields": fields}, 1, "oauth")["type"]["entityTypeId"])


def test_bind_get_unbind_round_trip(state: PortalState) -> None:
    new_type(state, 1030)
    assert call(state, "placement.bind", {"PLACEMENT": "CRM_DYNAMIC_1030_DETAIL_TAB", "HANDLER": HANDLER,
                                          "TITLE": "Согласование"}) is True
    assert call(state, "placement.bind", {"PLACEMENT": "task_view_tab", "HANDLER": HANDLER}) is True
    rows = call(state, "placement.get", {})
    documented = load_example("placement.get")["response"]["bodies"][0]["result"][0]
    assert all(set(r) == set(documented) for r in rows)
    assert [(r["placement"], r["handler"], r["userId"]) for r in rows] == [
        ("CRM_DYNAMIC_1030_DETAIL_TAB", HANDLER, 0), ("TASK_VIEW_TAB", HANDLER, 0)]
    assert [b.placement for b in placement.handlers_for(state, "TASK_VIEW_TAB")] == ["TASK_VIEW_TAB"]
    assert call(state, "placement.unbind", {"PLACEMENT": "TASK_VIEW_TAB", "HANDLER": HANDLER}) == {"count": 1}
    assert call(state, "placement.unbind", {"PLACEMENT": "CRM_DYNAMIC_1030_DETAIL_TAB"}) == {"count": 1}
    assert call(state, "placement.get", {}) == []


def test_binding_again_replaces_the_binding(state: PortalState) -> None:
    for title in ("Первый", "Второй"):
        call(state, "placement.bind", {"PLACEMENT": "TASK_VIEW_TAB", "HANDLER": HANDLER, "TITLE": title})
    assert [r["title"] for r in call(state, "placement.get", {})] == ["Второй"]


def test_webhooks_and_non_admins_are_refused(state: PortalState) -> None:
    params = {"PLACEMENT": "TASK_VIEW_TAB", "HANDLER": HANDLER}
    wrong = error_of(state, "placement.bind", params, kind="webhook")
    assert (wrong.error, wrong.status) == ("WRONG_AUTH_TYPE", 403)
    assert wrong.description == "Current authorization type is denied for this method Application context required"
    denied = error_of(state, "placement.bind", params, user=4)
    assert (denied.error, denied.status) == ("ACCESS_DENIED", 403)
    assert registry.find("placement.bind").app_only  # type: ignore[union-attr]
    assert call(state, "placement.get", {}) == []


@pytest.mark.parametrize("params, argument", [
    ({"HANDLER": HANDLER}, "PLACEMENT"),
    ({"PLACEMENT": "TASK_VIEW_TAB"}, "HANDLER"),
])
def test_missing_argument_names_it(state: PortalState, params: dict[str, Any], argument: str) -> None:
    error = error_of(state, "placement.bind", params)
    assert error.body() == {"error": "ERROR_ARGUMENT",
                            "error_description": f"Argument '{argument}' is null or empty", "argument": argument}
    assert error.status == placement.BIND_ERROR_STATUS


def test_unknown_code_or_missing_scope_is_not_found(state: PortalState) -> None:
    assert error_of(state, "placement.bind", {"PLACEMENT": "CRM_DYNAMIC_X_TAB", "HANDLER": HANDLER}).error == \
        "ERROR_PLACEMENT_NOT_FOUND"
    missing = error_of(state, "placement.bind", {"PLACEMENT": "TASK_VIEW_TAB", "HANDLER": HANDLER},
                       scopes=frozenset({"crm", "placement"}))
    assert missing.error == "ERROR_PLACEMENT_NOT_FOUND"
    etid = new_type(state)
    assert call(state, "placement.bind", {"PLACEMENT": f"CRM_DYNAMIC_{etid}_DETAIL_TAB", "HANDLER": HANDLER},
                scopes=frozenset({"crm", "placement"})) is True


def test_smart_process_code_needs_an_existing_entity_type_id(state: PortalState) -> None:
    etid = new_type(state)
    for wrong in (etid + 2, 1):  # another (even) ETID; a small id such as a crm.type id
        error = error_of(state, "placement.bind", {"PLACEMENT": f"CRM_DYNAMIC_{wrong}_DETAIL_TAB", "HANDLER": HANDLER})
        assert (error.error, error.status) == ("ERROR_PLACEMENT_NOT_FOUND", placement.BIND_ERROR_STATUS)
    assert call(state, "placement.get", {}) == []


def test_unbind_needs_placement_with_400(state: PortalState) -> None:
    error = error_of(state, "placement.unbind", {})
    assert (error.error, error.status, error.extra) == ("ERROR_ARGUMENT", 400, {"argument": "PLACEMENT"})


def test_list_offers_task_codes_and_codes_of_existing_smart_processes(state: PortalState) -> None:
    etid = registry.invoke(state, "crm.type.add", {"fields": {"title": "Договоры"}}, 1, "oauth")["type"]["entityTypeId"]
    codes = call(state, "placement.list", {})
    assert f"CRM_DYNAMIC_{etid}_DETAIL_TAB" in codes and "TASK_VIEW_TAB" in codes
    assert call(state, "placement.list", {"SCOPE": "task"}) == list(placement.TASK_CODES)


def test_over_http_webhooks_are_refused_and_apps_bind(sandbox: Any) -> None:
    import requests

    params = {"PLACEMENT": "TASK_VIEW_TAB", "HANDLER": "https://app.example/tab"}
    refused = requests.post(f"{sandbox.webhook_url('admin')}placement.bind.json", json=params,
                            verify=sandbox.ca_bundle, timeout=10)
    assert (refused.status_code, refused.json()["error"]) == (403, "WRONG_AUTH_TYPE")
    token = sandbox.install_app(handler_url="https://app.example/").tokens["access_token"]
    bound = requests.post(f"{sandbox.base_url}/rest/placement.bind.json", json={**params, "auth": token},
                          verify=sandbox.ca_bundle, timeout=10)
    assert bound.json()["result"] is True
    listed = requests.post(f"{sandbox.base_url}/rest/placement.get.json", json={"auth": token},
                           verify=sandbox.ca_bundle, timeout=10).json()["result"]
    assert [(r["placement"], r["handler"]) for r in listed] == [("TASK_VIEW_TAB", "https://app.example/tab")]
