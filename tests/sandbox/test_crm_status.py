"""crm.status.* for smart-process stages: directories, prefixes, rules and the odd errors (REFERENCE §5)."""

from __future__ import annotations

from typing import Any

import pytest

from b24sandbox import registry
from b24sandbox.registry import RestError
from b24sandbox.shared import load_example
from b24sandbox.state import PortalState

ADMIN, EMPLOYEE = 1, 5


@pytest.fixture
def state() -> PortalState:
    return PortalState.from_org_file()


def call(state: PortalState, method: str, params: dict[str, Any], user: int = ADMIN) -> Any:
    return registry.invoke(state, method, params, user_id=user, auth_kind="oauth")


def error(state: PortalState, method: str, params: dict[str, Any], user: int = ADMIN) -> RestError:
    with pytest.raises(RestError) as caught:
        call(state, method, params, user)
    return caught.value


@pytest.fixture
def spa(state: PortalState) -> tuple[int, int]:
    smart = call(state, "crm.type.add", {"fields": {"title": "Заявка", "isStagesEnabled": "Y"}})["type"]
    category = call(state, "crm.category.list", {"entityTypeId": smart["entityTypeId"]})["categories"][0]
    return smart["entityTypeId"], category["id"]


def stages(state: PortalState, etid: int, cat: int) -> list[dict[str, Any]]:
    return call(state, "crm.status.list", {"filter": {"ENTITY_ID": f"DYNAMIC_{etid}_STAGE_{cat}"}, "order": {"SORT": "ASC"}})


def test_rows_have_the_documented_keys_and_string_values(state: PortalState, spa: tuple[int, int]) -> None:
    rows = stages(state, *spa)
    documented = load_example("spa.default_stages_of_new_category")["crm.status.list_response_DYNAMIC_177_STAGE_87"]
    assert [set(r) for r in rows] == [set(r) for r in documented["result"]]
    assert all(isinstance(r["ID"], str) and isinstance(r["SORT"], str) and isinstance(r["CATEGORY_ID"], str) for r in rows)
    assert "EXTRA" not in rows[0]
    got = call(state, "crm.status.get", {"id": rows[3]["ID"]})
    assert set(got) == set(load_example("crm.status.get")["response"]["bodies"][0]["result"])
    assert got["SEMANTICS"] == "S" and got["STATUS_ID"].endswith(":SUCCESS")


def test_list_by_type_id_instead_of_entity_type_id_is_empty(state: PortalState, spa: tuple[int, int]) -> None:
    assert call(state, "crm.status.list", {"filter": {"ENTITY_ID": f"DYNAMIC_1_STAGE_{spa[1]}"}}) == []
    assert error(state, "crm.status.list", {"filter": {"ENTITY_ID": ["DYNAMIC_1030_STAGE_1"]}}).description == (
        "Filter by ENTITY_ID must be a string"
    )


def test_add_prefixes_an_unprefixed_status_id(state: PortalState, spa: tuple[int, int]) -> None:
    etid, cat = spa
    entity = f"DYNAMIC_{etid}_STAGE_{cat}"
    new_id = call(state, "crm.status.add", {"fields": {"ENTITY_ID": entity, "STATUS_ID": "CHECK", "NAME": "Проверка", "SORT": 35 - 10}})
    assert isinstance(new_id, int)
    kept = call(state, "crm.status.add", {"fields": {"ENTITY_ID": entity, "STATUS_ID": f"DT{etid}_{cat}:LOST", "NAME": "Отказ", "SORT": 60, "SEMANTICS": "F"}})
    rows = {r["ID"]: r for r in stages(state, etid, cat)}
    assert rows[str(new_id)]["STATUS_ID"] == f"DT{etid}_{cat}:CHECK" and rows[str(new_id)]["SYSTEM"] == "N"
    assert rows[str(kept)]["STATUS_ID"] == f"DT{etid}_{cat}:LOST" and rows[str(kept)]["SEMANTICS"] == "F"
    assert [r["STATUS_ID"].split(":")[1] for r in stages(state, etid, cat)] == [
        "NEW", "PREPARATION", "CHECK", "CLIENT", "SUCCESS", "FAIL", "LOST"]  # fmt: skip


def test_add_errors_are_odd(state: PortalState, spa: tuple[int, int]) -> None:
    etid, cat = spa
    entity = f"DYNAMIC_{etid}_STAGE_{cat}"
    assert error(state, "crm.status.add", {"fields": {"ENTITY_ID": entity, "NAME": "x"}}).body() == {
        "error": "", "error_description": "The field STATUS_ID is required."}  # fmt: skip
    assert error(state, "crm.status.add", {"fields": {"NAME": "x"}}).description == (
        "The field ENTITY_ID is required., The field STATUS_ID is required.")  # fmt: skip
    assert error(state, "crm.status.add", {"fields": {"ENTITY_ID": "DYNAMIC_1_STAGE_1", "STATUS_ID": "A", "NAME": "x"}}).body() == {
        "error": "", "error_description": "Specified entity type is not supported."}  # fmt: skip
    duplicate = error(state, "crm.status.add", {"fields": {"ENTITY_ID": entity, "STATUS_ID": "NEW", "NAME": "x", "SORT": 5}})
    assert duplicate.body() == {"error": "ERROR_CORE", "error_description": "The specified status ID already exists."}
    late = error(state, "crm.status.add", {"fields": {"ENTITY_ID": entity, "STATUS_ID": "LATE", "NAME": "x", "SORT": 45}})
    assert late.error == "" and late.description.startswith("Cannot create more stages after the final stage")
    second_success = error(state, "crm.status.add", {"fields": {"ENTITY_ID": entity, "STATUS_ID": "WIN2", "NAME": "x", "SORT": 45, "SEMANTICS": "S"}})
    assert second_success.description == "Error on creating status."
    denied = error(state, "crm.status.add", {"fields": {"ENTITY_ID": entity, "STATUS_ID": "Z", "NAME": "x"}}, EMPLOYEE)
    assert denied.body() == {"error": "", "error_description": "Access denied."}
    assert all(e.status == 400 for e in (duplicate, late, denied))


