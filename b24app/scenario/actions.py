"""Perform a scenario's :class:`Action` as the person named in ``as:``.

``via: card`` opens the approval tab over HTTP and presses its button (:mod:`b24app.scenario.widget`);
``via: task`` and ``via: kanban`` do what the Bitrix24 UI does (``b24sandbox.actions.UserActions``:
the same REST method functions, so the portal fires the same events); ``via: telegram`` and
``link_telegram`` go through the fake Bot API and the app's webhook (:mod:`b24app.scenario.telegram`).
Each returns :class:`Done`: whether the action was refused, and what the person was shown.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from b24app.scenario import model as m
from b24app.scenario import widget
from b24app.scenario.view import PortalView, TaskRow
from b24app.workflow.models import FieldType
from b24sandbox import registry
from b24sandbox.actions import UserActions
from b24sandbox.people import PersonInactive
from b24sandbox.ufnames import to_camel

if TYPE_CHECKING:
    from b24app.scenario.telegram import TelegramPeople

DEMO_FILE = b"%PDF-1.4\n% b24app scenario file\n"


def file_content(name: str) -> bytes:
    """A scenario file's content: the same name, the same bytes (so ``INVOICE: invoice-7.pdf`` twice is
    the same invoice file to the duplicate check); another name, other bytes."""
    return DEMO_FILE + f"% {name}\n".encode()


@dataclass(frozen=True)
class Done:
    refused: bool
    text: str
    item_id: int | None = None
    error: str = ""            # a defect regardless of what the scenario expects


class ScenarioError(Exception):
    """The step cannot be carried out as written (no such task, no request yet...)."""


class Performer:
    def __init__(self, view: PortalView, settle: Callable[[], Any], telegram: TelegramPeople | None = None) -> None:
        self.view = view
        self.portal = view.portal
        self.settle = settle
        self.telegram = telegram

    def perform(self, action: m.Action, item_id: int | None) -> Done:
        if action.kind == "create":
            return self.create(action)
        if action.kind == "link_telegram":
            return self._telegram().link(action, item_id)
        if item_id is None:
            raise ScenarioError("no request yet: the scenario needs a 'create' step first")
        if action.kind in m.DECISIONS and action.via == "telegram":
            return self._telegram().decide(action, item_id)
        if action.kind in m.DECISIONS:
            return self.task(action, item_id) if action.via == "task" else self.card(action, item_id)
        handler: Callable[[m.Action, int], Done] = getattr(self, action.kind)
        return handler(action, item_id)

    def _telegram(self) -> TelegramPeople:
        if self.telegram is None:
            raise ScenarioError("Telegram is not running in this stack (the runner starts it for scenarios that "
                                "use link_telegram, via: telegram or expect: telegram)")
        return self.telegram

    def _user(self, login: str) -> UserActions:
        return UserActions(self.portal, login)

    # --- create --------------------------------------------------------------------------------

    def create(self, action: m.Action) -> Done:
        fields: dict[str, Any] = {"title": action.title or "Заявка на оплату"}
        fields.update(self._fields(action))
        try:
            answer = self._as(action.login, "crm.item.add",
                              {"entityTypeId": self.view.etid, "fields": fields, "useOriginalUfNames": "Y"})
        except registry.RestError as exc:
            return Done(True, f"the portal refused to create the item: {exc.description}")
        except PersonInactive as exc:
            return Done(True, f"the portal refused: {exc}")
        item_id = int(answer["item"]["id"])
        return Done(False, f"created request #{item_id} «{fields['title']}»", item_id)

    def edit(self, action: m.Action, item_id: int) -> Done:
        """The person edits fields of the card after creation (the UI's save: ``crm.item.update``)."""
        fields = self._fields(action)
        try:
            self._as(action.login, "crm.item.update",
                     {"entityTypeId": self.view.etid, "id": item_id, "fields": fields, "useOriginalUfNames": "Y"})
        except registry.RestError as exc:
            return Done(True, f"the portal refused to save the card: {exc.description}")
        except PersonInactive as exc:
            return Done(True, f"the portal refused: {exc}")
        return Done(False, f"edited request #{item_id}: {', '.join([*action.fields, *(['contract'] if action.parent else [])])}")

    def _fields(self, action: m.Action) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        for code, value in action.fields.items():
            if code == "title":
                fields["title"] = str(value)
            else:
                fields[self.view.uf(code)] = "" if value in (None, "") else self._value(code, value)
        if action.parent is not None:
            fields[f"parentId{action.parent[0]}"] = action.parent[1]      # the link to the contract (REFERENCE §6.2)
        return fields

    def _as(self, login: str, method: str, params: dict[str, Any]) -> Any:
        """What the person's save in the UI does (refused with ``PersonInactive`` once they are deactivated)."""
        return self._user(login)._invoke(method, params)

    def _value(self, code: str, value: Any) -> Any:
        kind = self.view.workflow.field(code).type
        if kind is FieldType.MONEY:
            text = str(value)
            return text if "|" in text else f"{text}|RUB"
        if kind is FieldType.ENUMERATION:
            found = self.view.enum_id(code, str(value))
            if found is None:
                raise ScenarioError(f"field {code}: no list value {value!r} on the portal")
            return found
        if kind is FieldType.FILE:
            return [str(value), base64.b64encode(file_content(str(value))).decode("ascii")]
        if kind is FieldType.EMPLOYEE:
            return self.view.user_id(str(value))
        if kind is FieldType.BOOLEAN:
            return "Y" if value in (True, "Y", "yes") else "N"
        return value

    # --- the approval tab ------------------------------------------------------------------------

    def card(self, action: m.Action, item_id: int) -> Done:
        """The approval tab of the item card (``via: card``) or of the person's task (``via: task_card``)."""
        user = self.view.user_id(action.login)
        if action.via == "task_card":
            task = self.find_task(action, item_id)
            page = widget.open_tab(self.portal, user, "TASK_VIEW_TAB", {"taskId": task.id})
        else:
            page = widget.open_tab(self.portal, user, f"CRM_DYNAMIC_{self.view.etid}_DETAIL_TAB", {"ID": item_id})
        if page.status != 200:
            return Done(True, f"the tab did not open (HTTP {page.status}): {page.message}")
        if action.kind not in page.buttons:
            shown = ", ".join(page.buttons) or "none"
            result = widget.press(page, action.kind, action.reason)
            if result.outcome == "ok":
                return Done(False, result.message, error=f"the tab showed no {action.kind} button (buttons: {shown}), "
                                                         f"yet the server accepted a crafted POST: {result.message}")
            return Done(True, f"no {action.kind} button in the tab (buttons: {shown}); a crafted POST is refused "
                              f"too: «{result.message}»")
        result = widget.press(page, action.kind, action.reason)
        return Done(result.outcome != "ok", result.message or f"HTTP {result.status}")

    # --- tasks -----------------------------------------------------------------------------------

    def task(self, action: m.Action, item_id: int) -> Done:
        """``approve via task``: complete the person's open approval task."""
        return self.complete_task(action, item_id)

    def find_task(self, action: m.Action, item_id: int, open_only: bool = True) -> TaskRow:
        tasks = self.view.tasks(item_id)
        candidates = [t for t in tasks if (not open_only or t.status != "completed")
                      and (action.task is None or action.task.lower() in t.title.lower())]
        mine = [t for t in candidates if t.responsible == action.login]
        chosen = (mine or candidates)[:1]
        if not chosen:
            listing = "\n".join(f"      {t}" for t in tasks) or "      (none)"
            words = f" with «{action.task}» in the title" if action.task else ""
            raise ScenarioError(f"no open task{words} for {action.login} on this request; its tasks:\n{listing}")
        return chosen[0]

    def start_task(self, action: m.Action, item_id: int) -> Done:
        task = self.find_task(action, item_id)
        try:
            self._user(action.login).start_task(task.id)
        except registry.RestError as exc:
            return Done(True, exc.description)
        return Done(False, f"started task #{task.id} «{task.title}»")

    def complete_task(self, action: m.Action, item_id: int) -> Done:
        task = self.find_task(action, item_id)
        mark = self.view.mark()
        try:
            self._user(action.login).complete_task(task.id)
        except registry.RestError as exc:
            return Done(True, exc.description)
        self.settle()
        now = next((t for t in self.view.tasks(item_id) if t.id == task.id), task)
        if now.status != "completed":
            said = self._said(action.login, mark) + self.view.task_comments(task.id)
            return Done(True, f"task #{task.id} was reopened ({now.status}): " + " | ".join(said))
        return Done(False, f"completed task #{task.id} «{task.title}»")

    def attach(self, action: m.Action, item_id: int) -> Done:
        user = self._user(action.login)
        name = action.file or "file.pdf"
        try:
            if action.target == "task":
                task = self.find_task(action, item_id)
                user.attach_file_to_task(task.id, name, file_content(name))
                return Done(False, f"attached {name} to task #{task.id} «{task.title}»")
            field = to_camel(self.view.uf(action.field or ""))
            user.attach_file_to_item(self.view.etid, item_id, field, name, file_content(name))
        except registry.RestError as exc:
            return Done(True, exc.description)
        return Done(False, f"attached {name} to the field {action.field}")

    # --- kanban ----------------------------------------------------------------------------------

    def move(self, action: m.Action, item_id: int) -> Done:
        target = action.stage or ""
        mark = self.view.mark()
        try:
            self._user(action.login).move_item(self.view.etid, item_id, self.view.stage_id(item_id, target))
        except registry.RestError as exc:
            return Done(True, exc.description)
        self.settle()
        stage = self.view.stage_code(item_id)
        if stage != target:
            said = " | ".join(self._said(action.login, mark)) or "no notification"
            return Done(True, f"the card was put back to {self.view.stage_label(stage)}: {said}")
        return Done(False, f"moved to {self.view.stage_label(target)}")

    def _said(self, login: str, mark: tuple[int, int]) -> list[str]:
        return [n.text for n in self.view.notices(mark) if n.to == login]
