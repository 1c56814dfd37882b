"""Sandbox tasks: documented shapes, status transitions, subtasks, CRM bindings, files, list, events."""

from __future__ import annotations

from typing import Any

import pytest

from b24sandbox import diskstore, registry, taskstore
from b24sandbox.registry import RestError
from b24sandbox.shared import load_example
from b24sandbox.state import PortalState

ADMIN, DIRECTOR, ORLOVA, IVANOVA, KUZNETSOV, FEDOROV = 1, 2, 3, 4, 6, 12


@pytest.fixture
def state() -> PortalState:
    return PortalState.from_org_file()


def call(state: PortalState, method: str, params: dict[str, Any], user: int = ADMIN) -> Any:
    return registry.invoke(state, method, params, user_id=user, auth_kind="oauth")


def example_task(name: str) -> dict[str, Any]:
    return dict(load_example(name)["response"]["bodies"][0]["result"]["task"])


def add(state: PortalState, user: int = IVANOVA, **fields: Any) -> int:
    body = {"TITLE": "Проверить счёт", "RESPONSIBLE_ID": KUZNETSOV, **fields}
    return int(call(state, "tasks.task.add", {"fields": body}, user)["task"]["id"])


def status(state: PortalState, task_id: int) -> str:
    return str(call(state, "tasks.task.get", {"taskId": task_id, "select": ["STATUS"]})["task"]["status"])


def error_of(state: PortalState, method: str, params: dict[str, Any], user: int = ADMIN) -> RestError:
    with pytest.raises(RestError) as caught:
        call(state, method, params, user)
    return caught.value


# --- documented shapes ------------------------------------------------------------------------


def test_add_answers_the_documented_key_set(state: PortalState) -> None:
    task = call(state, "tasks.task.add", {"fields": {"TITLE": "T", "RESPONSIBLE_ID": KUZNETSOV}}, IVANOVA)["task"]
    documented = example_task("tasks.task.add")
    assert set(task) == set(documented)
    assert set(task["action"]) == set(documented["action"])
    assert task["id"].isdigit() and task["status"] == "2" and task["responsibleId"] == str(KUZNETSOV)
    assert task["creator"]["id"] == str(IVANOVA) and task["responsible"]["workPosition"]


@pytest.mark.parametrize("name, prepare, user, params", [
    ("tasks.task.start", [], KUZNETSOV, {}),
    ("tasks.task.pause", ["tasks.task.start"], KUZNETSOV, {}),
    ("tasks.task.complete", [], KUZNETSOV, {}),
    ("tasks.task.defer", [], KUZNETSOV, {}),
    ("tasks.task.renew", ["tasks.task.complete"], KUZNETSOV, {}),
    ("tasks.task.approve", ["tasks.task.complete"], IVANOVA, {}),
    ("tasks.task.disapprove", ["tasks.task.complete"], IVANOVA, {}),
    ("tasks.task.delegate", [], KUZNETSOV, {"userId": IVANOVA}),
    ("tasks.task.update", [], IVANOVA, {"fields": {"TITLE": "Новое"}}),
])
def test_action_answers_the_documented_key_set(state: PortalState, name: str, prepare: list[str], user: int,
                                               params: dict[str, Any]) -> None:
    task_id = add(state, TASK_CONTROL="Y")
    for step in prepare:
        call(state, step, {"taskId": task_id}, KUZNETSOV)
    task = call(state, name, {"taskId": task_id, **params}, user)["task"]
    documented = example_task(name)
    assert set(task) == set(documented)
    assert set(task["action"]) == set(documented["action"])


def test_get_with_select_answers_the_documented_key_set(state: PortalState) -> None:
    request = load_example("tasks.task.get")["requests"][0]["body"]
    task_id = add(state)
    task = call(state, "tasks.task.get", {"taskId": task_id, "select": request["select"]})["task"]
    assert set(task) == set(example_task("tasks.task.get"))


def test_get_without_select_gives_the_whole_task(state: PortalState) -> None:
    task = call(state, "tasks.task.get", {"taskId": add(state)})["task"]
    assert set(task) == set(example_task("tasks.task.approve"))
    assert "ufCrmTask" not in task


