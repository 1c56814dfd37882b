"""Carrying out the engine's actions: one ``batch`` request, in a safe order, each once.

Order inside the batch: the item (stage and log written together in one ``crm.item.update``; the log
signed as a hash chain and, once written, copied to Redis to tell a rollback, :mod:`b24app.pipeline.logsign`),
then tasks (a subtask references its parent created in the same batch with ``$result[...]``), then
notifications and the timeline. The batch runs with ``halt=1``: a failed item update stops everything
after it, so no task or notification of a step the item never reached is created; a failed item or
task command raises, so the queue retries the job, which reads the current state again and converges
(what succeeded is found done). A failed notification or timeline entry is logged and the rest of them
sent in a second batch; it is not retried by itself: it is issued again by the next event of the item,
under the same key. The REST client never repeats a writing batch
on an ambiguous 502/504 (``b24app.rest.wire.writes``).

Once only: a task's marker is searched among the item's tasks before the engine asks for it, and is
also remembered in Redis (``keys.task``); a notification or timeline entry is
skipped when its key is remembered (``keys.sent``), and Bitrix24's ``TAG`` replaces
an older notification with the same tag if Redis lost the key.

Telegram (when a bot token is configured): every notification the portal accepted goes to the person's
linked chat too, with the request's details and, when it offers decisions, «Согласовать»/«Отклонить»; a
decision written at a step closes that step's Telegram buttons (``b24app.notify.itemnotes``). Redis work
only — a Telegram failure is logged and never fails the job.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from b24app import keys
from b24app.control.link import with_accounting_link
from b24app.notify.base import Bitrix24Notifier
from b24app.notify.deliver import portal_domain
from b24app.notify.itemnotes import ItemView, TelegramSync, item_url, message_for, written_entry
from b24app.pipeline import echo, trust
from b24app.pipeline.logsign import Scope, remember, sign_chain
from b24app.rest.protocol import BatchResult, Command, merge_batches
from b24app.telegram.callbacks import CallbackStore
from b24app.telegram.config import TelegramConfig
from b24app.workflow.actions import (
    Action,
    CompleteTask,
    CreateTask,
    LogTimeline,
    MoveDeadline,
    MoveStage,
    Notify,
    PersonDecision,
    Reassign,
    Refuse,
    RenewTask,
    SetFields,
    Trigger,
)
from b24app.workflow.snapshot import VERSION

if TYPE_CHECKING:
    from b24app.deps import Deps
    from b24app.pipeline.read import Loaded

log = logging.getLogger(__name__)
SENT_TTL = keys.SENT_TTL
#: The value of ``keys.task_item`` for tasks whose events need no reaction (foreign, or closed by the app).
STALE = "-"


@dataclass(frozen=True)
class Prepared:
    """One item's write commands (:func:`prepare`) and the Redis marks their success sets."""

    commands: dict[str, Command]
    marks: dict[str, str]


def perform(deps: Deps, member_id: str, loaded: Loaded, actions: list[Action], trigger: Trigger,
            renew: Callable[[], None] | None = None) -> int | None:
    """One ``batch`` with ``halt=1``: nothing after a failed command runs, so the next step's tasks and
    notifications exist only once the item (stage + signed log) is written. A failed item or task command
    raises (the queue retries; the retried job reads the state again and finds what was done). After a
    failed notification or timeline entry the rest of them is sent in a second batch (``halt=0``).
    ``renew`` keeps the item's lock alive between the two batches. Returns the portal second of the last
    write (None when nothing was written); the written objects' echoes are expected (:mod:`echo`).
    :func:`prepare` builds the commands, :func:`conclude` acts on the answer (:mod:`b24app.pipeline.many`
    sends several items' commands in shared batches)."""
    prepared = prepare(deps, member_id, loaded, actions, trigger)
    commands = prepared.commands
    if not commands:
        return None
    client = deps.bitrix(member_id)
    answer = client.batch(commands, halt=True)
    failed = next(iter(answer.errors), None)
    if failed is not None and is_message(failed):
        rest = {k: c for k, c in commands.items() if k not in answer.results and k not in answer.errors}
        if rest:
            if renew is not None:
                renew()
            more = client.batch(rest, halt=False)
            answer = merge_batches([answer, more])
    return conclude(deps, member_id, loaded, actions, prepared, answer)


