"""Widgets: ``placement.bind/unbind/get/list`` (scope ``placement``, REFERENCE §9).

Application context and an administrator only (a webhook gets 403 ``WRONG_AUTH_TYPE``, a non-admin
403 ``ACCESS_DENIED``). Codes: the smart-process ones ``CRM_DYNAMIC_{ETID}_*`` and the task ones
(``TASK_VIEW_TAB``...), each needing its scope (``crm``/``task``) in the app's scopes; an unknown
code or a missing scope is ``ERROR_PLACEMENT_NOT_FOUND`` — and so is ``CRM_DYNAMIC_{N}_*`` when no
smart process has ``entityTypeId`` N: the portal only offers codes of existing types (§9 "replace XXX
with ETID", ``placement.list``). ``ERROR_ARGUMENT`` carries an ``argument``
key naming the parameter.

Switches (UNVERIFIED): ``BIND_ERROR_STATUS`` (200) — the docs' error table for ``placement.bind``
lists HTTP 200 for its argument/placement errors, while ``placement.unbind`` documents 400;
``REBIND_REPLACES`` (True) — binding the same placement and handler again updates the binding
instead of failing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from b24sandbox.registry import Call, RestError, method
from b24sandbox.state import PortalState

BIND_ERROR_STATUS = 200
REBIND_REPLACES = True

SPA_SUFFIXES = ("DETAIL_TAB", "DETAIL_ACTIVITY", "DETAIL_TOOLBAR", "DOCUMENTGENERATOR_BUTTON", "LIST_MENU",
                "LIST_TOOLBAR", "ACTIVITY_TIMELINE_MENU", "ROBOT_DESIGNER_TOOLBAR")
TASK_CODES = ("TASK_VIEW_TAB", "TASK_VIEW_SIDEBAR", "TASK_VIEW_TOP_PANEL", "TASK_LIST_CONTEXT_MENU",
              "TASK_USER_LIST_TOOLBAR", "TASK_GROUP_LIST_TOOLBAR", "TASK_ROBOT_DESIGNER_TOOLBAR")
_SPA = re.compile(r"^CRM_DYNAMIC_(\d+)_(" + "|".join(SPA_SUFFIXES) + r")$")


@dataclass
class Binding:
    placement: str
    handler: str
    app: str
    user_id: int = 0
    title: str = ""
    description: str = ""
    group_name: str = ""
    options: Any = field(default_factory=list)
    lang_all: dict[str, Any] = field(default_factory=dict)


@dataclass
class PlacementStore:
    bindings: list[Binding] = field(default_factory=list)


def store(state: PortalState) -> PlacementStore:
    return state.area("placement", PlacementStore)


def handlers_for(state: PortalState, placement: str) -> list[Binding]:
    """Bindings of a placement code (what the portal would render), oldest first."""
    return [b for b in store(state).bindings if b.placement == placement.upper()]


def scope_of(placement: str) -> str | None:
    """The scope a placement code needs, or ``None`` for an unknown code."""
    if _SPA.match(placement):
        return "crm"
    if placement in TASK_CODES:
        return "task"
    return None


def _app_context(call: Call) -> None:
    if call.auth_kind == "webhook":
        raise RestError("WRONG_AUTH_TYPE", "Current authorization type is denied for this method Application "
                        "context required", 403)
    if not call.is_admin:
        raise RestError("ACCESS_DENIED", "Access denied!", 403)


def _code(call: Call, status: int) -> str:
    value = call.param("PLACEMENT")
    if value is None or value == "":
        raise RestError("ERROR_ARGUMENT", "Argument 'PLACEMENT' is null or empty", status, argument="PLACEMENT")
    if not isinstance(value, str):
        raise RestError("ERROR_ARGUMENT", "The value of an argument 'PLACEMENT' must be of type string", status,
                        argument="PLACEMENT")
    return value.strip().upper()


def _spa_types(state: PortalState) -> list[int]:
    from b24sandbox import crmstore

    return sorted(t.entity_type_id for t in crmstore.crm_store(state).types.values())


def _spa_exists(state: PortalState, code: str) -> bool:
    """A smart-process code names an existing entityTypeId (§9); other codes pass."""
    found = _SPA.match(code)
    return found is None or int(found.group(1)) in _spa_types(state)


@method("placement.bind", scope="placement", app_only=True)
def placement_bind(call: Call) -> bool:
    _app_context(call)
    code = _code(call, BIND_ERROR_STATUS)
    handler = str(call.param("HANDLER") or "").strip()
    if not handler:
        raise RestError("ERROR_ARGUMENT", "Argument 'HANDLER' is null or empty", BIND_ERROR_STATUS, argument="HANDLER")
    needed = scope_of(code)
    if needed is None or (call.scopes and needed not in call.scopes) or not _spa_exists(call.state, code):
        raise RestError("ERROR_PLACEMENT_NOT_FOUND", "Placement not found", BIND_ERROR_STATUS)
    app = call.app_client_id or ""
    user_id = int(str(call.param("USER_ID") or 0))
    existing = [b for b in store(call.state).bindings
                if b.placement == code and b.handler == handler and b.app == app and b.user_id == user_id]
    if existing and not REBIND_REPLACES:
        raise RestError("ERROR_PLACEMENT_HANDLER_ALREADY_BOUND", "Handler already binded", BIND_ERROR_STATUS)
    for old in existing:
        store(call.state).bindings.remove(old)
    lang_all = call.param("LANG_ALL")
    store(call.state).bindings.append(Binding(
        placement=code, handler=handler, app=app, user_id=user_id, title=str(call.param("TITLE") or ""),
        description=str(call.param("DESCRIPTION") or ""), group_name=str(call.param("GROUP_NAME") or ""),
        options=call.param("OPTIONS") or [], lang_all=lang_all if isinstance(lang_all, dict) else {},
    ))
    return True


@method("placement.unbind", scope="placement", app_only=True)
def placement_unbind(call: Call) -> dict[str, int]:
    _app_context(call)
    code = _code(call, 400)
    handler = str(call.param("HANDLER") or "").strip()
    user_id = call.param("USER_ID")
    app = call.app_client_id or ""
    keep: list[Binding] = []
    removed = 0
    for b in store(call.state).bindings:
        hit = b.placement == code and b.app == app and (not handler or b.handler == handler)
        hit = hit and (user_id in (None, "") or b.user_id == int(str(user_id)))
        removed += hit
        if not hit:
            keep.append(b)
    store(call.state).bindings = keep
    return {"count": removed}


@method("placement.get", scope="placement", app_only=True)
def placement_get(call: Call) -> list[dict[str, Any]]:
    _app_context(call)
    app = call.app_client_id or ""
    return [
        {"placement": b.placement, "userId": b.user_id, "handler": b.handler, "options": b.options or [],
         "title": b.title, "description": b.description,
         "langAll": b.lang_all or {call.state.portal.language: {"TITLE": b.title, "DESCRIPTION": b.description,
                                                                 "GROUP_NAME": b.group_name}}}
        for b in store(call.state).bindings if b.app == app
    ]


@method("placement.list", scope="placement", app_only=True)
def placement_list(call: Call) -> list[str]:
    _app_context(call)
    wanted = str(call.param("SCOPE") or "").lower()
    full = call.param("FULL") not in (None, "", False, "N", "n", "0")
    codes: list[str] = []
    if not wanted or wanted == "crm" or full:
        codes += [f"CRM_DYNAMIC_{etid}_{suffix}" for suffix in SPA_SUFFIXES for etid in _spa_types(call.state)]
    if not wanted or wanted == "task" or full:
        codes += list(TASK_CODES)
    if call.scopes and not full:
        codes = [c for c in codes if scope_of(c) in call.scopes]
    return codes
