"""Who acts: the initiator's department head, roles from ``config/roles.yaml``, substitutes.

The pure part (:func:`head_of`, :func:`substitute_for`, :func:`effective`) is used by the engine;
:func:`fetch_commands` / :func:`head_from_batch` are the I/O boundary the handlers use: the user and
the department tree are read inside the handler's one fetch ``batch`` (no extra request).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Person:
    """What the portal says of one person now: deactivated (dismissed), or away until ``absent_until``
    (the end of their absence in the portal's absence chart, ``im.user.get`` ``absent``)."""

    active: bool = True
    absent_until: str | None = None

    @property
    def available(self) -> bool:
        return self.active and not self.absent_until


@dataclass(frozen=True)
class Pick:
    """Who gets a step: ``user``; ``instead_of`` the person the route names when they cannot act
    (``why``: ``absent`` or ``dismissed``; ``until``: the end of the absence)."""

    user: int | None
    instead_of: int | None = None
    why: str = ""
    until: str | None = None


def available(people: Mapping[int, Person], user: int | None) -> bool:
    """Whether ``user`` can act; people the portal was not asked about count as available."""
    return user is not None and people.get(user, Person()).available


def heads_up(departments: Mapping[int, tuple[int | None, int | None]], department_ids: Iterable[int]) -> list[int]:
    """Every head on the way up from the first of ``department_ids`` that has one, nearest first."""
    chain: list[int] = []
    for start in department_ids:
        seen: set[int] = set()
        current: int | None = start
        while current is not None and current not in seen:
            seen.add(current)
            parent, head = departments.get(current, (None, None))
            if head and head not in chain:
                chain.append(head)
            current = parent
        if chain:
            return chain
    return chain


def pick_head(chain: list[int], people: Mapping[int, Person]) -> Pick:
    """The first head of ``chain`` who can act; a deactivated or absent head is skipped (next head up)."""
    first = chain[0] if chain else None
    for head in chain:
        if available(people, head):
            return Pick(head) if head == first else _instead(head, first, people)
    return Pick(None)


def pick_role(user: int | None, people: Mapping[int, Person], fallbacks: Iterable[int | None]) -> Pick:
    """A role's user, or the first available of ``fallbacks`` (the operations manager, then the director)."""
    if user is None or available(people, user):
        return Pick(user)
    for other in fallbacks:
        if other is not None and other != user and available(people, other):
            return _instead(other, user, people)
    return Pick(user)


def _instead(user: int, of: int | None, people: Mapping[int, Person]) -> Pick:
    state = people.get(of, Person()) if of is not None else Person()
    why = "dismissed" if not state.active else "absent"
    return Pick(user, of, why, state.absent_until if why == "absent" else None)


def people_from(rows: Any) -> dict[int, Person]:
    """``im.user.list.get`` / ``im.user.get`` answers (a list, an object keyed by id, or one row)."""
    if isinstance(rows, dict) and "id" in rows:
        rows = [rows]
    elif isinstance(rows, dict):
        rows = list(rows.values())
    found: dict[int, Person] = {}
    for row in rows if isinstance(rows, list) else []:
        if not isinstance(row, dict) or not str(row.get("id", "")).isdigit():
            continue
        absent = row.get("absent")
        active = row.get("active", True) not in (False, "N", "n", 0, "0")
        found[int(row["id"])] = Person(active, str(absent) if absent not in (None, False, "", "N") else None)
    return found


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