def prepare(deps: Deps, member_id: str, loaded: Loaded, actions: list[Action], trigger: Trigger) -> Prepared:
    """The write commands of the actions, keyed ``item`` (first), ``task…``/``close…``/… (tasks, a
    subtask referencing its parent by ``$result[...]``), then ``notify…``/``timeline…``; the item's open
    tasks are remembered as leading to it."""
    commands, marks = _commands(deps, member_id, loaded, actions, trigger)
    _remember_tasks(deps, member_id, loaded)
    return Prepared(commands, marks)


def is_message(key: str) -> bool:
    """A notification or timeline command: its failure is logged, never retried by itself."""
    return key.startswith(("notify", "timeline"))


def conclude(deps: Deps, member_id: str, loaded: Loaded, actions: list[Action], prepared: Prepared,
             answer: BatchResult) -> int | None:
    """What the answer to :func:`prepare`'s commands means: echoes expected, the signed log's copy and the
    created tasks remembered, the sent notifications copied to Telegram; then a failed item or task
    command raises (a failed message is logged). Returns the portal second of the last write."""
    commands, marks = prepared.commands, prepared.marks
    written_at = int(answer.finished.timestamp()) if answer.finished is not None else None
    _remember(deps, member_id, loaded, commands, marks, answer, written_at)
    sent = [a for k, a in _notes(actions).items() if answer.ok(k)]
    _telegram(deps, member_id, loaded, actions, sent, written=answer.ok("item"))
    for key in answer.errors:
        error = answer.error(key)
        if error is not None and not is_message(key):
            raise error
        log.warning("%s for item %s failed: %s", commands[key][0] if key in commands else "batch",
                    loaded.snap.item_id, error)
    return written_at


def _echoes(loaded: Loaded, commands: Mapping[str, Command], answer: BatchResult) -> list[str]:
    """The objects whose update events are the app's own echo: the item, and tasks it updated or renewed."""
    refs = [echo.item_ref(loaded.names.entity_type_id, loaded.snap.item_id)] if answer.ok("item") else []
    return refs + [f"task:{command[1]['taskId']}" for key, command in commands.items()
                   if key.startswith(("deadline", "renew")) and answer.ok(key)]


def _remember(deps: Deps, member_id: str, loaded: Loaded, commands: Mapping[str, Command],
              marks: Mapping[str, str], answer: BatchResult, written_at: int | None) -> None:
    etid, item_id = loaded.names.entity_type_id, loaded.snap.item_id
    pipe = deps.redis.pipeline()
    if written_at is not None:
        echo.expect(pipe, member_id, _echoes(loaded, commands, answer), written_at)
    written = _written_log(loaded, commands)
    if written is not None and answer.ok("item"):
        remember(pipe, Scope(member_id, etid, item_id), written)     # the copy that tells a rollback
    for key, mark in marks.items():
        if not answer.ok(key):
            continue
        if key.startswith("close"):
            pipe.set(mark, f"{STALE}:", ex=SENT_TTL)    # the route moved past it: its events matter no more
        elif not key.startswith("task"):
            pipe.set(mark, "1", ex=SENT_TTL)
        else:
            task_id = _created_id(answer.results[key])
            pipe.set(mark, str(task_id), ex=SENT_TTL)
            pipe.set(keys.task_item(member_id, task_id), f"{loaded.workflow.code}:{item_id}", ex=SENT_TTL)
            trust.remember_created(pipe, member_id, etid, item_id, task_id)
    pipe.execute()


def _written_log(loaded: Loaded, commands: Mapping[str, Command]) -> list[str] | None:
    """The signed log the item command writes (``_commands`` builds it), if it writes one."""
    return commands["item"][1]["fields"].get(loaded.names.field("DECISIONS")) if "item" in commands else None


