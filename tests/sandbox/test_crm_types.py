"""crm.type.* and crm.category.* on the sandbox portal (REFERENCE §4, §5.2)."""

from __future__ import annotations

from typing import Any

import pytest

from b24sandbox import crmstore, ids, registry
from b24sandbox.methods import crm_type
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


def call(state: PortalState, method: str, params: dict[str, Any], user: int = ADMIN) -> Any:
    return registry.invoke(state, method, params, user_id=user, auth_kind="oauth")


def page(state: PortalState, method: str, params: dict[str, Any], user: int = ADMIN) -> Page:
    spec = registry.find(method)
    assert spec is not None
    answer = spec.func(registry.Call(state, spec.name, params, user, "oauth"))
    assert isinstance(answer, Page)
    return answer


def error(state: PortalState, method: str, params: dict[str, Any], user: int = ADMIN) -> RestError:
    with pytest.raises(RestError) as caught:
        call(state, method, params, user)
    return caught.value


def documented(name: str) -> Any:
    return load_example(name)["response"]["bodies"][0]["result"]


def add_type(state: PortalState, **fields: Any) -> dict[str, Any]:
    return call(state, "crm.type.add", {"fields": {"title": "Заявка на оплату", **fields}})["type"]


def test_add_answer_has_the_documented_keys(state: PortalState) -> None:
    smart = add_type(state, isClientEnabled="Y", isUseInUserfieldEnabled="Y",
                     relations={"parent": [{"entityTypeId": 2, "isChildrenListEnabled": "true"}]})  # fmt: skip
    example = documented("crm.type.add")["type"]
    assert set(smart) == set(example)
    assert set(smart["relations"]) == set(example["relations"])
    assert set(smart["relations"]["parent"][0]) == set(example["relations"]["parent"][0])
    assert set(smart["linkedUserFields"]) == set(example["linkedUserFields"])


@pytest.mark.parametrize(("method", "param"), [("crm.type.get", "id"), ("crm.type.getByEntityTypeId", "entityTypeId")])
def test_get_answers_have_the_documented_keys(state: PortalState, method: str, param: str) -> None:
    smart = add_type(state)
    got = call(state, method, {param: smart[param]}, user=EMPLOYEE)["type"]
    assert set(got) == set(documented(method)["type"])
    assert got["entityTypeId"] == smart["entityTypeId"] and got["code"] == ""


def test_update_is_partial_and_has_the_documented_keys(state: PortalState) -> None:
    smart = add_type(state, isStagesEnabled="Y")
    state.clock.advance(__import__("datetime").timedelta(minutes=5))
    updated = call(state, "crm.type.update", {"id": smart["id"], "fields": {"isSourceEnabled": "Y"}})["type"]
    assert set(updated) == set(documented("crm.type.update")["type"])
    assert updated["isStagesEnabled"] == "Y" and updated["isSourceEnabled"] == "Y"
    assert updated["updatedTime"] != smart["updatedTime"] and updated["createdTime"] == smart["createdTime"]


def test_list_rows_have_the_documented_keys_and_total(state: PortalState) -> None:
    for title in ("A", "B", "C"):
        add_type(state, title=title)
    answer = page(state, "crm.type.list", {"order": {"id": "DESC"}})
    assert set(answer.result) == {"types"}
    assert set(answer.result["types"][0]) == set(documented("crm.type.list")["types"][0])
    assert [t["title"] for t in answer.result["types"]] == ["C", "B", "A"]
    assert answer.total == 3 and answer.next is None


def test_list_filter_with_or_group_and_flags(state: PortalState) -> None:
    add_type(state, title="Счёт 5", isAutomationEnabled="Y")
    add_type(state, title="Договор 0")
    add_type(state, title="Прочее", isAutomationEnabled="Y")
    spec = {"0": {"logic": "OR", "0": {"%title": "5"}, "1": {"%title": "0"}}}
    assert [t["title"] for t in page(state, "crm.type.list", {"filter": spec}).result["types"]] == ["Счёт 5", "Договор 0"]
    flagged = page(state, "crm.type.list", {"filter": {"isAutomationEnabled": "Y"}}).result["types"]
    assert [t["title"] for t in flagged] == ["Счёт 5", "Прочее"]
    assert error(state, "crm.type.list", {"filter": {"bogus": 1}}).error == "INVALID_ARG_VALUE"


