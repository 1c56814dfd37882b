"""Reading one item's current state for the engine — one ``batch`` request — under a per-item lock.

:func:`process` is the one path every trigger takes: lock the item, read it (item, bound tasks,
initiator, department tree, all in one batch; its ``time`` block gives the portal's clock), decide,
perform. Definitions (workflows, roles, calendar, deadline rules) are loaded once per process.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from redis.exceptions import LockError
from redis.lock import Lock

from b24app import phpform
from b24app import queue as queues
from b24app.checks import load_definitions
from b24app.deadlines import DeadlineRules
from b24app.errors import B24AppError, RestError
from b24app.provisioning.mapping import MappingCache
from b24app.workflow import actors
from b24app.workflow.actions import Action, SetFields, Trigger
from b24app.workflow.engine import Context, decide
from b24app.workflow.models import OrgConfig, Workflow
from b24app.workflow.snapshot import ItemNames, Snapshot, parse_item
from b24app.worktime import WorkCalendar
from handlers import logsign, trust

if TYPE_CHECKING:
    from b24app.deps import Deps

TASK_SELECT = ["ID", "TITLE", "STATUS", "RESPONSIBLE_ID", "DESCRIPTION", "PARENT_ID", "CLOSED_BY", "DEADLINE",
               "CLOSED_DATE", "CREATED_BY", "UF_CRM_TASK", "UF_TASK_WEBDAV_FILES"]
#: The item lock's lifetime; it is renewed after the read and between the writes (:func:`process`).
LOCK_TIMEOUT = 120
LOCK_WAIT = 60
NAMES_TTL = 24 * 3600
MAX_DEPTH = 20


class ItemBusy(B24AppError):
    """Another worker holds the item's lock for too long; the job is retried by the queue."""


@dataclass(frozen=True)
class Definitions:
    org: OrgConfig
    workflows: Mapping[str, Workflow]
    calendar: WorkCalendar
    deadlines: DeadlineRules

    @property
    def roles(self) -> dict[str, int]:
        return {code: role.user_id for code, role in self.org.roles.items()}


_definitions: dict[tuple[str, str], Definitions] = {}
_definitions_lock = threading.Lock()


def definitions(deps: Deps) -> Definitions:
    config_dir, workflows_dir = Path(deps.settings.config_dir), Path(deps.settings.workflows_dir)
    key = (str(config_dir.resolve()), str(workflows_dir.resolve()))
    with _definitions_lock:
        if key not in _definitions:
            org, workflows = load_definitions(config_dir, workflows_dir)
            calendar_file, deadlines_file = config_dir / "calendar.yaml", config_dir / "deadlines.yaml"
            calendar = WorkCalendar.from_config(calendar_file) if calendar_file.exists() else WorkCalendar.default()
            deadlines = DeadlineRules.load(deadlines_file, calendar) if deadlines_file.exists() \
                else DeadlineRules(calendar)
            _definitions[key] = Definitions(org, {w.code: w for w in workflows}, calendar, deadlines)
        return _definitions[key]


def item_names(deps: Deps, member_id: str, workflow_code: str) -> ItemNames:
    defs = definitions(deps)
    mapping = MappingCache(deps.redis, member_id).load(deps.bitrix(member_id), list(defs.workflows.values()))
    t = mapping.types[workflow_code]
    return ItemNames(t.code, t.entity_type_id, t.type_id, t.category_id, dict(t.stages), dict(t.fields))


def workflow_code_for(deps: Deps, member_id: str, entity_type_id: int) -> str | None:
    defs = definitions(deps)
    mapping = MappingCache(deps.redis, member_id).load(deps.bitrix(member_id), list(defs.workflows.values()))
    found = mapping.by_entity_type(entity_type_id)
    return found.code if found is not None else None


# -- one batch --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Loaded:
    workflow: Workflow
    names: ItemNames
    snap: Snapshot
    ctx: Context
    now: datetime
    #: ``DECISIONS`` values that failed the signature check (ignored; reported once in the timeline).
    rejected: tuple[str, ...] = ()
    #: The verified log found on the portal when it was rolled back (the snapshot holds the app's copy).
    rolled_back: tuple[str, ...] | None = None