def _notes(actions: list[Action]) -> dict[str, Notify | Refuse]:
    """The notifications by batch key (``_message_commands`` names them ``notify{index}``)."""
    return {f"notify{i}": a for i, a in enumerate(actions) if isinstance(a, Notify | Refuse)}


def _telegram(deps: Deps, member_id: str, loaded: Loaded, actions: list[Action], sent: list[Notify | Refuse],
              written: bool) -> None:
    """The same notifications to linked Telegram chats, and the steps' buttons kept in step (Redis only)."""
    config = TelegramConfig.from_settings(deps.settings)
    entry = written_entry(loaded.snap, actions) if written else None
    if not config.enabled or (entry is None and not sent):
        return
    try:
        view = item_view(deps, member_id, loaded, entry)
        if view.current is not None:          # buttons sent from now on belong to this round
            CallbackStore(deps.redis).set_round(member_id, loaded.names.entity_type_id, loaded.snap.item_id,
                                                view.current.round)
        TelegramSync(member_id, deps.redis, config).after_perform(view, entry, sent)
    except Exception:  # Telegram never stops the Bitrix24 side (its notifications are already sent)
        log.exception("telegram copies of the notifications of item %s failed", loaded.snap.item_id)


def item_view(deps: Deps, member_id: str, loaded: Loaded, written: Any) -> ItemView:
    """The request as every message shows it (number, title, amount, counterparty, step, link); ``written``:
    the log entry the actions write (None: the last one already there)."""
    route = loaded.snap.route_log
    current = written if written is not None and written.decision != VERSION else (route[-1] if route else None)
    return ItemView(loaded.workflow, loaded.snap, loaded.names.entity_type_id, current, loaded.now,
                    _item_url(deps, member_id, loaded.names.entity_type_id, loaded.snap.item_id), loaded.ctx.names)


def _item_url(deps: Deps, member_id: str, entity_type_id: int, item_id: int) -> str:
    domain = portal_domain(deps, member_id)
    return item_url(domain, entity_type_id, item_id) if domain else ""


def _created_id(result: Any) -> int:
    task = result.get("task") if isinstance(result, dict) else None
    return int(task["id"]) if isinstance(task, dict) else 0


def _remember_tasks(deps: Deps, member_id: str, loaded: Loaded) -> None:
    """Open tasks of the item lead to it (kept if already known: a closed-by-the-app task stays ignored)."""
    open_tasks = [t for t in loaded.snap.tasks if t.marker is not None and not t.done]
    if not open_tasks:
        return
    pipe = deps.redis.pipeline()
    for task in open_tasks:
        pipe.set(keys.task_item(member_id, task.id), f"{loaded.workflow.code}:{loaded.snap.item_id}", ex=SENT_TTL,
                 nx=True)
    pipe.execute()


def _commands(deps: Deps, member_id: str, loaded: Loaded, actions: list[Action],
              trigger: Trigger) -> tuple[dict[str, Command], dict[str, str]]:
    names, snap = loaded.names, loaded.snap
    commands: dict[str, Command] = {}
    marks: dict[str, str] = {}
    item_fields: dict[str, Any] = {}
    for action in actions:
        if isinstance(action, MoveStage):
            item_fields["stageId"] = names.stage_ids.get(action.stage, action.stage)
        elif isinstance(action, SetFields):
            item_fields.update({names.field(code): _value(v) for code, v in action.fields.items()})
    if "DECISIONS" in item_fields_codes(actions):
        scope = Scope(member_id, names.entity_type_id, snap.item_id)
        name = names.field("DECISIONS")
        item_fields[name] = sign_chain(deps.app_secret, scope, [str(text) for text in item_fields[name]])
    if item_fields:
        commands["item"] = ("crm.item.update", {"entityTypeId": names.entity_type_id, "id": snap.item_id,
                                                "fields": item_fields, "useOriginalUfNames": "Y"})
    _task_commands(deps, member_id, loaded, actions, commands, marks)
    _message_commands(deps, member_id, loaded, actions, trigger, commands, marks)
    return commands, marks


