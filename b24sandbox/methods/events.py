"""Event registration and the offline queue (REFERENCE §3.1, §3.6).

Bindings belong to the installed app (application context only; webhooks get 403 WRONG_AUTH_TYPE).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from typing import Any

from b24sandbox import oauth
from b24sandbox.events import Binding, OfflineRow, store
from b24sandbox.registry import Call, Page, RestError, method
from b24sandbox.switches import switches

KNOWN_EVENTS = (
    "ONAPPINSTALL", "ONAPPUNINSTALL", "ONAPPUPDATE", "ONAPPTEST", "ONOFFLINEEVENT",
    "ONCRMDYNAMICITEMADD", "ONCRMDYNAMICITEMUPDATE", "ONCRMDYNAMICITEMDELETE",
    "ONCRMTYPEADD", "ONCRMTYPEUPDATE", "ONCRMTYPEDELETE",
    "ONCRMTYPEUSERFIELDADD", "ONCRMTYPEUSERFIELDUPDATE", "ONCRMTYPEUSERFIELDDELETE",
    "ONCRMTYPEUSERFIELDSETENUMVALUES",
    "ONTASKADD", "ONTASKUPDATE", "ONTASKDELETE",
    "ONTASKCOMMENTADD", "ONTASKCOMMENTUPDATE", "ONTASKCOMMENTDELETE",
    "ONUSERADD", "ONIMNOTIFYCONFIRM",
)
_PER_TYPE = re.compile(r"^(ONCRMDYNAMICITEM(?:ADD|UPDATE|DELETE))_(\d+)$")
_DENIED_OFFLINE = "Access denied! Offline events binding requires administrator access rights"
_DENIED_AUTH_TYPE = "Access denied! Event binding with AUTH_TYPE requires administrator access rights"


def _app_id(call: Call) -> str:
    app = oauth.installed_app(call.state)
    if app is None or app.client_id != call.app_client_id:
        raise RestError("WRONG_AUTH_TYPE",
                        "Current authorization type is denied for this method Application context required", 403)
    return app.client_id


def _flag(value: Any) -> bool:
    return str(value if value is not None else "").strip().lower() in ("1", "y", "true", "offline")


def _event_name(call: Call) -> str:
    name = str(call.param("event") or "").strip().upper()
    match = _PER_TYPE.match(name)
    if name not in KNOWN_EVENTS and not (match and _type_exists(call, int(match.group(2)))):
        raise RestError("ERROR_EVENT_NOT_FOUND", "Event not found", 400)
    return name


def _type_exists(call: Call, entity_type_id: int) -> bool:
    """Per-type events exist for each smart process (and invoices, 31; REFERENCE §3.4)."""
    from b24sandbox import crmstore

    return entity_type_id == 31 or crmstore.type_by_etid(call.state, entity_type_id) is not None


@method("event.bind", scope=None, app_only=True)
def event_bind(call: Call) -> bool:
    client_id = _app_id(call)
    name = _event_name(call)
    offline = str(call.param("event_type") or "online").lower() == "offline"
    auth_type = int(call.param("auth_type") or 0)
    if offline and not call.is_admin:
        raise RestError("ACCESS_DENIED", _DENIED_OFFLINE, 403)
    if auth_type and auth_type != call.user_id and not call.is_admin:
        raise RestError("ACCESS_DENIED", _DENIED_AUTH_TYPE, 403)
    handler = "" if offline else str(call.param("handler") or "")
    if not offline and not handler:
        raise RestError("ERROR_ARGUMENT", "Argument 'handler' is null or empty", 400, argument="handler")
    events = store(call.state)
    for b in events.bindings:
        if (b.event, b.handler, b.auth_type, b.offline) == (name, handler, auth_type, offline):
            # UNVERIFIED (REFERENCE §13): the error code for a duplicate binding.
            raise RestError("ERROR_HANDLER_ALREADY_EXIST", "Handler already exists!", 400)
    options = call.param("options")
    events.bindings.append(Binding(
        call.state.next_id("event_binding"), name, handler, auth_type, offline, client_id,
        str(call.param("auth_connector") or ""), options if isinstance(options, dict) else {}))
    return True


@method("event.unbind", scope=None, app_only=True)
def event_unbind(call: Call) -> dict[str, int]:
    client_id = _app_id(call)
    name = str(call.param("event") or "").strip().upper()
    offline = str(call.param("event_type") or "online").lower() == "offline"
    if offline and not call.is_admin:
        raise RestError("ACCESS_DENIED", "Access denied! Offline events unbinding requires administrator access rights", 403)
    handler = "" if offline else str(call.param("handler") or "")
    auth_type = int(call.param("auth_type") or 0)
    events = store(call.state)
    keep = [b for b in events.bindings
            if not (b.client_id == client_id and b.event == name and b.offline == offline
                    and b.handler == handler and b.auth_type == auth_type)]
    count = len(events.bindings) - len(keep)
    events.bindings = keep
    return {"count": count}


@method("event.get", scope=None, app_only=True)
def event_get(call: Call) -> list[dict[str, Any]]:
    client_id = _app_id(call)
    return [
        {"event": b.event, "handler": b.handler, "auth_type": str(b.auth_type), "offline": 1 if b.offline else 0}
        for b in store(call.state).bindings if b.client_id == client_id
    ]


@method("events", scope=None)
def events_list(call: Call) -> list[str]:
    from b24sandbox import crmstore

    names = list(KNOWN_EVENTS)
    for etid in sorted(t.entity_type_id for t in crmstore.crm_store(call.state).types.values()):
        names.extend(f"ONCRMDYNAMICITEM{kind}_{etid}" for kind in ("ADD", "UPDATE", "DELETE"))
    return names


# --- offline queue ------------------------------------------------------------------------------


def _admin_only(call: Call) -> None:
    _app_id(call)
    if not call.is_admin:
        raise RestError("ACCESS_DENIED", "Access denied!", 403)


_OPS = re.compile(r"^(>=|<=|!=|=|>|<|!)?(.+)$")


def _matches(row: dict[str, Any], flt: Any) -> bool:
    if not isinstance(flt, dict):
        return True
    for raw, wanted in flt.items():
        match = _OPS.match(str(raw))
        assert match
        op, name = match.group(1) or "=", match.group(2).upper()
        have = row.get(name)
        if have is None:
            continue
        left, right = _comparable(have, wanted)
        ok = {"=": left == right, "!": left != right, "!=": left != right, ">": left > right,
              "<": left < right, ">=": left >= right, "<=": left <= right}[op]
        if not ok:
            return False
    return True


def _comparable(have: Any, wanted: Any) -> tuple[Any, Any]:
    if str(have).lstrip("-").isdigit() and str(wanted).lstrip("-").isdigit():
        return int(have), int(wanted)
    return str(have), str(wanted)


def _ordered(rows: list[OfflineRow], order: Any, default: str) -> list[OfflineRow]:
    spec = order if isinstance(order, dict) and order else {default: "ASC"}
    result = list(rows)
    for field_name, direction in reversed(list(spec.items())):
        key = str(field_name).upper().replace("TIMESTAMPX", "TIMESTAMP_X")
        result.sort(key=_sort_key(key), reverse=str(direction).upper() == "DESC")
    return result


def _sort_key(name: str) -> Callable[[OfflineRow], Any]:
    def key(row: OfflineRow) -> Any:
        value = row.public(True).get(name, "")
        return (0, int(value), "") if str(value).lstrip("-").isdigit() else (1, 0, str(value))

    return key


@method("event.offline.get", scope=None, app_only=True)
def offline_get(call: Call) -> dict[str, Any]:
    _admin_only(call)
    events = store(call.state)
    process_id = call.param("process_id")
    include_errors = _flag(call.param("error"))
    if process_id:
        rows = [r for r in events.offline if r.process_id == process_id]
    else:
        rows = [r for r in events.offline if not r.process_id and (include_errors or not r.error)]
    rows = [r for r in rows if _matches(r.public(True), call.param("filter"))]
    rows = _ordered(rows, call.param("order"), "TIMESTAMP_X")[: int(call.param("limit") or 50)]
    clear = call.param("clear")
    if clear is not None and not _flag(clear) and not switches(call.state).feature("rest_offline_extended"):
        if switches(call.state).offline_without_extended == "refuse":  # what the portal does is UNVERIFIED
            raise RestError("ERROR_FEATURE_NOT_AVAILABLE",
                            "Offline events processing confirmation is not available on this plan", 400)
        clear = None                                                    # "clear": clear=0 is ignored
    if clear is None or _flag(clear):
        chosen = {r.id for r in rows}
        events.offline = [r for r in events.offline if r.id not in chosen]
        return {"process_id": None, "events": [r.public() for r in rows]}
    process_id = process_id or secrets.token_hex(16)
    for row in rows:
        row.process_id = process_id
    return {"process_id": process_id, "events": [r.public() for r in rows]}


def _ids(value: Any) -> set[str]:
    if value is None:
        return set()
    values = value.values() if isinstance(value, dict) else value if isinstance(value, list) else [value]
    return {str(v) for v in values}


@method("event.offline.clear", scope=None, app_only=True)
def offline_clear(call: Call) -> bool:
    _admin_only(call)
    process_id = str(call.require("process_id"))
    ids, message_ids = _ids(call.param("id")), _ids(call.param("message_id"))
    events = store(call.state)

    def cleared(row: OfflineRow) -> bool:
        if row.process_id != process_id:
            return False
        if not ids and not message_ids:
            return True
        return str(row.id) in ids or row.message_id in message_ids

    events.offline = [r for r in events.offline if not cleared(r)]
    return True


@method("event.offline.error", scope=None, app_only=True)
def offline_error(call: Call) -> bool:
    _admin_only(call)
    process_id = str(call.require("process_id"))
    message_ids = _ids(call.param("message_id"))
    for row in store(call.state).offline:
        if row.process_id == process_id and (not message_ids or row.message_id in message_ids):
            row.error, row.process_id = True, ""
    return True


@method("event.offline.list", scope=None, app_only=True)
def offline_list(call: Call) -> Page:
    _admin_only(call)
    rows = [r for r in store(call.state).offline if _matches(r.public(True), call.param("filter"))]
    rows = _ordered(rows, call.param("order"), "ID")
    start = int(call.param("start") or 0)
    page = rows[start:start + 50]
    more = start + 50 < len(rows)
    return Page([r.public(True) for r in page], total=len(rows), next=start + 50 if more else None)
