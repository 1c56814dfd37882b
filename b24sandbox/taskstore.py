"""Tasks of the sandbox portal: the data, who may do what, status transitions and task events.

The rules follow the classic task module (REFERENCE §7): statuses 2 pending, 3 in progress,
4 supposedly completed (awaiting control), 5 completed, 6 deferred. Which action a user may take
depends on the status and on the user's roles in the task (director = creator, responsible,
accomplice, auditor), as in the task module's base allowed-actions map; portal administrators may
always edit and delete. ``complete`` moves a task with ``TASK_CONTROL=Y`` to 4 unless the creator
completes it; ``approve`` is 4 -> 5; ``disapprove``, ``renew``, ``pause`` and ``delegate`` put it back
to 2; ``defer`` to 6.

Behaviour switches (module level, for the points REFERENCE marks UNVERIFIED or only inferable):

- ``MANAGERS_INHERIT_ROLES`` (True): the head of a department holds the roles of the members of that
  department and of its sub-departments (the task module grants managers their subordinates' roles).
- ``ACCEPT_LEGACY_STATUSES`` (False): also accept the legacy statuses 1 (new) and 7 (declined) in
  ``STATUS``; current docs list only 2–6 (§13).
- ``ADMINS_ACT_AS_ANY_ROLE`` (True): a portal administrator may take every action the status allows
  to the creator or the responsible (current access rules give administrators full access to all
  tasks); False keeps the legacy map, where administrators may only edit and delete.
- ``COMMENT_EVENT_NEW_CARD`` (True): ``ONTASKCOMMENTADD`` carries the new task card's payload
  ``FIELDS_AFTER {ID: 0, TASK_ID, MESSAGE_ID}`` (tasks 25.700.0+, comments are task-chat messages;
  examples/event.ONTASKCOMMENTADD.json payload 2, REFERENCE §3.5). False: the old card's
  ``{ID: <comment id>, TASK_ID}``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from b24sandbox.filters import parse_datetime
from b24sandbox.registry import RestError

if TYPE_CHECKING:
    from b24sandbox.state import PortalState

MANAGERS_INHERIT_ROLES = True
ACCEPT_LEGACY_STATUSES = False
ADMINS_ACT_AS_ANY_ROLE = True
COMMENT_EVENT_NEW_CARD = True

PENDING, IN_PROGRESS, SUPPOSEDLY_COMPLETED, COMPLETED, DEFERRED = 2, 3, 4, 5, 6
STATUS_NAMES = {2: "Ждёт выполнения", 3: "Выполняется", 4: "Ждёт контроля", 5: "Завершена", 6: "Отложена"}

DIRECTOR, RESPONSIBLE, ACCOMPLICE, AUDITOR = "director", "responsible", "accomplice", "auditor"

_ANY_STATUS = {
    DIRECTOR: {"checklist.add", "elapsedtime.add", "changeDirector", "changeDeadline"},
    RESPONSIBLE: {"checklist.add", "elapsedtime.add"},
    ACCOMPLICE: {"checklist.add", "elapsedtime.add"},
    AUDITOR: set(),
}
_BASE: dict[int, dict[str, set[str]]] = {
    PENDING: {
        DIRECTOR: {"edit", "remove", "complete"},
        RESPONSIBLE: {"start", "delegate", "defer", "complete"},
        ACCOMPLICE: {"start", "defer", "complete"},
    },
    IN_PROGRESS: {
        DIRECTOR: {"edit", "remove", "complete"},
        RESPONSIBLE: {"pause", "delegate", "defer", "complete"},
        ACCOMPLICE: {"pause", "defer", "complete"},
    },
    SUPPOSEDLY_COMPLETED: {
        DIRECTOR: {"edit", "remove", "approve", "disapprove"},
        RESPONSIBLE: {"renew"},
    },
    COMPLETED: {
        DIRECTOR: {"edit", "remove", "renew"},
        RESPONSIBLE: {"renew", "delegate"},
        ACCOMPLICE: {"start"},
    },
    DEFERRED: {
        DIRECTOR: {"edit", "remove", "complete"},
        RESPONSIBLE: {"start", "delegate", "complete"},
        ACCOMPLICE: {"start", "complete"},
    },
}
_TARGET = {"start": IN_PROGRESS, "pause": PENDING, "defer": DEFERRED, "renew": PENDING,
           "disapprove": PENDING, "approve": COMPLETED, "delegate": PENDING}


@dataclass
class Task:
    id: int
    title: str
    created_by: int
    responsible_id: int
    created: datetime
    description: str = ""
    status: int = PENDING
    priority: int = 1
    parent_id: int | None = None
    group_id: int = 0
    deadline: datetime | None = None
    start_date_plan: datetime | None = None
    end_date_plan: datetime | None = None
    accomplices: list[int] = field(default_factory=list)
    auditors: list[int] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    crm: list[str] = field(default_factory=list)
    files: list[int] = field(default_factory=list)
    flags: dict[str, str] = field(default_factory=dict)
    se_parameters: list[dict[str, Any]] = field(default_factory=list)
    changed_by: int = 0
    changed: datetime | None = None
    status_changed_by: int | None = None
    status_changed: datetime | None = None
    closed_by: int | None = None
    closed: datetime | None = None
    date_start: datetime | None = None
    comments: int = 0
    seen_by: set[int] = field(default_factory=set)  # users who acted on it (taskmeta: −2 unviewed)
    guid: str = field(default_factory=lambda: "{" + str(uuid.uuid4()) + "}")

    def flag(self, name: str) -> str:
        return self.flags.get(name, "N")

    @property
    def members(self) -> list[int]:
        return [self.created_by, self.responsible_id, *self.accomplices, *self.auditors]


@dataclass
class ChecklistItem:
    id: int
    task_id: int
    created_by: int
    title: str
    parent_id: int = 0
    sort_index: int = 0
    is_complete: bool = False
    is_important: bool = False


@dataclass
class Comment:
    id: int
    task_id: int
    author_id: int
    text: str
    created: datetime


@dataclass
class TaskStore:
    tasks: dict[int, Task] = field(default_factory=dict)
    attachments: dict[int, int] = field(default_factory=dict)  # attachment id -> Drive file id
    checklist: dict[int, ChecklistItem] = field(default_factory=dict)
    comments: dict[int, Comment] = field(default_factory=dict)
    results: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # task id -> result rows


def store(state: PortalState) -> TaskStore:
    return state.area("tasks", TaskStore)


# --- people ------------------------------------------------------------------------------------


def managed_users(state: PortalState, user_id: int) -> set[int]:
    """Users in the departments (and sub-departments) this user heads."""
    heads = {d.id for d in state.departments.values() if d.head == user_id}
    if not heads:
        return set()
    covered = set(heads)
    changed = True
    while changed:
        changed = False
        for dep in state.departments.values():
            if dep.parent in covered and dep.id not in covered:
                covered.add(dep.id)
                changed = True
    return {u.id for u in state.users.values() if set(u.departments) & covered and u.id != user_id}


def roles(state: PortalState, task: Task, user_id: int) -> set[str]:
    subjects = {user_id}
    if MANAGERS_INHERIT_ROLES:
        subjects |= managed_users(state, user_id)
    found = set()
    if task.created_by in subjects:
        found.add(DIRECTOR)
    if task.responsible_id in subjects:
        found.add(RESPONSIBLE)
    if subjects & set(task.accomplices):
        found.add(ACCOMPLICE)
    if subjects & set(task.auditors):
        found.add(AUDITOR)
    return found


def can_see(state: PortalState, task: Task, user_id: int) -> bool:
    return state.is_admin(user_id) or bool(roles(state, task, user_id))


def allowed(state: PortalState, task: Task, user_id: int) -> set[str]:
    """The actions this user may take on the task now."""
    result: set[str] = set()
    for role in roles(state, task, user_id):
        result |= _BASE.get(task.status, {}).get(role, set()) | _ANY_STATUS[role]
    if state.is_admin(user_id):
        result |= {"edit", "remove", "checklist.add", "elapsedtime.add", "changeDirector"}
        if ADMINS_ACT_AS_ANY_ROLE:
            for role in (DIRECTOR, RESPONSIBLE):
                result |= _BASE.get(task.status, {}).get(role, set())
    if "edit" in result or (task.flag("ALLOW_CHANGE_DEADLINE") == "Y" and RESPONSIBLE in roles(state, task, user_id)):
        result.add("changeDeadline")
    if "edit" in result:
        result |= {"checklist.add", "elapsedtime.add", "changeDirector"}
    return result


def valid_status(value: Any) -> int | None:
    """``STATUS`` as an int when it is one the portal accepts, else ``None``."""
    try:
        status = int(str(value).strip())
    except ValueError:
        return None
    legal = {1, 2, 3, 4, 5, 6, 7} if ACCEPT_LEGACY_STATUSES else {2, 3, 4, 5, 6}
    return status if status in legal else None


# --- transitions -------------------------------------------------------------------------------


def transition(state: PortalState, task: Task, action: str, user_id: int) -> None:
    """Apply a status action already checked with :func:`allowed`; stamps dates and who did it."""
    now = state.now()
    if action == "complete":
        to_control = task.flag("TASK_CONTROL") == "Y" and task.created_by != user_id
        new_status = SUPPOSEDLY_COMPLETED if to_control else COMPLETED
    else:
        new_status = _TARGET[action]
    if action == "start" and task.date_start is None:
        task.date_start = now
    if new_status == COMPLETED:
        task.closed_by, task.closed = user_id, now
    elif task.closed_by is not None:
        task.closed_by, task.closed = 0, None
    task.status = new_status
    task.status_changed_by, task.status_changed = user_id, now
    touch(state, task, user_id)


def touch(state: PortalState, task: Task, user_id: int) -> None:
    task.changed_by, task.changed = user_id, state.now()
    task.seen_by.add(user_id)


def subtasks(state: PortalState, task_id: int) -> list[Task]:
    return [t for t in store(state).tasks.values() if t.parent_id == task_id]


def is_descendant(state: PortalState, candidate: int, ancestor: int) -> bool:
    """True when ``candidate`` is ``ancestor`` itself or lies below it in the subtask tree."""
    seen: set[int] = set()
    current: int | None = candidate
    tasks = store(state).tasks
    while current is not None and current not in seen:
        if current == ancestor:
            return True
        seen.add(current)
        parent = tasks.get(current)
        current = parent.parent_id if parent else None
    return False


# --- events ------------------------------------------------------------------------------------


def emit_add(state: PortalState, task_id: int, user_id: int) -> None:
    state.emit("ONTASKADD", {"FIELDS_BEFORE": "undefined", "FIELDS_AFTER": {"ID": task_id},
                             "IS_ACCESSIBLE_BEFORE": "N", "IS_ACCESSIBLE_AFTER": "undefined"}, user_id)


def emit_update(state: PortalState, task_id: int, user_id: int) -> None:
    state.emit("ONTASKUPDATE", {"FIELDS_BEFORE": {"ID": task_id}, "FIELDS_AFTER": {"ID": task_id},
                                "IS_ACCESSIBLE_BEFORE": "undefined", "IS_ACCESSIBLE_AFTER": "undefined"}, user_id)


def emit_delete(state: PortalState, task_id: int, user_id: int) -> None:
    state.emit("ONTASKDELETE", {"FIELDS_BEFORE": {"ID": task_id}, "FIELDS_AFTER": "undefined",
                                "IS_ACCESSIBLE_BEFORE": "undefined", "IS_ACCESSIBLE_AFTER": "N"}, user_id)


def emit_comment(state: PortalState, comment_id: int, task_id: int, user_id: int) -> None:
    after: dict[str, Any] = {"ID": comment_id, "TASK_ID": task_id}
    if COMMENT_EVENT_NEW_CARD:  # the comment is a task-chat message: no comment id, a message id
        after = {"ID": 0, "TASK_ID": task_id, "MESSAGE_ID": state.next_id("im.message", 1)}
    state.emit("ONTASKCOMMENTADD", {"FIELDS_BEFORE": "undefined",
                                    "FIELDS_AFTER": after,
                                    "IS_ACCESSIBLE_BEFORE": "undefined", "IS_ACCESSIBLE_AFTER": "undefined"},
               user_id)


# --- values ------------------------------------------------------------------------------------


def parse_moment(state: PortalState, value: Any, name: str) -> datetime | None:
    """A date/time input (ISO with or without offset, date only, ``dd.mm.yyyy[ hh:mm:ss]``) read in
    the portal's time zone; empty clears. Unparseable text is refused (message UNVERIFIED)."""
    if value is None or value == "":
        return None
    try:
        moment = parse_datetime(value)
    except (TypeError, ValueError):
        raise RestError("ERROR_CORE", f"Incorrect date value in field {name}<br>") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=state.tz)