def test_list_with_documented_request_answers_the_documented_key_set(state: PortalState) -> None:
    request = load_example("tasks.task.list")["requests"][0]["body"]
    add(state, DEADLINE="2030-01-01T10:00:00")
    tasks = call(state, "tasks.task.list", {"select": request["select"], "params": request["params"]})["tasks"]
    documented = load_example("tasks.task.list")["response"]["bodies"][0]["result"]["tasks"][0]
    assert set(tasks[0]) == set(documented)


def test_get_fields_is_the_documented_field_map(state: PortalState) -> None:
    fields = call(state, "tasks.task.getFields", {})["fields"]
    assert fields["STATUS"]["values"] == {"2": "Pending", "3": "In Progress", "4": "Awaiting Review",
                                          "5": "Completed", "6": "Deferred"}


def test_delete_answers_task_true_and_get_then_answers_empty_array(state: PortalState) -> None:
    task_id = add(state)
    assert call(state, "tasks.task.delete", {"taskId": task_id}, IVANOVA) == {"task": True}
    assert call(state, "tasks.task.get", {"taskId": task_id}) == []


def test_get_answers_empty_array_for_missing_or_invisible_task(state: PortalState) -> None:
    task_id = add(state)
    assert call(state, "tasks.task.get", {"taskId": 9999}) == []
    assert call(state, "tasks.task.get", {"taskId": task_id}, FEDOROV) == []
    assert call(state, "tasks.task.get", {"taskId": str(task_id)}, KUZNETSOV)["task"]["id"] == str(task_id)


# --- statuses ---------------------------------------------------------------------------------


def test_legal_status_path_without_control(state: PortalState) -> None:
    task_id = add(state)
    assert call(state, "tasks.task.start", {"taskId": task_id}, KUZNETSOV)["task"]["status"] == "3"
    assert call(state, "tasks.task.pause", {"taskId": task_id}, KUZNETSOV)["task"]["status"] == "2"
    assert call(state, "tasks.task.defer", {"taskId": task_id}, KUZNETSOV)["task"]["status"] == "6"
    assert call(state, "tasks.task.start", {"taskId": task_id}, KUZNETSOV)["task"]["status"] == "3"
    done = call(state, "tasks.task.complete", {"taskId": task_id}, KUZNETSOV)["task"]
    assert done["status"] == "5" and done["closedBy"] == str(KUZNETSOV) and done["closedDate"]
    renewed = call(state, "tasks.task.renew", {"taskId": task_id}, IVANOVA)["task"]
    assert renewed["status"] == "2" and renewed["closedBy"] == "0" and renewed["closedDate"] is None


def test_task_control_sends_completion_to_review_then_approve(state: PortalState) -> None:
    task_id = add(state, TASK_CONTROL="Y")
    assert call(state, "tasks.task.complete", {"taskId": task_id}, KUZNETSOV)["task"]["status"] == "4"
    assert call(state, "tasks.task.approve", {"taskId": task_id}, IVANOVA)["task"]["status"] == "5"


def test_disapprove_returns_the_task_to_work(state: PortalState) -> None:
    task_id = add(state, TASK_CONTROL="Y")
    call(state, "tasks.task.complete", {"taskId": task_id}, KUZNETSOV)
    assert call(state, "tasks.task.disapprove", {"taskId": task_id}, IVANOVA)["task"]["status"] == "2"


def test_creator_completing_with_control_closes_at_once(state: PortalState) -> None:
    task_id = add(state, TASK_CONTROL="Y")
    assert call(state, "tasks.task.complete", {"taskId": task_id}, IVANOVA)["task"]["status"] == "5"


@pytest.mark.parametrize("method, user, code, text", [
    ("tasks.task.pause", KUZNETSOV, "1048582", "Action on the task is not allowed"),
    ("tasks.task.approve", IVANOVA, "1048582", "Action on the task is not allowed"),
    ("tasks.task.start", FEDOROV, "0", "Action on the task is not allowed"),
    ("tasks.task.complete", FEDOROV, "0", "Action on the task is not allowed"),
    ("tasks.task.delete", KUZNETSOV, "1048582", "No access to delete the task"),
    ("tasks.task.renew", KUZNETSOV, "1048582", "Action on the task is not allowed"),
])
def test_illegal_actions_on_a_pending_task_are_refused(state: PortalState, method: str, user: int, code: str,
                                                        text: str) -> None:
    task_id = add(state)
    error = error_of(state, method, {"taskId": task_id}, user)
    assert (error.error, error.description, error.status) == (code, text, 400)
    assert status(state, task_id) == "2"


