"""What the sandbox portal holds about a workflow's requests, read the way a person looks at it.

Reads go straight to the sandbox's state (under its lock), so they are not REST requests and do not
change the request count the runner reports. Names are translated both ways: workflow stage codes
<-> portal stage ids (``b24app.provisioning.desired.stage_suffixes``), field codes <-> ``UF_CRM_``
names, logins <-> user ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from b24app.provisioning.desired import field_name, stage_suffixes
from b24app.workflow.models import Workflow
from b24sandbox import crmstore as cs
from b24sandbox import taskstore as ts
from b24sandbox.methods import im
from b24sandbox.portal import SandboxPortal

STATUS_NAMES = {2: "pending", 3: "in_progress", 4: "awaiting_control", 5: "completed", 6: "deferred", 1: "new"}


@dataclass(frozen=True)
class TaskRow:
    id: int
    title: str
    responsible: str
    status: str
    deadline: datetime | None
    parent_id: int | None
    files: int

    def __str__(self) -> str:
        deadline = self.deadline.strftime("%Y-%m-%d %H:%M") if self.deadline else "no deadline"
        parent = f", subtask of #{self.parent_id}" if self.parent_id else ""
        return f"#{self.id} «{self.title}» → {self.responsible}, {self.status}, {deadline}{parent}"


@dataclass(frozen=True)
class Notice:
    id: int
    to: str
    text: str


class PortalView:
    def __init__(self, portal: SandboxPortal, workflow: Workflow) -> None:
        self.portal = portal
        self.state = portal.state
        self.workflow = workflow
        self.etid = workflow.type.entity_type_id
        with self.state.lock:
            smart = cs.type_by_etid(self.state, self.etid)
        if smart is None:
            raise LookupError(f"the smart process of workflow {workflow.code} is not on the portal (not provisioned?)")
        self.type_id = smart.id
        self._suffix = stage_suffixes(workflow)

    # --- people ------------------------------------------------------------------------------------

    def user_id(self, login: str) -> int:
        return self.state.user_by_login(login).id

    def login(self, user_id: Any) -> str:
        try:
            return self.state.users[int(user_id)].login
        except (KeyError, TypeError, ValueError):
            return "" if user_id in (None, "", 0, "0") else f"user {user_id}"

    def person(self, login: str) -> str:
        """``Марина Орлова (m.orlova)`` for messages."""
        user = self.state.user_by_login(login)
        return f"{user.full_name} ({login})"

    # --- items -------------------------------------------------------------------------------------

    def uf(self, code: str) -> str:
        return field_name(self.type_id, code)

    def values(self, item_id: int) -> dict[str, Any]:
        with self.state.lock:
            item = cs.crm_store(self.state).items.get(self.etid, {}).get(item_id)
            return dict(item.values) if item else {}

    def stage_code(self, item_id: int) -> str:
        stage_id = str(self.values(item_id).get("stageId") or "")
        suffix = stage_id.split(":", 1)[-1]
        for code, known in self._suffix.items():
            if known == suffix:
                return code
        return stage_id

    def stage_id(self, item_id: int, code: str) -> str:
        category = self.values(item_id).get("categoryId")
        return f"DT{self.etid}_{category}:{self._suffix.get(code, code)}"

    def stage_label(self, code: str) -> str:
        try:
            return f"{code} («{self.workflow.stage(code).name.ru}»)"
        except StopIteration:
            return code

    def enum_id(self, code: str, xml_id: str) -> int | None:
        name = self.uf(code)
        with self.state.lock:
            for uf in cs.crm_store(self.state).user_fields.values():
                if uf.field_name == name:
                    for option in uf.enum:
                        if option.xml_id == xml_id or option.value == xml_id:
                            return option.id
        return None

    def timeline(self, item_id: int) -> list[str]:
        with self.state.lock:
            crm = cs.crm_store(self.state)
            comments = [c.comment for c in crm.comments.values()
                        if c.entity_type.lower() == f"dynamic_{self.etid}" and c.entity_id == item_id]
            logs = [f"{m.title}: {m.text}" for m in crm.log_messages.values()
                    if m.entity_type_id == self.etid and m.entity_id == item_id]
        return comments + logs

    # --- tasks and notifications -------------------------------------------------------------------

    def tasks(self, item_id: int) -> list[TaskRow]:
        binding = ts.binding_code(self.etid, item_id)
        with self.state.lock:
            store = ts.store(self.state)
            found = sorted((t for t in store.tasks.values() if binding in t.crm), key=lambda t: t.id)
            return [TaskRow(t.id, t.title, self.login(t.responsible_id), STATUS_NAMES.get(t.status, str(t.status)),
                            t.deadline, t.parent_id, len(t.files)) for t in found]

    def task_comments(self, task_id: int) -> list[str]:
        with self.state.lock:
            return [c.text for c in ts.store(self.state).comments.values() if c.task_id == task_id]

    def notices(self, after: tuple[int, int] = (0, 0)) -> list[Notice]:
        """Notifications (and private messages) newer than the mark ``after`` (see :meth:`mark`)."""
        with self.state.lock:
            rows = list(im.store(self.state).notifications)
            messages = list(im.store(self.state).messages)
        found = [Notice(n.id, self.login(n.user_id), n.message) for n in rows if n.id > after[0]]
        found += [Notice(m.id, self.login(m.dialog_id), m.message) for m in messages
                  if m.id > after[1] and str(m.dialog_id).isdigit()]
        return found

    def mark(self) -> tuple[int, int]:
        """The newest notification and message ids: notices after this moment are newer."""
        with self.state.lock:
            notes = max((n.id for n in im.store(self.state).notifications), default=0)
            messages = max((m.id for m in im.store(self.state).messages), default=0)
        return notes, messages

    def now(self) -> datetime:
        return self.portal.clock.now()