def test_entity_type_ids_are_even_from_1030_and_explicit_ones_are_validated(state: PortalState) -> None:
    assert [add_type(state)["entityTypeId"] for _ in range(3)] == [1030, 1032, 1034]
    assert add_type(state, entityTypeId=2024)["entityTypeId"] == 2024
    assert add_type(state, entityTypeId="150")["entityTypeId"] == 150  # legacy range 128-192
    for bad in (1031, 1000, 200, 2024, "abc"):
        failure = error(state, "crm.type.add", {"fields": {"title": "X", "entityTypeId": bad}})
        assert (failure.error, failure.description) == ("INVALID_ARG_VALUE", "entityTypeId is out of allowed range")
    type_ids = [t["id"] for t in page(state, "crm.type.list", {}).result["types"]]
    assert type_ids == [ids.CRM_TYPE + n for n in range(5)]  # the id is a separate sequence (b24sandbox.ids)
    assert not set(type_ids) & {1030, 1032, 1034}


def test_flags_default_to_n_except_open_permissions(state: PortalState) -> None:
    smart = add_type(state)
    assert smart["isSetOpenPermissions"] == "Y"
    assert {smart[flag] for flag in crmstore.TYPE_FLAGS if flag != "isSetOpenPermissions"} == {"N"}
    assert add_type(state, isSetOpenPermissions="N", isStagesEnabled="Y")["isSetOpenPermissions"] == "N"


def test_linked_user_fields_take_only_true_false_and_need_use_in_userfield(state: PortalState) -> None:
    link = {"TASKS_TASK|UF_CRM_TASK": "true", "CALENDAR_EVENT|UF_CRM_CAL_EVENT": "Y"}
    ignored = add_type(state, linkedUserFields=link)
    assert ignored["linkedUserFields"]["TASKS_TASK|UF_CRM_TASK"] == "N"
    assert not crmstore.task_binding_enabled(state, ignored["entityTypeId"])
    enabled = add_type(state, isUseInUserfieldEnabled="Y", linkedUserFields=link)
    assert enabled["linkedUserFields"] == {
        "CALENDAR_EVENT|UF_CRM_CAL_EVENT": "N", "TASKS_TASK|UF_CRM_TASK": "Y", "TASKS_TASK_TEMPLATE|UF_CRM_TASK": "N"
    }  # fmt: skip
    assert crmstore.task_binding_enabled(state, enabled["entityTypeId"])
    assert not crmstore.task_binding_enabled(state, 9999)


def test_enabling_bindings_later_through_update(state: PortalState) -> None:
    smart = add_type(state)
    fields = {"isUseInUserfieldEnabled": "Y", "linkedUserFields": {"TASKS_TASK|UF_CRM_TASK": "true"}}
    call(state, "crm.type.update", {"id": smart["id"], "fields": fields})
    assert crmstore.task_binding_enabled(state, smart["entityTypeId"])
    assert crmstore.binding_code(177, 29) == "Tb1_29" and crmstore.binding_code(128, 6) == "T80_6"


def test_relations_parent_child_and_predefined_client_parents(state: PortalState) -> None:
    payment = add_type(state)
    contract = add_type(state, title="Договор", isClientEnabled="Y",
                        relations={"child": [{"entityTypeId": payment["entityTypeId"], "isChildrenListEnabled": "true"},
                                             {"entityTypeId": 99999}]})  # fmt: skip
    assert contract["relations"]["parent"][:2] == [
        {"entityTypeId": 3, "isChildrenListEnabled": "Y", "isPredefined": "Y"},
        {"entityTypeId": 4, "isChildrenListEnabled": "Y", "isPredefined": "Y"},
    ]
    assert contract["relations"]["child"] == [
        {"entityTypeId": payment["entityTypeId"], "isChildrenListEnabled": "Y", "isPredefined": "N"}
    ]  # the unknown entity type was dropped silently
    payment_now = call(state, "crm.type.get", {"id": payment["id"]})["type"]
    assert payment_now["relations"]["parent"] == [
        {"entityTypeId": contract["entityTypeId"], "isChildrenListEnabled": "Y", "isPredefined": "N"}
    ]
    assert crmstore.parent_type_ids(state, payment["entityTypeId"]) == [contract["entityTypeId"]]
    call(state, "crm.type.update", {"id": contract["id"], "fields": {"title": "Договор с клиентом"}})
    assert crmstore.parent_type_ids(state, payment["entityTypeId"]) == [contract["entityTypeId"]]
    call(state, "crm.type.update", {"id": contract["id"], "fields": {"relations": {"parent": [{"entityTypeId": 2}]}}})
    assert crmstore.parent_type_ids(state, payment["entityTypeId"]) == []  # replaced wholesale
    assert crmstore.parent_type_ids(state, contract["entityTypeId"]) == [2]


