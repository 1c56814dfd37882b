"""What the engine may believe of what it reads: the signed approval log and the tasks the app created.

* The item's ``DECISIONS`` values are verified (:mod:`b24app.pipeline.logsign`: a signed hash chain); only
  verified entries reach the snapshot, the others are reported (log + one timeline entry per set of
  rejected values). A log shorter than or different from the app's last write (its copy in Redis) is a
  rollback: the copy is used, written back and reported once.
* A task's marker in its description is plain text anyone can type. A task counts as the app's only if
  its id was recorded when the app created it (Redis set per item, :func:`remember_created`) or it was
  created by the app's acting user (``createdBy`` = the installation's user, ``user.current`` read once
  per portal — inside the item's read batch — and cached). Other tasks are left out of the snapshot.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from b24app import keys
from b24app.pipeline.logsign import Scope, Verified, digest, verify
from b24app.texts import timeline
from b24app.workflow.actions import LogTimeline

if TYPE_CHECKING:
    from b24app.deps import Deps
    from b24app.workflow.snapshot import ItemNames

log = logging.getLogger(__name__)
ME = "me"


# -- the approval log -------------------------------------------------------------------------------

def verified_item(deps: Deps, member_id: str, names: ItemNames, raw: Mapping[str, Any]) -> tuple[dict[str, Any],
                                                                                                 Verified]:
    """The item with only verified log entries in its ``DECISIONS`` field, and what was verified."""
    item = dict(raw)
    field = names.field("DECISIONS")
    scope = Scope(member_id, names.entity_type_id, int(item["id"]))
    checked = verify(deps.app_secret, scope, item.get(field))
    item[field] = list(checked.entries)
    if checked.rejected:
        log.warning("item %s/%s: %d approval log entries without a valid signature ignored",
                    names.entity_type_id, item["id"], len(checked.rejected))
    return item, checked


def forged_report(workflow: str, item_id: int, checked: Verified) -> LogTimeline | None:
    """One timeline entry per set of ignored values (its key makes it once only)."""
    if not checked.rejected:
        return None
    return LogTimeline(f"b24app:{workflow}:{item_id}:forged:{digest(checked.rejected)}", timeline.FORGED_TITLE,
                       timeline.forged_text(len(checked.rejected)))


# -- tasks ------------------------------------------------------------------------------------------

def cached_app_user(deps: Deps, member_id: str) -> int | None:
    value = deps.redis.get(keys.app_user(member_id))
    text = value.decode() if isinstance(value, bytes) else value
    return int(text) if text and str(text).isdigit() else None


def app_user_from(deps: Deps, member_id: str, answer: Any) -> int | None:
    """The acting user from a ``user.current`` answer (cached for a day)."""
    user_id = answer.get("ID") if isinstance(answer, dict) else None
    if user_id is None or not str(user_id).isdigit():
        return None
    deps.redis.set(keys.app_user(member_id), str(user_id), ex=keys.APP_USER_TTL)
    return int(user_id)


def created_ids(deps: Deps, member_id: str, entity_type_id: int, item_id: int) -> set[int]:
    members = deps.redis.smembers(keys.created(member_id, entity_type_id, item_id))
    return {int(m) for m in (x.decode() if isinstance(x, bytes) else str(x) for x in members) if m.isdigit()}


def remember_created(pipe: Any, member_id: str, entity_type_id: int, item_id: int, task_id: int) -> None:
    key = keys.created(member_id, entity_type_id, item_id)
    pipe.sadd(key, str(task_id))
    pipe.expire(key, keys.CREATED_TTL)


def trusted_rows(rows: Iterable[Mapping[str, Any]], created: set[int], app_user: int | None,
                 item_id: int) -> list[Mapping[str, Any]]:
    """The task rows the app created: recorded at creation, or created by the app's user."""
    kept: list[Mapping[str, Any]] = []
    for row in rows:
        task_id = int(row.get("id") or 0)
        author = str(row.get("createdBy") or "")
        if task_id in created or (app_user is not None and author.isdigit() and int(author) == app_user):
            kept.append(row)
        elif "[b24app:" in str(row.get("description") or ""):
            log.warning("task %s on item %s carries an app marker but was not created by the app; ignored",
                        task_id, item_id)
    return kept