def item_fields_codes(actions: list[Action]) -> set[str]:
    return {code for a in actions if isinstance(a, SetFields) for code in a.fields}


def _task_commands(deps: Deps, member_id: str, loaded: Loaded, actions: list[Action],
                   commands: dict[str, Command], marks: dict[str, str]) -> None:
    names, snap = loaded.names, loaded.snap
    created: dict[str, str] = {}
    for index, action in enumerate(actions):
        if isinstance(action, CreateTask):
            mark = keys.task(member_id, action.marker)
            if deps.redis.exists(mark):
                log.warning("task %s was created before but is not bound to the item; not creating it again",
                            action.marker)
                continue
            key = f"task{index}"
            description = action.description if action.parent_marker else \
                with_accounting_link(deps, member_id, loaded.workflow, action.step, action.description)
            fields: dict[str, Any] = {"TITLE": action.title, "RESPONSIBLE_ID": action.responsible,
                                      "DESCRIPTION": description}
            if action.deadline is not None:
                fields["DEADLINE"] = _iso(action.deadline)
            if action.bind:
                fields["UF_CRM_TASK"] = [names.binding_for(snap.item_id)]
            parent = _parent(action.parent_marker, created, loaded)
            if parent is not None:
                fields["PARENT_ID"] = parent
            commands[key] = ("tasks.task.add", {"fields": fields})
            marks[key] = mark
            created[action.marker] = key
        elif isinstance(action, MoveDeadline):
            commands[f"deadline{index}"] = ("tasks.task.update", {"taskId": action.task_id,
                                                                  "fields": {"DEADLINE": _iso(action.deadline)}})
        elif isinstance(action, Reassign):
            commands[f"reassign{index}"] = ("tasks.task.update", {"taskId": action.task_id,
                                                                  "fields": {"RESPONSIBLE_ID": action.user}})
        elif isinstance(action, RenewTask):
            commands[f"renew{index}"] = ("tasks.task.renew", {"taskId": action.task_id})
        elif isinstance(action, CompleteTask):
            commands[f"close{index}"] = ("tasks.task.complete", {"taskId": action.task_id})
            marks[f"close{index}"] = keys.task_item(member_id, action.task_id)


def _parent(marker: str | None, created: Mapping[str, str], loaded: Loaded) -> int | str | None:
    if marker is None:
        return None
    if marker in created:
        return f"$result[{created[marker]}][task][id]"
    found = next((t for t in loaded.snap.tasks if t.marker is not None and str(t.marker) == marker), None)
    return found.id if found is not None else None


def _message_commands(deps: Deps, member_id: str, loaded: Loaded, actions: list[Action], trigger: Trigger,
                      commands: dict[str, Command], marks: dict[str, str]) -> None:
    names, snap = loaded.names, loaded.snap
    notifier = Bitrix24Notifier(deps.bitrix(member_id), per_user_tag=True)
    view = item_view(deps, member_id, loaded, written_entry(snap, actions))      # every notice names its request (#15)
    for index, action in enumerate(actions):
        if isinstance(action, Notify | Refuse):
            if isinstance(action, Refuse) and isinstance(trigger, PersonDecision):
                continue                                  # the widget / bot shows the refusal itself
            tag = f"{action.tag}:u{action.user}"
            mark = keys.sent(member_id, tag)
            if deps.redis.exists(mark):
                continue
            key = f"notify{index}"
            commands[key] = notifier.command(action.user, message_for(view, action))
            marks[key] = mark
        elif isinstance(action, LogTimeline):
            mark = keys.sent(member_id, action.key)
            if deps.redis.exists(mark):
                continue
            key = f"timeline{index}"
            commands[key] = ("crm.timeline.logmessage.add", {"fields": {
                "entityTypeId": names.entity_type_id, "entityId": snap.item_id, "title": action.title.ru,
                "text": action.text.ru, "iconCode": "info"}})
            marks[key] = mark


def _value(value: Any) -> Any:
    if isinstance(value, datetime):
        return _iso(value)
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return "" if value is None else value


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")
