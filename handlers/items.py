"""Smart-process item events: whatever changed, act on the item's current state.

A deleted request leaves nothing to approve: the app closes the open tasks it created for it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from b24app import keys
from b24app.pipeline import echo, trust
from b24app.pipeline.definitions import item_names, workflow_code_for
from b24app.pipeline.perform import STALE
from b24app.pipeline.process import item_lock, process
from b24app.pipeline.read import TASK_SELECT
from b24app.provisioning.mapping import MappingError
from b24app.workflow.actions import Refresh
from b24app.workflow.snapshot import parse_task
from handlers.events import Event, handles

if TYPE_CHECKING:
    from b24app.deps import Deps

log = logging.getLogger(__name__)


def _target(deps: Deps, event: Event) -> tuple[str, int] | None:
    fields = event.data.get("FIELDS")
    if not isinstance(fields, dict) or not str(fields.get("ID", "")).isdigit():
        log.info("%s without an item id; dropped", event.name)
        return None
    try:
        code = workflow_code_for(deps, event.member_id, int(fields.get("ENTITY_TYPE_ID") or 0))
    except MappingError as exc:
        log.warning("%s from %s ignored: %s", event.name, event.member_id, exc)
        return None
    return (code, int(fields["ID"])) if code is not None else None


@handles("ONCRMDYNAMICITEMADD", "ONCRMDYNAMICITEMUPDATE")
def on_item(deps: Deps, event: Event) -> None:
    target = _target(deps, event)
    if target is None:
        return
    if event.name.startswith("ONCRMDYNAMICITEMUPDATE"):
        ref = echo.item_ref(item_names(deps, event.member_id, target[0]).entity_type_id, target[1])
        if echo.explained(deps.redis, event.member_id, ref, event.count, event.ts):
            return                          # the app's own write coming back: nothing new to read
    process(deps, event.member_id, target[0], target[1], Refresh("item"))


@handles("ONCRMDYNAMICITEMDELETE")
def on_item_deleted(deps: Deps, event: Event) -> None:
    target = _target(deps, event)
    if target is None:
        return
    code, item_id = target
    names = item_names(deps, event.member_id, code)
    client = deps.bitrix(event.member_id)
    with item_lock(deps, event.member_id, names.entity_type_id, item_id):
        answer = client.call("tasks.task.list", {"filter": {"UF_CRM_TASK": names.binding_for(item_id)},
                                                 "select": TASK_SELECT})
        rows = answer.get("tasks") if isinstance(answer, dict) else []
        rows = trust.trusted_rows(rows or [], trust.created_ids(deps, event.member_id, names.entity_type_id, item_id),
                                  trust.cached_app_user(deps, event.member_id), item_id)
        tasks = [parse_task(row) for row in rows]
        ours = [t for t in tasks if t.marker is not None and t.marker.item_id == item_id and not t.done]
        if not ours:
            return
        closed = client.batch({f"close{t.id}": ("tasks.task.complete", {"taskId": t.id}) for t in ours})
        for task in ours:
            deps.redis.set(keys.task_item(event.member_id, task.id), f"{STALE}:", ex=keys.SENT_TTL)
        if closed.errors:
            log.warning("closing the tasks of deleted item %s: %s", item_id, closed.errors)