def crm_binding_kept(state: PortalState, value: str) -> bool:
    """``T{hex ETID}_{id}`` sticks only when the smart process enables task bindings (§7.3);
    the fixed prefixes (``L_``, ``D_``, ``C_``, ``CO_``, ``O_``, ``SI_``) are kept as given."""
    prefix, _, item = value.partition("_")
    if not item.isdigit():
        return False
    if prefix in ("L", "D", "C", "CO", "O", "SI", "Q"):
        return True
    if not (prefix.startswith("T") and len(prefix) > 1):
        return False
    try:
        entity_type_id = int(prefix[1:], 16)
    except ValueError:
        return False
    from b24sandbox import crmstore  # written by SANDBOX-CRM; imported lazily on purpose

    return bool(crmstore.task_binding_enabled(state, entity_type_id))


def binding_code(entity_type_id: int, item_id: int) -> str:
    """The ``UF_CRM_TASK`` value for a smart-process item: ``T`` + lowercase hex ETID + ``_`` + id."""
    return f"T{entity_type_id:x}_{item_id}"


# --- writing fields ----------------------------------------------------------------------------

_FLAGS = ("ALLOW_CHANGE_DEADLINE", "TASK_CONTROL", "ALLOW_TIME_TRACKING", "MATCH_WORK_TIME")
_DATES = {"DEADLINE": "deadline", "START_DATE_PLAN": "start_date_plan", "END_DATE_PLAN": "end_date_plan"}