def test_completed_task_cannot_be_completed_again_and_approve_needs_review(state: PortalState) -> None:
    task_id = add(state, TASK_CONTROL="Y")
    call(state, "tasks.task.complete", {"taskId": task_id}, KUZNETSOV)
    assert error_of(state, "tasks.task.approve", {"taskId": task_id}, KUZNETSOV).error == "1048582"
    call(state, "tasks.task.approve", {"taskId": task_id}, IVANOVA)
    assert error_of(state, "tasks.task.complete", {"taskId": task_id}, KUZNETSOV).error == "0"


def test_incorrect_status_in_fields(state: PortalState, monkeypatch: pytest.MonkeyPatch) -> None:
    error = error_of(state, "tasks.task.add", {"fields": {"TITLE": "T", "RESPONSIBLE_ID": 6, "STATUS": 9}})
    assert (error.error, error.description) == ("ERROR_CORE", "Incorrect status<br>")
    task_id = add(state)
    assert error_of(state, "tasks.task.update", {"taskId": task_id, "fields": {"STATUS": 1}}).description == \
        "Invalid status<br>"
    monkeypatch.setattr(taskstore, "ACCEPT_LEGACY_STATUSES", True)
    assert call(state, "tasks.task.update", {"taskId": task_id, "fields": {"STATUS": "1"}})["task"]["status"] == "1"


def test_delegate_moves_responsibility_and_watches(state: PortalState) -> None:
    task_id = add(state)
    call(state, "tasks.task.start", {"taskId": task_id}, KUZNETSOV)
    task = call(state, "tasks.task.delegate", {"taskId": task_id, "userId": 14}, KUZNETSOV)["task"]
    assert (task["responsibleId"], task["status"], task["auditors"]) == ("14", "2", [str(KUZNETSOV)])
    assert error_of(state, "tasks.task.delegate", {"taskId": task_id}, 14).error == "100"


@pytest.mark.parametrize("params, code, text", [
    ({"fields": {"RESPONSIBLE_ID": 6}}, "ERROR_CORE", "Task title is not specified<br>"),
    ({"fields": {"TITLE": "T"}}, "ERROR_CORE", "Responsible person not specified<br>"),
    ({"fields": {"TITLE": "T", "RESPONSIBLE_ID": 999}}, "ERROR_CORE",
     'User specified in the "Responsible" field not found<br>'),
    ({"fields": {"TITLE": "T", "RESPONSIBLE_ID": 6, "PARENT_ID": 999}}, "ERROR_CORE",
     'Task specified in the "Parent Task" field not found<br>'),
    ({}, "100", "Could not find value for parameter {fields} (internal error)"),
])
def test_add_errors(state: PortalState, params: dict[str, Any], code: str, text: str) -> None:
    error = error_of(state, "tasks.task.add", params)
    assert (error.error, error.description) == (code, text)


def test_task_id_errors(state: PortalState) -> None:
    assert error_of(state, "tasks.task.start", {}).error == "100"
    wrong = error_of(state, "tasks.task.get", {"taskId": "abc"})
    assert (wrong.error, wrong.description) == ("0", "wrong task id")


# --- subtasks, deadlines, bindings, files -----------------------------------------------------


