"""The sandbox UI's "new item" card, over HTTPS against the running sandbox: it shows the smart process's
fields as provisioned (labels, mandatory marks, list options and defaults, a file input), creates the
item as the chosen person through ``crm.item.add`` — so the same event reaches the app as for a REST
create — and on the portal's refusal shows the portal's error and creates nothing."""

from __future__ import annotations

import html
import re
from typing import Any

import requests

from b24sandbox import SandboxPortal, registry
from tests.fixtures.sandbox import Receiver
from tests.fixtures.waits import WAIT
from tests.sandbox.test_events_delivery import call, installed

IVANOVA = 4


def invoke(portal: SandboxPortal, method: str, params: dict[str, Any], user: int = 1) -> Any:
    return registry.invoke(portal.state, method, params, user_id=user, auth_kind="oauth")


def user_field(portal: SandboxPortal, type_id: int, suffix: str, kind: str, label: str, **extra: Any) -> None:
    field = {"entityId": f"CRM_{type_id}", "fieldName": f"UF_CRM_{type_id}_{suffix}", "userTypeId": kind,
             "editFormLabel": {"ru": label, "en": label}, **extra}
    invoke(portal, "userfieldconfig.add", {"moduleId": "crm", "field": field})


def provisioned(portal: SandboxPortal) -> tuple[int, dict[str, int]]:
    """A smart process with the kinds of field the app provisions; returns its entityTypeId and the
    list option ids by value."""
    smart = invoke(portal, "crm.type.add", {"fields": {"title": "Заявки на оплату", "isStagesEnabled": "Y"}})["type"]
    tid = int(smart["id"])
    user_field(portal, tid, "COUNTERPARTY_NAME", "string", "Контрагент (название)", mandatory="Y", sort=100)
    user_field(portal, tid, "AMOUNT", "money", "Сумма", sort=200)
    user_field(portal, tid, "EXPENSE_ITEM", "enumeration", "Статья расходов", sort=300,
               enum=[{"value": "Маркетинг", "sort": 10}, {"value": "Аренда", "sort": 20, "def": "Y"}])
    user_field(portal, tid, "INVOICE", "file", "Счёт", sort=400)
    user_field(portal, tid, "URGENT", "boolean", "Срочно", sort=500)
    user_field(portal, tid, "COMMENT", "string", "Комментарий", sort=600, settings={"ROWS": 4})
    user_field(portal, tid, "CURRENT_APPROVER", "employee", "Текущий согласующий", sort=700, editInList="N")
    listed = invoke(portal, "userfieldconfig.list", {"moduleId": "crm", "filter": {"entityId": f"CRM_{tid}"}})
    enum_field = next(f for f in listed["fields"] if f["fieldName"].endswith("EXPENSE_ITEM"))
    got = invoke(portal, "userfieldconfig.get", {"moduleId": "crm", "id": enum_field["id"]})["field"]
    return int(smart["entityTypeId"]), {o["value"]: int(o["id"]) for o in got["enum"]}


def session_as(portal: SandboxPortal, login: str) -> requests.Session:
    session = requests.Session()
    session.verify = portal.ca_bundle
    session.trust_env = False          # REQUESTS_CA_BUNDLE in the environment would override verify
    session.post(f"{portal.base_url}/sandbox/act-as", data={"login": login, "next": "/sandbox/"}, timeout=10)
    return session


def items(portal: SandboxPortal, etid: int) -> list[dict[str, Any]]:
    return list(invoke(portal, "crm.item.list", {"entityTypeId": etid})["items"])


def test_the_card_shows_the_fields_as_provisioned(sandbox: SandboxPortal) -> None:
    etid, _ = provisioned(sandbox)
    page = session_as(sandbox, "a.ivanova").get(f"{sandbox.base_url}/sandbox/kanban/{etid}/new", timeout=10).text
    text = html.unescape(page)
    assert 'enctype="multipart/form-data"' in page
    labels = re.findall(r'<label for="f-[^"]+">([^<*]+?)(?: <span class="required"[^>]*>\*</span>)?</label>', text)
    assert labels == ["Название", "Ответственный", "Контрагент (название)", "Сумма", "Статья расходов", "Счёт",
                      "Срочно", "Комментарий"]                     # the app-filled field is not on the card
    required = re.findall(r'<label for="f-([^"]+)">[^<]*<span class="required"', text)
    assert required == ["assignedById", names(sandbox, etid)["COUNTERPARTY_NAME"]]
    assert re.search(r'<option value="\d+" selected>Аренда</option>', text)     # the list's default
    assert re.search(r'<option value="\d+">Маркетинг</option>', text)
    assert re.search(r'<input type="file" id="f-ufCrm\d+Invoice" name="ufCrm\d+Invoice">', text)
    assert re.search(r'<textarea id="f-ufCrm\d+Comment"', text)
    assert re.search(r'<option value="4" selected>Анна Иванова</option>', text)  # responsible: the person acting
    assert "/sandbox/kanban/" in session_as(sandbox, "a.ivanova").get(
        f"{sandbox.base_url}/sandbox/kanban/{etid}", timeout=10).text
    assert requests.get(f"{sandbox.base_url}/sandbox/kanban/9999/new", verify=sandbox.ca_bundle,
                        timeout=10).status_code == 404


