"""``im.user.get`` and ``im.user.list.get`` (scope ``im``; docs/api-reference_chats_users_im-user-*.md).

Rows have the documented key set; ``absent`` is the end of the person's current absence in the absence
chart (``b24sandbox.people``) as an ISO datetime, else ``false``. ``im.user.get`` without ``ID`` answers
the caller; ``ID <= 0`` → 400 ``ID_EMPTY``; an unknown id → 400 ``USER_NOT_EXISTS``.
``im.user.list.get`` takes ``ID`` as an array or a JSON string of one (missing or bad → 400
``INVALID_FORMAT``); ``RESULT_TYPE=array`` answers a list, anything else an object keyed by user id.
Unknown ids are left out (UNVERIFIED). Deactivated people are returned with ``active: false``.
"""

from __future__ import annotations

import json
from typing import Any

from b24sandbox.people import absent_until
from b24sandbox.registry import Call, RestError, method
from b24sandbox.state import PortalState, User

_COLORS = ("#048bd0", "#df532d", "#1eb4aa", "#f76187", "#728f7a", "#ba9c7b")


def im_user(state: PortalState, user: User) -> dict[str, Any]:
    absent = absent_until(state, user.id)
    avatar = f"https://{state.portal.domain}/upload/main/avatar{user.id}.png"
    return {
        "id": user.id, "active": user.active, "name": user.full_name, "first_name": user.name,
        "last_name": user.last_name, "work_position": user.position, "color": _COLORS[user.id % len(_COLORS)],
        "avatar": avatar, "avatar_hr": avatar, "gender": "", "birthday": "", "extranet": False, "network": False,
        "bot": False, "connector": False, "external_auth_id": "default", "status": "online", "idle": False,
        "last_activity_date": state.iso(), "mobile_last_date": False, "desktop_last_date": False,
        "absent": state.iso(absent) if absent is not None else False, "departments": list(user.departments),
        "phones": False, "website": "", "email": user.email, "bot_data": None, "type": "user",
    }


@method("im.user.get", scope="im")
def im_user_get(call: Call) -> dict[str, Any]:
    raw = call.param("ID")
    if raw in (None, ""):
        return im_user(call.state, call.user)
    try:
        user_id = int(str(raw))
    except ValueError:
        user_id = 0
    if user_id <= 0:
        raise RestError("ID_EMPTY", "User ID can't be empty", 400)
    user = call.state.users.get(user_id)
    if user is None:
        raise RestError("USER_NOT_EXISTS", "User does not exist", 400)
    return im_user(call.state, user)


@method("im.user.list.get", scope="im")
def im_user_list_get(call: Call) -> Any:
    ids = _ids(call.param("ID"))
    if ids is None:
        raise RestError("INVALID_FORMAT", "A wrong format for the ID field is passed", 400)
    rows = [im_user(call.state, call.state.users[i]) for i in ids if i in call.state.users]
    if str(call.param("RESULT_TYPE") or "") == "array":
        return rows
    return {str(row["id"]): row for row in rows}


def _ids(value: Any) -> list[int] | None:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    if isinstance(value, dict):
        value = list(value.values())
    if not isinstance(value, list) or not value:
        return None
    try:
        return [int(str(v)) for v in value]
    except ValueError:
        return None
