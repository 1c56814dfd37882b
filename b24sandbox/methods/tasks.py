"""Classic task methods (scope ``task``, REFERENCE §7): UPPER_CASE fields in, camelCase out.

Responses carry the key sets of the documented examples: ids and most numbers as strings,
``creator``/``responsible`` user objects, ``action`` capabilities. Per the examples, ``add`` answers
without ``sprintId``/``backlogId`` and ``action.take``, ``update`` without ``parentId``;
``ufCrmTask``/``ufTaskWebdavFiles``/``ufMailMessage`` appear only when one of them is selected in
``get``/``list``. ``tasks.task.get`` answers ``[]`` for a missing or invisible task.

Switch (UNVERIFIED): ``ATTACH_NEEDS_EDIT`` (False) — when False, a task's responsible and accomplices
may also attach files (``tasks.task.files.attach``), not only users who may edit it. Filter keys
the sandbox does not know are ignored, as the task module ignores them.
"""

from __future__ import annotations

from typing import Any

from b24sandbox import ids, taskfields, taskview
from b24sandbox import taskstore as ts
from b24sandbox.filters import compile_filter, sort_rows, split_key
from b24sandbox.registry import Call, Page, RestError, method
from b24sandbox.state import PortalState

ATTACH_NEEDS_EDIT = False
PAGE_SIZE = 50

_DENIED = {
    "start": ("0", "Action on the task is not allowed"),
    "complete": ("0", "Action on the task is not allowed"),
    "delegate": ("0", "Action on the task is not allowed"),
    "pause": ("1048582", "Action on the task is not allowed"),
    "defer": ("1048582", "Action on the task is not allowed"),
    "renew": ("1048582", "Action on the task is not allowed"),
    "approve": ("1048582", "Action on the task is not allowed"),
    "disapprove": ("1048582", "Action on the task is not allowed"),
    "remove": ("1048582", "No access to delete the task"),
    "edit": ("0", "Action on the task is not allowed (internal error)"),
    "changeDeadline": ("0", "Action on the task is not allowed (internal error)"),
}
_FILTER_KEYS = {
    "ID", "PARENT_ID", "TITLE", "DESCRIPTION", "CREATED_BY", "RESPONSIBLE_ID", "STATUS", "REAL_STATUS", "PRIORITY",
    "GROUP_ID", "DEADLINE", "CREATED_DATE", "CHANGED_DATE", "CLOSED_DATE", "DATE_START", "STATUS_CHANGED_BY",
    "ACCOMPLICE", "AUDITOR", "TAG", "UF_CRM_TASK", "MEMBER", "MARK", "SITE_ID", "STAGE_ID"}
_ORDER_KEYS = {"ID", "TITLE", "DEADLINE", "CREATED_DATE", "CHANGED_DATE", "CLOSED_DATE", "REAL_STATUS", "STATUS",
               "PRIORITY", "RESPONSIBLE_ID", "CREATED_BY", "GROUP_ID", "DATE_START", "PARENT_ID"}


def _task_id(call: Call, name: str = "taskId") -> int:
    raw = call.param(name)
    if raw is None or raw == "":
        raise RestError("100", "CTaskItem All parameters in the constructor must have real class type (internal error)")
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise RestError("0", "wrong task id") from None
    if value <= 0:
        raise RestError("0", "wrong task id")
    return value


def _fields(call: Call) -> dict[str, Any]:
    fields = call.param("fields")
    if not isinstance(fields, dict) or not fields:
        raise RestError("100", "Could not find value for parameter {fields} (internal error)")
    return fields


def _checked(call: Call, action: str) -> ts.Task:
    """The task, provided it exists, is visible and the caller may take ``action`` on it."""
    task = ts.store(call.state).tasks.get(_task_id(call))
    if task is None or not ts.can_see(call.state, task, call.user_id):
        raise RestError(*_DENIED[action])
    if action not in ts.allowed(call.state, task, call.user_id):
        raise RestError(*_DENIED[action])
    return task


def _answer(call: Call, task: ts.Task) -> dict[str, Any]:
    return {"task": taskview.full(call.state, task, call.user_id, call.method.lower())}


