"""Sandbox users: user.current / user.get / user.search as documented (REFERENCE §8.1)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from b24sandbox import registry
from b24sandbox.shared import load_example
from b24sandbox.state import DEFAULT_ORG, PortalState


@pytest.fixture
def state() -> PortalState:
    return PortalState.from_org_file()


def call(state: PortalState, method: str, params: dict[str, Any], user: int = 1) -> Any:
    return registry.invoke(state, method, params, user_id=user, auth_kind="oauth")


def page(state: PortalState, method: str, params: dict[str, Any]) -> registry.Page:
    spec = registry.find(method)
    assert spec is not None
    answer = spec.func(registry.Call(state, spec.name, params, 1, "oauth"))
    assert isinstance(answer, registry.Page)
    return answer


def documented_row(name: str) -> dict[str, Any]:
    result = load_example(name)["response"]["bodies"][0]["result"]
    return dict(result[0] if isinstance(result, list) else result)


def test_user_current_matches_the_documented_row(state: PortalState) -> None:
    row = call(state, "user.current", {}, 5)
    assert set(row) == set(documented_row("user.current"))
    assert row["ID"] == "5" and row["ACTIVE"] is True and row["UF_DEPARTMENT"] == [8]


@pytest.mark.parametrize("method", ["user.get", "user.search"])
def test_list_rows_match_the_documented_row(state: PortalState, method: str) -> None:
    rows = call(state, method, {})
    assert set(rows[0]) == set(documented_row(method))
    assert [r["ID"] for r in rows] == [str(i) for i in range(1, 15)]
    assert rows[13]["ACTIVE"] is False  # v.egorov is inactive and still listed


@pytest.mark.parametrize("params", [
    {"FILTER": {"UF_DEPARTMENT": 3}},
    {"filter": {"UF_DEPARTMENT": "3"}},
    {"UF_DEPARTMENT": 3},
])
def test_filter_under_FILTER_filter_or_top_level(state: PortalState, params: dict[str, Any]) -> None:
    assert [r["ID"] for r in call(state, "user.get", params)] == ["6", "7", "14"]


def test_filter_operators(state: PortalState) -> None:
    assert [r["ID"] for r in call(state, "user.get", {"FILTER": {"UF_DEPARTMENT": 3, "ACTIVE": True}})] == ["6", "7"]
    assert [r["LAST_NAME"] for r in call(state, "user.get", {"filter": {"NAME": "Серг%"}})] == ["Лебедев", "Кузнецов"]
    assert [r["ID"] for r in call(state, "user.get", {"filter": {"!%LAST_NAME": "ов"}})] == ["1", "2"]
    assert [r["ID"] for r in call(state, "user.get", {"filter": {"@ID": [2, 9]}})] == ["2", "9"]


def test_sort_and_order(state: PortalState) -> None:
    rows = call(state, "user.get", {"sort": "ID", "order": "DESC", "UF_DEPARTMENT": 4})
    assert [r["ID"] for r in rows] == ["11", "10"]


def test_search_finds_by_name_position_or_department(state: PortalState) -> None:
    assert [r["ID"] for r in call(state, "user.search", {"FIND": "бухгалт"})] == ["10", "11"]
    assert [r["ID"] for r in call(state, "user.search", {"FILTER": {"LAST_NAME": "Орл"}})] == ["3"]
    assert [r["ID"] for r in call(state, "user.search", {"FILTER": {"UF_DEPARTMENT_NAME": "Финансы"}})] == ["8"]
    assert [r["ID"] for r in call(state, "user.get", {"FILTER": {"NAME_SEARCH": "юрист"}})] == ["13"]
    assert call(state, "user.get", {"FILTER": {"LAST_NAME": "Орл"}}) == []  # user.get compares exactly


def test_pages_of_fifty(tmp_path: Path) -> None:
    org = yaml.safe_load(DEFAULT_ORG.read_text(encoding="utf-8"))
    org["users"] += [{"id": 100 + n, "login": f"u{n}", "name": "Имя", "last_name": f"Ф{n}", "department": 2}
                     for n in range(60)]
    path = tmp_path / "org.yaml"
    path.write_text(yaml.safe_dump(org, allow_unicode=True), encoding="utf-8")
    state = PortalState.from_org_file(path)
    first = page(state, "user.get", {})
    assert (len(first.result), first.total, first.next) == (50, 74, 50)
    second = page(state, "user.get", {"start": 50})
    assert (len(second.result), second.next, second.result[0]["ID"]) == (24, None, "136")


def test_over_http_with_a_webhook(sandbox: Any) -> None:
    import requests

    hook = sandbox.webhook_url("d.petrov")
    current = requests.post(f"{hook}user.current.json", verify=sandbox.ca_bundle, timeout=10).json()
    assert current["result"]["ID"] == "5" and current["result"]["UF_DEPARTMENT"] == [8]
    found = requests.post(f"{hook}user.get.json", verify=sandbox.ca_bundle, timeout=10,
                          data={"FILTER[UF_DEPARTMENT]": "3", "FILTER[ACTIVE]": "true"}).json()
    assert [r["ID"] for r in found["result"]] == ["6", "7"] and found["total"] == 2


def test_strict_mode_admits_only_documented_user_filter_keys(sandbox: Any) -> None:
    import requests

    hook = sandbox.webhook_url("admin")

    def post(method: str, body: dict[str, Any]) -> requests.Response:
        return requests.post(f"{hook}{method}.json", json=body, verify=sandbox.ca_bundle, timeout=10)

    documented: list[tuple[str, dict[str, Any]]] = [("user.get", {"UF_DEPARTMENT": 1, "SORT": "ID", "ORDER": "asc", "start": 0}),
                  ("user.get", {"filter": {"!%LAST_NAME": "an"}}), ("user.get", {"FILTER": {"@PERSONAL_CITY": ["M"]}}),
                  ("user.get", {"ACTIVE": True, "UF_PHONE_INNER": "12", "%UF_SKYPE": "x"}),
                  ("user.search", {"FILTER": {"UF_DEPARTMENT_NAME": "Фин"}}), ("user.search", {"FIND": "Ив"})]
    for method, body in documented:
        assert post(method, body).status_code == 200, (method, body)
    assert sandbox.violations == []
    refused: list[tuple[str, dict[str, Any], str]] = [("user.get", {"UF_DEPARTAMENT": 1}, "UF_DEPARTAMENT"),
                              ("user.get", {"DEPARTMENT": 1}, "DEPARTMENT"),
                              ("user.get", {"filter": {">=LAST_LOGINN": "2024-01-01"}}, ">=LAST_LOGINN"),
                              ("user.search", {"FILTER": {"name": "Ив"}}, "name")]
    for method, body, key in refused:
        answer = post(method, body)
        assert answer.status_code == 400 and f"'{key}'" in answer.json()["error_description"], (method, body)
    assert len(sandbox.violations) == 4
    assert "(documented as 'NAME')" in str(sandbox.violations[-1])
    sandbox.violations.clear()


def test_select_names_the_keys_of_each_row(state: PortalState) -> None:
    everything = page(state, "user.get", {"ID": 5}).result[0]
    assert set(page(state, "user.get", {"ID": 5, "select": ["NAME", "uf_department", "NO_SUCH"]}).result[0]) == {
        "ID", "NAME", "UF_DEPARTMENT"}
    assert set(page(state, "user.get", {"ID": 5, "select": ["UF_*"]}).result[0]) == {
        "ID", *(k for k in everything if k.startswith("UF_"))}
    assert set(page(state, "user.get", {"ID": 5, "select": ["*"]}).result[0]) == {
        k for k in everything if not k.startswith("UF_")}
    assert page(state, "user.get", {"ID": 5, "select": ["*", "UF_*"]}).result[0] == everything


def test_select_over_http_as_a_form_list(sandbox: Any) -> None:
    import requests

    hook = sandbox.webhook_url("admin")
    found = requests.post(f"{hook}user.get.json", verify=sandbox.ca_bundle, timeout=10,
                          data={"ID": "5", "select[0]": "ID", "select[1]": "LAST_NAME"}).json()
    assert found["result"] == [{"ID": "5", "LAST_NAME": found["result"][0]["LAST_NAME"]}]
    assert found["result"][0]["LAST_NAME"]