def core_error(text: str) -> RestError:
    return RestError("ERROR_CORE", f"{text}<br>")


def checked_user(state: PortalState, value: Any, missing: str, unknown: str) -> int:
    if value is None or str(value).strip() in ("", "0"):
        raise core_error(missing)
    try:
        user_id = int(str(value).strip())
    except ValueError:
        raise core_error(unknown) from None
    if user_id not in state.users:
        raise core_error(unknown)
    return user_id


def _ids(value: Any) -> list[int]:
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else [value]
    return [int(str(v)) for v in items if str(v).strip() not in ("", "0")]


def _strings(value: Any) -> list[str]:
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else [value]
    return [str(v) for v in items if v is not None and str(v) != ""]


def apply_fields(state: PortalState, task: Task, fields: dict[str, Any], user_id: int, creating: bool) -> None:
    """Validate and write UPPER_CASE ``fields`` onto ``task`` (errors as documented, §7.1)."""
    f = {str(k).upper(): v for k, v in fields.items()}
    if "TITLE" in f or creating:
        title = str(f.get("TITLE") or "").strip()
        if not title:
            raise core_error("Task title is not specified")
        task.title = title
    if "RESPONSIBLE_ID" in f or creating:
        task.responsible_id = checked_user(state, f.get("RESPONSIBLE_ID"), "Responsible person not specified",
                                       'User specified in the "Responsible" field not found')
    if "CREATED_BY" in f:
        task.created_by = checked_user(state, f["CREATED_BY"], "Creator not specified",
                                   'User specified in the "Created by" field not found')
    if "STATUS" in f:
        status = valid_status(f["STATUS"])
        if status is None:
            raise core_error("Incorrect status" if creating else "Invalid status")
        task.status = status
    if "PRIORITY" in f:
        task.priority = int(str(f["PRIORITY"]) or 1)
    if "DESCRIPTION" in f:
        task.description = str(f["DESCRIPTION"] or "")
    if "GROUP_ID" in f:
        task.group_id = int(str(f["GROUP_ID"] or 0))
    if "MARK" in f:
        task.flags["MARK"] = str(f["MARK"] or "")
    for name in _FLAGS:
        if name in f:
            task.flags[name] = "Y" if str(f[name]).upper() in ("Y", "TRUE", "1") else "N"
    for name, attr in _DATES.items():
        if name in f:
            setattr(task, attr, parse_moment(state, f[name], name))
    if task.start_date_plan and task.end_date_plan and task.end_date_plan < task.start_date_plan:
        raise core_error("The end date in scheduling is earlier than the start date")
    if "PARENT_ID" in f:
        _set_parent(state, task, f["PARENT_ID"], creating)
    if "ACCOMPLICES" in f:
        task.accomplices = _ids(f["ACCOMPLICES"])
    if "AUDITORS" in f:
        task.auditors = _ids(f["AUDITORS"])
    if "TAGS" in f:
        task.tags = _strings(f["TAGS"])
    if "SE_PARAMETER" in f and isinstance(f["SE_PARAMETER"], (list, dict)):
        items = f["SE_PARAMETER"].values() if isinstance(f["SE_PARAMETER"], dict) else f["SE_PARAMETER"]
        task.se_parameters = [dict(item) for item in items if isinstance(item, dict)]
    if "UF_CRM_TASK" in f:
        task.crm = [v for v in _strings(f["UF_CRM_TASK"]) if crm_binding_kept(state, v)]
    if "UF_TASK_WEBDAV_FILES" in f:
        task.files = _attachments(state, task, _strings(f["UF_TASK_WEBDAV_FILES"]))


