"""Task events: find the item a task is bound to and act on that item's current state.

Tasks the app created are remembered in Redis with their item, so their events need no lookup; an
``ONTASKADD`` of such a task needs nothing at all (a new task changes nothing the route depends on).
Other tasks are looked up once (``tasks.task.get`` with ``UF_CRM_TASK``); tasks not bound to a
provisioned smart process are remembered as foreign for a while.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from b24app import keys
from b24app.pipeline import echo
from b24app.pipeline.definitions import workflow_code_for
from b24app.pipeline.perform import STALE
from b24app.pipeline.process import process
from b24app.provisioning.mapping import MappingError
from b24app.workflow.actions import Refresh
from handlers.events import Event, handles

if TYPE_CHECKING:
    from b24app.deps import Deps

log = logging.getLogger(__name__)
FOREIGN = STALE
FOREIGN_TTL = 600
_BINDING = re.compile(r"^T([0-9a-f]+)_(\d+)$")


@handles("ONTASKADD", "ONTASKUPDATE")
def on_task(deps: Deps, event: Event) -> None:
    after = event.data.get("FIELDS_AFTER")
    if not isinstance(after, dict) or not str(after.get("ID", "")).isdigit():
        return
    task_id = int(after["ID"])
    known = deps.redis.get(keys.task_item(event.member_id, task_id))
    if known is not None and event.name.upper().startswith("ONTASKADD"):
        return
    if known is not None and echo.explained(deps.redis, event.member_id, f"task:{task_id}", event.count, event.ts):
        return                              # the app's own deadline move or renewal coming back
    try:
        target = _decode(known) if known is not None else _look_up(deps, event.member_id, task_id)
    except MappingError as exc:
        log.warning("%s from %s ignored: %s", event.name, event.member_id, exc)
        return
    if target is not None:
        process(deps, event.member_id, target[0], target[1], Refresh("task"))


def _decode(value: Any) -> tuple[str, int] | None:
    text = value.decode() if isinstance(value, bytes) else str(value)
    code, _, item = text.partition(":")
    return (code, int(item)) if code != FOREIGN and item.isdigit() else None


def _look_up(deps: Deps, member_id: str, task_id: int) -> tuple[str, int] | None:
    answer = deps.bitrix(member_id).call("tasks.task.get", {"taskId": task_id, "select": ["ID", "UF_CRM_TASK"]})
    task = answer.get("task") if isinstance(answer, dict) else None
    bindings = (task or {}).get("ufCrmTask") or []
    for binding in bindings if isinstance(bindings, list) else []:
        found = _BINDING.match(str(binding))
        if found:
            code = workflow_code_for(deps, member_id, int(found.group(1), 16))
            if code is not None:
                return code, int(found.group(2))
    deps.redis.set(keys.task_item(member_id, task_id), f"{FOREIGN}:", ex=FOREIGN_TTL)
    return None
