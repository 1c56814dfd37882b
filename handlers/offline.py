"""Catching up on lost events: the offline event queue, read by the 5-minute sweep.

Bitrix24 does not retry online events (REFERENCE §3.2): one lost delivery would leave a request waiting
forever. Provisioning binds every event offline too, so the portal also queues a row per changed object.
:func:`catch_up` reads the queue with ``clear=0`` (rows reserved under a ``process_id``), turns each row
into the item it concerns (task rows: the item the task is bound to), acts on each item's current state
once (``b24app.pipeline.process.process`` with ``Refresh("sweep")``) and then clears what it processed with
``event.offline.clear``. Rows of items that failed stay reserved; their ``process_id`` is kept in Redis and
read again first by the next sweep (after :data:`MAX_ATTEMPTS` sweeps they are cleared and logged).
A queue with nothing in it costs one request (``event.offline.get``). Webhook mode has no offline events.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from b24app import keys
from b24app.errors import B24AppError
from b24app.workflow.actions import Refresh
from handlers.events import Event

if TYPE_CHECKING:
    from b24app.deps import Deps

log = logging.getLogger(__name__)
LIMIT = 50
MAX_PAGES = 10
MAX_ATTEMPTS = 3
PENDING_TTL = keys.OFFLINE_PENDING_TTL
Target = tuple[str, int]          # (workflow code, item id)


@dataclass
class CatchUp:
    requests: int = 0              # REST requests reading and clearing the queue (not the items' own)
    events: int = 0                # rows read
    items: int = 0                 # items refreshed
    failed: int = 0
    targets: list[Target] = field(default_factory=list)


def pending_key(member_id: str) -> str:
    return keys.offline_pending(member_id)


def catch_up(deps: Deps, member_id: str) -> CatchUp:
    """Process the offline queue of one portal (a few pages at most per sweep)."""
    report = CatchUp()
    if not member_id:
        return report                       # an incoming webhook has no application context
    for _ in range(MAX_PAGES):
        try:
            rows, process_id, attempts = _read(deps, member_id, report)
        except B24AppError as exc:
            log.warning("offline events of %s not read: %s", member_id, exc)
            return report
        if not rows:
            if attempts:                     # the kept reservation is empty: read new rows next
                deps.redis.delete(pending_key(member_id))
                continue
            return report
        done = _process(deps, member_id, rows, report)
        if not _clear(deps, member_id, rows, done, process_id, attempts, report):
            return report                    # some rows wait for the next sweep
        if len(rows) < LIMIT and not attempts:
            return report
    return report


def _read(deps: Deps, member_id: str, report: CatchUp) -> tuple[list[Mapping[str, Any]], str, int]:
    kept = deps.redis.get(pending_key(member_id))
    text = kept.decode() if isinstance(kept, bytes) else str(kept or "")
    process_id, _, tries = text.partition("|")
    params: dict[str, Any] = {"clear": 0, "limit": LIMIT}
    if process_id:
        params["process_id"] = process_id
    report.requests += 1
    answer = deps.bitrix(member_id).call("event.offline.get", params)
    rows = answer.get("events") if isinstance(answer, dict) else None
    found: list[Mapping[str, Any]] = [r for r in rows if isinstance(r, dict)] if isinstance(rows, list) else []
    pid = str((answer or {}).get("process_id") or process_id) if isinstance(answer, dict) else process_id
    report.events += len(found)
    return found, pid, (int(tries) + 1 if tries.isdigit() else 1) if process_id else 0


def _process(deps: Deps, member_id: str, rows: list[Mapping[str, Any]], report: CatchUp) -> set[int]:
    """Refresh each item once; returns the ids of the rows handled (their items refreshed or not ours)."""
    from b24app.pipeline.process import process

    by_target: dict[Target, list[int]] = {}
    done: set[int] = set()
    for row in rows:
        row_id = int(row.get("ID") or 0)
        try:
            target = _target(deps, member_id, row)
        except B24AppError as exc:
            log.warning("offline event %s of %s: %s", row_id, member_id, exc)
            report.failed += 1
            continue
        if target is None:
            done.add(row_id)
        else:
            by_target.setdefault(target, []).append(row_id)
    done |= _already_seen(deps, member_id, by_target, rows)
    for target, ids in by_target.items():
        if done.issuperset(ids):
            continue
        try:
            process(deps, member_id, target[0], target[1], Refresh("sweep"))
        except Exception:       # one item's failure must not stop the others; its rows stay reserved
            log.exception("offline catch-up of item %s/%s failed", *target)
            report.failed += 1
            continue
        report.items += 1
        report.targets.append(target)
        done.update(ids)
    return done


def _already_seen(deps: Deps, member_id: str, by_target: dict[Target, list[int]],
                  rows: list[Mapping[str, Any]]) -> set[int]:
    """Rows whose change the app has already read or made itself (:func:`b24app.pipeline.echo.redundant`)."""
    from b24app.pipeline import echo, trust
    from b24app.pipeline.definitions import item_names

    fields = {t: echo.seen_field(item_names(deps, member_id, t[0]).entity_type_id, t[1]) for t in by_target}
    moments = echo.seen_moments(deps.redis, member_id, list(fields.values()))
    app_user = trust.cached_app_user(deps, member_id)
    by_id = {int(r.get("ID") or 0): r for r in rows}
    return {row_id for target, ids in by_target.items() for row_id in ids
            if echo.redundant(by_id[row_id], moments.get(fields[target]), app_user, _second(by_id[row_id]))}


def _second(row: Mapping[str, Any]) -> int | None:
    try:
        return int(datetime.fromisoformat(str(row.get("TIMESTAMP_X") or "")).timestamp())
    except ValueError:
        return None


def _target(deps: Deps, member_id: str, row: Mapping[str, Any]) -> Target | None:
    from handlers.items import _target as item_target
    from handlers.items import on_item_deleted
    from handlers.tasks import _decode, _look_up

    name = str(row.get("EVENT_NAME") or "").upper()
    raw = row.get("EVENT_DATA")
    data: Mapping[str, Any] = raw if isinstance(raw, dict) else {}
    event = Event(member_id, name, data)
    if name.startswith("ONCRMDYNAMICITEMDELETE"):
        on_item_deleted(deps, event)
        return None
    if name.startswith("ONCRMDYNAMICITEM"):
        return item_target(deps, event)
    if name.startswith(("ONTASKADD", "ONTASKUPDATE")):
        after = data.get("FIELDS_AFTER")
        if not isinstance(after, dict) or not str(after.get("ID", "")).isdigit():
            return None
        known = deps.redis.get(keys.task_item(member_id, int(after["ID"])))
        if known is not None and name.startswith("ONTASKADD"):
            return None                      # a task the app created: its creation changes nothing
        return _decode(known) if known is not None else _look_up(deps, member_id, int(after["ID"]))
    return None


def _clear(deps: Deps, member_id: str, rows: list[Mapping[str, Any]], done: set[int], process_id: str,
           attempts: int, report: CatchUp) -> bool:
    """Clear what was processed; True when nothing is left reserved."""
    client = deps.bitrix(member_id)
    left = [int(r.get("ID") or 0) for r in rows if int(r.get("ID") or 0) not in done]
    if left and attempts >= MAX_ATTEMPTS:
        log.error("offline events %s of %s failed %d sweeps; dropped", left, member_id, attempts)
        left = []
    if not left:
        report.requests += 1
        client.call("event.offline.clear", {"process_id": process_id})
        deps.redis.delete(pending_key(member_id))
        return True
    if done:
        report.requests += 1
        client.call("event.offline.clear", {"process_id": process_id, "id": sorted(done)})
    deps.redis.set(pending_key(member_id), f"{process_id}|{attempts}", ex=PENDING_TTL)
    return False
