"""Who acts: the initiator's department head, roles from ``config/roles.yaml``, substitutes.

The pure part (:func:`head_of`, :func:`substitute_for`, :func:`effective`) is used by the engine;
:func:`fetch_commands` / :func:`head_from_batch` are the I/O boundary the handlers use: the user and
the department tree are read inside the handler's one fetch ``batch`` (no extra request).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from b24app.workflow.models import Absence

#: The operations manager may act for anyone (issue 5, item 3); their decisions are "on behalf of".
OPERATIONS_MANAGER = "operations_manager"


def head_of(departments: Mapping[int, tuple[int | None, int | None]], department_ids: Iterable[int]) -> int | None:
    """The head of the first of ``department_ids`` that has one, walking up ``PARENT``.

    ``departments`` maps a department id to ``(parent id, head id)``.
    """
    for start in department_ids:
        seen: set[int] = set()
        current: int | None = start
        while current is not None and current not in seen:
            seen.add(current)
            parent, head = departments.get(current, (None, None))
            if head:
                return head
            current = parent
    return None


def first_unknown(departments: Mapping[int, tuple[int | None, int | None]],
                  department_ids: Iterable[int]) -> int | None:
    """A department the walk of :func:`head_of` needs but ``departments`` lacks (more than one page)."""
    for start in department_ids:
        current: int | None = start
        seen: set[int] = set()
        while current is not None and current not in seen:
            if current not in departments:
                return current
            seen.add(current)
            parent, head = departments[current]
            if head:
                return None
            current = parent
    return None


def substitute_for(user_id: int, absences: Iterable[Absence], day: date) -> int | None:
    """Who stands in for ``user_id`` on ``day`` (absences are inclusive date ranges), if anyone."""
    text = day.isoformat()
    for absence in absences:
        if absence.user_id == user_id and absence.start <= text <= absence.end:
            return absence.substitute_id
    return None


def effective(user_id: int, absences: Iterable[Absence], moment: datetime) -> int:
    """The person who gets the work of ``user_id`` at ``moment`` (the substitute during an absence)."""
    return substitute_for(user_id, absences, moment.date()) or user_id


# -- the REST boundary ------------------------------------------------------------------------------

def fetch_commands(item_ref: str) -> dict[str, tuple[str, dict[str, Any]]]:
    """Batch commands reading the initiator (by reference to the item command) and the departments."""
    return {
        "initiator": ("user.get", {"ID": f"$result[{item_ref}][item][createdBy]"}),
        "departments": ("department.get", {}),
    }


def departments_from(rows: Any) -> dict[int, tuple[int | None, int | None]]:
    table: dict[int, tuple[int | None, int | None]] = {}
    for row in rows if isinstance(rows, list) else []:
        parent = row.get("PARENT")
        head = row.get("UF_HEAD")
        table[int(row["ID"])] = (int(parent) if parent not in (None, "", "0", 0) else None,
                                 int(head) if head not in (None, "", "0", 0, False) else None)
    return table


def user_departments(rows: Any) -> list[int]:
    user = rows[0] if isinstance(rows, list) and rows else {}
    raw = user.get("UF_DEPARTMENT") if isinstance(user, dict) else None
    return [int(d) for d in raw] if isinstance(raw, list) else []


def user_names(rows: Any) -> dict[int, str]:
    names: dict[int, str] = {}
    for row in rows if isinstance(rows, list) else []:
        full = " ".join(p for p in (row.get("NAME"), row.get("LAST_NAME")) if p)
        names[int(row["ID"])] = full or f"#{row['ID']}"
    return names
