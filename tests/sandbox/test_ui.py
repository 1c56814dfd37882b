"""The sandbox web UI: pages render portal data; forms act as the chosen person; widgets post the
frame-open form with that person's AUTH_ID; the UI is served by the running sandbox at /sandbox/."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
import requests
from flask.testing import FlaskClient

from b24sandbox import SandboxPortal, oauth, registry
from b24sandbox.methods import im
from b24sandbox.ui import COOKIE, create_ui


def invoke(portal: SandboxPortal, method: str, params: dict[str, Any], user: int = 1) -> Any:
    return registry.invoke(portal.state, method, params, user_id=user, auth_kind="oauth")


@pytest.fixture
def client(sandbox: SandboxPortal) -> FlaskClient:
    return create_ui(sandbox).test_client()


def smart_process(portal: SandboxPortal) -> int:
    fields = {"title": "Заявки на оплату", "isStagesEnabled": "Y", "isLinkWithProductsEnabled": "Y"}
    return int(invoke(portal, "crm.type.add", {"fields": fields})["type"]["entityTypeId"])


def test_index_lists_smart_processes_and_people(sandbox: SandboxPortal, client: FlaskClient) -> None:
    etid = smart_process(sandbox)
    page = client.get("/").get_data(as_text=True)
    assert "Заявки на оплату" in page and f"/kanban/{etid}" in page
    assert "Татьяна Морозова" in page and "/user/v.egorov" in page and "уволен" in page


def test_kanban_shows_stage_columns_in_sort_order_with_cards(sandbox: SandboxPortal, client: FlaskClient) -> None:
    etid = smart_process(sandbox)
    invoke(sandbox, "crm.item.add", {"entityTypeId": etid,
                                     "fields": {"title": "Оплата поставщику", "opportunity": 125000,
                                                "currencyId": "RUB", "assignedById": 10}}, 4)
    page = client.get(f"/kanban/{etid}").get_data(as_text=True)
    columns = re.findall(r"<h3[^>]*>([^<(]+) \(", page)
    assert [c.strip() for c in columns] == ["Начало", "Подготовка", "Согласование", "Успех", "Провал"]
    first_column = page.split("<h3")[1]
    assert "Оплата поставщику" in first_column and "125 000 ₽" in first_column and "Татьяна Морозова" in first_column
    assert client.get("/kanban/9999").status_code == 404


def test_kanban_cards_show_the_amount_field_with_currency_and_human_dates(sandbox: SandboxPortal,
                                                                        client: FlaskClient) -> None:
    """#15: the card showed «0» without currency while the amount lives in a money field, and ISO times."""
    smart = invoke(sandbox, "crm.type.add", {"fields": {"title": "Заявки на оплату", "isStagesEnabled": "Y",
                                                        "isUseInUserfieldEnabled": "Y",
                                                        "linkedUserFields": {"TASKS_TASK|UF_CRM_TASK": "true"}}})["type"]
    etid, tid = int(smart["entityTypeId"]), int(smart["id"])
    field = {"entityId": f"CRM_{tid}", "fieldName": f"UF_CRM_{tid}_AMOUNT", "userTypeId": "money",
             "editFormLabel": {"ru": "Сумма", "en": "Amount"}}
    invoke(sandbox, "userfieldconfig.add", {"moduleId": "crm", "field": field})
    item = invoke(sandbox, "crm.item.add", {"entityTypeId": etid, "fields": {
        "title": "Реклама у блогеров", f"ufCrm{tid}Amount": "1500000.5|RUB"}}, 4)["item"]
    page = html.unescape(client.get(f"/kanban/{etid}").get_data(as_text=True))
    card = page.split(f'data-item="{item["id"]}"')[1].split("</form>")[0]
    assert "1 500 000,50 ₽" in card and ">0 <" not in card
    moved = re.search(r"на стадии с (\d\d\.\d\d\.\d{4} \d\d:\d\d)", card)
    assert moved is not None and "T" not in moved.group(1)
    task = invoke(sandbox, "tasks.task.add", {"fields": {"TITLE": "Согласовать заявку", "RESPONSIBLE_ID": 3,
                                                         "DEADLINE": "2026-03-04T10:00:00+03:00",
                                                         "UF_CRM_TASK": [f"T{etid:x}_{item['id']}"]}})
    assert task["task"]["id"]
    user_page = html.unescape(client.get("/user/m.orlova").get_data(as_text=True))
    assert f"Заявки на оплату #{item['id']}" in user_page and f"T{etid:x}_" not in user_page
    assert "04.03.2026 10:00" in user_page and "2026-03-04T" not in user_page


def test_moving_a_card_acts_as_the_chosen_person(sandbox: SandboxPortal, client: FlaskClient) -> None:
    etid = smart_process(sandbox)
    item = invoke(sandbox, "crm.item.add", {"entityTypeId": etid, "fields": {"title": "Заявка"}}, 4)["item"]
    stage = f"DT{etid}_{item['categoryId']}:PREPARATION"
    client.set_cookie(COOKIE, "a.ivanova")
    answer = client.post(f"/kanban/{etid}/move", data={"item_id": item["id"], "stage_id": stage,
                                                       "category": item["categoryId"]})
    assert answer.status_code == 302
    moved = invoke(sandbox, "crm.item.get", {"entityTypeId": etid, "id": item["id"]})["item"]
    assert moved["stageId"] == stage and moved["updatedBy"] == 4


