"""Notifications and messages (scope ``im``, REFERENCE §8.3), kept per user for tests and the UI.

``im.notify`` (``TYPE`` ``USER`` by default, or ``SYSTEM``), ``im.notify.personal.add`` (from the
caller) and ``im.notify.system.add`` (no sender) answer the new notification id, or ``false`` when
no notification is created — for a user who does not exist or is inactive (§8.3 "→ notification id
(int) or false"). A ``TAG`` is unique per application: a notification with a tag removes the older
notifications with the same tag. Through a webhook the application is named by ``CLIENT_ID``, which
§8.3 requires with ``TAG``/``SUB_TAG``: strict mode reports its absence (``methods/checks_misc.py``).

Switch: ``TAG_ACROSS_USERS`` (True) — the replaced notifications are those of the same application
with that tag for any recipient, as the docs word it (“re-using a tag removes older notifications
with that tag”); set False to replace only the same recipient's ones (UNVERIFIED).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from b24sandbox.registry import Call, RestError, method
from b24sandbox.state import PortalState

TAG_ACROSS_USERS = True
ATTACH_LIMIT = 60_000


@dataclass
class Notification:
    id: int
    user_id: int
    from_user_id: int | None
    kind: str  # "USER" or "SYSTEM"
    message: str
    created: datetime
    message_out: str = ""
    tag: str = ""
    sub_tag: str = ""
    app: str = ""
    attach: Any = None


@dataclass
class Message:
    id: int
    dialog_id: str
    author_id: int
    message: str
    created: datetime
    system: bool = False
    attach: Any = None
    keyboard: Any = None


@dataclass
class ImStore:
    notifications: list[Notification] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)


def store(state: PortalState) -> ImStore:
    return state.area("im", ImStore)


def notifications_for(state: PortalState, user_id: int) -> list[Notification]:
    return [n for n in store(state).notifications if n.user_id == user_id]


def messages_for(state: PortalState, user_id: int) -> list[Message]:
    """Private messages addressed to this user (``DIALOG_ID`` = their id)."""
    return [m for m in store(state).messages if m.dialog_id == str(user_id)]


def _attach(call: Call) -> Any:
    attach = call.param("ATTACH")
    if attach is not None and len(json.dumps(attach, ensure_ascii=False)) > ATTACH_LIMIT:
        raise RestError("ATTACH_OVERSIZE", "You have exceeded the maximum allowable size of attach")
    return attach


def _notify(call: Call, kind: str, sender: int | None) -> int | bool:
    raw = call.param("USER_ID")
    try:
        user_id = int(str(raw).strip()) if raw not in (None, "") else 0
    except ValueError:
        user_id = 0
    if user_id <= 0:
        raise RestError("USER_ID_EMPTY", "User ID can't be empty")
    text = str(call.param("MESSAGE") or "").strip()
    attach = _attach(call)
    if not text and attach is None:
        raise RestError("MESSAGE_EMPTY", "Message can't be empty")
    state = call.state
    recipient = state.users.get(user_id)
    if recipient is None or not recipient.active:
        return False  # §8.3: "notification id (int) or false"
    app = call.app_client_id or str(call.param("CLIENT_ID") or "")
    tag = str(call.param("TAG") or "")
    if tag:
        im = store(state)
        im.notifications = [n for n in im.notifications
                            if not (n.tag == tag and n.app == app and (TAG_ACROSS_USERS or n.user_id == user_id))]
    note = Notification(
        id=state.next_id("im.notify", 1), user_id=user_id, from_user_id=sender, kind=kind, message=text,
        created=call.now, message_out=str(call.param("MESSAGE_OUT") or ""), tag=tag,
        sub_tag=str(call.param("SUB_TAG") or ""), app=app, attach=attach,
    )
    store(state).notifications.append(note)
    return note.id


@method("im.notify", scope="im")
def notify(call: Call) -> int | bool:
    kind = str(call.param("TYPE") or "USER").upper()
    if kind == "SYSTEM":
        return _notify(call, "SYSTEM", None)
    return _notify(call, "USER", call.user_id)


@method("im.notify.personal.add", scope="im")
def notify_personal(call: Call) -> int | bool:
    return _notify(call, "USER", call.user_id)


@method("im.notify.system.add", scope="im")
def notify_system(call: Call) -> int | bool:
    return _notify(call, "SYSTEM", None)


@method("im.message.add", scope="im")
def message_add(call: Call) -> int:
    dialog = str(call.param("DIALOG_ID") or "").strip()
    text = str(call.param("MESSAGE") or "").strip()
    attach = _attach(call)
    if not text and attach is None:
        raise RestError("MESSAGE_EMPTY", "Message can't be empty")
    if not (dialog.startswith(("chat", "sg")) and dialog.lstrip("chatsg").isdigit()):
        if not dialog.isdigit() or int(dialog) <= 0:
            raise RestError("USER_ID_EMPTY", "User ID can't be empty")
        if int(dialog) not in call.state.users:
            raise RestError("USER_NOT_FOUND", "User not found")
    message = Message(
        id=call.state.next_id("im.message", 1), dialog_id=dialog, author_id=call.user_id, message=text,
        created=call.now, system=str(call.param("SYSTEM") or "N").upper() == "Y", attach=attach,
        keyboard=call.param("KEYBOARD"),
    )
    store(call.state).messages.append(message)
    return message.id
