"""userfieldconfig.* for smart-process user fields (REFERENCE §6.4)."""

from __future__ import annotations

from typing import Any

import pytest

from b24sandbox import registry
from b24sandbox.registry import Page, RestError
from b24sandbox.shared import load_example
from b24sandbox.state import PortalState

ADMIN, EMPLOYEE = 1, 5


@pytest.fixture
def state() -> PortalState:
    return PortalState.from_org_file()


@pytest.fixture
def events(state: PortalState) -> list[tuple[str, dict[str, Any], int | None]]:
    seen: list[tuple[str, dict[str, Any], int | None]] = []
    state.subscribe(lambda event, data, user: seen.append((event, data, user)))
    return seen


def call(state: PortalState, method: str, params: dict[str, Any], user: int = ADMIN, scopes: frozenset[str] = frozenset()) -> Any:
    spec = registry.find(method)
    assert spec is not None
    with state.lock:
        answer = spec.func(registry.Call(state, spec.name, params, user, "oauth", scopes=scopes))
    return answer.result if isinstance(answer, Page) else answer


def error(state: PortalState, method: str, params: dict[str, Any], user: int = ADMIN, scopes: frozenset[str] = frozenset()) -> RestError:
    with pytest.raises(RestError) as caught:
        call(state, method, params, user, scopes)
    return caught.value


def documented(name: str) -> Any:
    return load_example(name)["response"]["bodies"][0]["result"]


@pytest.fixture
def smart(state: PortalState) -> dict[str, Any]:
    for title in ("Первый", "Второй"):  # type id 8, entityTypeId 1032: the ids differ
        created = call(state, "crm.type.add", {"fields": {"title": title}})["type"]
    return created


def documented_request(smart: dict[str, Any]) -> dict[str, Any]:
    body = load_example("userfieldconfig.add")["requests"][0]["body"]
    field = dict(body["field"], entityId=f"CRM_{smart['id']}", fieldName=f"UF_CRM_{smart['id']}_NEW_REST_LIST_2026")
    return {"moduleId": "crm", "field": field}


def test_add_as_documented(state: PortalState, smart: dict[str, Any], events: list[Any]) -> None:
    field = call(state, "userfieldconfig.add", documented_request(smart))["field"]
    example = documented("userfieldconfig.add")["field"]
    assert set(field) == set(example)
    assert set(field["enum"][0]) == set(example["enum"][0])
    assert field["entityId"] == f"CRM_{smart['id']}" and field["fieldName"] == f"UF_CRM_{smart['id']}_NEW_REST_LIST_2026"
    assert (field["sort"], field["multiple"], field["mandatory"], field["xmlId"]) == ("100", "Y", "N", None)
    assert field["settings"] == example["settings"] and field["languageId"] == {"en": "en", "ru": "ru"}
    assert field["editFormLabel"] == {"en": "List of characteristics"} and field["helpMessage"] == {"en": None, "ru": None}
    assert [(o["value"], o["def"], o["sort"], o["userFieldId"]) for o in field["enum"]] == [
        ("Characteristic 1", "N", "100", field["id"]), ("Characteristic 2", "Y", "200", field["id"])]  # fmt: skip
    assert all(isinstance(o["id"], str) and len(o["xmlId"]) == 32 for o in field["enum"])
    assert events[-1] == ("ONCRMTYPEUSERFIELDADD",
                          {"FIELDS": {"ID": int(field["id"]), "ENTITY_ID": f"CRM_{smart['id']}", "FIELD_NAME": field["fieldName"]}}, ADMIN)  # fmt: skip


@pytest.mark.parametrize(
    ("change", "description"),
    [
        ({"entityId": "CRM_1032", "fieldName": "UF_CRM_1032_X"}, "You cannot create custom fields"),  # ETID instead of id
        ({"userTypeId": "colour"}, "The 'USER_TYPE_ID' field is not found"),
        ({"fieldName": ""}, "The 'FIELD_NAME' field is not found"),
        ({"fieldName": "UF_CRM_1_X"}, "Fail to create new user field"),  # another type's prefix
        ({"fieldName": "UF_CRM_{id}_BAD-NAME"}, "Fail to create new user field"),
    ],
)
def test_add_errors_have_an_empty_code(state: PortalState, smart: dict[str, Any], change: dict[str, Any], description: str) -> None:
    request = documented_request(smart)
    request["field"].update({k: v.format(id=smart["id"]) for k, v in change.items()})
    assert error(state, "userfieldconfig.add", request).body() == {"error": "", "error_description": description}


def test_add_keeps_edit_in_list_as_given(state: PortalState, smart: dict[str, Any]) -> None:
    request = documented_request(smart)
    request["field"] = dict(request["field"], editInList="N")
    assert call(state, "userfieldconfig.add", request)["field"]["editInList"] == "N"
    plain = documented_request(smart)
    plain["field"] = dict(plain["field"], fieldName=f"UF_CRM_{smart['id']}_PLAIN")
    plain["field"].pop("editInList", None)
    assert call(state, "userfieldconfig.add", plain)["field"]["editInList"] == "Y"