def test_user_page_shows_tasks_and_notifications_and_task_buttons_act(sandbox: SandboxPortal,
                                                                      client: FlaskClient) -> None:
    task = invoke(sandbox, "tasks.task.add", {"fields": {"TITLE": "Согласовать заявку №7", "RESPONSIBLE_ID": 3}})
    task_id = int(task["task"]["id"])
    invoke(sandbox, "im.notify.system.add", {"USER_ID": 3, "MESSAGE": "Вам назначена заявка №7"})
    page = client.get("/user/m.orlova").get_data(as_text=True)
    assert "Согласовать заявку №7" in page and "Ждёт выполнения" in page and "Вам назначена заявка №7" in page
    client.set_cookie(COOKIE, "p.fedorov")
    assert "/start" not in client.get("/user/m.orlova").get_data(as_text=True)  # not his task: no buttons
    client.set_cookie(COOKIE, "m.orlova")
    assert f"/task/{task_id}/start" in client.get("/user/m.orlova").get_data(as_text=True)
    assert client.post(f"/task/{task_id}/start", data={"next": "/user/m.orlova"}).status_code == 302
    assert "Выполняется" in client.get("/user/m.orlova").get_data(as_text=True)
    client.set_cookie(COOKIE, "p.fedorov")
    refused = client.post(f"/task/{task_id}/complete", data={"next": "/user/m.orlova"})
    assert "error=" in refused.headers["Location"]
    assert invoke(sandbox, "tasks.task.get", {"taskId": task_id})["task"]["status"] == "3"
    assert client.get("/user/nobody").status_code == 404
    assert im.notifications_for(sandbox.state, 3)[0].message == "Вам назначена заявка №7"


def test_act_as_switch_sets_the_person(client: FlaskClient) -> None:
    answer = client.post("/act-as", data={"login": "finance.manager", "next": "/"})
    assert answer.status_code == 302 and COOKIE in answer.headers["Set-Cookie"]
    assert 'value="finance.manager" selected' in client.get("/").get_data(as_text=True)


def test_widget_page_posts_the_frame_form_into_an_iframe(sandbox: SandboxPortal, client: FlaskClient) -> None:
    sandbox.install_app(handler_url="https://app.example/")
    invoke(sandbox, "placement.bind", {"PLACEMENT": "TASK_VIEW_TAB", "HANDLER": "https://app.example/tab"})
    client.set_cookie(COOKIE, "m.orlova")
    page = client.get("/widget?placement=TASK_VIEW_TAB&taskId=5").get_data(as_text=True)
    assert '<iframe name="widget-frame"' in page and 'target="widget-frame"' in page
    assert 'action="https://app.example/tab?DOMAIN=' in html.unescape(page)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
    assert fields["PLACEMENT"] == "TASK_VIEW_TAB" and html.unescape(fields["PLACEMENT_OPTIONS"]) == '{"taskId": "5"}'
    with sandbox.state.lock:
        assert oauth.authenticate_token(sandbox.state, fields["AUTH_ID"]).user_id == 3
    assert client.get("/widget?placement=CRM_DYNAMIC_1_DETAIL_TAB").status_code == 404


def test_ui_is_served_by_the_running_sandbox(sandbox: SandboxPortal) -> None:
    response = requests.get(f"{sandbox.base_url}/sandbox/", verify=sandbox.ca_bundle, timeout=10)
    assert response.status_code == 200 and "Администратор Портала" in response.text
    user_page = requests.get(f"{sandbox.base_url}/sandbox/user/lawyer", verify=sandbox.ca_bundle, timeout=10)
    assert user_page.status_code == 200 and "Наталья Попова" in user_page.text


def test_forms_under_the_mount_point_return_to_it(sandbox: SandboxPortal) -> None:
    task_id = invoke(sandbox, "tasks.task.add", {"fields": {"TITLE": "Задача", "RESPONSIBLE_ID": 13}})["task"]["id"]
    session = requests.Session()
    ca = sandbox.ca_bundle
    page = session.get(f"{sandbox.base_url}/sandbox/user/lawyer", timeout=10, verify=ca).text
    assert f'action="/sandbox/task/{task_id}/start"' in page and 'name="next" value="/sandbox/user/lawyer"' in page
    session.post(f"{sandbox.base_url}/sandbox/act-as", data={"login": "lawyer", "next": "/sandbox/"}, timeout=10,
                 verify=ca)
    done = session.post(f"{sandbox.base_url}/sandbox/task/{task_id}/complete", data={"next": "/sandbox/user/lawyer"},
                        timeout=10, allow_redirects=False, verify=ca)
    assert done.status_code == 302 and done.headers["Location"].endswith("/sandbox/user/lawyer")
    assert invoke(sandbox, "tasks.task.get", {"taskId": task_id})["task"]["status"] == "5"
