"""The approval engine's notifications in Telegram, and the buttons they carry kept in step with the item.

``b24app.pipeline.perform`` calls :meth:`TelegramSync.after_perform` once the portal accepted a batch:

* every notification sent in Bitrix24 (``Notify``, and ``Refuse`` of a drag put back or a task reopened)
  goes to the person's linked chat with the request's details — title, counterparty, amount, current step,
  how long it has waited, the link — and, when it offers decisions at a step, «Согласовать»/«Отклонить»;
* a decision written at a step (in the card, a task, the kanban or Telegram) closes that step: presses of
  its old buttons answer who decided and when, and the delivered buttons are removed (an RQ job);
* a step that waits for a decision again (a new round, back from a pause) is reopened: its buttons work.

Only Redis work happens here (the Bot API is called by jobs), so it adds no REST request and no wait.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from redis import Redis
from rq import Queue

from b24app.notify.base import Message
from b24app.notify.telegram import TelegramNotifier
from b24app.telegram.callbacks import CallbackStore, StepRef
from b24app.telegram.config import TelegramConfig
from b24app.texts import approval as msg
from b24app.texts.common import ON_BEHALF_OF
from b24app.texts.telegram import RequestCard, engine_notice
from b24app.workflow.actions import Action, Notify, Refuse, SetFields
from b24app.workflow.models import Label, Workflow
from b24app.workflow.snapshot import Entry, Snapshot, money

Note = Notify | Refuse


@dataclass(frozen=True)
class ItemView:
    """The request as it stands after the engine's actions: what every message shows about it."""

    workflow: Workflow
    snap: Snapshot
    entity_type_id: int
    current: Entry | None  # the approval log's last entry after the actions (None: not started)
    now: datetime
    url: str
    names: Mapping[int, str]


def item_url(domain: str, entity_type_id: int, item_id: int) -> str:
    return f"https://{domain}/crm/type/{entity_type_id}/details/{item_id}/"


def written_entry(snap: Snapshot, actions: Iterable[Action]) -> Entry | None:
    """The approval log entry the actions write, if they write one."""
    for action in actions:
        entries = action.fields.get("DECISIONS") if isinstance(action, SetFields) else None
        if entries and len(entries) > len(snap.log):
            return Entry.parse(entries[-1])
    return None


def decided_by(entry: Entry, names: Mapping[int, str]) -> str:
    who = msg.person(entry.by, dict(names))
    if entry.on_behalf_of:
        who += ON_BEHALF_OF.ru.format(name=msg.person(entry.on_behalf_of, dict(names)))
    return who


def request_card(view: ItemView, step: str | None) -> RequestCard:
    workflow, snap = view.workflow, view.snap
    stage = workflow.step_name(step) if step else _stage_name(workflow, _current_stage(view))
    entered = datetime.fromisoformat(view.current.at) if view.current else view.now
    amount, currency = money(snap.fields.get("AMOUNT"))
    return RequestCard(
        entity_type_id=view.entity_type_id, item_id=snap.item_id, title=snap.title,
        counterparty=str(snap.fields.get("COUNTERPARTY_NAME") or "—"), amount=amount, currency=currency,
        step=step or "", step_name_ru=stage.ru, step_name_en=stage.en,
        waiting=max(view.now - entered, timedelta(0)), url=view.url,
    )


def message_for(view: ItemView, note: Note) -> Message:
    """The Telegram form of one engine notification."""
    step = note.step if isinstance(note, Notify) else None
    offer = note.offer if isinstance(note, Notify) and note.step else ()
    return engine_notice(request_card(view, step), note.message.ru, note.message.en, note.tag, offer)


class TelegramSync:
    """Telegram's side of one ``perform``: messages queued, steps closed and reopened."""

    def __init__(self, member_id: str, redis: Redis, config: TelegramConfig) -> None:
        self._member_id = member_id
        self._redis = redis
        self._config = config

    def after_perform(self, view: ItemView, written: Entry | None, sent: Sequence[Note]) -> int:
        """Returns how many messages were queued (people without an active link get none)."""
        if not self._config.enabled:
            return 0
        if written is not None and written.step:
            self.close(self._step(view, written.step), written, view.names)
        for note in sent:
            if isinstance(note, Notify) and note.step:
                CallbackStore(self._redis).reopen(self._step(view, note.step))
        notifier = TelegramNotifier(self._member_id, self._redis, self._config)
        return sum(1 for note in sent if notifier.notify(note.user, message_for(view, note)))

    def close(self, step: StepRef, entry: Entry, names: Mapping[int, str]) -> None:
        store = CallbackStore(self._redis)
        store.mark_decided(step, entry.by, decided_by(entry, names), datetime.fromisoformat(entry.at), entry.decision)
        delivered = store.take_messages(step)
        if delivered:
            queue = Queue(self._config.queue_name, connection=self._redis)
            queue.enqueue("b24app.telegram.runtime.remove_buttons_job", [[chat, message] for chat, message in delivered])

    def _step(self, view: ItemView, step: str) -> StepRef:
        return StepRef(self._member_id, view.entity_type_id, view.snap.item_id, step)


def _current_stage(view: ItemView) -> str:
    return view.current.stage if view.current else view.snap.stage


def _stage_name(workflow: Workflow, code: str) -> Label:
    known = any(stage.code == code for stage in workflow.stages)
    return workflow.stage(code).name if known else Label(code, code)
