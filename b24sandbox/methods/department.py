"""``department.get``, ``department.add``, ``department.fields`` (scope ``department``, §8.2).

Rows: ``{"ID": "15", "NAME": "R&D", "SORT": 500, "PARENT": "1"}`` plus ``UF_HEAD`` when the
department has a head. The root department has no ``PARENT`` key. Filters ``ID``, ``NAME`` (exact),
``SORT``, ``PARENT``, ``UF_HEAD`` are top-level UPPER_CASE parameters; the lower-case ``sort``/``order``
are the sort parameters (§8.2) — names are read in their exact case, so ``sort=ID`` sorts and
``SORT=500`` filters. Pages of 50 rows with ``start`` (§1.4) or the documented ``START``.

Switch: ``UF_HEAD_AS_STRING`` (True) — the docs' example row does not show ``UF_HEAD``; the sandbox
answers it as a string id like the other ids (UNVERIFIED, §13). Set False for an int.
"""

from __future__ import annotations

from typing import Any

from b24sandbox.registry import Call, Page, RestError, method
from b24sandbox.state import Department, PortalState

UF_HEAD_AS_STRING = True
PAGE_SIZE = 50
_FIELDS = {"ID": "ID", "NAME": "Название подразделения", "SORT": "Сортировка", "PARENT": "Родительское подразделение",
           "UF_HEAD": "Руководитель"}


def department_row(dep: Department) -> dict[str, Any]:
    row: dict[str, Any] = {"ID": str(dep.id), "NAME": dep.name, "SORT": dep.sort}
    if dep.parent is not None:
        row["PARENT"] = str(dep.parent)
    if dep.head is not None:
        row["UF_HEAD"] = str(dep.head) if UF_HEAD_AS_STRING else dep.head
    return row


def _matches(dep: Department, call: Call) -> bool:
    checks = {"ID": dep.id, "NAME": dep.name, "SORT": dep.sort, "PARENT": dep.parent, "UF_HEAD": dep.head}
    for name, actual in checks.items():
        wanted = call.params.get(name)  # exact case: lower-case sort/order are the sort parameters
        if wanted is None or wanted == "":
            continue
        if str(actual if actual is not None else "") != str(wanted).strip():
            return False
    return True


def _sort_key(dep: Department, field: str) -> Any:
    if field == "NAME":
        return dep.name.lower()
    if field == "SORT":
        return dep.sort
    if field == "PARENT":
        return dep.parent or 0
    return dep.id


@method("department.get", scope="department")
def department_get(call: Call) -> Page:
    field = str(call.params.get("sort") or "ID").upper()
    descending = str(call.params.get("order") or "ASC").upper() == "DESC"
    found = sorted((d for d in call.state.departments.values() if _matches(d, call)),
                   key=lambda d: _sort_key(d, field), reverse=descending)
    try:
        start = max(int(str(call.params.get("start", call.params.get("START")) or 0)), 0)
    except ValueError:
        start = 0
    following = start + PAGE_SIZE
    rows = [department_row(d) for d in found[start:following]]
    return Page(rows, total=len(found), next=following if following < len(found) else None)


@method("department.fields", scope="department")
def department_fields(call: Call) -> dict[str, str]:
    return dict(_FIELDS)


def _int(value: Any) -> int | None:
    try:
        return int(str(value).strip()) if value not in (None, "") else None
    except ValueError:
        return None


@method("department.add", scope="department")
def department_add(call: Call) -> int:
    state: PortalState = call.state
    if not call.is_admin:
        raise RestError("ERROR_CORE", "Access denied")
    name = str(call.param("NAME") or "").strip()
    if not name:
        raise RestError("ERROR_CORE", "Department name not provided.<br>")
    parent = _int(call.param("PARENT"))
    if parent is None or parent not in state.departments:
        raise RestError("ERROR_CORE", "There can only be one top-level department in the company structure")
    head = _int(call.param("UF_HEAD"))
    if head is not None and head not in state.users:
        head = None
    dep_id = max(state.departments) + 1 if state.departments else 1
    state.departments[dep_id] = Department(dep_id, name, parent, head, _int(call.param("SORT")) or 500)
    return dep_id