def run_batch(client: Any, commands: Mapping[str, tuple[str, Mapping[str, Any]]],
              halt: bool = False) -> tuple[dict[str, Any], dict[str, Any], str | None]:
    """One ``batch`` request: (results, errors, the portal's time). The protocol's ``batch`` drops the
    ``time`` block, so this sends the documented ``cmd`` form itself through ``envelope``."""
    cmd = {key: f"{method}?{phpform.encode(dict(params))}" for key, (method, params) in commands.items()}
    answer = client.envelope("batch", {"halt": 1 if halt else 0, "cmd": cmd})
    body = answer.get("result") or {}
    results = _as_dict(body.get("result"))
    errors = _as_dict(body.get("result_error"))
    stamp = (answer.get("time") or {}).get("date_finish") or (answer.get("time") or {}).get("date_start")
    return results, errors, str(stamp) if stamp else None


def _as_dict(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return {str(k): v for k, v in value.items()}
    if isinstance(value, list):
        return {str(i): v for i, v in enumerate(value)}
    return {}


def load(deps: Deps, member_id: str, workflow_code: str, item_id: int) -> Loaded | None:
    """The item's snapshot and the engine's context, or None when the item does not exist.

    Only what the app wrote counts: approval log entries are verified and tasks not created by the app
    are left out (:mod:`handlers.trust`). Any read error but "item not found" raises (the job retries)."""
    defs = definitions(deps)
    names = item_names(deps, member_id, workflow_code)
    client = deps.bitrix(member_id)
    app_user = trust.cached_app_user(deps, member_id)
    commands: dict[str, tuple[str, Mapping[str, Any]]] = {
        "item": ("crm.item.get", {"entityTypeId": names.entity_type_id, "id": item_id, "useOriginalUfNames": "Y"}),
        "tasks": ("tasks.task.list", {"filter": {"UF_CRM_TASK": names.binding_for(item_id)},
                                      "select": TASK_SELECT, "order": {"ID": "asc"}}),
        **actors.fetch_commands("item"),
    }
    if app_user is None:
        commands[trust.ME] = ("user.current", {})
    results, errors, stamp = run_batch(client, commands)
    if _not_found(errors.get("item")):
        return None
    _raise_read_errors(errors, commands)
    item = (results.get("item") or {}).get("item") if isinstance(results.get("item"), dict) else None
    if not item:
        return None
    if app_user is None:
        app_user = trust.app_user_from(deps, member_id, results.get(trust.ME))
    tasks = results.get("tasks")
    rows = tasks.get("tasks") if isinstance(tasks, dict) else []
    rows = trust.trusted_rows(rows if isinstance(rows, list) else [],
                              trust.created_ids(deps, member_id, names.entity_type_id, item_id), app_user, item_id)
    item, checked = trust.verified_item(deps, member_id, names, item)
    found = checked.entries
    [record] = logsign.records(deps.redis, [logsign.Scope(member_id, names.entity_type_id, item_id)])
    kept = logsign.rolled_back(found, record)
    if kept is not None:
        item[names.field("DECISIONS")] = list(kept)          # the app's copy of the log it wrote last
    snap = parse_item(item, names, rows)
    head = _head(client, actors.departments_from(results.get("departments")),
                 actors.user_departments(results.get("initiator")))
    people = _names(deps, member_id, client, snap, head, results.get("initiator"), defs)
    ctx = Context(roles=defs.roles, calendar=defs.calendar, deadlines=defs.deadlines,
                  absences=defs.org.absences, head=head, names=people)
    now = datetime.fromisoformat(stamp) if stamp else datetime.now(defs.calendar.tz)
    return Loaded(defs.workflows[workflow_code], names, snap, ctx, now.astimezone(defs.calendar.tz),
                  checked.rejected, found if kept is not None else None)


def _not_found(error: Any) -> bool:
    if not isinstance(error, dict):
        return False
    code, text = str(error.get("error", "")).upper(), str(error.get("error_description", "")).lower()
    return code == "NOT_FOUND" and "smart process" not in text


def _raise_read_errors(errors: Mapping[str, Any], commands: Mapping[str, tuple[str, Mapping[str, Any]]]) -> None:
    """A failed read must not look like "no tasks" or "no item": raise, so the queue retries the job."""
    for key, error in errors.items():
        if key == trust.ME:
            continue                       # optional: tasks are then trusted by the recorded ids only
        detail = error if isinstance(error, dict) else {"error": error}
        method = commands[key][0] if key in commands else "batch"
        raise RestError(method, 400, str(detail.get("error", "")), str(detail.get("error_description", "")))


def _head(client: Any, table: dict[int, tuple[int | None, int | None]], start: list[int]) -> int | None:
    """The initiator's head; departments beyond the first page are read one by one, only if needed."""
    for _ in range(MAX_DEPTH):
        missing = actors.first_unknown(table, start)
        if missing is None:
            break
        rows = client.call("department.get", {"ID": missing})
        table[missing] = (None, None)
        table.update(actors.departments_from(rows))
    return actors.head_of(table, start)


def _names(deps: Deps, member_id: str, client: Any, snap: Snapshot, head: int | None, initiator_rows: Any,
           defs: Definitions) -> dict[int, str]:
    """Display names of the people the texts mention, cached in Redis (one user.get for new ones)."""
    key = f"b24app:names:{member_id}"
    known = {int(k): v.decode() if isinstance(v, bytes) else str(v) for k, v in deps.redis.hgetall(key).items()}
    known.update(actors.user_names(initiator_rows))
    wanted = {snap.initiator, head, *defs.roles.values()}
    for entry in snap.log:
        wanted |= {entry.by, entry.on_behalf_of, entry.approver}
    missing = sorted(u for u in wanted if u and u not in known)
    if missing:
        fetched = actors.user_names(client.call("user.get", {"FILTER": {"ID": missing}}))
        known.update(fetched)
        pipe = deps.redis.pipeline()
        for user_id, name in fetched.items():
            pipe.hset(key, str(user_id), name)
        pipe.expire(key, NAMES_TTL)
        pipe.execute()
    return known


# -- the per-item lock and the one path every trigger takes -----------------------------------------

@contextmanager
def item_lock(deps: Deps, member_id: str, entity_type_id: int, item_id: int) -> Iterator[Lock]:
    lock = deps.redis.lock(f"b24app:lock:item:{member_id}:{entity_type_id}:{item_id}", timeout=LOCK_TIMEOUT,
                           blocking_timeout=LOCK_WAIT)
    if not lock.acquire():
        raise ItemBusy(f"item {entity_type_id}/{item_id} is locked by another worker; retry later")
    queues.track_lock(deps.redis, lock)  # a killed work-horse's lock is released by the worker (b24app.worker)
    try:
        yield lock
    finally:
        queues.untrack_lock(deps.redis, lock)
        with suppress(LockError):       # it expired while we worked; someone else may hold it now
            lock.release()


def renew(lock: Lock, item_id: int) -> None:
    """Give the lock its full lifetime again before writing; if it expired meanwhile (a slow read) and
    another worker may have acted, write nothing: raise, and the retried job reads the state again."""
    try:
        lock.reacquire()
    except LockError:
        raise ItemBusy(f"the lock of item {item_id} expired during a slow read; retry later") from None


def _restore(loaded: Loaded, actions: list[Action]) -> list[Action]:
    """A rolled-back log is written back, unless the engine writes the log (from the restored one) anyway."""
    writes_log = any(isinstance(a, SetFields) and "DECISIONS" in a.fields for a in actions)
    if loaded.rolled_back is None or writes_log:
        return []
    return [SetFields({"DECISIONS": [e.to_text() for e in loaded.snap.log]})]


def process(deps: Deps, member_id: str, workflow_code: str, item_id: int,
            trigger: Trigger) -> tuple[Loaded | None, list[Action]]:
    """Lock, read, decide, perform. Returns what was read and the actions taken."""
    from handlers.perform import perform

    names = item_names(deps, member_id, workflow_code)
    with item_lock(deps, member_id, names.entity_type_id, item_id) as lock:
        loaded = load(deps, member_id, workflow_code, item_id)
        if loaded is None:
            return None, []
        actions = decide(loaded.workflow, loaded.snap, trigger, loaded.now, loaded.ctx)
        actions += _restore(loaded, actions)
        report = trust.forged_report(workflow_code, item_id, trust.Verified((), loaded.rejected))
        if report is not None:
            actions.append(report)
        if loaded.rolled_back is not None:
            actions.append(logsign.rollback_report(workflow_code, item_id, loaded.rolled_back))
        renew(lock, item_id)
        perform(deps, member_id, loaded, actions, trigger, renew=lambda: renew(lock, item_id))
        return loaded, actions