def test_subtasks_via_parent_id(state: PortalState) -> None:
    parent = add(state)
    child = add(state, PARENT_ID=parent)
    assert call(state, "tasks.task.get", {"taskId": child})["task"]["parentId"] == str(parent)
    listed = call(state, "tasks.task.list", {"filter": {"PARENT_ID": parent}, "select": ["ID"]})["tasks"]
    assert [t["id"] for t in listed] == [str(child)]
    roots = call(state, "tasks.task.list", {"filter": {"ONLY_ROOT_TASKS": "Y"}, "select": ["ID"]})["tasks"]
    assert [t["id"] for t in roots] == [str(parent)]
    assert error_of(state, "tasks.task.update", {"taskId": parent, "fields": {"PARENT_ID": parent}}).description == \
        "Cannot bind the node to itself<br>"
    assert error_of(state, "tasks.task.update", {"taskId": parent, "fields": {"PARENT_ID": child}}).description == \
        "Creating cyclic links in tasks is prohibited<br>"


def test_deadline_is_read_in_portal_time_and_printed_with_offset(state: PortalState) -> None:
    local = add(state, DEADLINE="2025-12-31T23:59:59")
    utc = add(state, DEADLINE="2025-12-31T17:00:00+00:00")
    assert call(state, "tasks.task.get", {"taskId": local})["task"]["deadline"] == "2025-12-31T23:59:59+03:00"
    assert call(state, "tasks.task.get", {"taskId": utc})["task"]["deadline"] == "2025-12-31T20:00:00+03:00"
    early = call(state, "tasks.task.list", {"filter": {"<DEADLINE": "2025-12-31T21:00:00"}, "select": ["ID"]})
    assert [t["id"] for t in early["tasks"]] == [str(utc)]


def _smart_process(state: PortalState, enabled: bool) -> int:
    fields: dict[str, Any] = {"title": "Заявки на оплату"}
    if enabled:
        fields.update(isUseInUserfieldEnabled="Y", linkedUserFields={"TASKS_TASK|UF_CRM_TASK": "true"})
    return int(call(state, "crm.type.add", {"fields": fields})["type"]["entityTypeId"])


def test_crm_binding_kept_when_the_smart_process_enables_it(state: PortalState) -> None:
    etid = _smart_process(state, enabled=True)
    code = f"T{etid:x}_7"
    answer = call(state, "tasks.task.add", {"fields": {"TITLE": "T", "RESPONSIBLE_ID": 6, "UF_CRM_TASK": [code]}})
    assert "ufCrmTask" not in answer["task"]
    task_id = int(answer["task"]["id"])
    task = call(state, "tasks.task.get", {"taskId": task_id, "select": ["ID", "UF_CRM_TASK"]})["task"]
    assert task["ufCrmTask"] == [code] and "ufTaskWebdavFiles" in task and "ufMailMessage" in task
    listed = call(state, "tasks.task.list", {"filter": {"UF_CRM_TASK": code}, "select": ["ID"]})["tasks"]
    assert [t["id"] for t in listed] == [str(task_id)]


def test_crm_binding_silently_dropped_when_the_smart_process_does_not_enable_it(state: PortalState) -> None:
    etid = _smart_process(state, enabled=False)
    task_id = add(state, UF_CRM_TASK=[f"T{etid:x}_7", "D_10"])
    task = call(state, "tasks.task.get", {"taskId": task_id, "select": ["UF_CRM_TASK"]})["task"]
    assert task["ufCrmTask"] == ["D_10"]


def test_drive_files_attach_by_n_prefix_and_files_attach(state: PortalState) -> None:
    storage = diskstore.user_storage(state, IVANOVA)
    first = diskstore.upload(state, storage.root_id, "счёт.pdf", b"%PDF", IVANOVA, unique=False)
    second = diskstore.upload(state, storage.root_id, "п-п.pdf", b"%PDF2", IVANOVA, unique=False)
    task_id = add(state, UF_TASK_WEBDAV_FILES=[f"n{first.id}"])
    attached = call(state, "tasks.task.files.attach", {"taskId": task_id, "fileId": second.id}, KUZNETSOV)
    assert set(attached) == set(load_example("tasks.task.files.attach")["response"]["bodies"][0]["result"])
    files = call(state, "tasks.task.get", {"taskId": task_id, "select": ["UF_TASK_WEBDAV_FILES"]})["task"]
    assert len(files["ufTaskWebdavFiles"]) == 2 and attached["attachmentId"] in files["ufTaskWebdavFiles"]
    assert error_of(state, "tasks.task.add", {"fields": {"TITLE": "T", "RESPONSIBLE_ID": 6,
                                                          "UF_TASK_WEBDAV_FILES": ["n999"]}}).description == \
        "File not found<br>"
    assert error_of(state, "tasks.task.files.attach", {"taskId": task_id, "fileId": second.id}, FEDOROV).error == "0"


