"""Acting as a person on the sandbox portal: what a user does in the Bitrix24 UI.

``SandboxPortal.as_user(login)`` returns :class:`UserActions`. Every action runs the same REST
method function a real call would (through :func:`registry.invoke`, auth kind ``ui``), so it
changes the same data and fires the same events (``ONCRMDYNAMICITEMUPDATE``, ``ONTASKUPDATE``...).
Opening a widget posts the documented frame-open form (REFERENCE §2.4, §9) to the app's placement
handler with this user's fresh ``AUTH_ID``, as Bitrix24 does when the user opens the tab.
"""

from __future__ import annotations

import base64
import json
import secrets
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import requests

from b24sandbox import diskstore, registry
from b24sandbox.methods import im, placement
from b24sandbox.people import PersonInactive
from b24sandbox.state import PortalState, User

if TYPE_CHECKING:
    from b24sandbox.portal import SandboxPortal


class WidgetNotBound(LookupError):
    """The app has no handler bound for the placement the user tries to open."""


def widget_form(state: PortalState, code: str, user_id: int, options: dict[str, Any],
                secure: bool = True) -> tuple[str, list[tuple[str, str]]]:
    """The URL (handler + ``DOMAIN``/``PROTOCOL``/``LANG``/``APP_SID`` query) and the form body the
    portal posts when ``user_id`` opens placement ``code`` with ``options``."""
    from b24sandbox import oauth

    bindings = placement.handlers_for(state, code)
    app = oauth.installed_app(state)
    if not bindings or app is None:
        raise WidgetNotBound(f"no handler is bound for placement {code}")
    tokens = oauth.issue_user_tokens(state, user_id)
    query = urlencode({"DOMAIN": state.portal.domain, "PROTOCOL": "1" if secure else "0",
                       "LANG": state.portal.language, "APP_SID": secrets.token_hex(16)})
    handler = bindings[0].handler
    url = f"{handler}{'&' if '?' in handler else '?'}{query}"
    pairs = [
        ("AUTH_ID", tokens["access_token"]),
        ("AUTH_EXPIRES", str(tokens["expires_in"])),
        ("REFRESH_ID", tokens["refresh_token"]),
        ("SERVER_ENDPOINT", tokens["server_endpoint"]),
        ("APPLICATION_TOKEN", app.application_token),
        ("APPLICATION_SCOPE", ",".join(app.scopes)),
        ("member_id", state.portal.member_id),
        ("status", tokens["status"]),
        ("PLACEMENT", code.upper()),
        ("PLACEMENT_OPTIONS", json.dumps({k: str(v) for k, v in options.items()}, ensure_ascii=False)),
    ]
    return url, pairs


