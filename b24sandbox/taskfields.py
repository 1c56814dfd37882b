"""Custom task fields (``UF_*`` of tasks), some of them required by the portal's settings.

``tasks.task.getFields`` answers the documented example plus the custom fields added here, a required
one with ``"required": true`` (the documented descriptor key). ``tasks.task.add`` without a value for a
required custom field fails: 400 ``ERROR_CORE`` with a description naming the field (the exact text is
UNVERIFIED; it follows the sandbox's other task core errors). Values of custom fields are accepted and
not stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from b24sandbox.registry import RestError
from b24sandbox.state import PortalState


@dataclass(frozen=True)
class TaskField:
    name: str
    title: str
    type: str = "string"
    required: bool = False


@dataclass
class TaskFieldStore:
    custom: dict[str, TaskField] = field(default_factory=dict)


def store(state: PortalState) -> TaskFieldStore:
    return state.area("task_fields", TaskFieldStore)


def add_field(state: PortalState, name: str, title: str, type: str = "string", required: bool = False) -> TaskField:
    """A custom task field ``UF_...`` (what an administrator adds in the task form settings)."""
    if not name.startswith("UF_"):
        raise ValueError("custom task fields are named UF_...")
    added = store(state).custom[name] = TaskField(name, title, type, required)
    return added


def described(state: PortalState, documented: dict[str, Any]) -> dict[str, Any]:
    """The ``tasks.task.getFields`` result: the documented fields plus the custom ones."""
    fields = dict(documented.get("fields") or {})
    for custom in store(state).custom.values():
        fields[custom.name] = {"title": custom.title, "type": custom.type, **({"required": True} if custom.required else {})}
    return {**documented, "fields": fields}


def names(state: PortalState) -> frozenset[str]:
    return frozenset(store(state).custom)


def check_required(state: PortalState, fields: dict[str, Any]) -> None:
    given = {str(k).upper(): v for k, v in fields.items()}
    for custom in store(state).custom.values():
        if custom.required and given.get(custom.name) in (None, "", [], {}):
            raise RestError("ERROR_CORE", f'The field "{custom.title}" is required<br>', 400)