# --- list -------------------------------------------------------------------------------------


def test_list_pages_of_fifty_with_total_and_next(state: PortalState) -> None:
    made = [add(state, TITLE=f"Задача {n}") for n in range(120)]
    spec = registry.find("tasks.task.list")
    assert spec is not None

    def page(params: dict[str, Any]) -> registry.Page:
        answer = spec.func(registry.Call(state, spec.name, params, ADMIN, "oauth"))
        assert isinstance(answer, registry.Page)
        return answer

    first = page({"select": ["ID"]})
    assert (len(first.result["tasks"]), first.total, first.next) == (50, 120, 50)
    assert first.result["tasks"][0]["id"] == str(made[-1])  # default order: ID descending
    last = page({"select": ["ID"], "order": {"ID": "asc"}, "start": 100})
    assert (len(last.result["tasks"]), last.next, last.result["tasks"][0]["id"]) == (20, None, str(made[100]))
    fast = page({"select": ["ID"], "start": -1})
    assert (len(fast.result["tasks"]), fast.total, fast.next) == (50, 0, None)


def test_list_filters_and_bad_order(state: PortalState) -> None:
    done = add(state, TITLE="Оплатить счёт")
    other = str(add(state, TITLE="Прикрепить платёжку", RESPONSIBLE_ID=ORLOVA))
    call(state, "tasks.task.complete", {"taskId": done}, KUZNETSOV)

    def ids(flt: dict[str, Any]) -> list[str]:
        return [t["id"] for t in call(state, "tasks.task.list", {"filter": flt, "select": ["ID"]})["tasks"]]

    assert ids({"!STATUS": 5}) == [other]
    assert ids({"RESPONSIBLE_ID": ORLOVA}) == [other]
    assert ids({"%TITLE": "счёт"}) == [str(done)]
    assert ids({"TITLE": "Оплат%"}) == [str(done)]
    assert ids({"::SUBFILTER-PARAMS": {"FAVORITE": "Y"}, "UNKNOWN_KEY": 1}) == [other, str(done)]
    error = error_of(state, "tasks.task.list", {"order": {"NOPE": "asc"}})
    assert (error.error, error.description) == ("0", "Invalid sorting key (internal error)")


def test_list_shows_only_visible_tasks(state: PortalState) -> None:
    add(state)
    assert call(state, "tasks.task.list", {"select": ["ID"]}, FEDOROV)["tasks"] == []
    assert len(call(state, "tasks.task.list", {"select": ["ID"]}, DIRECTOR)["tasks"]) == 1  # head of the root


# --- comments, checklist, results, events -----------------------------------------------------


def test_comment_and_checklist_items(state: PortalState) -> None:
    task_id = add(state)
    comment = call(state, "task.commentitem.add", {"TASKID": task_id, "FIELDS": {"POST_MESSAGE": "Готово"}}, 6)
    item = call(state, "task.checklistitem.add", {"TASKID": task_id, "FIELDS": {"TITLE": "Сверить сумму"}}, 6)
    for name, value in (("task.commentitem.add", comment), ("task.checklistitem.add", item)):
        assert type(value) is type(load_example(name)["response"]["bodies"][0]["result"])
    task = call(state, "tasks.task.get", {"taskId": task_id})["task"]
    assert task["commentsCount"] == "1" and task["checklist"][str(item)]["title"] == "Сверить сумму"
    assert task["checkListTree"]["descendants"][0]["fields"]["title"] == "Сверить сумму"
    assert error_of(state, "task.commentitem.add", {"TASKID": task_id, "FIELDS": {"POST_MESSAGE": " "}}).description \
        == "Comment text is not specified<br>"
    assert error_of(state, "task.checklistitem.add", {"TASKID": task_id, "FIELDS": {"TITLE": "x"}}, FEDOROV).error \
        == "ERROR_CORE"