def names(portal: SandboxPortal, etid: int) -> dict[str, str]:
    """REST name by the field's suffix (``AMOUNT`` -> ``ufCrm5Amount``)."""
    described = invoke(portal, "crm.item.fields", {"entityTypeId": etid})["fields"]
    return {d["upperName"].split("_", 3)[-1]: rest for rest, d in described.items() if d["isDynamic"]}


def test_saving_the_card_creates_the_item_as_the_person_and_fires_the_rest_event(
        sandbox: SandboxPortal, event_receiver: Receiver) -> None:
    etid, options = provisioned(sandbox)
    app = installed(sandbox, event_receiver, "ONCRMDYNAMICITEMADD")
    n = names(sandbox, etid)
    session = session_as(sandbox, "a.ivanova")
    answer = session.post(f"{sandbox.base_url}/sandbox/kanban/{etid}/new", timeout=10, allow_redirects=False, data={
        "title": "Реклама у блогеров", "assignedById": "4", n["COUNTERPARTY_NAME"]: "ООО «Блог»",
        n["AMOUNT"]: "95 000,50", f"{n['AMOUNT']}__currency": "RUB", n["EXPENSE_ITEM"]: str(options["Маркетинг"]),
        n["URGENT"]: "Y", n["COMMENT"]: "Две публикации"}, files={n["INVOICE"]: ("invoice.pdf", b"%PDF-1.4 demo")})
    assert answer.status_code == 302
    [item] = items(sandbox, etid)
    assert answer.headers["Location"].endswith(f"created={item['id']}")
    assert (item["title"], item["createdBy"], item["assignedById"]) == ("Реклама у блогеров", IVANOVA, IVANOVA)
    assert item[n["AMOUNT"]] == "95000.50|RUB" and item[n["EXPENSE_ITEM"]] == options["Маркетинг"]
    assert item[n["URGENT"]] == "Y" and item[n["COMMENT"]] == "Две публикации"
    invoice = item[n["INVOICE"]]
    assert requests.get(invoice["urlMachine"], params={"auth": app.tokens["access_token"]},
                        verify=sandbox.ca_bundle, timeout=10).content == b"%PDF-1.4 demo"
    board = session.get(f"{sandbox.base_url}{answer.headers['Location']}", timeout=10).text
    assert f'class="card just-created" data-item="{item["id"]}"' in board

    rest_fields = {"title": "По REST", n["COUNTERPARTY_NAME"]: "ООО"}
    by_http = call(sandbox, "crm.item.add", app.tokens["access_token"], entityTypeId=etid, fields=rest_fields)
    assert by_http.status_code == 200, by_http.text
    assert sandbox.drain_events(WAIT)
    by_card, by_rest = event_receiver.at("/ev")
    assert by_card.form["event"] == by_rest.form["event"] == "ONCRMDYNAMICITEMADD"
    assert by_card.form["data"] == {"FIELDS": {"ID": str(item["id"]), "ENTITY_TYPE_ID": str(etid)}}
    assert set(by_card.form) == set(by_rest.form) and set(by_card.form["auth"]) == set(by_rest.form["auth"])
    assert by_card.form["auth"]["application_token"] == app.application_token
    token = by_card.form["auth"]["access_token"]
    assert call(sandbox, "user.current", token).json()["result"]["ID"] == str(IVANOVA)   # the person's tokens


def test_the_portals_refusal_is_shown_and_nothing_is_created(sandbox: SandboxPortal, event_receiver: Receiver) -> None:
    etid, _ = provisioned(sandbox)
    installed(sandbox, event_receiver, "ONCRMDYNAMICITEMADD")
    n = names(sandbox, etid)
    session = session_as(sandbox, "a.ivanova")
    url = f"{sandbox.base_url}/sandbox/kanban/{etid}/new"
    missing = session.post(url, data={"title": "Без контрагента", "assignedById": "4", n["AMOUNT"]: "100"}, timeout=10)
    assert missing.status_code == 400
    assert 'The "Контрагент (название)" field is required.' in html.unescape(missing.text)
    assert 'value="Без контрагента"' in missing.text                  # what was typed is kept
    tampered = session.post(url, data={"title": "Чужой вариант", n["COUNTERPARTY_NAME"]: "ООО",
                                       n["EXPENSE_ITEM"]: "999999"}, timeout=10)
    assert tampered.status_code == 400 and "Статья расходов" in html.unescape(tampered.text)
    bad_money = session.post(url, data={"title": "Сумма словами", n["COUNTERPARTY_NAME"]: "ООО",
                                        n["AMOUNT"]: "сто"}, timeout=10)
    assert bad_money.status_code == 400
    assert sandbox.drain_events(WAIT)
    assert items(sandbox, etid) == [] and event_receiver.at("/ev") == []