def test_default_category_with_five_stages_in_russian(state: PortalState) -> None:
    smart = add_type(state, isStagesEnabled="Y")
    etid = smart["entityTypeId"]
    categories = page(state, "crm.category.list", {"entityTypeId": etid}).result["categories"]
    assert len(categories) == 1 and categories[0]["isDefault"] == "Y" and categories[0]["id"] != 0
    cat = categories[0]["id"]
    stages = call(state, "crm.status.list", {"filter": {"ENTITY_ID": f"DYNAMIC_{etid}_STAGE_{cat}"}})
    assert [(s["STATUS_ID"], s["NAME"], s["SORT"], s["SYSTEM"], s["SEMANTICS"]) for s in stages] == [
        (f"DT{etid}_{cat}:NEW", "Начало", "10", "Y", None),
        (f"DT{etid}_{cat}:PREPARATION", "Подготовка", "20", "N", None),
        (f"DT{etid}_{cat}:CLIENT", "Согласование", "30", "N", None),
        (f"DT{etid}_{cat}:SUCCESS", "Успех", "40", "Y", "S"),
        (f"DT{etid}_{cat}:FAIL", "Провал", "50", "Y", "F"),
    ]


def test_english_portal_gets_the_documented_names(state: PortalState) -> None:
    state.portal.language = "en"
    etid = add_type(state)["entityTypeId"]
    cat = crmstore.default_category(state, etid)
    assert cat is not None and cat.name == "General"
    names = [s["NAME"] for s in call(state, "crm.status.list", {"filter": {"ENTITY_ID": f"DYNAMIC_{etid}_STAGE_{cat.id}"}})]
    assert names == ["Start", "Preparation", "Approval", "Success", "Failure"]
    documented_rows = load_example("spa.default_stages_of_new_category")["crm.status.list_response_DYNAMIC_177_STAGE_87"]
    assert names == [row["NAME"] for row in documented_rows["result"]]


@pytest.mark.parametrize(
    ("method", "params", "description"),
    [
        ("crm.type.get", {"id": 77}, "SPA not found"),
        ("crm.type.getByEntityTypeId", {"entityTypeId": 1777}, "Smart process not found"),
        ("crm.type.update", {"id": 77, "fields": {"title": "x"}}, "SPA not found"),
        ("crm.type.delete", {"id": 77}, "SPA not found"),
    ],
)
def test_missing_smart_process_answers_integer_zero(state: PortalState, method: str, params: dict[str, Any],
                                                    description: str) -> None:  # fmt: skip
    failure = error(state, method, params)
    assert failure.body() == {"error": 0, "error_description": description}
    assert failure.error == 0 and not isinstance(failure.error, str) and failure.status == 400


def test_managing_types_needs_a_crm_admin(state: PortalState) -> None:
    failure = error(state, "crm.type.add", {"fields": {"title": "X"}}, user=EMPLOYEE)
    assert (failure.error, failure.description, failure.status) == ("ACCESS_DENIED", "Access denied", 400)
    assert error(state, "crm.type.list", {}, user=EMPLOYEE).error == "ACCESS_DENIED"
    assert error(state, "crm.type.add", {}).error == "100"


