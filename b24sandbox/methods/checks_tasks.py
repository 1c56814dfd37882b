"""Strict-mode checks of the keys inside ``tasks.task.*`` parameters (see ``b24sandbox.deepcheck``).

* ``tasks.task.add``/``update`` ``fields``: UPPER_CASE names of the documented task fields — the
  ``tasks.task.getFields`` example (read from ``examples/`` at run time) plus the input-only fields of
  REFERENCE §7.1 (``TAGS``, ``SE_PARAMETER``, ``UF_CRM_TASK``, ``UF_TASK_WEBDAV_FILES``...). A
  lower-case ``title`` is reported naming ``TITLE``.
* ``tasks.task.list``: ``filter`` keys (after the prefix operator) from the §7.4 list (``::``-keys such
  as ``::SUBFILTER-PARAMS`` pass), ``order`` keys from §7.4 (its "..." completed with the sandbox's
  sortable fields), ``select`` names from getFields plus the documented extras (``subStatus``,
  ``TAGS``, ``COUNTERS``, ``CHAT_ID``, ``UF_*``, ``*``); select names are compared case-insensitively.
"""

from __future__ import annotations

from functools import cache

from b24sandbox import taskfields
from b24sandbox.deepcheck import deep_check, filter_fields, keys_of, names_of, unknown_key
from b24sandbox.registry import Call
from b24sandbox.shared import load_example
from b24sandbox.strict import Violation

INPUT_FIELDS = frozenset({
    "TITLE", "RESPONSIBLE_ID", "DESCRIPTION", "CREATED_BY", "DEADLINE", "START_DATE_PLAN", "END_DATE_PLAN",
    "PARENT_ID", "GROUP_ID", "PRIORITY", "ACCOMPLICES", "AUDITORS", "ALLOW_CHANGE_DEADLINE", "TASK_CONTROL",
    "ALLOW_TIME_TRACKING", "MATCH_WORK_TIME", "TAGS", "STATUS", "UF_CRM_TASK", "UF_TASK_WEBDAV_FILES",
    "SE_PARAMETER",
})  # fmt: skip  (REFERENCE §7.1 "Input fields")
FILTER_KEYS = frozenset({
    "ID", "PARENT_ID", "GROUP_ID", "CREATED_BY", "STATUS_CHANGED_BY", "PRIORITY", "FORUM_TOPIC_ID",
    "RESPONSIBLE_ID", "TITLE", "TAG", "REAL_STATUS", "STATUS", "MARK", "SITE_ID", "ADD_IN_REPORT", "DATE_START",
    "DEADLINE", "CREATED_DATE", "CLOSED_DATE", "CHANGED_DATE", "ACCOMPLICE", "AUDITOR", "DEPENDS_ON",
    "ONLY_ROOT_TASKS", "STAGE_ID", "SPRINT_ID", "BACKLOG_ID", "UF_CRM_TASK",
})  # fmt: skip  (REFERENCE §7.4)
ORDER_KEYS = frozenset({
    "ID", "TITLE", "DEADLINE", "CREATED_DATE", "CHANGED_DATE", "CLOSED_DATE", "REAL_STATUS", "PRIORITY",
    "STATUS", "RESPONSIBLE_ID", "CREATED_BY", "GROUP_ID", "DATE_START", "PARENT_ID",
})  # fmt: skip  (REFERENCE §7.4, "..." = methods/tasks.py's sortable keys)
SELECT_EXTRA = frozenset({"*", "UF_*", "SUBSTATUS", "SUB_STATUS", "TAGS", "COUNTERS", "CHAT_ID"})


@cache
def documented_fields() -> frozenset[str]:
    """Field names of the ``tasks.task.getFields`` example (``{"fields": {"TITLE": {...}, ...}}``)."""
    example = load_example("tasks.task.getFields")
    return frozenset(example["response"]["bodies"][0]["result"]["fields"])


@deep_check("tasks.task.add", "tasks.task.update")
def task_fields(call: Call) -> list[Violation]:
    known = documented_fields() | INPUT_FIELDS | taskfields.names(call.state)
    return [unknown_key(call, "fields", key, known, "not a task field (tasks.task.getFields, REFERENCE §7.1)")
            for key in keys_of(call.params.get("fields")) if key not in known]


@deep_check("tasks.task.list")
def task_list(call: Call) -> list[Violation]:
    problems = [unknown_key(call, "filter", key, FILTER_KEYS, "not a tasks.task.list filter key (REFERENCE §7.4)")
                for key, name in filter_fields(call.params.get("filter"))
                if name not in FILTER_KEYS and not key.startswith("::")]
    problems += [unknown_key(call, "order", key, ORDER_KEYS, "not a tasks.task.list sort key (REFERENCE §7.4)")
                 for key in keys_of(call.params.get("order")) if key not in ORDER_KEYS]
    selectable = {n.upper() for n in documented_fields()} | SELECT_EXTRA
    problems += [unknown_key(call, "select", name, sorted(documented_fields()), "not a task field (REFERENCE §7.1)")
                 for name in names_of(call.params.get("select")) if name.upper() not in selectable]
    return problems


@deep_check("tasks.task.get")
def task_get(call: Call) -> list[Violation]:
    selectable = {n.upper() for n in documented_fields()} | SELECT_EXTRA
    return [unknown_key(call, "select", name, sorted(documented_fields()), "not a task field (REFERENCE §7.1)")
            for name in names_of(call.params.get("select")) if name.upper() not in selectable]
