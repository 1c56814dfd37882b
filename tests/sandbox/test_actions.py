"""Acting as a person on a running sandbox portal: actions change data, fire events over HTTP, and
widgets open with the documented frame-open form carrying that user's working AUTH_ID."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from b24sandbox import SandboxPortal, diskstore
from b24sandbox import taskstore as ts
from b24sandbox.shared import load_example
from tests.fixtures.sandbox import Receiver
from tests.fixtures.waits import WAIT

KUZNETSOV, IVANOVA = 6, 4


def rest(portal: SandboxPortal, token: str, method: str, params: dict[str, Any]) -> Any:
    response = requests.post(f"{portal.base_url}/rest/{method}.json", json={**params, "auth": token},
                             verify=portal.ca_bundle, timeout=10)
    body = response.json()
    assert response.status_code == 200, body
    return body["result"]


@pytest.fixture
def app(sandbox: SandboxPortal, event_receiver: Receiver) -> str:
    """Install the app; answer its admin access token."""
    credentials = sandbox.install_app(handler_url=f"{event_receiver.url}/app")
    return str(credentials.tokens["access_token"])


def new_task(sandbox: SandboxPortal, token: str, **fields: Any) -> int:
    body = {"TITLE": "Выполнить оплату", "RESPONSIBLE_ID": KUZNETSOV, "CREATED_BY": IVANOVA, **fields}
    return int(rest(sandbox, token, "tasks.task.add", {"fields": body})["task"]["id"])


def test_task_actions_fire_events_delivered_to_the_app(sandbox: SandboxPortal, app: str,
                                                       event_receiver: Receiver) -> None:
    assert rest(sandbox, app, "event.bind", {"event": "ONTASKUPDATE", "handler": f"{event_receiver.url}/events"})
    task_id = new_task(sandbox, app)
    kuznetsov = sandbox.as_user("s.kuznetsov")
    assert kuznetsov.start_task(task_id)["status"] == "3"
    assert kuznetsov.pause_task(task_id)["status"] == "2"
    assert kuznetsov.complete_task(task_id)["status"] == "5"
    assert sandbox.drain_events(WAIT)
    delivered = event_receiver.at("/events")
    assert len(delivered) == 3
    assert all(d.form["event"] == "ONTASKUPDATE" and d.form["data"]["FIELDS_AFTER"]["ID"] == str(task_id)
               for d in delivered)
    assert rest(sandbox, app, "tasks.task.get", {"taskId": task_id})["task"]["status"] == "5"


def test_open_widget_posts_the_frame_form_with_a_working_auth_id(sandbox: SandboxPortal, app: str,
                                                                 event_receiver: Receiver) -> None:
    assert rest(sandbox, app, "placement.bind", {"PLACEMENT": "TASK_VIEW_TAB",
                                                 "HANDLER": f"{event_receiver.url}/placement?x=1", "TITLE": "Согласование"})
    task_id = new_task(sandbox, app)
    response = sandbox.as_user("s.kuznetsov").open_widget("TASK_VIEW_TAB", {"taskId": task_id})
    assert response.status_code == 200 and response.text == "ok"
    (posted,) = event_receiver.at("/placement")
    documented = load_example("placement_handler.TASK_VIEW_TAB")["params_as_documented"]
    query = set(load_example("app.frame_open_post")["delivery"]["query_params"])
    assert set(posted.form) | query == set(documented)
    assert query | {"x"} == set(parse_qs(urlparse(posted.path).query))
    assert posted.form["PLACEMENT"] == "TASK_VIEW_TAB"
    assert json.loads(posted.form["PLACEMENT_OPTIONS"]) == {"taskId": str(task_id)}
    assert rest(sandbox, posted.form["AUTH_ID"], "user.current", {})["ID"] == str(KUZNETSOV)


def test_open_widget_without_binding_is_refused(sandbox: SandboxPortal, app: str) -> None:
    from b24sandbox.actions import WidgetNotBound

    with pytest.raises(WidgetNotBound):
        sandbox.as_user("a.ivanova").open_widget("CRM_DYNAMIC_1030_DETAIL_TAB", {"ID": 1})


def test_attach_file_to_task_uploads_to_drive_then_attaches(sandbox: SandboxPortal, app: str) -> None:
    task_id = new_task(sandbox, app)
    attachment = sandbox.as_user("s.kuznetsov").attach_file_to_task(task_id, "платёжка.pdf", b"%PDF-bank")
    files = rest(sandbox, app, "tasks.task.get", {"taskId": task_id, "select": ["UF_TASK_WEBDAV_FILES"]})
    assert files["task"]["ufTaskWebdavFiles"] == [attachment]
    disk_id = ts.store(sandbox.state).attachments[attachment]
    stored = diskstore.get_file(sandbox.state, disk_id)
    assert stored is not None and stored.content == b"%PDF-bank" and stored.created_by == KUZNETSOV


def test_comment_tasks_and_notifications_of_a_person(sandbox: SandboxPortal, app: str) -> None:
    task_id = new_task(sandbox, app)
    other = new_task(sandbox, app, RESPONSIBLE_ID=IVANOVA, CREATED_BY=1)
    kuznetsov = sandbox.as_user("s.kuznetsov")
    assert isinstance(kuznetsov.comment_task(task_id, "Оплачу сегодня"), int)
    assert [t["id"] for t in kuznetsov.tasks()] == [str(task_id)]
    assert [t["id"] for t in sandbox.as_user("a.ivanova").tasks()] == [str(other), str(task_id)]
    rest(sandbox, app, "im.notify.system.add", {"USER_ID": KUZNETSOV, "MESSAGE": "Заявка №1 ждёт оплаты"})
    assert [n.message for n in kuznetsov.notifications()] == ["Заявка №1 ждёт оплаты"]
    assert sandbox.as_user("a.ivanova").notifications() == []


def _smart_process_with_file_field(sandbox: SandboxPortal, token: str) -> tuple[int, str]:
    smart = rest(sandbox, token, "crm.type.add", {"fields": {"title": "Заявки на оплату",
                                                             "isStagesEnabled": "Y"}})["type"]
    rest(sandbox, token, "userfieldconfig.add", {"moduleId": "crm", "field": {
        "entityId": f"CRM_{smart['id']}", "fieldName": f"UF_CRM_{smart['id']}_INVOICE", "userTypeId": "file",
        "multiple": "Y", "editFormLabel": {"ru": "Счёт"}}})
    return int(smart["entityTypeId"]), f"ufCrm{smart['id']}Invoice"


def test_items_created_moved_and_given_files_fire_crm_events(sandbox: SandboxPortal, app: str) -> None:
    etid, field = _smart_process_with_file_field(sandbox, app)
    seen: list[tuple[str, int | None]] = []
    sandbox.state.subscribe(lambda event, data, user: seen.append((event, user)))
    ivanova = sandbox.as_user("a.ivanova")
    item = ivanova.create_item(etid, {"title": "Оплата поставщику"})
    ivanova.attach_file_to_item(etid, item["id"], field, "счёт-1.pdf", b"one")
    files = ivanova.attach_file_to_item(etid, item["id"], field, "счёт-2.pdf", b"two")[field]
    assert len(files) == 2
    stage = f"DT{etid}_{item['categoryId']}:PREPARATION"
    assert ivanova.move_item(etid, item["id"], stage)["stageId"] == stage
    got = rest(sandbox, app, "crm.item.get", {"entityTypeId": etid, "id": item["id"]})["item"]
    assert got["stageId"] == stage and got["movedBy"] == IVANOVA
    assert seen == [("ONCRMDYNAMICITEMADD", IVANOVA)] + [("ONCRMDYNAMICITEMUPDATE", IVANOVA)] * 3