def test_update_changes_name_sort_color_and_answers_true(state: PortalState, spa: tuple[int, int]) -> None:
    first = stages(state, *spa)[0]
    assert call(state, "crm.status.update", {"id": first["ID"], "fields": {"NAME": "Первая", "COLOR": "#000000", "SORT": 15}}) is True
    row = call(state, "crm.status.get", {"id": first["ID"]})
    assert (row["NAME"], row["NAME_INIT"], row["COLOR"], row["SORT"]) == ("Первая", "Начало", "#000000", "15")
    assert error(state, "crm.status.update", {"id": first["ID"], "fields": {"SORT": 45}}).error == "Error on updating status."


def test_system_stages_need_forced(state: PortalState, spa: tuple[int, int]) -> None:
    rows = {r["STATUS_ID"].split(":")[1]: r for r in stages(state, *spa)}
    refused = error(state, "crm.status.delete", {"id": rows["NEW"]["ID"]})
    assert refused.error == 'CRM System Status can be deleted only if parameter FORCED is specified and equal to "Y".'
    assert refused.status == 400
    assert call(state, "crm.status.delete", {"id": rows["PREPARATION"]["ID"]}) is True  # not a system stage
    assert call(state, "crm.status.delete", {"id": rows["NEW"]["ID"], "params": {"FORCED": "Y"}}) is True
    assert [r["STATUS_ID"].split(":")[1] for r in stages(state, *spa)] == ["CLIENT", "SUCCESS", "FAIL"]


def test_the_success_stage_can_be_replaced(state: PortalState, spa: tuple[int, int]) -> None:
    etid, cat = spa
    entity = f"DYNAMIC_{etid}_STAGE_{cat}"
    rows = {r["STATUS_ID"].split(":")[1]: r for r in stages(state, *spa)}
    paid = {"ENTITY_ID": entity, "STATUS_ID": "PAID", "NAME": "Оплачено", "SORT": 45, "SEMANTICS": "S"}
    assert error(state, "crm.status.add", {"fields": paid}).description == "Error on creating status."  # one S only
    assert call(state, "crm.status.delete", {"id": rows["SUCCESS"]["ID"], "params": {"FORCED": "Y"}}) is True
    call(state, "crm.status.add", {"fields": paid})
    early = {"ENTITY_ID": entity, "STATUS_ID": "LOST", "NAME": "x", "SORT": 44, "SEMANTICS": "F"}
    assert error(state, "crm.status.add", {"fields": early}).description == "Error on creating status."  # F before S
    assert [(r["STATUS_ID"].split(":")[1], r["SEMANTICS"]) for r in stages(state, *spa)] == [
        ("NEW", None), ("PREPARATION", None), ("CLIENT", None), ("PAID", "S"), ("FAIL", "F")]  # fmt: skip
    moved = error(state, "crm.status.update", {"id": rows["FAIL"]["ID"], "fields": {"SORT": 5}})
    assert moved.error == "Error on updating status."
    assert call(state, "crm.status.update", {"id": rows["FAIL"]["ID"], "fields": {"SORT": 500}}) is True


def test_delete_refuses_a_stage_with_items(state: PortalState, spa: tuple[int, int]) -> None:
    etid, _ = spa
    item = call(state, "crm.item.add", {"entityTypeId": etid, "fields": {}})["item"]
    stage = next(r for r in stages(state, *spa) if r["STATUS_ID"] == item["stageId"])
    forced = {"id": stage["ID"], "params": {"FORCED": "Y"}}
    assert error(state, "crm.status.delete", forced).error == "There are active items in this status."


def test_identifier_errors(state: PortalState, spa: tuple[int, int]) -> None:
    assert error(state, "crm.status.get", {"id": 9999}).body() == {
        "error": "Status is not found.", "error_description": "Directory item not found."}  # fmt: skip
    assert error(state, "crm.status.delete", {"id": "abc"}).body() == {
        "error": "Invalid identifier.", "error_description": "An invalid identifier was passed."}  # fmt: skip
    assert error(state, "crm.status.update", {"id": 0, "fields": {}}).error == "Invalid identifier."


def test_entity_types_list_the_spa_directories(state: PortalState, spa: tuple[int, int]) -> None:
    etid, cat = spa
    rows = call(state, "crm.status.entity.types", {})
    documented = next(r for r in load_example("crm.status.entity.types")["response"]["bodies"][0]["result"]
                      if r["ID"].startswith("DYNAMIC_"))  # fmt: skip
    mine = next(r for r in rows if r["ID"] == f"DYNAMIC_{etid}_STAGE_{cat}")
    assert set(mine) == set(documented)
    assert mine["PREFIX"] == f"DT{etid}_{cat}" and mine["IS_DEFAULT_CATEGORY"] is True and mine["ENTITY_TYPE_ID"] == etid


def test_status_fields_as_documented(state: PortalState) -> None:
    described = call(state, "crm.status.fields", {})
    example = load_example("crm.status.fields")["response"]["bodies"][0]["result"]
    assert described == example
