"""Many items through the item pipeline at once, their reads and writes in shared ``batch`` requests.

The single-item path (:func:`b24app.pipeline.process.process`) costs one read and one write ``batch``
per item; a bank statement of 50 lines would be 100 requests. :func:`process_many` keeps every per-item
guarantee of that path and shares the requests:

* **locks** — every item's lock is held for the whole cycle, acquired in ascending id order (two
  callers never wait for each other crosswise) and renewed before each write request;
* **read** — each item's :func:`read.plan` commands, keys prefixed and references rewritten, packed
  into shared requests (:mod:`b24app.pipeline.batching`); each item's answer is interpreted alone
  (:func:`read.interpret`), its follow-up reads made only when it needs them;
* **decide** — the pure engine per item (:func:`process.actions_for`), as the single path does;
* **write** — in two rounds with ``halt=0``: first every item's ``crm.item.update`` (stage and signed
  log), then — only for the items whose update succeeded — their tasks, notifications and timeline
  entries. So, as with the single path's ``halt=1``, nothing of a step an item never reached is created.
  Each item's answer is concluded alone (:func:`perform.conclude`: echoes, the signed log's copy, created
  tasks, Telegram). An item whose read or write failed takes the single-item path once more under its
  lock (read again, decide, perform — what the queue's retry does); the other items are not affected.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from b24app.errors import B24AppError
from b24app.pipeline import batching, perform, process, read
from b24app.pipeline.definitions import item_names
from b24app.rest.protocol import BatchResult, Bitrix24, Command, merge_batches
from b24app.workflow.actions import Action, Trigger

if TYPE_CHECKING:
    from redis.lock import Lock

    from b24app.deps import Deps

log = logging.getLogger(__name__)
Done = tuple[read.Loaded | None, list[Action]]


@dataclass
class Outcome:
    """Per item: what was read and the actions taken (as :func:`process.process` returns them), or the
    error that stopped it (after the single-item retry)."""

    done: dict[int, Done] = field(default_factory=dict)
    failed: dict[int, B24AppError] = field(default_factory=dict)


def process_many(deps: Deps, member_id: str, workflow_code: str, triggers: Mapping[int, Trigger]) -> Outcome:
    """Lock, read, decide, perform for every item of ``triggers`` (item id -> its trigger)."""
    names = item_names(deps, member_id, workflow_code)
    ids = sorted(triggers)
    outcome = Outcome()
    with ExitStack() as stack:
        locks = {i: stack.enter_context(process.item_lock(deps, member_id, names.entity_type_id, i)) for i in ids}
        retry: list[int] = []
        decided: dict[int, tuple[read.Loaded, list[Action]]] = {}
        for item_id, loaded in load_many(deps, member_id, workflow_code, ids).items():
            if isinstance(loaded, B24AppError):
                retry.append(item_id)
            elif loaded is None:
                outcome.done[item_id] = (None, [])
            else:
                decided[item_id] = process.actions_for(deps, member_id, workflow_code, loaded, triggers[item_id])
        retry += _write(deps, member_id, decided, triggers, locks, outcome)
        for item_id in sorted(retry):
            try:
                again = read.load(deps, member_id, workflow_code, item_id)
                outcome.done[item_id] = process.act(deps, member_id, workflow_code, again, triggers[item_id],
                                                    locks[item_id])
            except B24AppError as exc:
                log.warning("item %s of %s failed on its own path too: %s", item_id, workflow_code, exc)
                outcome.failed[item_id] = exc
    return outcome


def load_many(deps: Deps, member_id: str, workflow_code: str,
              ids: list[int]) -> dict[int, read.Loaded | B24AppError | None]:
    """The items read in shared requests: per item what :func:`read.load` would give, or its error."""
    plans = {i: read.plan(deps, member_id, workflow_code, i) for i in ids}
    packed = batching.pack([(i, p.commands) for i, p in plans.items()])
    answers = _send(deps.bitrix(member_id), packed)
    found: dict[int, read.Loaded | B24AppError | None] = {}
    for item_id in ids:
        try:
            if item_id in packed.alone:
                found[item_id] = read.load(deps, member_id, workflow_code, item_id)
            else:
                found[item_id] = read.interpret(deps, member_id, plans[item_id], answers[item_id])
        except B24AppError as exc:
            log.warning("item %s could not be read in the shared batch: %s", item_id, exc)
            found[item_id] = exc
    return found


def _write(deps: Deps, member_id: str, decided: Mapping[int, tuple[read.Loaded, list[Action]]],
           triggers: Mapping[int, Trigger], locks: Mapping[int, Lock], outcome: Outcome) -> list[int]:
    """The two write rounds; returns the items to retry on their own path."""
    client = deps.bitrix(member_id)
    retry: list[int] = []
    prepared: dict[int, perform.Prepared] = {}
    for item_id, (loaded, actions) in decided.items():
        try:
            process.renew(locks[item_id], item_id)
        except process.ItemBusy as exc:         # a slow read: another worker may have acted — write nothing
            outcome.failed[item_id] = exc
            continue
        prepared[item_id] = perform.prepare(deps, member_id, loaded, actions, triggers[item_id])
    items = _send(client, batching.pack([(i, _only(p.commands, True)) for i, p in prepared.items()
                                         if "item" in p.commands], share=False), halt=False)
    reached: list[int] = []
    busy: dict[int, process.ItemBusy] = {}
    for item_id, ready in prepared.items():
        if "item" not in ready.commands or items[item_id].ok("item"):
            try:
                process.renew(locks[item_id], item_id)
            except process.ItemBusy as exc:     # its update is written and concluded below; the rest is not sent
                busy[item_id] = exc
                continue
            reached.append(item_id)
    rest_packed = batching.pack([(i, _only(prepared[i].commands, False)) for i in reached
                                 if _only(prepared[i].commands, False)], share=False)
    rest = _send(client, rest_packed, halt=False)
    for item_id, ready in prepared.items():
        loaded, actions = decided[item_id]
        parts = [a for a in (items.get(item_id), rest.get(item_id)) if a is not None]
        try:
            written = perform.conclude(deps, member_id, loaded, actions, ready, merge_batches(parts)) \
                if parts else None
        except B24AppError as exc:
            log.warning("the shared write of item %s failed (%s); it takes its own path", item_id, exc)
            retry.append(item_id)
            continue
        if item_id in busy:
            outcome.failed[item_id] = busy[item_id]
        elif item_id in rest_packed.alone:      # too many commands for one request: the single path's turn
            retry.append(item_id)
        else:
            process.record_written(deps, member_id, loaded, actions, written)
            outcome.done[item_id] = (loaded, actions)
    return retry


def _only(commands: Mapping[str, Command], item: bool) -> dict[str, Command]:
    """The item's ``crm.item.update`` (``item``), or every other command."""
    return {k: c for k, c in commands.items() if (k == "item") == item}


def _send(client: Bitrix24, packed: batching.Packed, *, halt: bool = False) -> dict[int, BatchResult]:
    """Each packed request (at most 50 commands: one HTTP request each); every part's own answer."""
    if not packed.requests:
        return {}
    answer = merge_batches([client.batch(request, halt=halt) for request in packed.requests])
    return {part: batching.answer_of(answer, keys) for part, keys in packed.keys.items()}