def test_duplicates_rights_and_scopes(state: PortalState, smart: dict[str, Any]) -> None:
    call(state, "userfieldconfig.add", documented_request(smart))
    duplicate = error(state, "userfieldconfig.add", documented_request(smart))
    assert duplicate.description == f"Field UF_CRM_{smart['id']}_NEW_REST_LIST_2026 already exists"
    assert error(state, "userfieldconfig.add", documented_request(smart), EMPLOYEE).description == "Access denied"
    scoped = error(state, "userfieldconfig.add", documented_request(smart), scopes=frozenset({"userfieldconfig"}))
    assert scoped.description == "The current method required more scopes. (crm)"


def test_get_update_delete(state: PortalState, smart: dict[str, Any], events: list[Any]) -> None:
    field_id = call(state, "userfieldconfig.add", documented_request(smart))["field"]["id"]
    got = call(state, "userfieldconfig.get", {"moduleId": "crm", "id": field_id}, EMPLOYEE)["field"]
    assert set(got) == set(documented("userfieldconfig.get")["field"])
    change = {"mandatory": "Y", "editFormLabel": {"en": "List of characteristics (updated)"},
              "enum": [{"id": got["enum"][0]["id"], "del": "Y"}, {"value": "Characteristic 3", "sort": 300}]}  # fmt: skip
    updated = call(state, "userfieldconfig.update", {"moduleId": "crm", "id": field_id, "field": change})["field"]
    assert set(updated) == set(documented("userfieldconfig.update")["field"])
    assert updated["mandatory"] == "Y" and updated["editFormLabel"]["en"] == "List of characteristics (updated)"
    assert [o["value"] for o in updated["enum"]] == ["Characteristic 2", "Characteristic 3"]
    assert [e[0] for e in events][-2:] == ["ONCRMTYPEUSERFIELDUPDATE", "ONCRMTYPEUSERFIELDSETENUMVALUES"]
    assert error(state, "userfieldconfig.update", {"moduleId": "crm", "id": field_id, "field": {}}, EMPLOYEE).description == (
        "You cannot change the settings of the user field")  # fmt: skip
    assert call(state, "userfieldconfig.delete", {"moduleId": "crm", "id": field_id}) is None
    assert error(state, "userfieldconfig.get", {"moduleId": "crm", "id": field_id}).body() == {
        "error": "", "error_description": "You do not have permission to view user field settings"}  # fmt: skip
    assert events[-1][0] == "ONCRMTYPEUSERFIELDDELETE"


def test_list_filters_orders_and_pages(state: PortalState, smart: dict[str, Any]) -> None:
    for n in range(55):
        field = {"entityId": f"CRM_{smart['id']}", "fieldName": f"UF_CRM_{smart['id']}_F{n:02d}X", "userTypeId": "string",
                 "multiple": "Y" if n % 5 == 0 else "N", "editFormLabel": {"de": f"Feld {n}"}}  # fmt: skip
        call(state, "userfieldconfig.add", {"moduleId": "crm", "field": field})
    spec = registry.find("userfieldconfig.list")
    assert spec is not None
    listed = spec.func(registry.Call(state, spec.name, {"moduleId": "crm", "select": {"0": "*", "language": "de"},
                                                        "order": {"id": "DESC"}, "filter": {"multiple": "Y"}}, ADMIN, "oauth"))  # fmt: skip
    assert isinstance(listed, Page) and listed.total == 11 and listed.next is None
    first = listed.result["fields"][0]
    assert set(first) == set(documented("userfieldconfig.list")["fields"][0])
    assert first["fieldName"] == f"UF_CRM_{smart['id']}_F50X" and first["languageId"] == {"de": "de"}
    assert first["editFormLabel"] == {"de": "Feld 50"} and first["helpMessage"] is None
    everything = spec.func(registry.Call(state, spec.name, {"moduleId": "crm", "filter": {"entityId": f"CRM_{smart['id']}"}}, EMPLOYEE, "oauth"))
    assert isinstance(everything, Page) and (everything.total, everything.next, len(everything.result["fields"])) == (55, 50, 50)


def test_fields_of_a_deleted_type_go_with_it(state: PortalState, smart: dict[str, Any]) -> None:
    call(state, "userfieldconfig.add", documented_request(smart))
    call(state, "crm.type.delete", {"id": smart["id"]})
    assert call(state, "userfieldconfig.list", {"moduleId": "crm"})["fields"] == []


def test_field_names_must_be_upper_case(state: PortalState, smart: dict[str, Any]) -> None:
    request = documented_request(smart)
    request["field"]["fieldName"] = f"uf_crm_{smart['id']}_lower"
    assert error(state, "userfieldconfig.add", request).description == "Fail to create new user field"


def test_type_lists(state: PortalState) -> None:
    types = call(state, "userfieldconfig.getTypes", {"moduleId": "crm"})["types"]
    documented_types = documented("userfieldconfig.getTypes")["types"]
    assert set(types) == set(documented_types) - {"rest_219_test"}  # app-registered type of the docs' portal
    assert all(types[kind] == documented_types[kind] for kind in types)
    rows = call(state, "crm.userfield.types", {})
    assert [r["ID"] for r in rows] == [r["ID"] for r in documented("crm.userfield.types")]
