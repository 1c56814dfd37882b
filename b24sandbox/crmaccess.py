"""Per-person read rights on smart-process items (``portal.crm_access``).

What the docs say (``spec/methods/crm.item.get.json``, ``crm.item.list.json``: "any user with the
«read» right on CRM object items"; REFERENCE §6.1: 400 ``ACCESS_DENIED``; §4.3: lists are "filtered by
user's read rights"): ``crm.item.get`` of an item the caller may not read answers 400 ``ACCESS_DENIED``
"Access denied", and ``crm.item.list`` leaves such items out (``total`` counts only what is left).

UNVERIFIED, chosen here: how a portal grants the right (Bitrix24's CRM roles are not in the docs) —
the sandbox keeps one read level per (person, smart process): ``all`` (the default: everyone reads
everything, as before), ``own`` (only items the person is responsible for, ``assignedById``, or
created, ``createdBy``) or ``none``; a portal administrator reads everything. That ``crm.item.list``
leaves items out rather than failing, and the ``ACCESS_DENIED`` text, are UNVERIFIED too. Writes are
not restricted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from b24sandbox.state import PortalState

LEVELS = ("all", "own", "none")


@dataclass
class AccessStore:
    read: dict[tuple[int, int], str] = field(default_factory=dict)    # (user id, entity type id) -> level


def store(state: PortalState) -> AccessStore:
    return state.area("crm_access", AccessStore)


def can_read(state: PortalState, user_id: int, entity_type_id: int, values: dict[str, Any]) -> bool:
    """Whether the person may read the item with these stored values."""
    if state.is_admin(user_id):
        return True
    level = store(state).read.get((user_id, entity_type_id), "all")
    if level == "own":
        return user_id in (values.get("assignedById"), values.get("createdBy"))
    return level == "all"


class CrmAccess:
    """``portal.crm_access``: what a portal administrator sets in the CRM's access rights."""

    def __init__(self, state: PortalState) -> None:
        self.state = state

    def set_read(self, login: str, entity_type_id: int, level: str) -> None:
        """The person's read level on one smart process: ``all``, ``own`` or ``none``."""
        if level not in LEVELS:
            raise ValueError(f"read level must be one of {LEVELS}, not {level!r}")
        with self.state.lock:
            user = self.state.user_by_login(login)
            store(self.state).read[(user.id, entity_type_id)] = level