@method("tasks.task.add", scope="task")
def task_add(call: Call) -> dict[str, Any]:
    fields = _fields(call)
    state = call.state
    taskfields.check_required(state, fields)
    now = state.now()
    task = ts.Task(id=0, title="", created_by=call.user_id, responsible_id=0, created=now, changed=now,
                   changed_by=call.user_id, status_changed=now)
    ts.apply_fields(state, task, fields, call.user_id, creating=True)
    task.id = state.next_id("task", ids.TASK)
    ts.store(state).tasks[task.id] = task
    ts.emit_add(state, task.id, call.user_id)
    return _answer(call, task)


_DEADLINE_FIELDS = {"DEADLINE", "START_DATE_PLAN", "END_DATE_PLAN"}


@method("tasks.task.update", scope="task")
def task_update(call: Call) -> dict[str, Any]:
    fields = _fields(call)
    only_dates = {str(k).upper() for k in fields} <= _DEADLINE_FIELDS
    task = _checked(call, "changeDeadline" if only_dates else "edit")
    before = task.status
    ts.apply_fields(call.state, task, fields, call.user_id, creating=False)
    if task.status != before:
        task.status_changed_by, task.status_changed = call.user_id, call.now
    ts.touch(call.state, task, call.user_id)
    ts.emit_update(call.state, task.id, call.user_id)
    return _answer(call, task)


@method("tasks.task.get", scope="task")
def task_get(call: Call) -> Any:
    task = ts.store(call.state).tasks.get(_task_id(call))
    if task is None or not ts.can_see(call.state, task, call.user_id):
        return []
    select = call.param("select")
    if select is not None and not isinstance(select, (list, dict)):
        raise RestError("100", "Invalid value {} to match with parameter {select}. Should be value of type array. "
                        "(internal error)")
    names = taskview.select_names(select)
    if names is None:
        return {"task": taskview.full(call.state, task, call.user_id, "tasks.task.get")}
    return {"task": taskview.selected(call.state, task, call.user_id, names, "get", {})}


@method("tasks.task.list", scope="task")
def task_list(call: Call) -> Page:
    state = call.state
    visible = [t for t in ts.store(state).tasks.values() if ts.can_see(state, t, call.user_id)]
    rows: list[Any] = [taskview.filter_row(state, t) for t in visible]
    predicate = compile_filter(_task_filter(call.param("filter")), lambda name: name.upper())
    rows = sort_rows([r for r in rows if predicate(r)], _order(call.param("order")))
    start = _start(call.param("start"))
    page = rows[max(start, 0): max(start, 0) + PAGE_SIZE]
    names = taskview.select_names(call.param("select"))
    params = {str(k).upper(): v for k, v in (call.param("params") or {}).items()}
    tasks = ts.store(state).tasks
    out = [
        taskview.full(state, tasks[r["ID"]], call.user_id, "tasks.task.list") if names is None
        else taskview.selected(state, tasks[r["ID"]], call.user_id, names, "list", params)
        for r in page
    ]
    if start < 0:
        return Page({"tasks": out}, total=0)
    following = start + PAGE_SIZE
    return Page({"tasks": out}, total=len(rows), next=following if following < len(rows) else None)


def _start(value: Any) -> int:
    try:
        return int(str(value)) if value not in (None, "") else 0
    except ValueError:
        return 0


