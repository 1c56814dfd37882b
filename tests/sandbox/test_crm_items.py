"""crm.item.* and crm.stagehistory.list on smart processes (REFERENCE §5.4, §6)."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from b24sandbox import crmstore, ids, registry
from b24sandbox.clock import SandboxClock
from b24sandbox.methods import crm_item
from b24sandbox.registry import Page, RestError
from b24sandbox.shared import load_example
from b24sandbox.state import PortalState

ADMIN, EMPLOYEE, INACTIVE = 1, 5, 14
START = datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("Europe/Moscow"))
PDF = b"%PDF-1.4 invoice"


@pytest.fixture
def state() -> PortalState:
    clock = SandboxClock(START)
    clock.freeze()
    return PortalState.from_org_file(clock=clock)


@pytest.fixture
def events(state: PortalState) -> list[tuple[str, dict[str, Any], int | None]]:
    seen: list[tuple[str, dict[str, Any], int | None]] = []
    state.subscribe(lambda event, data, user: seen.append((event, data, user)))
    return seen


def call(state: PortalState, method: str, params: dict[str, Any], user: int = EMPLOYEE) -> Any:
    return registry.invoke(state, method, params, user_id=user, auth_kind="oauth")


def page(state: PortalState, method: str, params: dict[str, Any]) -> Page:
    spec = registry.find(method)
    assert spec is not None
    answer = spec.func(registry.Call(state, spec.name, params, EMPLOYEE, "oauth"))
    assert isinstance(answer, Page)
    return answer


def error(state: PortalState, method: str, params: dict[str, Any], user: int = EMPLOYEE) -> RestError:
    with pytest.raises(RestError) as caught:
        call(state, method, params, user)
    return caught.value


def user_field(state: PortalState, type_id: int, suffix: str, kind: str, **extra: Any) -> dict[str, Any]:
    field = {"entityId": f"CRM_{type_id}", "fieldName": f"UF_CRM_{type_id}_{suffix}", "userTypeId": kind, **extra}
    return call(state, "userfieldconfig.add", {"moduleId": "crm", "field": field}, ADMIN)["field"]


@pytest.fixture
def spa(state: PortalState) -> dict[str, Any]:
    """A payment-request type (stages, products, observers on) with a few user fields."""
    flags = {"isStagesEnabled": "Y", "isLinkWithProductsEnabled": "Y", "isObserversEnabled": "Y"}
    smart = call(state, "crm.type.add", {"fields": {"title": "Заявка на оплату", **flags}}, ADMIN)["type"]
    tid = smart["id"]
    assert tid == ids.CRM_TYPE == 7  # the first smart process of a fresh portal: its UF names below use 7
    user_field(state, tid, "AMOUNT", "money")
    user_field(state, tid, "INVOICE", "file", multiple="Y")
    user_field(state, tid, "SCAN", "file")
    user_field(state, tid, "PAID", "boolean")
    options = user_field(state, tid, "KIND", "enumeration", enum=[{"value": "Товары", "def": "Y"}, {"value": "Услуги"}])
    user_field(state, tid, "DUE", "date")
    user_field(state, tid, "CODE2", "string")
    smart["kind_ids"] = [int(o["id"]) for o in options["enum"]]
    smart["prefix"] = f"DT{smart['entityTypeId']}_{crmstore.default_category(state, smart['entityTypeId']).id}"  # type: ignore[union-attr]
    return smart


def add(state: PortalState, spa: dict[str, Any], user: int = EMPLOYEE, **fields: Any) -> dict[str, Any]:
    return call(state, "crm.item.add", {"entityTypeId": spa["entityTypeId"], "fields": fields}, user)["item"]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_add_defaults_and_item_shape(state: PortalState, spa: dict[str, Any]) -> None:
    item = add(state, spa)
    etid = spa["entityTypeId"]
    assert item["id"] == ids.CRM_ITEM and item["title"] == f"Заявка на оплату #{item['id']}"
    assert item["assignedById"] == EMPLOYEE == item["createdBy"] == item["movedBy"]
    assert item["stageId"] == f"{spa['prefix']}:NEW" and item["previousStageId"] is None
    assert item["createdTime"] == item["updatedTime"] == item["movedTime"] == "2026-03-02T10:00:00+03:00"
    assert item["entityTypeId"] == etid and item["categoryId"] == crmstore.default_category(state, etid).id  # type: ignore[union-attr]
    assert item["opportunity"] == 0 and item["currencyId"] == "RUB" and item["observers"] == []
    assert item["ufCrm7Kind"] == spa["kind_ids"][0]  # the default enumeration option
    assert item["ufCrm7Paid"] == "N" and item["ufCrm7Invoice"] == [] and item["ufCrm7Scan"] is None
    sdk_keys = {  # b24phpsdk ItemItemResult (REFERENCE §6.2) + stageId
        "id", "xmlId", "title", "createdBy", "updatedBy", "movedBy", "createdTime", "updatedTime", "movedTime",
        "categoryId", "opened", "stageId", "previousStageId", "begindate", "closedate", "companyId", "contactId",
        "opportunity", "isManualOpportunity", "taxValue", "currencyId", "opportunityAccount", "taxValueAccount",
        "accountCurrencyId", "mycompanyId", "sourceId", "sourceDescription", "webformId", "assignedById",
        "lastActivityBy", "lastActivityTime", "utmSource", "utmMedium", "utmCampaign", "utmContent", "utmTerm",
        "observers", "contactIds", "entityTypeId",
    }  # fmt: skip
    assert set(item) - {k for k in item if k.startswith("ufCrm")} == sdk_keys
    assert set(load_example("crm.item.add")["response"]["bodies"][0]["result"]) == {"item"}


def test_fields_gated_by_type_flags_read_null_and_are_not_written(state: PortalState, spa: dict[str, Any]) -> None:
    item = add(state, spa, begindate="2026-03-05", companyId=7, sourceId="WEB", opportunity=150.5, observers=[3, 4])
    assert item["begindate"] is None and item["closedate"] is None  # isBeginCloseDatesEnabled=N
    assert item["companyId"] is None and item["contactIds"] is None and item["sourceId"] is None
    assert item["opportunity"] == 150.5 and item["observers"] == [3, 4]
    call(state, "crm.type.update", {"id": spa["id"], "fields": {"isBeginCloseDatesEnabled": "Y"}}, ADMIN)
    dated = add(state, spa, begindate="2026-03-05", bogusKey="ignored", ID=999)
    assert dated["begindate"] == "2026-03-05T00:00:00+03:00" and dated["closedate"] == "2026-03-09T00:00:00+03:00"
    assert dated["id"] == item["id"] + 1 and "bogusKey" not in dated


def test_values_of_user_field_types(state: PortalState, spa: dict[str, Any]) -> None:
    item = add(state, spa, ufCrm7Amount="300|RUB", ufCrm7Paid="Y", ufCrm7Kind=spa["kind_ids"][1],
               ufCrm7Due="2026-04-01", ufCrm_7_CODE2="A-1")  # fmt: skip
    assert (item["ufCrm7Amount"], item["ufCrm7Paid"], item["ufCrm7Kind"]) == ("300|RUB", "Y", spa["kind_ids"][1])
    assert item["ufCrm7Due"] == "2026-04-01T00:00:00+03:00" and item["ufCrm_7_CODE2"] == "A-1"
    bad = error(state, "crm.item.add", {"entityTypeId": spa["entityTypeId"], "fields": {"ufCrm7Kind": 999}})
    assert bad.error == "CRM_FIELD_ERROR_VALUE_NOT_VALID" and bad.description.startswith("Invalid value for field")
    money = error(state, "crm.item.add", {"entityTypeId": spa["entityTypeId"], "fields": {"ufCrm7Amount": "300 RUB"}})
    assert money.error == "CRM_FIELD_ERROR_VALUE_NOT_VALID"
    nobody = error(state, "crm.item.add", {"entityTypeId": spa["entityTypeId"], "fields": {"assignedById": 999}})
    assert nobody.body() == {"error": "CRM_FIELD_ERROR_VALUE_NOT_VALID", "error_description": 'Invalid value for field "Assigned to"'}
    scalar = error(state, "crm.item.add", {"entityTypeId": spa["entityTypeId"], "fields": {"observers": 3}})
    assert scalar.body() == {"error": "100",
                             "error_description": "Expected iterable value for multiple field, but got `integer` instead"}  # fmt: skip


def test_original_uf_names_in_and_out(state: PortalState, spa: dict[str, Any]) -> None:
    params = {"entityTypeId": spa["entityTypeId"], "useOriginalUfNames": "Y",
              "fields": {"UF_CRM_7_AMOUNT": "10|RUB", "ufCrm7Paid": "Y"}}  # fmt: skip
    item = call(state, "crm.item.add", params)["item"]
    assert item["UF_CRM_7_AMOUNT"] == "10|RUB" and item["UF_CRM_7_PAID"] == "N"  # camel key ignored in Y mode
    assert not [k for k in item if k.startswith("ufCrm")]
    camel = call(state, "crm.item.add", {"entityTypeId": spa["entityTypeId"], "fields": {"UF_CRM_7_AMOUNT": "10|RUB"}})
    assert camel["item"]["ufCrm7Amount"] is None  # UF_CRM_ keys are unknown in camelCase mode
    got = call(state, "crm.item.get", {"entityTypeId": spa["entityTypeId"], "id": item["id"], "useOriginalUfNames": "N"})
    assert got["item"]["ufCrm7Amount"] == "10|RUB"


def test_mandatory_user_fields_on_add_and_update(state: PortalState, spa: dict[str, Any]) -> None:
    item = add(state, spa)
    user_field(state, spa["id"], "PURPOSE", "string", mandatory="Y", editFormLabel={"ru": "Назначение"})
    missing = error(state, "crm.item.add", {"entityTypeId": spa["entityTypeId"], "fields": {"title": "x"}})
    assert missing.body() == {"error": "CRM_FIELD_ERROR_REQUIRED", "error_description": 'The "Назначение" field is required.'}
    assert add(state, spa, ufCrm7Purpose="Оплата поставщику")["ufCrm7Purpose"] == "Оплата поставщику"
    update = {"entityTypeId": spa["entityTypeId"], "id": item["id"], "fields": {"ufCrm7Purpose": ""}}
    assert error(state, "crm.item.update", update).error == "CRM_FIELD_ERROR_REQUIRED"
    untouched = {"entityTypeId": spa["entityTypeId"], "id": item["id"], "fields": {"title": "Старая заявка"}}
    assert call(state, "crm.item.update", untouched)["item"]["title"] == "Старая заявка"


def test_stage_moves_and_history(state: PortalState, spa: dict[str, Any]) -> None:
    etid, prefix = spa["entityTypeId"], spa["prefix"]
    item = add(state, spa)
    state.clock.advance(timedelta(hours=1))
    moved = call(state, "crm.item.update", {"entityTypeId": etid, "id": item["id"], "fields": {"stageId": f"{prefix}:CLIENT"}}, ADMIN)["item"]
    assert moved["previousStageId"] == f"{prefix}:NEW" and moved["movedBy"] == ADMIN
    assert moved["movedTime"] == moved["updatedTime"] == "2026-03-02T11:00:00+03:00" and moved["createdTime"] != moved["movedTime"]
    state.clock.advance(timedelta(hours=1))
    call(state, "crm.item.update", {"entityTypeId": etid, "id": item["id"], "fields": {"title": "Только название"}})
    renamed = call(state, "crm.item.get", {"entityTypeId": etid, "id": item["id"]})["item"]
    assert renamed["movedTime"] == "2026-03-02T11:00:00+03:00" and renamed["updatedTime"] == "2026-03-02T12:00:00+03:00"
    call(state, "crm.item.update", {"entityTypeId": etid, "id": item["id"], "fields": {"stageId": f"{prefix}:SUCCESS"}})
    other = add(state, spa)
    history = page(state, "crm.stagehistory.list", {"entityTypeId": etid, "filter": {"OWNER_ID": item["id"]}, "order": {"ID": "ASC"}})
    rows = history.result["items"]
    documented = load_example("crm.stagehistory.list")["response"]["bodies"][0]["result"]["items"][0]
    assert set(rows[0]) == set(documented) and history.total == 3
    assert [(r["TYPE_ID"], r["STAGE_ID"].split(":")[1], r["STAGE_SEMANTIC_ID"]) for r in rows] == [
        (1, "NEW", "P"), (2, "CLIENT", "P"), (3, "SUCCESS", "S")]  # fmt: skip
    assert rows[1]["CREATED_TIME"] == "2026-03-02T11:00:00+03:00"
    picked = call(state, "crm.stagehistory.list", {"entityTypeId": etid, "select": ["ID", "STAGE_ID"], "filter": {"OWNER_ID": other["id"]}})
    assert [set(r) for r in picked["items"]] == [{"ID", "STAGE_ID"}]
    stage = error(state, "crm.item.update", {"entityTypeId": etid, "id": item["id"], "fields": {"stageId": "DT9_9:NEW"}})
    assert stage.error == "CRM_FIELD_ERROR_VALUE_NOT_VALID"


def test_update_without_change_is_not_saved_and_fires_nothing(state: PortalState, spa: dict[str, Any], events: list[Any]) -> None:
    item = add(state, spa, title="Оплата", opportunity=100)
    state.clock.advance(timedelta(minutes=10))
    same = call(state, "crm.item.update", {"entityTypeId": spa["entityTypeId"], "id": item["id"],
                                           "fields": {"title": "Оплата", "opportunity": "100"}})["item"]  # fmt: skip
    assert same["updatedTime"] == item["updatedTime"]
    assert [e[0] for e in events if e[0].startswith("ONCRMDYNAMICITEM")] == ["ONCRMDYNAMICITEMADD"]


def test_switch_fires_update_events_without_change(state: PortalState, spa: dict[str, Any], events: list[Any],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setattr(crm_item, "UPDATE_EVENT_WITHOUT_CHANGE", True)
    item = add(state, spa, title="Оплата")
    call(state, "crm.item.update", {"entityTypeId": spa["entityTypeId"], "id": item["id"], "fields": {"title": "Оплата"}})
    assert [e[0] for e in events if e[0].startswith("ONCRMDYNAMICITEM")] == ["ONCRMDYNAMICITEMADD", "ONCRMDYNAMICITEMUPDATE"]


def test_switch_accepts_original_names_in_camel_mode(state: PortalState, spa: dict[str, Any],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setattr(crm_item, "ACCEPT_ORIGINAL_NAMES_IN_CAMEL_MODE", True)
    assert add(state, spa, UF_CRM_7_AMOUNT="10|RUB")["ufCrm7Amount"] == "10|RUB"


def test_item_events(state: PortalState, spa: dict[str, Any], events: list[Any]) -> None:
    etid = spa["entityTypeId"]
    item = add(state, spa)
    call(state, "crm.item.update", {"entityTypeId": etid, "id": item["id"], "fields": {"title": "Новое"}})
    assert call(state, "crm.item.delete", {"entityTypeId": etid, "id": item["id"]}) == []
    data = {"FIELDS": {"ID": item["id"], "ENTITY_TYPE_ID": etid}}
    item_events = [e for e in events if e[0].startswith("ONCRMDYNAMICITEM")]
    assert item_events == [(n, data, EMPLOYEE) for n in ("ONCRMDYNAMICITEMADD", "ONCRMDYNAMICITEMUPDATE", "ONCRMDYNAMICITEMDELETE")]
    documented = load_example("event.ONCRMDYNAMICITEMADD")["payloads_as_documented"][0]["data"]
    assert {k: str(v) for k, v in data["FIELDS"].items()}.keys() == documented["FIELDS"].keys()


def test_not_found_and_permissions(state: PortalState, spa: dict[str, Any]) -> None:
    assert error(state, "crm.item.get", {"entityTypeId": 4040, "id": 1}).body() == {
        "error": "NOT_FOUND", "error_description": "Smart process not found"}  # fmt: skip
    assert error(state, "crm.item.get", {"entityTypeId": spa["entityTypeId"], "id": 77}).body() == {
        "error": "NOT_FOUND", "error_description": "Item not found"}  # fmt: skip
    assert error(state, "crm.item.delete", {"entityTypeId": spa["entityTypeId"], "id": 77}).error == "NOT_FOUND"
    assert error(state, "crm.item.list", {"entityTypeId": 5}).error == "ENTITY_TYPE_NOT_SUPPORTED"  # old invoices
    assert error(state, "crm.item.add", {"entityTypeId": spa["entityTypeId"], "fields": {}}, INACTIVE).error == "ACCESS_DENIED"
    assert error(state, "crm.item.add", {"entityTypeId": spa["entityTypeId"]}).error == "100"


def test_child_items_get_parent_fields(state: PortalState, spa: dict[str, Any]) -> None:
    contract = call(state, "crm.type.add", {"fields": {"title": "Договор", "relations": {
        "child": [{"entityTypeId": spa["entityTypeId"], "isChildrenListEnabled": "true"}]}}}, ADMIN)["type"]  # fmt: skip
    parent = call(state, "crm.item.add", {"entityTypeId": contract["entityTypeId"], "fields": {"title": "Договор №1"}})["item"]
    field = f"parentId{contract['entityTypeId']}"
    child = add(state, spa, **{field: parent["id"]})
    assert child[field] == parent["id"]
    listed = call(state, "crm.item.list", {"entityTypeId": spa["entityTypeId"], "filter": {field: parent["id"]}})
    assert [i["id"] for i in listed["items"]] == [child["id"]]
    dangling = error(state, "crm.item.add", {"entityTypeId": spa["entityTypeId"], "fields": {field: 404}})
    assert dangling.error == "CRM_FIELD_ERROR_VALUE_NOT_VALID"
    unlinked = call(state, "crm.item.update", {"entityTypeId": spa["entityTypeId"], "id": child["id"], "fields": {field: 0}})
    assert unlinked["item"][field] is None


def test_files_round_trip(state: PortalState, spa: dict[str, Any]) -> None:
    etid = spa["entityTypeId"]
    item = add(state, spa, ufCrm7Invoice=[["invoice.pdf", b64(PDF)], ["act.pdf", b64(b"act")]],
               ufCrm7Scan=["scan.png", b64(b"png")])  # fmt: skip
    first, second = item["ufCrm7Invoice"]
    assert set(first) == {"id", "url", "urlMachine"} and "fileId=" + str(first["id"]) in first["url"]
    stored = crmstore.file_by_id(state, first["id"])
    assert stored is not None and (stored.name, stored.content) == ("invoice.pdf", PDF)
    assert crmstore.file_by_token(state, first["urlMachine"].split("token=")[1]) is stored
    update = {"ufCrm7Invoice": [{"id": first["id"]}, ["extra.pdf", b64(b"extra")]], "ufCrm7Scan": ["new.png", b64(b"new")]}
    after = call(state, "crm.item.update", {"entityTypeId": etid, "id": item["id"], "fields": update})["item"]
    kept_ids = [f["id"] for f in after["ufCrm7Invoice"]]
    assert kept_ids[0] == first["id"] and second["id"] not in kept_ids and len(kept_ids) == 2
    assert crmstore.file_by_id(state, kept_ids[1]).content == b"extra"  # type: ignore[union-attr]
    assert after["ufCrm7Scan"]["id"] != item["ufCrm7Scan"]["id"]
    cleared = call(state, "crm.item.update", {"entityTypeId": etid, "id": item["id"], "fields": {"ufCrm7Scan": "", "ufCrm7Invoice": []}})
    assert cleared["item"]["ufCrm7Scan"] is None and cleared["item"]["ufCrm7Invoice"] == []
    bad = error(state, "crm.item.update", {"entityTypeId": etid, "id": item["id"], "fields": {"ufCrm7Scan": ["x.pdf", "@@@"]}})
    assert bad.error == "CRM_FIELD_ERROR_VALUE_NOT_VALID"


def test_list_select_filter_order(state: PortalState, spa: dict[str, Any]) -> None:
    etid, prefix = spa["entityTypeId"], spa["prefix"]
    made: list[int] = []
    for n, (amount, paid) in enumerate([(100, "Y"), (5000, "N"), (20000, "Y"), (700, "N")], start=1):
        state.clock.advance(timedelta(days=1))
        made.append(add(state, spa, title=f"Заявка {n}", opportunity=amount, ufCrm7Paid=paid, assignedById=n + 2)["id"])
    call(state, "crm.item.update", {"entityTypeId": etid, "id": made[1], "fields": {"stageId": f"{prefix}:FAIL"}})
    params: dict[str, Any] = {
        "entityTypeId": etid,
        "select": ["id", "title", "stageId", "ufCrm7Paid"],
        "filter": {"0": {"logic": "OR", "0": {">=opportunity": 5000}, "1": {"ufCrm7Paid": 1}},
                   "!@stageId": [f"{prefix}:FAIL"], "%title": "Заявка"},
        "order": {"opportunity": "DESC"},
    }  # fmt: skip
    rows = call(state, "crm.item.list", params)["items"]
    assert [r["id"] for r in rows] == [made[2], made[0]]
    assert set(rows[0]) == {"id", "title", "stageId", "ufCrm7Paid"} and rows[0]["ufCrm7Paid"] == "Y"
    window = {">=createdTime": "2026-03-04T00:00:00+03:00", "<createdTime": "2026-03-05T12:00:00+03:00"}
    assert [r["id"] for r in call(state, "crm.item.list", {"entityTypeId": etid, "filter": window})["items"]] == made[1:3]
    assert [r["id"] for r in call(state, "crm.item.list", {"entityTypeId": etid, "filter": {"@assignedById": ["3", "6"]}})["items"]] == [made[0], made[3]]
    everything = call(state, "crm.item.list", {"entityTypeId": etid, "select": ["*"], "filter": {"id": made[0]}})["items"][0]
    assert everything == call(state, "crm.item.get", {"entityTypeId": etid, "id": made[0]})["item"]
    assert set(load_example("crm.item.list")["response"]["bodies"][0]["result"]) == {"items"}


@pytest.mark.parametrize(
    ("params", "description"),
    [
        ({"filter": {"bogus": 1}}, "Invalid filter: field 'bogus' is not allowed in filter"),
        ({"filter": {"companyId": 1}}, "Invalid filter: field 'companyId' is not allowed in filter"),  # feature off
        ({"filter": {"ufCrm7Paid": "Y"}}, "Invalid filter: field 'ufCrm7Paid' has invalid value"),  # booleans filter by 1/0
        ({"order": {"bogus": "ASC"}}, "Invalid order: field 'bogus' is not allowed in order"),
        ({"order": {"id": "UP"}}, "Invalid order: allowed sort directions are ASC, DESC. But got 'UP' for field 'id'"),
    ],
)
def test_list_refuses_bad_filter_and_order(state: PortalState, spa: dict[str, Any], params: dict[str, Any], description: str) -> None:
    failure = error(state, "crm.item.list", {"entityTypeId": spa["entityTypeId"], **params})
    assert (failure.error, failure.description, failure.status) == ("INVALID_ARG_VALUE", description, 400)


def test_pagination_50_50_20_and_start_minus_one(state: PortalState, spa: dict[str, Any]) -> None:
    etid = spa["entityTypeId"]
    made = [add(state, spa)["id"] for _ in range(120)]
    pages = [page(state, "crm.item.list", {"entityTypeId": etid, "select": ["id"], "start": start}) for start in (0, 50, 100)]
    assert [len(p.result["items"]) for p in pages] == [50, 50, 20]
    assert [(p.total, p.next) for p in pages] == [(120, 50), (120, 100), (120, None)]
    assert pages[1].result["items"][0]["id"] == made[50]
    seen: list[int] = []
    last = 0
    while True:
        fast = page(state, "crm.item.list", {"entityTypeId": etid, "select": ["id"], "order": {"id": "ASC"},
                                             "filter": {">id": last}, "start": -1})  # fmt: skip
        assert (fast.total, fast.next) == (0, None)
        batch = [row["id"] for row in fast.result["items"]]
        seen.extend(batch)
        if len(batch) < 50:
            break
        last = batch[-1]
    assert seen == made


def test_item_fields_match_the_documented_spa_description(state: PortalState) -> None:
    flags = {flag: "Y" for flag in crmstore.TYPE_FLAGS}
    other = call(state, "crm.type.add", {"fields": {"title": "Другой"}}, ADMIN)["type"]
    relations = {"parent": [{"entityTypeId": 1}, {"entityTypeId": 2}, {"entityTypeId": other["entityTypeId"]}]}
    smart = call(state, "crm.type.add", {"fields": {"title": "Полный", **flags, "relations": relations}}, ADMIN)["type"]
    described = call(state, "crm.item.fields", {"entityTypeId": smart["entityTypeId"]})["fields"]
    example = load_example("crm.item.fields")["response"]["bodies"][0]["result"]["fields"]
    plain = {k for k in example if not k.startswith("parentId")}
    assert {k for k in described if not k.startswith("parentId")} == plain
    assert sorted(k for k in described if k.startswith("parentId")) == sorted(
        ["parentId1", "parentId2", f"parentId{other['entityTypeId']}"])  # fmt: skip
    for name in plain:
        assert set(described[name]) == set(example[name]), name
        assert (described[name]["type"], described[name]["upperName"]) == (example[name]["type"], example[name]["upperName"])
    category = crmstore.default_category(state, smart["entityTypeId"])
    assert described["stageId"]["statusType"] == f"DYNAMIC_{smart['entityTypeId']}_STAGE_{category.id}"  # type: ignore[union-attr]
    user_field(state, smart["id"], "AMOUNT", "double")
    with_uf = call(state, "crm.item.fields", {"entityTypeId": smart["entityTypeId"], "useOriginalUfNames": "Y"})["fields"]
    name = f"UF_CRM_{smart['id']}_AMOUNT"
    assert with_uf[name]["isDynamic"] is True and with_uf[name]["upperName"] == name


# --- over real HTTP --------------------------------------------------------------------------------


def _post(portal: Any, login: str, method: str, **kwargs: Any) -> Any:
    import requests

    return requests.post(portal.webhook_url(login) + method, verify=portal.ca_bundle, timeout=10, **kwargs)


def test_items_over_https_with_json_and_php_form_encoding(sandbox: Any) -> None:
    created = _post(sandbox, "admin", "crm.type.add.json",
                    json={"fields": {"title": "Заявка", "isStagesEnabled": "Y", "isObserversEnabled": "Y"}})
    assert created.status_code == 200, created.text
    smart = created.json()["result"]["type"]
    etid = smart["entityTypeId"]
    form = {"entityTypeId": str(etid), "fields[title]": "Оплата поставщику", "fields[observers][0]": "3",
            "fields[observers][1]": "4", "fields[assignedById]": "7"}  # fmt: skip
    added = _post(sandbox, "d.petrov", "crm.item.add", data=form)
    assert added.status_code == 200, added.text
    item = added.json()["result"]["item"]
    assert item["title"] == "Оплата поставщику" and item["assignedById"] == 7 and item["createdBy"] == 5
    assert item["createdTime"] == "2026-03-02T10:00:00+03:00"
    listed = _post(sandbox, "d.petrov", "crm.item.list",
                   data={"entityTypeId": str(etid), "filter[%title]": "поставщ", "select[0]": "id", "select[1]": "title"})  # fmt: skip
    body = listed.json()
    assert listed.status_code == 200 and body["result"] == {"items": [{"id": item["id"], "title": "Оплата поставщику"}]}
    assert body["total"] == 1 and "next" not in body and "time" in body
    other = _post(sandbox, "admin", "crm.item.add", data={"entityTypeId": str(etid), "fields[title]": "Аренда"}).json()
    or_group = {"entityTypeId": str(etid), "select[]": "id", "order[id]": "DESC", "filter[0][logic]": "OR",
                "filter[0][0][%title]": "аренд", "filter[0][1][id]": str(item["id"])}  # fmt: skip
    grouped = _post(sandbox, "d.petrov", "crm.item.list", data=or_group).json()
    assert grouped["result"]["items"] == [{"id": other["result"]["item"]["id"]}, {"id": item["id"]}]
    stages = _post(sandbox, "admin", "crm.status.list", json={"filter": {"ENTITY_ID": f"DYNAMIC_{etid}_STAGE_{item['categoryId']}"}})
    assert [s["STATUS_ID"].split(":")[1] for s in stages.json()["result"]] == ["NEW", "PREPARATION", "CLIENT", "SUCCESS", "FAIL"]


def test_odd_error_envelopes_over_https(sandbox: Any) -> None:
    missing_type = _post(sandbox, "admin", "crm.type.get", json={"id": 404})
    assert missing_type.status_code == 400
    assert missing_type.json() == {"error": 0, "error_description": "SPA not found"}
    missing_status = _post(sandbox, "admin", "crm.status.get", json={"id": 404})
    assert missing_status.status_code == 400
    assert missing_status.json()["error"] == "Status is not found."
    missing_item = _post(sandbox, "admin", "crm.item.get", json={"entityTypeId": 1030, "id": 1})
    assert missing_item.status_code == 400
    assert missing_item.json() == {"error": "NOT_FOUND", "error_description": "Smart process not found"}


def test_file_links_point_at_the_running_portal(sandbox: Any) -> None:
    smart = _post(sandbox, "admin", "crm.type.add", json={"fields": {"title": "Договор"}}).json()["result"]["type"]
    field = {"entityId": f"CRM_{smart['id']}", "fieldName": f"UF_CRM_{smart['id']}_SCAN", "userTypeId": "file"}
    assert _post(sandbox, "admin", "userfieldconfig.add", json={"moduleId": "crm", "field": field}).status_code == 200
    fields = {f"ufCrm{smart['id']}Scan": ["contract.pdf", b64(PDF)]}
    item = _post(sandbox, "admin", "crm.item.add", json={"entityTypeId": smart["entityTypeId"], "fields": fields}).json()
    link = item["result"]["item"][f"ufCrm{smart['id']}Scan"]
    assert link["url"].startswith(sandbox.base_url + "/bitrix/services/main/ajax.php?")
    assert link["urlMachine"].startswith(sandbox.base_url + "/rest/crm.controller.item.getFile.json?token=")
    stored = crmstore.file_by_id(sandbox.state, link["id"])
    assert stored is not None and stored.content == PDF


def test_every_item_method_answers_the_documented_result_shape(state: PortalState, spa: dict[str, Any]) -> None:
    etid = spa["entityTypeId"]
    item = add(state, spa)
    answers = {
        "crm.item.add": call(state, "crm.item.add", {"entityTypeId": etid, "fields": {}}),
        "crm.item.update": call(state, "crm.item.update", {"entityTypeId": etid, "id": item["id"], "fields": {"title": "t"}}),
        "crm.item.get": call(state, "crm.item.get", {"entityTypeId": etid, "id": item["id"]}),
        "crm.item.list": call(state, "crm.item.list", {"entityTypeId": etid}),
        "crm.item.fields": call(state, "crm.item.fields", {"entityTypeId": etid}),
        "crm.item.delete": call(state, "crm.item.delete", {"entityTypeId": etid, "id": item["id"]}),
    }
    for name, answer in answers.items():
        documented = load_example(name)["response"]["bodies"][0]["result"]
        assert type(answer) is type(documented), name
        if isinstance(answer, dict):
            assert set(answer) == set(documented), name
    assert answers["crm.item.update"]["item"]["title"] == "t"
