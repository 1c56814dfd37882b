"""How a sandbox task reads in ``tasks.task.*`` answers: camelCase keys, string ids and numbers.

``full`` gives the whole task object (key set of the documented examples, per method); ``selected``
gives what ``get``/``list`` return for an explicit ``select``: the selected fields plus the keys the
portal adds around them (``group``; ``creator``/``responsible``/``accomplicesData``/``auditorsData``
for the matching ids; ``descriptionInBbcode`` with ``DESCRIPTION``; ``favorite`` and ``action`` in
``get``; ``lengthDeadline`` with ``DEADLINE`` in ``list`` — its meaning is UNVERIFIED, the sandbox
puts ``"1"`` when a deadline is set). ``filter_row`` is the UPPER_CASE row the list filter reads.

Switch: ``EMPTY_UF_VALUE`` (``False``) is how an empty multiple user field (``ufCrmTask``,
``ufTaskWebdavFiles``) reads — UNVERIFIED; PHP portals usually answer ``false`` for empty UF values.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from b24sandbox import taskmeta
from b24sandbox import taskstore as ts

if TYPE_CHECKING:
    from b24sandbox.state import PortalState

EMPTY_UF_VALUE: Any = False
_OMIT = {"tasks.task.add": {"sprintId", "backlogId"}, "tasks.task.update": {"parentId"}}
_ACTION_KEYS = ("accept", "decline", "complete", "approve", "disapprove", "start", "pause", "delegate", "remove",
                "edit", "defer", "renew", "create", "changeDeadline", "checklistAddItems", "addFavorite",
                "deleteFavorite", "rate", "take", "edit.originator", "checklist.reorder", "elapsedtime.add",
                "dayplan.timer.toggle", "edit.plan", "checklist.add", "favorite.add", "favorite.delete")
_COUNTER = {"counters": {"expired": 0, "newComments": 0, "projectExpired": 0, "projectNewComments": 0,
                         "mutedExpired": 0, "mutedNewComments": 0}, "color": "gray", "value": 0}


def camel(name: str) -> str:
    """``PARENT_ID`` -> ``parentId``; an already camelCase name is kept."""
    if name != name.upper():
        return name
    head, *rest = name.lower().split("_")
    return head + "".join(part.capitalize() for part in rest)


def _s(value: int | None) -> str | None:
    return None if value is None else str(value)


def _d(state: PortalState, moment: datetime | None) -> str | None:
    return None if moment is None else state.iso(moment)


def user_ref(state: PortalState, user_id: int) -> dict[str, Any]:
    user = state.users.get(user_id)
    return {
        "id": str(user_id),
        "name": user.full_name if user else "",
        "link": f"/company/personal/user/{user_id}/",
        "icon": "/bitrix/images/tasks/default_avatar.png",
        "workPosition": user.position if user else "",
    }


def _users_data(state: PortalState, ids: list[int]) -> Any:
    return {str(i): user_ref(state, i) for i in ids} if ids else []


def _base(state: PortalState, t: ts.Task, viewer: int) -> dict[str, Any]:
    """Every plain field of the task, in the order of the documented examples."""
    comments = str(t.comments) if t.comments else None
    return {
        "id": str(t.id), "parentId": _s(t.parent_id), "title": t.title, "description": t.description,
        "mark": t.flags.get("MARK") or None, "priority": str(t.priority), "multitask": "N", "notViewed": "N",
        "replicate": "N", "stageId": "0", "sprintId": None, "backlogId": None, "createdBy": str(t.created_by),
        "createdDate": _d(state, t.created), "responsibleId": str(t.responsible_id),
        "changedBy": str(t.changed_by or t.created_by), "changedDate": _d(state, t.changed or t.created),
        "statusChangedBy": _s(t.status_changed_by), "closedBy": _s(t.closed_by),
        "closedDate": _d(state, t.closed), "activityDate": _d(state, t.changed or t.created),
        "dateStart": _d(state, t.date_start), "deadline": _d(state, t.deadline),
        "startDatePlan": _d(state, t.start_date_plan), "endDatePlan": _d(state, t.end_date_plan),
        "guid": t.guid, "xmlId": None, "commentsCount": comments, "serviceCommentsCount": None,
        "allowChangeDeadline": t.flag("ALLOW_CHANGE_DEADLINE"), "allowTimeTracking": t.flag("ALLOW_TIME_TRACKING"),
        "taskControl": t.flag("TASK_CONTROL"), "addInReport": "N", "forkedByTemplateId": None,
        "timeEstimate": "0", "timeSpentInLogs": None, "matchWorkTime": t.flag("MATCH_WORK_TIME"),
        "forumTopicId": None, "forumId": None, "siteId": "s1", "subordinate": "Y", "exchangeModified": None,
        "exchangeId": None, "outlookVersion": "1", "viewedDate": None, "sorting": None, "durationFact": None,
        "isMuted": "N", "isPinned": "N", "isPinnedInGroup": "N", "flowId": None, "descriptionInBbcode": "Y",
        "status": str(t.status), "statusChangedDate": _d(state, t.status_changed or t.created),
        "durationPlan": None, "durationType": "days", "favorite": "N", "groupId": str(t.group_id),
        "auditors": [str(i) for i in t.auditors], "accomplices": [str(i) for i in t.accomplices],
        "checklist": _checklist(state, t, viewer), "group": [],
        "creator": user_ref(state, t.created_by), "responsible": user_ref(state, t.responsible_id),
        "accomplicesData": _users_data(state, t.accomplices), "auditorsData": _users_data(state, t.auditors),
        "newCommentsCount": 0, "action": action(state, t, viewer),
        "checkListTree": _tree(state, t, viewer), "checkListCanAdd": "checklist.add" in ts.allowed(state, t, viewer),
    }


def action(state: PortalState, t: ts.Task, viewer: int) -> dict[str, bool]:
    can = ts.allowed(state, t, viewer)
    derived = {
        "create": True, "rate": "edit" in can, "take": False, "accept": False, "decline": False,
        "checklistAddItems": "checklist.add" in can, "checklist.reorder": "checklist.add" in can,
        "addFavorite": True, "favorite.add": True, "deleteFavorite": False, "favorite.delete": False,
        "edit.originator": False, "edit.plan": "edit" in can, "dayplan.timer.toggle": False,
    }
    return {key: derived.get(key, key in can) for key in _ACTION_KEYS}


def _checklist(state: PortalState, t: ts.Task, viewer: int) -> Any:
    items = [i for i in ts.store(state).checklist.values() if i.task_id == t.id]
    return {str(i.id): _checklist_item(i) for i in items} if items else []


def _checklist_item(i: ts.ChecklistItem) -> dict[str, Any]:
    return {
        "id": str(i.id), "taskId": str(i.task_id), "createdBy": str(i.created_by), "parentId": str(i.parent_id),
        "title": i.title, "sortIndex": str(i.sort_index), "isComplete": "Y" if i.is_complete else "N",
        "isImportant": "Y" if i.is_important else "N", "toggledBy": None, "toggledDate": None,
        "ufChecklistFiles": False, "members": [], "attachments": [], "entityId": str(i.task_id),
        "action": {"modify": True, "remove": True, "toggle": True},
    }


def _tree(state: PortalState, t: ts.Task, viewer: int) -> dict[str, Any]:
    items = sorted((i for i in ts.store(state).checklist.values() if i.task_id == t.id), key=lambda i: i.sort_index)
    counter = iter(range(1, 10_000))

    def node(item: ts.ChecklistItem | None) -> dict[str, Any]:
        own = item.id if item else 0
        fields: dict[str, Any] = {"id": item.id if item else None, "copiedId": None, "entityId": t.id if item else None,
                  "userId": viewer, "createdBy": item.created_by if item else None,
                  "parentId": item.parent_id if item else None, "title": item.title if item else "",
                  "sortIndex": item.sort_index if item else None, "displaySortIndex": "",
                  "isComplete": bool(item and item.is_complete), "isImportant": bool(item and item.is_important),
                  "completedCount": 0, "members": [], "attachments": []}
        children = [node(i) for i in items if i.parent_id == own and i is not item]
        return {"nodeId": next(counter) if item else 0, "fields": fields,
                "action": {"modify": True, "remove": True, "toggle": True} if item else [],
                "descendants": children}

    return node(None)


def _uf(t: ts.Task) -> dict[str, Any]:
    return {"ufCrmTask": list(t.crm) or EMPTY_UF_VALUE, "ufTaskWebdavFiles": list(t.files) or EMPTY_UF_VALUE,
            "ufMailMessage": None}


def full(state: PortalState, t: ts.Task, viewer: int, method: str) -> dict[str, Any]:
    data = _base(state, t, viewer)
    for key in _OMIT.get(method, ()):
        data.pop(key, None)
    if method == "tasks.task.add":
        data["action"].pop("take", None)
    return data


def select_names(select: Any) -> list[str] | None:
    """The selected field names, or ``None`` for the whole task (no ``select`` or ``"*"``)."""
    if select is None:
        return None
    names = [str(v) for v in (select.values() if isinstance(select, dict) else select)]
    return None if not names or names == ["*"] else names


def selected(state: PortalState, t: ts.Task, viewer: int, names: list[str], kind: str,
             params: dict[str, Any]) -> dict[str, Any]:
    base = _base(state, t, viewer)
    upper = {n.upper() for n in names}
    keys = ["id"] + [camel(n) for n in names if camel(n) in base and camel(n) != "id"]
    data = {k: base[k] for k in keys}
    if upper & {"UF_CRM_TASK", "UF_TASK_WEBDAV_FILES", "UF_MAIL_MESSAGE", "UF_*"}:
        data.update(_uf(t))
    if "DESCRIPTION" in upper:
        data["descriptionInBbcode"] = "Y"
    if kind == "list" and "DEADLINE" in upper:
        data["lengthDeadline"] = "1" if t.deadline else None
    if kind == "get":
        data["favorite"] = "N"
    data["group"] = []
    for field, key in (("CREATED_BY", "creator"), ("RESPONSIBLE_ID", "responsible"),
                       ("ACCOMPLICES", "accomplicesData"), ("AUDITORS", "auditorsData")):
        if field in upper:
            data[key] = base[key]
    if kind == "get":
        data["action"] = base["action"]
    data.update(_list_extras(state, t, upper, params))
    return data


def _list_extras(state: PortalState, t: ts.Task, upper: set[str], params: dict[str, Any]) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    if _on(params.get("WITH_RESULT_INFO")):
        results = ts.store(state).results.get(t.id, [])
        requires = any(str(p.get("CODE")) == "3" and p.get("VALUE") == "Y" for p in t.se_parameters)
        extra["taskRequireResult"] = "Y" if requires else "N"
        extra["taskHasOpenResult"] = "Y" if any(r.get("status") == 0 for r in results) else "N"
        extra["taskHasResult"] = "Y" if results else "N"
    if _on(params.get("WITH_TIMER_INFO")):
        extra["timeElapsed"] = None
        extra["timerIsRunningForCurrentUser"] = "N"
    if _on(params.get("WITH_PARSED_DESCRIPTION")):
        extra["parsedDescription"] = t.description
    if "COUNTERS" in upper:
        extra["counter"] = _COUNTER
    if "TAGS" in upper:
        extra["tags"] = {str(i + 1): {"id": i + 1, "title": tag} for i, tag in enumerate(t.tags)} or []
    if "SUB_STATUS" in upper or "SUBSTATUS" in upper:
        extra["subStatus"] = str(taskmeta.sub_status(state, t))  # §7.2 meta-statuses
    return extra


def _on(value: Any) -> bool:
    return value is True or str(value).lower() in ("1", "y", "true")


def filter_row(state: PortalState, t: ts.Task) -> dict[str, Any]:
    """The row ``tasks.task.list`` filters and sorts on (UPPER_CASE keys, typed values)."""
    return {
        "ID": t.id, "PARENT_ID": t.parent_id, "TITLE": t.title, "DESCRIPTION": t.description,
        "CREATED_BY": t.created_by, "RESPONSIBLE_ID": t.responsible_id, "STATUS": t.status, "REAL_STATUS": t.status,
        "META_STATUS": taskmeta.meta_statuses(state, t),  # STATUS −1/−2/−3 filter here (§7.2, taskmeta)
        "PRIORITY": t.priority, "GROUP_ID": t.group_id, "DEADLINE": t.deadline, "CREATED_DATE": t.created,
        "CHANGED_DATE": t.changed, "CLOSED_DATE": t.closed, "DATE_START": t.date_start,
        "STATUS_CHANGED_BY": t.status_changed_by, "ACCOMPLICE": t.accomplices, "AUDITOR": t.auditors,
        "TAG": t.tags, "UF_CRM_TASK": t.crm, "MEMBER": t.members, "MARK": t.flags.get("MARK"),
        "SITE_ID": "s1", "STAGE_ID": 0,
    }