class UserActions:
    """UI-like actions of one person of the sandbox organisation."""

    def __init__(self, portal: SandboxPortal, user: User | str | int) -> None:
        self.portal = portal
        state = portal.state
        if isinstance(user, User):
            self.user = user
        elif isinstance(user, int):
            self.user = state.users[user]
        else:
            self.user = state.user_by_login(user)

    @property
    def state(self) -> PortalState:
        return self.portal.state

    def _invoke(self, method: str, params: dict[str, Any]) -> Any:
        if not self.user.active:
            raise PersonInactive(f"{self.user.login} is deactivated and cannot sign in to the portal")
        return registry.invoke(self.state, method, params, self.user.id, "ui")

    # --- CRM ----------------------------------------------------------------------------------

    def create_item(self, entity_type_id: int, fields: dict[str, Any]) -> dict[str, Any]:
        answer = self._invoke("crm.item.add", {"entityTypeId": entity_type_id, "fields": fields})
        return dict(answer["item"])

    def update_item(self, entity_type_id: int, item_id: int, fields: dict[str, Any]) -> dict[str, Any]:
        answer = self._invoke("crm.item.update", {"entityTypeId": entity_type_id, "id": item_id, "fields": fields})
        return dict(answer["item"])

    def move_item(self, entity_type_id: int, item_id: int, stage_id: str) -> dict[str, Any]:
        """Drag the card to another kanban column."""
        return self.update_item(entity_type_id, item_id, {"stageId": stage_id})

    def attach_file_to_item(self, entity_type_id: int, item_id: int, field: str, name: str,
                            content: bytes) -> dict[str, Any]:
        """Add a file to a file field, keeping the files already there (multiple fields)."""
        item = self._invoke("crm.item.get", {"entityTypeId": entity_type_id, "id": item_id})["item"]
        encoded = [name, base64.b64encode(content).decode("ascii")]
        current = item.get(field)
        value: Any = encoded
        if isinstance(current, list):
            value = [{"id": f["id"]} for f in current if isinstance(f, dict) and "id" in f] + [encoded]
        return self.update_item(entity_type_id, item_id, {field: value})

    # --- tasks --------------------------------------------------------------------------------

    def _task_action(self, method: str, task_id: int) -> dict[str, Any]:
        return dict(self._invoke(method, {"taskId": task_id})["task"])

    def start_task(self, task_id: int) -> dict[str, Any]:
        return self._task_action("tasks.task.start", task_id)

    def pause_task(self, task_id: int) -> dict[str, Any]:
        return self._task_action("tasks.task.pause", task_id)

    def complete_task(self, task_id: int) -> dict[str, Any]:
        return self._task_action("tasks.task.complete", task_id)

    def comment_task(self, task_id: int, text: str) -> int:
        return int(self._invoke("task.commentitem.add", {"TASKID": task_id, "FIELDS": {"POST_MESSAGE": text}}))

    def upload_file(self, name: str, content: bytes) -> int:
        """Put a file on this user's Drive (``disk.folder.uploadFile``); returns the Drive file id."""
        with self.state.lock:
            root = diskstore.user_storage(self.state, self.user.id).root_id
        uploaded = self._invoke("disk.folder.uploadFile", {
            "id": root, "data": {"NAME": name}, "generateUniqueName": True,
            "fileContent": [name, base64.b64encode(content).decode("ascii")]})
        return int(uploaded["ID"])

    def attach_file_to_task(self, task_id: int, name: str, content: bytes) -> int:
        """Upload to Drive, then attach to the task; returns the attachment id."""
        file_id = self.upload_file(name, content)
        return int(self._invoke("tasks.task.files.attach", {"taskId": task_id, "fileId": file_id})["attachmentId"])

    def tasks(self) -> list[dict[str, Any]]:
        """Tasks this user takes part in (creator, responsible, accomplice, auditor), newest first."""
        found: list[dict[str, Any]] = []
        start = 0
        while True:
            spec = registry.find("tasks.task.list")
            assert spec is not None
            with self.state.lock:
                page = spec.func(registry.Call(self.state, spec.name, {"filter": {"MEMBER": self.user.id},
                                                                        "start": start}, self.user.id, "ui"))
            found += page.result["tasks"]
            if page.next is None:
                return found
            start = page.next

    # --- notifications and widgets ----------------------------------------------------------

    def notifications(self) -> list[im.Notification]:
        with self.state.lock:
            return list(im.notifications_for(self.state, self.user.id))

    def messages(self) -> list[im.Message]:
        with self.state.lock:
            return list(im.messages_for(self.state, self.user.id))

    def open_widget(self, code: str, options: dict[str, Any]) -> requests.Response:
        """Open a widget (``CRM_DYNAMIC_1030_DETAIL_TAB`` with ``{"ID": "5"}``, ``TASK_VIEW_TAB`` with
        ``{"taskId": "7"}``): posts the frame-open form to the handler and returns the HTTP response
        (the page the app renders in the iframe), posted like ``portal.post_form`` posts."""
        with self.state.lock:
            url, pairs = widget_form(self.state, code, self.user.id, options, bool(getattr(self.portal, "tls", True)))
        return requests.post(url, data=pairs, timeout=float(getattr(self.portal, "delivery_timeout", 10.0)),
                             verify=getattr(self.portal, "ca_bundle", None) or True,
                             headers={"User-Agent": "Bitrix24 (sandbox)"})


class AutomationActions(UserActions):
    """What an automation rule or agent does with a person's rights: its events carry no tokens."""

    def _invoke(self, method: str, params: dict[str, Any]) -> Any:
        with self.portal.events.automation():
            return super()._invoke(method, params)
