"""Strict mode one level down: keys inside fields/filter/select/order (b24sandbox.deepcheck)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests

from b24sandbox import SandboxPortal
from b24sandbox.strict import STRICT_ERROR


def rest(portal: SandboxPortal, method: str, body: dict[str, Any], login: str = "admin") -> requests.Response:
    return requests.post(portal.webhook_url(login) + method, json=body, verify=portal.ca_bundle, timeout=10)


def ok(portal: SandboxPortal, method: str, body: dict[str, Any]) -> Any:
    answer = rest(portal, method, body)
    assert answer.status_code == 200, answer.text
    return answer.json()["result"]


def refused(portal: SandboxPortal, method: str, body: dict[str, Any], key: str) -> str:
    answer = rest(portal, method, body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == STRICT_ERROR
    text = str(answer.json()["error_description"])
    assert f"'{key}'" in text, text
    return text


def smart_with_amount(portal: SandboxPortal) -> tuple[int, int]:
    parent = ok(portal, "crm.type.add", {"fields": {"title": "Договор"}})["type"]
    smart = ok(portal, "crm.type.add", {"fields": {"title": "Заявка", "isStagesEnabled": "Y", "relations": {
        "parent": [{"entityTypeId": parent["entityTypeId"], "isChildrenListEnabled": "true"}]}}})["type"]
    ok(portal, "userfieldconfig.add", {"moduleId": "crm", "field": {
        "entityId": f"CRM_{smart['id']}", "fieldName": f"UF_CRM_{smart['id']}_AMOUNT", "userTypeId": "double"}})
    return smart["entityTypeId"], parent["entityTypeId"]


def test_item_fields_are_checked_against_the_types_catalogue(sandbox: SandboxPortal) -> None:
    etid, parent = smart_with_amount(sandbox)
    type_id = ok(sandbox, "crm.type.getByEntityTypeId", {"entityTypeId": etid})["type"]["id"]
    camel, original = f"ufCrm{type_id}Amount", f"UF_CRM_{type_id}_AMOUNT"

    item = ok(sandbox, "crm.item.add", {"entityTypeId": etid, "fields": {
        "title": "Оплата", camel: 10.5, f"parentId{parent}": 0, "opened": "Y", "utmSource": "x"}})["item"]
    ok(sandbox, "crm.item.update", {"entityTypeId": etid, "id": item["id"], "useOriginalUfNames": "Y",
                                    "fields": {original: 12}})
    assert sandbox.violations == []

    refused(sandbox, "crm.item.add", {"entityTypeId": etid, "fields": {"titel": "x"}}, "titel")
    assert "useOriginalUfNames=Y" in refused(sandbox, "crm.item.add", {"entityTypeId": etid,
                                                                      "fields": {original: 1}}, original)
    assert "useOriginalUfNames=N" in refused(sandbox, "crm.item.update", {
        "entityTypeId": etid, "id": item["id"], "useOriginalUfNames": "Y", "fields": {camel: 1}}, camel)
    refused(sandbox, "crm.item.add", {"entityTypeId": etid, "fields": {f"ufCrm{type_id}Amout": 1}},
            f"ufCrm{type_id}Amout")
    refused(sandbox, "crm.item.add", {"entityTypeId": etid, "fields": {"parentId999": 1}}, "parentId999")
    assert "(documented as 'assignedById')" in refused(sandbox, "crm.item.add", {
        "entityTypeId": etid, "fields": {"assignedByID": 1}}, "assignedByID")
    refused(sandbox, "crm.item.add", {"entityTypeId": etid, "fields": {"observers": [1]}}, "observers")  # disabled
    assert [v.param for v in sandbox.violations] == [
        "fields.titel", f"fields.{original}", f"fields.{camel}", f"fields.ufCrm{type_id}Amout", "fields.parentId999",
        "fields.assignedByID", "fields.observers"]
    sandbox.violations.clear()


def test_item_list_filter_select_and_order_keys(sandbox: SandboxPortal) -> None:
    etid, _ = smart_with_amount(sandbox)
    ok(sandbox, "crm.item.list", {"entityTypeId": etid, "select": ["id", "stageId"], "order": {"id": "DESC"},
                                  "filter": {"!=stageId": "x", "0": {"logic": "OR", "0": {">=id": 1}, "1": {"%title": "a"}}}})
    assert sandbox.violations == []

    refused(sandbox, "crm.item.list", {"entityTypeId": etid, "filter": {"!=stageID": "x"}}, "!=stageID")
    refused(sandbox, "crm.item.list", {"entityTypeId": etid, "filter": {"0": {"logic": "OR", "0": {"tittle": "a"}}}},
            "tittle")
    refused(sandbox, "crm.item.list", {"entityTypeId": etid, "select": ["id", "STAGE_ID"]}, "STAGE_ID")
    refused(sandbox, "crm.item.list", {"entityTypeId": etid, "order": {"ID": "ASC"}}, "ID")
    assert [v.param for v in sandbox.violations] == ["filter.!=stageID", "filter.tittle", "select.STAGE_ID", "order.ID"]
    sandbox.violations.clear()


def test_task_fields_and_list_keys(sandbox: SandboxPortal) -> None:
    task = ok(sandbox, "tasks.task.add", {"fields": {"TITLE": "Оплатить", "RESPONSIBLE_ID": 5, "UF_CRM_TASK": [],
                                                    "SE_PARAMETER": [{"VALUE": "Y", "CODE": 3}], "TAGS": ["a"]}})["task"]
    ok(sandbox, "tasks.task.list", {"filter": {"!STATUS": 6, "<=DEADLINE": "2026-04-01", "::SUBFILTER-PARAMS": {
        "FAVORITE": "Y"}, "UF_CRM_TASK": "Tb1_1"}, "order": {"DEADLINE": "asc"},
        "select": ["ID", "TITLE", "subStatus", "UF_CRM_TASK"]})
    assert sandbox.violations == []

    assert "(documented as 'TITLE')" in refused(sandbox, "tasks.task.update", {
        "taskId": task["id"], "fields": {"title": "x"}}, "title")
    refused(sandbox, "tasks.task.add", {"fields": {"TITLE": "x", "RESPONSIBLE_ID": 5, "RESPONSIBLE": 5}}, "RESPONSIBLE")
    refused(sandbox, "tasks.task.list", {"filter": {"RESPONSIBLE": 5}}, "RESPONSIBLE")
    refused(sandbox, "tasks.task.list", {"order": {"DEADLIN": "asc"}}, "DEADLIN")
    refused(sandbox, "tasks.task.list", {"select": ["ID", "TITEL"]}, "TITEL")
    assert len(sandbox.violations) == 5
    sandbox.violations.clear()


def test_without_strict_mode_unknown_keys_are_ignored(sandbox_factory: Callable[..., SandboxPortal]) -> None:
    portal = sandbox_factory(strict=False)
    etid, _ = smart_with_amount(portal)

    item = ok(portal, "crm.item.add", {"entityTypeId": etid, "fields": {"title": "x", "titel": "y"}})["item"]
    tasks = ok(portal, "tasks.task.list", {"filter": {"RESPONSIBLE": 5}})

    assert item["title"] == "x" and "titel" not in item
    assert tasks == {"tasks": []}
    assert portal.violations == []