def test_result_list(state: PortalState) -> None:
    task_id = add(state)
    assert call(state, "tasks.task.result.list", {"taskId": task_id}) == []
    assert error_of(state, "tasks.task.result.list", {"taskId": task_id}, FEDOROV).description == "Access denied."


def test_events_are_emitted_with_the_documented_data(state: PortalState) -> None:
    seen: list[tuple[str, dict[str, Any], int | None]] = []
    state.subscribe(lambda event, data, user: seen.append((event, data, user)))
    task_id = add(state)
    call(state, "tasks.task.start", {"taskId": task_id}, KUZNETSOV)
    call(state, "task.commentitem.add", {"TASKID": task_id, "FIELDS": {"POST_MESSAGE": "Ок"}}, KUZNETSOV)
    call(state, "tasks.task.delete", {"taskId": task_id}, IVANOVA)
    assert seen == [
        ("ONTASKADD", {"FIELDS_BEFORE": "undefined", "FIELDS_AFTER": {"ID": task_id},
                       "IS_ACCESSIBLE_BEFORE": "N", "IS_ACCESSIBLE_AFTER": "undefined"}, IVANOVA),
        ("ONTASKUPDATE", {"FIELDS_BEFORE": {"ID": task_id}, "FIELDS_AFTER": {"ID": task_id},
                          "IS_ACCESSIBLE_BEFORE": "undefined", "IS_ACCESSIBLE_AFTER": "undefined"}, KUZNETSOV),
        ("ONTASKCOMMENTADD", {"FIELDS_BEFORE": "undefined", "FIELDS_AFTER": {"ID": 0, "TASK_ID": task_id,
                                                                             "MESSAGE_ID": 1},
                              "IS_ACCESSIBLE_BEFORE": "undefined", "IS_ACCESSIBLE_AFTER": "undefined"}, KUZNETSOV),
        ("ONTASKDELETE", {"FIELDS_BEFORE": {"ID": task_id}, "FIELDS_AFTER": "undefined",
                          "IS_ACCESSIBLE_BEFORE": "undefined", "IS_ACCESSIBLE_AFTER": "N"}, IVANOVA),
    ]
    for event, data, _ in seen:
        documented = load_example(f"event.{event}")["payloads_as_documented"][0]["data"]
        assert set(data) == set(documented)