def _set_parent(state: PortalState, task: Task, value: Any, creating: bool) -> None:
    text = str(value if value is not None else "").strip()
    if text in ("", "0"):
        task.parent_id = None
        return
    parent_id = int(text) if text.isdigit() else -1
    if not creating and parent_id == task.id:
        raise core_error("Cannot bind the node to itself")
    if parent_id not in store(state).tasks:
        raise core_error('Task specified in the "Parent Task" field not found')
    if not creating and is_descendant(state, parent_id, task.id):
        raise core_error("Creating cyclic links in tasks is prohibited")
    task.parent_id = parent_id


def _attachments(state: PortalState, task: Task, values: list[str]) -> list[int]:
    """``"n<diskId>"`` attaches a Drive file; a bare number keeps an existing attachment (§7.6)."""
    from b24sandbox import diskstore

    tasks = store(state)
    result: list[int] = []
    for value in values:
        if value.startswith("n") and value[1:].isdigit():
            if diskstore.get_file(state, int(value[1:])) is None:
                raise core_error("File not found")
            result.append(attach(state, int(value[1:])))
        elif value.isdigit() and int(value) in task.files and int(value) in tasks.attachments:
            result.append(int(value))
    return result


def attach(state: PortalState, disk_file_id: int) -> int:
    """Register a Drive file as a task attachment; returns the attachment id."""
    attachment_id = state.next_id("task.attachment", 1001)
    store(state).attachments[attachment_id] = disk_file_id
    return attachment_id