def test_delete_refuses_while_items_exist_then_removes_everything(state: PortalState) -> None:
    smart = add_type(state, isStagesEnabled="Y")
    etid = smart["entityTypeId"]
    item = call(state, "crm.item.add", {"entityTypeId": etid, "fields": {}})["item"]
    failure = error(state, "crm.type.delete", {"id": smart["id"]})
    assert failure.body() == {"error": "BX_ERROR", "error_description": "You cannot delete an entity type that has elements"}
    call(state, "crm.item.delete", {"entityTypeId": etid, "id": item["id"]})
    assert call(state, "crm.type.delete", {"id": smart["id"]}) == []
    assert crmstore.type_by_etid(state, etid) is None and not crmstore.categories_of(state, etid)
    assert not [s for s in crmstore.crm_store(state).stages.values() if s.entity_id.startswith(f"DYNAMIC_{etid}_")]


def test_type_events_carry_the_type_id(state: PortalState, events: list[Any]) -> None:
    smart = add_type(state)
    call(state, "crm.type.update", {"id": smart["id"], "fields": {"title": "Новое"}})
    call(state, "crm.type.delete", {"id": smart["id"]})
    assert events == [(name, {"FIELDS": {"ID": smart["id"]}}, ADMIN)
                      for name in ("ONCRMTYPEADD", "ONCRMTYPEUPDATE", "ONCRMTYPEDELETE")]  # fmt: skip
    documented_data = load_example("event.ONCRMTYPEADD")["payloads_as_documented"][0]["data"]
    assert set(events[0][1]["FIELDS"]) == set(documented_data["FIELDS"])


def test_type_fields_describe_the_documented_set(state: PortalState) -> None:
    described = call(state, "crm.type.fields", {})["fields"]
    example = documented("crm.type.fields")["fields"]
    assert set(described) == set(example)
    for name, entry in described.items():
        assert set(entry) == set(example[name]), name
        assert entry["upperName"] == example[name]["upperName"]
        assert entry["type"] == example[name]["type"]


def test_categories_add_get_list_with_documented_keys(state: PortalState) -> None:
    etid = add_type(state, isCategoriesEnabled="Y")["entityTypeId"]
    first = crmstore.default_category(state, etid)
    added = call(state, "crm.category.add", {"entityTypeId": etid, "fields": {"name": "Крупные", "sort": -5}})["category"]
    assert set(added) == set(documented("crm.category.add")["category"])
    assert added["sort"] == 0 and added["isDefault"] == "N"
    assert len(crmstore.stages_of(state, f"DYNAMIC_{etid}_STAGE_{added['id']}")) == 5
    got = call(state, "crm.category.get", {"entityTypeId": etid, "id": added["id"]})["category"]
    assert got == added
    promoted = call(state, "crm.category.add", {"entityTypeId": etid, "fields": {"name": "Главная", "isDefault": "Y"}})
    listed = page(state, "crm.category.list", {"entityTypeId": str(etid)})
    assert listed.total == 3 and set(listed.result) == set(documented("crm.category.list"))
    assert all(set(row) == set(documented("crm.category.add")["category"]) for row in listed.result["categories"])
    assert [c["id"] for c in listed.result["categories"] if c["isDefault"] == "Y"] == [promoted["category"]["id"]]
    assert first is not None and first.is_default is False


def test_category_errors(state: PortalState) -> None:
    etid = add_type(state)["entityTypeId"]
    assert error(state, "crm.category.list", {"entityTypeId": 4444}).body() == {
        "error": "NOT_FOUND", "error_description": "Smart process not found"}  # fmt: skip
    assert error(state, "crm.category.get", {"entityTypeId": etid, "id": 999}).body() == {
        "error": "NOT_FOUND", "error_description": "Element not found"}  # fmt: skip
    assert error(state, "crm.category.add", {"entityTypeId": etid, "fields": {"sort": 1}}).error == 0
    assert error(state, "crm.category.add", {"entityTypeId": etid, "fields": {"name": "x"}}, EMPLOYEE).error == "ACCESS_DENIED"


