"""The item pipeline: the one path every trigger takes — lock the item, read it, decide (pure), perform.

:func:`process` holds the item's Redis lock for the whole read-decide-write cycle, so two workers never
act on one item at once; the lock is renewed after the read and between the writes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from typing import TYPE_CHECKING

from redis.exceptions import LockError
from redis.lock import Lock

from b24app import keys
from b24app import queue as queues
from b24app.errors import B24AppError
from b24app.log import log_context
from b24app.pipeline import echo, links, logsign, perform, read, trust
from b24app.pipeline.definitions import item_names
from b24app.workflow.actions import (
    Action,
    CompleteTask,
    CreateTask,
    MoveDeadline,
    RenewTask,
    SetFields,
    Trigger,
)
from b24app.workflow.engine import decide

if TYPE_CHECKING:
    from b24app.deps import Deps

#: The item lock's lifetime; it is renewed after the read and between the writes (:func:`process`).
LOCK_TIMEOUT = 120
LOCK_WAIT = 60


class ItemBusy(B24AppError):
    """Another worker holds the item's lock for too long; the job is retried by the queue."""


@contextmanager
def item_lock(deps: Deps, member_id: str, entity_type_id: int, item_id: int) -> Iterator[Lock]:
    lock = deps.redis.lock(keys.item_lock(member_id, entity_type_id, item_id), timeout=LOCK_TIMEOUT,
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


def _restore(loaded: read.Loaded, actions: list[Action]) -> list[Action]:
    """A rolled-back log is written back, unless the engine writes the log (from the restored one) anyway."""
    writes_log = any(isinstance(a, SetFields) and "DECISIONS" in a.fields for a in actions)
    if loaded.rolled_back is None or writes_log:
        return []
    return [SetFields({"DECISIONS": [e.to_text() for e in loaded.snap.log]})]


def _earliest_deadline(loaded: read.Loaded, actions: list[Action]) -> int:
    """The earliest deadline of the item's open tasks once the actions are done (epoch; 0: none; -1: not
    known), so the
    sweep need not read tasks whose deadlines the app set itself (a person's change of one is an event)."""
    deadlines: dict[object, datetime] = {}
    for task in loaded.snap.tasks:
        if task.marker is not None and not task.done and task.deadline:
            deadlines[task.id] = datetime.fromisoformat(task.deadline)
    for index, action in enumerate(actions):
        if isinstance(action, CompleteTask):
            deadlines.pop(action.task_id, None)
        elif isinstance(action, MoveDeadline):
            deadlines[action.task_id] = action.deadline
        elif isinstance(action, CreateTask) and action.deadline is not None:
            deadlines[f"new{index}"] = action.deadline
        elif isinstance(action, RenewTask):
            return -1                   # unknown: a renewed task's deadline is read by the sweep
    return int(min(deadlines.values()).timestamp()) if deadlines else 0


@log_context(member_id="member_id", workflow="workflow_code", item_id="item_id")
def process(deps: Deps, member_id: str, workflow_code: str, item_id: int,
            trigger: Trigger) -> tuple[read.Loaded | None, list[Action]]:
    """Lock, read, decide, perform. Returns what was read and the actions taken."""
    names = item_names(deps, member_id, workflow_code)
    with item_lock(deps, member_id, names.entity_type_id, item_id) as lock:
        loaded = read.load(deps, member_id, workflow_code, item_id)
        return act(deps, member_id, workflow_code, loaded, trigger, lock)


def actions_for(deps: Deps, member_id: str, workflow_code: str, loaded: read.Loaded,
                trigger: Trigger) -> tuple[read.Loaded, list[Action]]:
    """Decide (pure) on what was read: the engine's actions, the checked step's links read when it
    asks for them, a rolled-back log restored, forged entries and rollbacks reported."""
    item_id = loaded.snap.item_id
    actions = decide(loaded.workflow, loaded.snap, trigger, loaded.now, loaded.ctx)
    if links.wanted(loaded, actions):          # the checked step: its contract and duplicates, one batch
        loaded, filled = links.with_links(loaded, links.read(deps, member_id, loaded))
        actions = decide(loaded.workflow, loaded.snap, trigger, loaded.now, loaded.ctx) + filled
    actions += _restore(loaded, actions)
    report = trust.forged_report(workflow_code, item_id, logsign.Verified((), loaded.rejected))
    if report is not None:
        actions.append(report)
    if loaded.rolled_back is not None:
        actions.append(logsign.rollback_report(workflow_code, item_id, loaded.rolled_back))
    return loaded, actions


def act(deps: Deps, member_id: str, workflow_code: str, loaded: read.Loaded | None, trigger: Trigger,
        lock: Lock) -> tuple[read.Loaded | None, list[Action]]:
    """Decide and perform on what was read, under the item's ``lock`` (held by the caller)."""
    if loaded is None:
        return None, []
    item_id = loaded.snap.item_id
    loaded, actions = actions_for(deps, member_id, workflow_code, loaded, trigger)
    renew(lock, item_id)
    written = perform.perform(deps, member_id, loaded, actions, trigger, renew=lambda: renew(lock, item_id))
    record_written(deps, member_id, loaded, actions, written)
    return loaded, actions


def record_written(deps: Deps, member_id: str, loaded: read.Loaded, actions: list[Action],
                   written: int | None) -> None:
    """The echoes of the write and the earliest open deadline (:func:`echo.record`)."""
    pipe = deps.redis.pipeline()
    echo.record(pipe, member_id, loaded.names.entity_type_id, loaded.snap.item_id,
                int((loaded.read_at or loaded.now).timestamp()), written, _earliest_deadline(loaded, actions))
    pipe.execute()
    links.ahead(deps, member_id, loaded, actions)     # the finance review's checks, to ride its read