def test_comment_event_payload_follows_the_card_switch(state: PortalState, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[dict[str, Any]] = []
    state.subscribe(lambda event, data, user: seen.append(data["FIELDS_AFTER"]) if event == "ONTASKCOMMENTADD" else None)
    task_id = add(state)
    documented = [p["data"]["FIELDS_AFTER"] for p in load_example("event.ONTASKCOMMENTADD")["payloads_as_documented"]]
    call(state, "task.commentitem.add", {"TASKID": task_id, "FIELDS": {"POST_MESSAGE": "Новая карточка"}}, KUZNETSOV)
    monkeypatch.setattr(taskstore, "COMMENT_EVENT_NEW_CARD", False)
    comment_id = call(state, "task.commentitem.add", {"TASKID": task_id, "FIELDS": {"POST_MESSAGE": "Старая"}},
                      KUZNETSOV)
    assert set(seen[0]) == set(documented[1]) and seen[0]["ID"] == 0 and seen[0]["TASK_ID"] == task_id
    assert seen[1] == {"ID": comment_id, "TASK_ID": task_id} and set(seen[1]) == set(documented[0])


def test_refused_action_emits_nothing(state: PortalState) -> None:
    task_id = add(state)
    seen: list[str] = []
    state.subscribe(lambda event, data, user: seen.append(event))
    error_of(state, "tasks.task.pause", {"taskId": task_id}, KUZNETSOV)
    assert seen == []


def test_department_head_acts_in_the_roles_of_their_people(state: PortalState, monkeypatch: pytest.MonkeyPatch) -> None:
    task_id = add(state, user=ADMIN, RESPONSIBLE_ID=IVANOVA)
    assert call(state, "tasks.task.complete", {"taskId": task_id}, ORLOVA)["task"]["status"] == "5"
    other = add(state, user=ADMIN, RESPONSIBLE_ID=IVANOVA)
    monkeypatch.setattr(taskstore, "MANAGERS_INHERIT_ROLES", False)
    assert error_of(state, "tasks.task.complete", {"taskId": other}, ORLOVA).error == "0"
    assert call(state, "tasks.task.get", {"taskId": other}, ORLOVA) == []


def test_administrator_may_act_on_any_task(state: PortalState, monkeypatch: pytest.MonkeyPatch) -> None:
    task_id = add(state)
    assert call(state, "tasks.task.complete", {"taskId": task_id}, ADMIN)["task"]["status"] == "5"
    assert call(state, "tasks.task.renew", {"taskId": task_id}, ADMIN)["task"]["status"] == "2"
    monkeypatch.setattr(taskstore, "ADMINS_ACT_AS_ANY_ROLE", False)
    assert error_of(state, "tasks.task.complete", {"taskId": task_id}, ADMIN).error == "0"
    assert call(state, "tasks.task.update", {"taskId": task_id, "fields": {"TITLE": "Ещё"}}, ADMIN)["task"]["title"] \
        == "Ещё"


def test_empty_user_fields_read_as_false(state: PortalState) -> None:
    task = call(state, "tasks.task.get", {"taskId": add(state), "select": ["UF_CRM_TASK"]})["task"]
    assert (task["ufCrmTask"], task["ufTaskWebdavFiles"], task["ufMailMessage"]) == (False, False, None)


def test_over_http_form_encoded_webhook_calls(sandbox: Any) -> None:
    import requests

    hook = sandbox.webhook_url("a.ivanova")
    added = requests.post(f"{hook}tasks.task.add.json", verify=sandbox.ca_bundle, timeout=10, data={
        "fields[TITLE]": "Согласовать заявку", "fields[RESPONSIBLE_ID]": "3", "fields[TASK_CONTROL]": "Y",
        "fields[DEADLINE]": "2026-03-03T18:00:00", "fields[UF_CRM_TASK][0]": "D_1"}).json()
    task_id = added["result"]["task"]["id"]
    assert added["result"]["task"]["deadline"] == "2026-03-03T18:00:00+03:00" and "time" in added
    got = requests.post(f"{hook}tasks.task.get.json", verify=sandbox.ca_bundle, timeout=10,
                        data={"taskId": task_id, "select[0]": "ID", "select[1]": "UF_CRM_TASK"}).json()
    assert got["result"]["task"]["ufCrmTask"] == ["D_1"]
    missing = requests.get(f"{hook}tasks.task.get.json?taskId=999", verify=sandbox.ca_bundle, timeout=10)
    assert (missing.status_code, missing.json()["result"]) == (200, [])
    listed = requests.post(f"{hook}tasks.task.list.json", verify=sandbox.ca_bundle, timeout=10,
                           json={"filter": {"RESPONSIBLE_ID": "3"}, "select": ["ID"]}).json()
    assert listed["total"] == 1 and "next" not in listed
    refused = requests.post(f"{sandbox.webhook_url('p.fedorov')}tasks.task.start.json", verify=sandbox.ca_bundle,
                            timeout=10, data={"taskId": task_id})
    assert refused.status_code == 400
    assert refused.json() == {"error": "0", "error_description": "Action on the task is not allowed"}


def test_responsible_may_change_only_the_deadline_when_allowed(state: PortalState) -> None:
    task_id = add(state, ALLOW_CHANGE_DEADLINE="Y")
    moved = call(state, "tasks.task.update", {"taskId": task_id, "fields": {"DEADLINE": "2026-04-01T12:00:00"}},
                 KUZNETSOV)
    assert moved["task"]["deadline"] == "2026-04-01T12:00:00+03:00"
    refused = error_of(state, "tasks.task.update", {"taskId": task_id, "fields": {"TITLE": "Другое"}}, KUZNETSOV)
    assert (refused.error, refused.description) == ("0", "Action on the task is not allowed (internal error)")
    fixed = add(state)
    assert error_of(state, "tasks.task.update", {"taskId": fixed, "fields": {"DEADLINE": "2026-04-01"}},
                    KUZNETSOV).error == "0"
