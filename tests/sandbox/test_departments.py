"""Sandbox departments: department.get / add / fields (REFERENCE §8.2)."""

from __future__ import annotations

from typing import Any

import pytest

from b24sandbox import registry
from b24sandbox.methods import department
from b24sandbox.registry import RestError
from b24sandbox.shared import load_example
from b24sandbox.state import PortalState


@pytest.fixture
def state() -> PortalState:
    return PortalState.from_org_file()


def call(state: PortalState, method: str, params: dict[str, Any], user: int = 1) -> Any:
    return registry.invoke(state, method, params, user_id=user, auth_kind="oauth")


def test_rows_have_the_documented_keys_plus_uf_head_when_set(state: PortalState) -> None:
    documented = set(load_example("department.get")["response"]["bodies"][0]["result"][0])
    rows = {r["ID"]: r for r in call(state, "department.get", {})}
    assert set(rows["7"]) == documented  # Производство has no head
    assert set(rows["2"]) == documented | {"UF_HEAD"}
    assert rows["2"] == {"ID": "2", "NAME": "Маркетинг", "SORT": 500, "PARENT": "1", "UF_HEAD": "3"}
    assert "PARENT" not in rows["1"] and rows["1"]["UF_HEAD"] == "2"


def test_uf_head_representation_is_a_switch(state: PortalState, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(department, "UF_HEAD_AS_STRING", False)
    assert call(state, "department.get", {"ID": 4})[0]["UF_HEAD"] == 10


def test_filters_and_sorting(state: PortalState) -> None:
    assert [r["ID"] for r in call(state, "department.get", {"PARENT": 2})] == ["8"]
    assert [r["ID"] for r in call(state, "department.get", {"UF_HEAD": "13"})] == ["9"]
    assert [r["ID"] for r in call(state, "department.get", {"NAME": "Финансы"})] == ["5"]
    names = [r["NAME"] for r in call(state, "department.get", {"sort": "NAME", "order": "DESC", "PARENT": 1})]
    assert names == sorted(names, key=str.lower, reverse=True)


def test_fields_have_the_documented_keys(state: PortalState) -> None:
    documented = load_example("department.fields")["response"]["bodies"][0]["result"]
    assert set(call(state, "department.fields", {})) == set(documented)


def test_add_returns_the_new_id_and_the_department_appears(state: PortalState) -> None:
    new_id = call(state, "department.add", {"NAME": "Склад", "PARENT": "3", "UF_HEAD": 7, "SORT": 450})
    assert isinstance(new_id, int)
    assert call(state, "department.get", {"ID": new_id}) == [
        {"ID": str(new_id), "NAME": "Склад", "SORT": 450, "PARENT": "3", "UF_HEAD": "7"}]


@pytest.mark.parametrize("params, user, text", [
    ({"PARENT": 1}, 1, "Department name not provided.<br>"),
    ({"NAME": "Второй корень"}, 1, "There can only be one top-level department in the company structure"),
    ({"NAME": "Склад", "PARENT": 1}, 4, "Access denied"),
])
def test_add_errors(state: PortalState, params: dict[str, Any], user: int, text: str) -> None:
    with pytest.raises(RestError) as caught:
        call(state, "department.add", params, user)
    assert (caught.value.error, caught.value.description) == ("ERROR_CORE", text)


def test_over_http_with_a_webhook(sandbox: Any) -> None:
    import requests

    hook = sandbox.webhook_url("a.ivanova")
    answer = requests.post(f"{hook}department.get.json", verify=sandbox.ca_bundle, timeout=10,
                           json={"ID": 8}).json()
    assert answer["result"] == [{"ID": "8", "NAME": "Digital-маркетинг", "SORT": 500, "PARENT": "2"}]
    assert answer["total"] == 1


def test_lower_case_sort_sorts_and_upper_case_sort_filters(state: PortalState) -> None:
    by_id = call(state, "department.get", {"sort": "ID", "order": "DESC"})
    assert [int(r["ID"]) for r in by_id] == sorted((int(r["ID"]) for r in by_id), reverse=True)
    assert len(by_id) == len(state.departments)
    assert call(state, "department.get", {"SORT": 1}) == []


def test_lower_case_start_pages(state: PortalState) -> None:
    everything = call(state, "department.get", {})
    assert call(state, "department.get", {"start": 2}) == everything[2:]


def test_lower_case_start_passes_strict_mode_on_list_methods(sandbox: Any) -> None:
    import requests

    hook = sandbox.webhook_url("admin")
    etid = requests.post(f"{hook}crm.type.add", json={"fields": {"title": "Заявка"}}, verify=sandbox.ca_bundle,
                         timeout=10).json()["result"]["type"]["entityTypeId"]
    for name, params in [("department.get", {"start": 0, "sort": "ID"}),
                         ("crm.status.list", {"start": 0, "filter": {"ENTITY_ID": "SOURCE"}}),
                         ("crm.category.list", {"start": 0, "entityTypeId": etid})]:
        answer = requests.post(f"{hook}{name}", json=params, verify=sandbox.ca_bundle, timeout=10)
        assert answer.status_code == 200, (name, answer.text)
    assert sandbox.violations == []