def _task_filter(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        return {}
    result: dict[str, Any] = {}
    for key, value in raw.items():
        key = str(key)
        if key.startswith("::"):
            continue
        if key.upper().lstrip("!=") == "TITLE" and isinstance(value, str) and "%" in value and key[:1] not in "%":
            key = ("!=%" if key.startswith("!") else "=%") + "TITLE"
        if key.upper() == "ONLY_ROOT_TASKS":
            if str(value).upper() == "Y":
                result["PARENT_ID"] = None
            continue
        if split_key(key)[1].upper() not in _FILTER_KEYS:
            continue
        if split_key(key)[1].upper() == "STATUS":
            result.update(_status_condition(key, value, len(result)))
            continue
        result[key] = value
    return result


def _status_condition(key: str, value: Any, index: int) -> dict[str, Any]:
    """``STATUS`` values below zero are the meta-statuses (§7.2), kept in the row's ``META_STATUS``."""
    op = split_key(key)[0]
    prefix = "" if op == "=" else op
    values = list(value.values()) if isinstance(value, dict) else value if isinstance(value, list) else [value]
    meta = [v for v in values if str(v).strip().startswith("-")]
    real = [v for v in values if v not in meta]
    if not meta:
        return {key: value}
    if not real:
        return {prefix + "META_STATUS": meta if isinstance(value, (list, dict)) else meta[0]}
    joined = "AND" if op.startswith("!") else "OR"  # "@STATUS": [3, -1] -> in progress OR overdue
    return {f"{900 + index}": {"logic": joined, "0": {key: real}, "1": {prefix + "META_STATUS": meta}}}


def _order(raw: Any) -> list[tuple[str, bool]]:
    if not isinstance(raw, dict) or not raw:
        return [("ID", True)]
    keys: list[tuple[str, bool]] = []
    for name, direction in raw.items():
        upper = str(name).upper()
        if upper not in _ORDER_KEYS:
            raise RestError("0", "Invalid sorting key (internal error)")
        keys.append(("REAL_STATUS" if upper == "STATUS" else upper, str(direction).upper() == "DESC"))
    return keys


@method("tasks.task.delete", scope="task")
def task_delete(call: Call) -> dict[str, Any]:
    task = _checked(call, "remove")
    ts.store(call.state).tasks.pop(task.id)
    ts.emit_delete(call.state, task.id, call.user_id)
    return {"task": True}


def _status_action(call: Call, action: str) -> dict[str, Any]:
    task = _checked(call, action)
    ts.transition(call.state, task, action, call.user_id)
    ts.emit_update(call.state, task.id, call.user_id)
    return _answer(call, task)


def _register_status_action(action: str) -> None:
    def handler(call: Call) -> dict[str, Any]:
        return _status_action(call, action)

    handler.__name__ = f"task_{action}"
    method(f"tasks.task.{action}", scope="task")(handler)


#: ``tasks.task.{action} {taskId}`` → ``{"task": {...}}``; the legal transitions live in ``taskstore``.
for _action in ("start", "pause", "complete", "defer", "renew", "approve", "disapprove"):
    _register_status_action(_action)


@method("tasks.task.delegate", scope="task")
def task_delegate(call: Call) -> dict[str, Any]:
    raw = call.param("userId")
    if raw is None or raw == "":
        raise RestError("100", "Could not find value for parameter {userId}")
    task = _checked(call, "delegate")
    new_responsible = ts.checked_user(call.state, raw, "Responsible person not specified",
                                  'User specified in the "Responsible" field not found')
    if call.user_id not in task.auditors:
        task.auditors.append(call.user_id)
    task.responsible_id = new_responsible
    ts.transition(call.state, task, "delegate", call.user_id)
    ts.emit_update(call.state, task.id, call.user_id)
    return _answer(call, task)


@method("tasks.task.files.attach", scope="task")
def task_files_attach(call: Call) -> dict[str, Any]:
    from b24sandbox import diskstore

    task_id = _task_id(call)
    raw = call.param("fileId")
    if raw is None or raw == "":
        raise RestError("100", "Could not find value for parameter {fileId} (internal error)")
    if not str(raw).strip().isdigit():
        raise RestError("100", f"Invalid value {raw} to match with parameter {{fileId}}. Should be value of type int. "
                        "(internal error)")
    task = ts.store(call.state).tasks.get(task_id)
    if task is None or not _may_attach(call.state, task, call.user_id):
        raise RestError("0", "Access denied (internal error)")
    if diskstore.get_file(call.state, int(str(raw))) is None:
        raise RestError("ERROR_CORE", "Insufficient permissions.<br>")
    attachment_id = ts.attach(call.state, int(str(raw)))
    task.files.append(attachment_id)
    ts.touch(call.state, task, call.user_id)
    ts.emit_update(call.state, task.id, call.user_id)
    return {"attachmentId": attachment_id}


def _may_attach(state: PortalState, task: ts.Task, user_id: int) -> bool:
    if "edit" in ts.allowed(state, task, user_id):
        return True
    return not ATTACH_NEEDS_EDIT and bool(ts.roles(state, task, user_id) & {ts.RESPONSIBLE, ts.ACCOMPLICE})


@method("tasks.task.getFields", scope="task")
def task_get_fields(call: Call) -> dict[str, Any]:
    from b24sandbox.shared import load_example

    documented = dict(load_example("tasks.task.getFields")["response"]["bodies"][0]["result"])
    return taskfields.described(call.state, documented)


@method("tasks.task.result.list", scope="task")
def task_result_list(call: Call) -> list[dict[str, Any]]:
    raw = call.param("taskId")
    if raw is None or not str(raw).strip().isdigit():
        raise RestError("100", f"Invalid value {raw} to match with parameter {{taskId}}. Should be value of type int.")
    task = ts.store(call.state).tasks.get(int(str(raw)))
    if task is None or not ts.can_see(call.state, task, call.user_id):
        raise RestError("0", "Access denied.")
    return list(ts.store(call.state).results.get(task.id, []))


def _legacy_task_id(call: Call, method_name: str, param: str) -> int:
    raw = call.param("TASKID")
    if raw is None or not str(raw).strip().isdigit():
        raise RestError("ERROR_CORE", f"TASKS_ERROR_EXCEPTION_#256; Param #0 ({param}) for method {method_name}() "
                        'expected to be of type "integer", but given something else.; 256/TE/WRONG_ARGUMENTS')
    return int(str(raw).strip())


@method("task.commentitem.add", scope="task")
def comment_add(call: Call) -> int:
    task_id = _legacy_task_id(call, "ctaskcommentitem::add", "taskId")
    fields = call.param("FIELDS")
    fields = {str(k).upper(): v for k, v in fields.items()} if isinstance(fields, dict) else {}
    task = ts.store(call.state).tasks.get(task_id)
    if task is None or not ts.can_see(call.state, task, call.user_id):
        raise RestError("ERROR_CORE", "Insufficient permissions to add a comment.<br>")
    text = str(fields.get("POST_MESSAGE") or "").strip()
    if not text:
        raise RestError("ERROR_CORE", "Comment text is not specified<br>")
    author = int(str(fields.get("AUTHOR_ID") or call.user_id))
    comment = ts.Comment(call.state.next_id("task.comment", 1), task.id, author, text, call.now)
    ts.store(call.state).comments[comment.id] = comment
    task.comments += 1
    task.seen_by.add(call.user_id)
    ts.emit_comment(call.state, comment.id, task.id, call.user_id)
    return comment.id


@method("task.checklistitem.add", scope="task")
def checklist_add(call: Call) -> int:
    task_id = _legacy_task_id(call, "ctaskchecklistitem::add", "taskId")
    fields = call.param("FIELDS")
    if not isinstance(fields, dict) or not fields:
        raise RestError("ERROR_CORE", "TASKS_ERROR_EXCEPTION_#256; Param #1 (arFields) expected by method "
                        "ctaskchecklistitem::add(), but not given.; 256/TE/WRONG_ARGUMENTS<br>")
    fields = {str(k).upper(): v for k, v in fields.items()}
    task = ts.store(call.state).tasks.get(task_id)
    if task is None or "checklist.add" not in ts.allowed(call.state, task, call.user_id):
        raise RestError("ERROR_CORE", "TASKS_ERROR_EXCEPTION_#8; Adding item: action not allowed; "
                        "8/TE/ACTION_FAILED_TO_BE_PROCESSED<br>")
    title = str(fields.get("TITLE") or "").strip()
    if not title:
        raise RestError("ERROR_CORE", "TASKS_ERROR_EXCEPTION_#8; Item name not specified; "
                        "8/TE/ACTION_FAILED_TO_BE_PROCESSED<br>")
    item = ts.ChecklistItem(
        id=call.state.next_id("task.checklist", 1), task_id=task.id, created_by=call.user_id, title=title,
        parent_id=int(str(fields.get("PARENT_ID") or 0)), sort_index=int(str(fields.get("SORT_INDEX") or 0)),
        is_complete=str(fields.get("IS_COMPLETE", "N")).upper() == "Y",
        is_important=str(fields.get("IS_IMPORTANT", "N")).upper() == "Y",
    )
    ts.store(call.state).checklist[item.id] = item
    return item.id