def test_category_update_and_delete(state: PortalState) -> None:
    etid = add_type(state)["entityTypeId"]
    default = crmstore.default_category(state, etid)
    assert default is not None
    extra = call(state, "crm.category.add", {"entityTypeId": etid, "fields": {"name": "Вторая"}})["category"]
    updated = call(state, "crm.category.update", {"entityTypeId": etid, "id": extra["id"],
                                                  "fields": {"name": "Основная", "sort": 10, "isDefault": "Y"}})["category"]  # fmt: skip
    assert updated == {"id": extra["id"], "name": "Основная", "sort": 10, "entityTypeId": etid, "isDefault": "Y"}
    assert set(updated) == set(documented("crm.category.update")["category"])
    assert error(state, "crm.category.delete", {"entityTypeId": etid, "id": extra["id"]}).body() == {
        "error": "BX_ERROR", "error_description": "This funnel is the default funnel"}  # fmt: skip
    call(state, "crm.item.add", {"entityTypeId": etid, "fields": {"categoryId": default.id}})
    assert error(state, "crm.category.delete", {"entityTypeId": etid, "id": default.id}).description == (
        "Elements related to the funnel found")  # fmt: skip
    spare = call(state, "crm.category.add", {"entityTypeId": etid, "fields": {"name": "Лишняя"}})["category"]
    assert call(state, "crm.category.delete", {"entityTypeId": etid, "id": spare["id"]}) is None
    assert not crmstore.stages_of(state, f"DYNAMIC_{etid}_STAGE_{spare['id']}")
    assert error(state, "crm.category.get", {"entityTypeId": etid, "id": spare["id"]}).error == "NOT_FOUND"


def test_owner_types_list_smart_processes_with_their_binding_prefix(state: PortalState) -> None:
    etid = add_type(state, entityTypeId=177)["entityTypeId"]
    rows = call(state, "crm.enum.ownertype", {})
    example = documented("crm.enum.ownertype")
    assert all(set(row) == set(example[0]) for row in rows)
    assert {r["ID"]: r["SYMBOL_CODE_SHORT"] for r in rows if r["ID"] < 100} == {
        r["ID"]: r["SYMBOL_CODE_SHORT"] for r in example if r["ID"] < 100}  # fmt: skip
    assert next(r for r in rows if r["ID"] == etid) == {
        "ID": 177, "NAME": "Заявка на оплату", "SYMBOL_CODE": "DYNAMIC_177", "SYMBOL_CODE_SHORT": "Tb1"}  # fmt: skip


def test_category_fields_describe_the_spa_funnel(state: PortalState) -> None:
    etid = add_type(state)["entityTypeId"]
    described = call(state, "crm.category.fields", {"entityTypeId": etid})["fields"]
    example = documented("crm.category.fields")["fields"]
    assert set(described) == set(example) - {"originId", "originatorId"}  # deal-only fields
    assert all(set(described[name]) == set(example[name]) for name in described)


def test_switch_keeps_a_relation_side_left_out(state: PortalState, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(crm_type, "RELATIONS_MISSING_SIDE_CLEARS", False)
    payment = add_type(state)
    contract = add_type(state, relations={"child": [{"entityTypeId": payment["entityTypeId"]}]})
    call(state, "crm.type.update", {"id": contract["id"], "fields": {"relations": {"parent": [{"entityTypeId": 2}]}}})
    assert crmstore.parent_type_ids(state, payment["entityTypeId"]) == [contract["entityTypeId"]]


def test_id_spaces_are_apart_so_mix_ups_fail(state: PortalState) -> None:
    smart = add_type(state, isStagesEnabled="Y")
    etid, type_id = smart["entityTypeId"], smart["id"]
    category = call(state, "crm.category.list", {"entityTypeId": etid})["categories"][0]["id"]
    item = call(state, "crm.item.add", {"entityTypeId": etid, "fields": {}}, EMPLOYEE)["item"]["id"]
    task = call(state, "tasks.task.add", {"fields": {"TITLE": "T", "RESPONSIBLE_ID": EMPLOYEE}})["task"]["id"]
    assert len({type_id, etid, category, item, int(task)}) == 5
    assert error(state, "crm.item.list", {"entityTypeId": type_id}).description == "Smart process not found"
    assert error(state, "crm.category.list", {"entityTypeId": type_id}).error == "NOT_FOUND"
    assert error(state, "crm.type.get", {"id": etid}).error == 0  # "SPA not found"
    for wrong in (type_id, category):
        assert error(state, "crm.item.get", {"entityTypeId": etid, "id": wrong}).description == "Item not found"
    assert error(state, "crm.category.get", {"entityTypeId": etid, "id": item}).error == "NOT_FOUND"
    assert call(state, "tasks.task.get", {"taskId": item}) == []
