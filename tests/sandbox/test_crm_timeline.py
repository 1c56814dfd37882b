"""crm.timeline.comment.add / list and crm.timeline.logmessage.add on smart-process items (REFERENCE §8.4)."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from b24sandbox import crmstore, registry
from b24sandbox.clock import SandboxClock
from b24sandbox.registry import Page, RestError
from b24sandbox.shared import load_example
from b24sandbox.state import PortalState

ADMIN, EMPLOYEE = 1, 5
GIF = base64.b64decode("R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==")


@pytest.fixture
def state() -> PortalState:
    clock = SandboxClock(datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("Europe/Moscow")))
    clock.freeze()
    return PortalState.from_org_file(clock=clock)


def call(state: PortalState, method: str, params: dict[str, Any], user: int = EMPLOYEE) -> Any:
    return registry.invoke(state, method, params, user_id=user, auth_kind="oauth")


def error(state: PortalState, method: str, params: dict[str, Any]) -> RestError:
    with pytest.raises(RestError) as caught:
        call(state, method, params)
    return caught.value


@pytest.fixture
def item(state: PortalState) -> tuple[int, int]:
    smart = call(state, "crm.type.add", {"fields": {"title": "Договор"}}, ADMIN)["type"]
    created = call(state, "crm.item.add", {"entityTypeId": smart["entityTypeId"], "fields": {}})["item"]
    return smart["entityTypeId"], created["id"]


def test_comment_add_and_list_with_case_insensitive_entity_type(state: PortalState, item: tuple[int, int]) -> None:
    etid, item_id = item
    files = [["1.gif", base64.b64encode(GIF).decode()]]
    first = call(state, "crm.timeline.comment.add", {"fields": {"ENTITY_ID": item_id, "ENTITY_TYPE": f"DYNAMIC_{etid}",
                                                                "COMMENT": "Согласовано", "FILES": files}})  # fmt: skip
    second = call(state, "crm.timeline.comment.add", {"fields": {"ENTITY_ID": str(item_id), "ENTITY_TYPE": f"dynamic_{etid}",
                                                                 "COMMENT": "Второй"}}, ADMIN)  # fmt: skip
    assert isinstance(first, int) and second == first + 1
    spec = registry.find("crm.timeline.comment.list")
    assert spec is not None
    listed = spec.func(registry.Call(state, spec.name, {"filter": {"ENTITY_ID": item_id, "ENTITY_TYPE": f"Dynamic_{etid}"}},
                                     EMPLOYEE, "oauth"))  # fmt: skip
    assert isinstance(listed, Page) and listed.total == 2
    rows = listed.result
    documented = load_example("crm.timeline.comment.list")["response"]["bodies"][0]["result"]
    assert set(rows[0]) == set(documented[0])
    assert set(rows[0]["FILES"]["1"]) == set(documented[0]["FILES"]["1"]) - {"image"}
    assert rows[0]["ENTITY_TYPE"] == f"dynamic_{etid}" and rows[0]["ID"] == str(first) and rows[0]["AUTHOR_ID"] == str(EMPLOYEE)
    assert rows[0]["CREATED"] == "2026-03-02T10:00:00+03:00" and rows[1]["FILES"] == []  # PHP empty array
    stored = crmstore.file_by_id(state, rows[0]["FILES"]["1"]["id"])
    assert stored is not None and stored.content == GIF and rows[0]["FILES"]["1"]["size"] == len(GIF)
    picked = call(state, "crm.timeline.comment.list", {"filter": {"ENTITY_ID": item_id, "ENTITY_TYPE": f"dynamic_{etid}"},
                                                       "select": ["ID", "COMMENT"], "order": {"ID": "DESC"}})  # fmt: skip
    assert picked == [{"ID": str(second), "COMMENT": "Второй"}, {"ID": str(first), "COMMENT": "Согласовано"}]


def test_comment_errors(state: PortalState, item: tuple[int, int]) -> None:
    etid, item_id = item
    assert error(state, "crm.timeline.comment.add", {"fields": {"ENTITY_ID": 999, "ENTITY_TYPE": f"dynamic_{etid}",
                                                                "COMMENT": "x"}}).error == "OWNER_NOT_FOUND"  # fmt: skip
    empty = error(state, "crm.timeline.comment.add", {"fields": {"ENTITY_ID": item_id, "ENTITY_TYPE": f"dynamic_{etid}", "COMMENT": " "}})
    assert empty.body() == {"error": "INVALID_ARG_VALUE", "error_description": "Empty comment"}
    upper_key = {"FIELDS": {"ENTITY_ID": item_id, "ENTITY_TYPE": f"dynamic_{etid}", "COMMENT": "x"}}
    assert error(state, "crm.timeline.comment.add", upper_key).error == "100"  # only lower-case "fields" since crm 23.100


def test_logmessage_add_answers_the_documented_shape(state: PortalState, item: tuple[int, int]) -> None:
    etid, item_id = item
    fields = {"entityTypeId": etid, "entityId": item_id, "title": "Согласование", "text": "Одобрено финансами", "iconCode": "info"}
    answer = call(state, "crm.timeline.logmessage.add", {"fields": fields})
    documented = load_example("crm.timeline.logmessage.add")["response"]["bodies"][0]["result"]
    assert set(answer) == set(documented) and set(answer["logMessage"]) == set(documented["logMessage"])
    assert answer["logMessage"]["authorId"] == EMPLOYEE and answer["logMessage"]["created"] == "2026-03-02T10:00:00+03:00"
    assert answer["logMessage"]["text"] == "Одобрено финансами"
    missing = error(state, "crm.timeline.logmessage.add", {"fields": {**fields, "iconCode": ""}})
    assert missing.error == "100"
    gone = error(state, "crm.timeline.logmessage.add", {"fields": {**fields, "entityId": 404}})
    assert gone.body()["error"] == "OWNER_NOT_FOUND"
