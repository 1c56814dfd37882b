"""crm.requisite.* and crm.requisite.bankdetail.*: a counterparty's ИНН/КПП and bank account, over HTTP
(shapes from b24restdocs api-reference/crm/requisites/; docs/sandbox.md «Requisites»)."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from b24app.bank import checks
from b24sandbox import requisites as rq
from b24sandbox.state import PortalState


def rest(portal: Any, method: str, params: dict[str, Any], login: str = "chief.accountant") -> dict[str, Any]:
    answer = requests.post(portal.webhook_url(login) + method, json=params, verify=portal.ca_bundle, timeout=10)
    body: dict[str, Any] = answer.json()
    body["status"] = answer.status_code
    return body


def test_a_company_s_requisite_and_bank_detail_are_read_by_its_id(sandbox: Any) -> None:
    found = rest(sandbox, "crm.requisite.list", {
        "filter": {"ENTITY_TYPE_ID": 4, "ENTITY_ID": 1},
        "select": ["ID", "ENTITY_TYPE_ID", "ENTITY_ID", "RQ_COMPANY_NAME", "RQ_INN", "RQ_KPP"]})
    assert found["result"] == [{"ID": "1", "ENTITY_TYPE_ID": "4", "ENTITY_ID": "1",
                                "RQ_COMPANY_NAME": "ООО «Флакон-Пак»", "RQ_INN": "7728012340", "RQ_KPP": "772801001"}]
    assert found["total"] == 1
    banks = rest(sandbox, "crm.requisite.bankdetail.list", {"filter": {"ENTITY_ID": found["result"][0]["ID"]}})
    assert [(b["RQ_BANK_NAME"], b["RQ_BIK"], b["RQ_ACC_NUM"], b["RQ_COR_ACC_NUM"]) for b in banks["result"]] == [
        ("АО «Песочный Банк»", "044525101", "40702810200000001001", "30101810100000000101")]


def test_rows_carry_every_documented_key_as_strings_or_null(sandbox: Any) -> None:
    requisite = rest(sandbox, "crm.requisite.get", {"id": 3})["result"]
    assert tuple(requisite) == rq.REQUISITE_KEYS
    assert requisite["RQ_KPP"] is None and requisite["PRESET_ID"] == "2" and requisite["SORT"] == "500"
    assert requisite["DATE_MODIFY"] == "" and requisite["DATE_CREATE"].startswith("2026-03-02T10:00:00")
    detail = rest(sandbox, "crm.requisite.bankdetail.get", {"id": 3})["result"]
    assert tuple(detail) == rq.BANK_DETAIL_KEYS and detail["ENTITY_ID"] == "3" and detail["COUNTRY_ID"] == "1"


def test_seeded_counterparties_cover_full_partial_and_missing_details(sandbox: Any) -> None:
    rows = rest(sandbox, "crm.requisite.list", {"select": ["ID", "ENTITY_ID"], "order": {"ENTITY_ID": "DESC"}})
    assert [(r["ID"], r["ENTITY_ID"]) for r in rows["result"]] == [("4", "4"), ("3", "3"), ("2", "2"), ("1", "1")]
    banks = rest(sandbox, "crm.requisite.bankdetail.list", {"select": ["ENTITY_ID"], "filter": {"@ENTITY_ID": [3, 4]}})
    assert banks["result"] == [{"ENTITY_ID": "3"}]  # requisite 4 has no bank detail; company 5 no requisite


def test_seeded_identifiers_pass_the_bank_checks() -> None:
    state = PortalState.from_org_file()
    store = rq.requisite_store(state)
    assert len(store.requisites) == 4 and len(store.bank_details) == 3
    for requisite in store.requisites.values():
        assert checks.inn_problem(requisite["RQ_INN"]) is None
        if len(requisite["RQ_INN"]) == 10:
            assert checks.kpp_problem(requisite["RQ_KPP"]) is None
    for detail in store.bank_details.values():
        assert checks.account_problem(detail["RQ_ACC_NUM"], detail["RQ_BIK"]) is None
        assert checks.account_problem(detail["RQ_COR_ACC_NUM"], detail["RQ_BIK"], correspondent=True) is None


def test_a_scenario_adds_a_requisite_and_a_bank_detail_and_reads_them_in_a_batch(sandbox: Any) -> None:
    new_id = rest(sandbox, "crm.requisite.add", {"fields": {
        "ENTITY_TYPE_ID": 4, "ENTITY_ID": 5, "PRESET_ID": 1, "NAME": "Организация", "RQ_INN": "7731004564",
        "RQ_KPP": "773101001", "UNKNOWN": "dropped"}})["result"]
    assert new_id == 5
    detail_id = rest(sandbox, "crm.requisite.bankdetail.add", {"fields": {
        "ENTITY_ID": new_id, "NAME": "Счёт", "RQ_BIK": "044525404", "RQ_ACC_NUM": "40702810200000001001"}})["result"]
    assert detail_id == 4
    batch = rest(sandbox, "batch", {"halt": 0, "cmd": {
        "rq": "crm.requisite.list?filter[ENTITY_ID]=5&select[]=ID&select[]=RQ_INN&select[]=CREATED_BY_ID",
        "bank": "crm.requisite.bankdetail.list?filter[ENTITY_ID]=$result[rq][0][ID]&select[]=RQ_ACC_NUM"}})
    assert batch["result"]["result"]["rq"] == [{"ID": "5", "RQ_INN": "7731004564", "CREATED_BY_ID": "10"}]
    assert batch["result"]["result"]["bank"] == [{"RQ_ACC_NUM": "40702810200000001001"}]


@pytest.mark.parametrize("method, fields, text", [
    ("crm.requisite.add", {"ENTITY_ID": 1, "PRESET_ID": 1, "NAME": "x"}, "ENTITY_TYPE_ID is not defined or invalid."),
    ("crm.requisite.add", {"ENTITY_TYPE_ID": 4, "PRESET_ID": 1, "NAME": "x"}, "ENTITY_ID is not defined or invalid."),
    ("crm.requisite.add", {"ENTITY_TYPE_ID": 4, "ENTITY_ID": 1, "NAME": "x"}, "PRESET_ID is not defined or invalid."),
    ("crm.requisite.add", {"ENTITY_TYPE_ID": 4, "ENTITY_ID": 99, "PRESET_ID": 1, "NAME": "x"}, "Entity not found."),
    ("crm.requisite.bankdetail.add", {"ENTITY_ID": 99, "NAME": "x"}, "ENTITY_ID is not defined or invalid."),
])
def test_documented_add_errors(sandbox: Any, method: str, fields: dict[str, Any], text: str) -> None:
    answer = rest(sandbox, method, {"fields": fields})
    assert (answer["status"], answer["error"], answer["error_description"]) == (400, "", text)


def test_get_of_an_unknown_id_and_strict_mode(sandbox: Any) -> None:
    answer = rest(sandbox, "crm.requisite.bankdetail.get", {"id": 357})
    assert answer["error_description"] == "The RequisiteBankDetail with ID '357' is not found"
    answer = rest(sandbox, "crm.requisite.list", {"filters": {"ID": 1}})
    assert (answer["status"], answer["error"]) == (400, "STRICT_SCHEMA_VIOLATION")
    sandbox.violations.clear()


def test_companies_are_read_and_added_with_the_documented_row(sandbox: Any) -> None:
    company = rest(sandbox, "crm.company.get", {"id": 1})["result"]
    assert tuple(company) == rq.COMPANY_KEYS
    assert (company["ID"], company["TITLE"], company["IS_MY_COMPANY"]) == ("1", "ООО «Флакон-Пак»", "N")
    titles = rest(sandbox, "crm.company.list", {"select": ["ID", "TITLE"], "filter": {"%TITLE": "реквизит"}})
    assert titles["result"] == [{"ID": "5", "TITLE": "ООО «Без реквизитов»"}]
    assert rest(sandbox, "crm.company.list", {"select": ["*"]})["total"] == 5
    new_id = rest(sandbox, "crm.company.add", {"fields": {"TITLE": "ООО «Новый»", "NOT_A_FIELD": 1},
                                              "params": {"REGISTER_SONET_EVENT": "N"}})["result"]
    assert new_id == 6
    assert rest(sandbox, "crm.company.get", {"id": 6})["result"]["CREATED_BY_ID"] == "10"
    requisite = rest(sandbox, "crm.requisite.add", {"fields": {
        "ENTITY_TYPE_ID": 4, "ENTITY_ID": new_id, "PRESET_ID": 1, "NAME": "Организация"}})
    assert requisite["result"] == 5
    missing = rest(sandbox, "crm.company.get", {"id": 99})
    assert (missing["status"], missing["error"], missing["error_description"]) == (400, "", "Not found")
    assert rest(sandbox, "crm.company.add", {"fields": []})["error_description"] == "Parameter 'fields' must be array."
