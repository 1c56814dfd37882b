"""Button presses: opaque ``callback_data`` references, decided-step markers, and the action registry.

``callback_data`` is a 16-character reference to a record in Redis (Telegram allows 64 bytes), so
nothing a client sends is trusted beyond "which button". The engine registers one handler per action
name; the handler decides entitlement and does the work (see ``ActionHandler``).

Redis keys (prefix ``b24app:tg:``):
  cb:{ref}                                   JSON CallbackRecord (TTL ``RECORD_TTL``)
  decided:{member_id}:{etid}:{item_id}:{step} JSON Decision
  reason:{chat_id}                           JSON PendingReason (a reject waiting for its reason)
  round:{member_id}:{etid}:{item_id}         the item's current approval round (written by the engine)

A record carries the round its button was sent in; a press from another round is stale (the engine's
action handlers refuse it), so an old «Согласовать» cannot decide the same step of a later round.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from redis import Redis

from b24app import keys
from b24app.telegram.links import Clock, utcnow

RECORD_TTL = timedelta(days=30)
REASON_TTL = timedelta(hours=1)


@dataclass(frozen=True)
class StepRef:
    """One step of one item of one portal: what a decision is about."""

    member_id: str
    entity_type_id: int
    item_id: int
    step: str

    @property
    def step_key(self) -> str:
        return f"{self.member_id}:{self.entity_type_id}:{self.item_id}:{self.step}"


@dataclass(frozen=True)
class CallbackRecord:
    """What one button means, kept server-side."""

    member_id: str
    entity_type_id: int
    item_id: int
    step: str
    action: str
    #: The approval round the button was sent in (a resubmission starts a new one); None when unknown.
    #: :meth:`CallbackStore.create` fills it from the item's current round (:meth:`CallbackStore.set_round`).
    round: int | None = None

    @property
    def step_ref(self) -> StepRef:
        return StepRef(self.member_id, self.entity_type_id, self.item_id, self.step)

    @property
    def step_key(self) -> str:
        return self.step_ref.step_key


@dataclass(frozen=True)
class Decision:
    """Who decided a step and when (shown on stale buttons)."""

    by_user_id: int
    by_name: str
    at: datetime
    action: str


class Status(Enum):
    DONE = "done"  # the decision was made; the message is edited to show ``text`` without buttons
    REFUSED = "refused"  # not entitled / not possible; nothing changed, the presser sees ``text``
    STALE = "stale"  # the step was already decided elsewhere; the presser sees ``text``


@dataclass(frozen=True)
class Outcome:
    status: Status
    text: str
    decided_by_name: str = ""  # for DONE: who is recorded as having decided (shown on stale buttons)
    decided_at: datetime | None = None  # for DONE: the portal's time of the decision (default: now)

    @classmethod
    def done(cls, text: str, decided_by_name: str = "", decided_at: datetime | None = None) -> Outcome:
        return cls(Status.DONE, text, decided_by_name, decided_at)

    @classmethod
    def refused(cls, text: str) -> Outcome:
        return cls(Status.REFUSED, text)

    @classmethod
    def stale(cls, text: str) -> Outcome:
        return cls(Status.STALE, text)


@dataclass(frozen=True)
class Press:
    """A press by a linked person, handed to the action handler."""

    member_id: str  # the presser's portal (equals record.member_id)
    user_id: int  # the presser's Bitrix24 user id
    record: CallbackRecord
    reason: str | None = None  # for actions registered with needs_reason=True: non-empty text


ActionHandler = Callable[[Press], Outcome]


@dataclass(frozen=True)
class Action:
    name: str
    handler: ActionHandler
    needs_reason: bool


class ActionRegistry:
    """Action handlers by name; the engine registers "approve", "reject", ... at import time."""

    def __init__(self) -> None:
        self._actions: dict[str, Action] = {}

    def register(self, name: str, *, needs_reason: bool = False) -> Callable[[ActionHandler], ActionHandler]:
        def decorator(handler: ActionHandler) -> ActionHandler:
            self.add(name, handler, needs_reason=needs_reason)
            return handler

        return decorator

    def add(self, name: str, handler: ActionHandler, *, needs_reason: bool = False) -> None:
        if len(name.encode()) > 32:
            raise ValueError(f"action name too long: {name!r}")
        self._actions[name] = Action(name, handler, needs_reason)

    def get(self, name: str) -> Action | None:
        return self._actions.get(name)

    def remove(self, name: str) -> None:
        self._actions.pop(name, None)

    def clear(self) -> None:
        self._actions.clear()


actions = ActionRegistry()
"""The process-wide registry the webhook and the worker use."""


@dataclass(frozen=True)
class PendingReason:
    """A reject press waiting for the reason as the chat's next message."""

    ref: str
    user_id: int
    message_id: int
    message_text: str


class CallbackStore:
    """Callback records, decided markers and pending reasons in Redis."""

    def __init__(self, redis: Redis, clock: Clock = utcnow) -> None:
        self._r = redis
        self._clock = clock

    def set_round(self, member_id: str, entity_type_id: int, item_id: int, round_: int) -> None:
        """The item's current approval round: buttons created from now on belong to it."""
        self._r.set(keys.tg("round", member_id, entity_type_id, item_id), str(round_),
                    ex=int(RECORD_TTL.total_seconds()))

    def current_round(self, member_id: str, entity_type_id: int, item_id: int) -> int | None:
        raw = self._r.get(keys.tg("round", member_id, entity_type_id, item_id))
        text = raw.decode() if isinstance(raw, bytes) else raw
        return int(text) if text and str(text).isdigit() else None

    def create(self, record: CallbackRecord) -> str:
        if record.round is None:
            found = self.current_round(record.member_id, record.entity_type_id, record.item_id)
            record = replace(record, round=found)
        ref = secrets.token_urlsafe(12)  # 16 chars, well under the 64-byte callback_data limit
        ttl = int(RECORD_TTL.total_seconds())
        self._r.set(keys.tg("cb", ref), json.dumps(asdict(record)), ex=ttl)
        return ref

    def get(self, ref: str) -> CallbackRecord | None:
        if not ref or len(ref) > 64:
            return None
        raw = self._r.get(keys.tg("cb", ref))
        return CallbackRecord(**json.loads(raw)) if raw else None

    def mark_decided(self, step: StepRef | CallbackRecord, by_user_id: int, by_name: str,
                     at: datetime | None = None, action: str = "") -> bool:
        """Record who decided this step; False when it was already marked (the first marker wins)."""
        action = action or getattr(step, "action", "")
        decision = Decision(by_user_id, by_name, at or self._clock(), action)
        value = json.dumps({**asdict(decision), "at": decision.at.isoformat()})
        ttl = int(RECORD_TTL.total_seconds())
        return bool(self._r.set(keys.tg("decided", step.step_key), value, nx=True, ex=ttl))

    def decision(self, step: StepRef | CallbackRecord) -> Decision | None:
        raw = self._r.get(keys.tg("decided", step.step_key))
        if raw is None:
            return None
        data: dict[str, Any] = json.loads(raw)
        return Decision(int(data["by_user_id"]), str(data["by_name"]), datetime.fromisoformat(data["at"]), data["action"])

    def reopen(self, step: StepRef | CallbackRecord) -> None:
        """The step waits for a decision again (a new round, back from a pause): its buttons work again."""
        self._r.delete(keys.tg("decided", step.step_key))

    def step_lock(self, record: CallbackRecord, seconds: int = 120) -> bool:
        return bool(self._r.set(keys.tg("deciding", record.step_key), "1", nx=True, ex=seconds))

    def release_step_lock(self, record: CallbackRecord) -> None:
        self._r.delete(keys.tg("deciding", record.step_key))

    def remember_message(self, step_key: str, chat_id: int, message_id: int) -> None:
        """A message with this step's buttons was delivered (its buttons are removed once the step is decided)."""
        key = keys.tg("stepmsgs", step_key)
        self._r.sadd(key, f"{chat_id}:{message_id}")
        self._r.expire(key, int(RECORD_TTL.total_seconds()))

    def step_messages(self, step: StepRef | CallbackRecord) -> list[tuple[int, int]]:
        members = self._r.smembers(keys.tg("stepmsgs", step.step_key))
        pairs = (m.decode() if isinstance(m, bytes) else str(m) for m in members)
        return sorted((int(c), int(m)) for c, _, m in (p.partition(":") for p in pairs))

    def take_messages(self, step: StepRef | CallbackRecord) -> list[tuple[int, int]]:
        """The delivered messages with this step's buttons, forgotten as they are returned (to close them once)."""
        key = keys.tg("stepmsgs", step.step_key)
        with self._r.pipeline(transaction=True) as pipe:
            pipe.smembers(key)
            pipe.delete(key)
            members, _ = pipe.execute()
        pairs = (m.decode() if isinstance(m, bytes) else str(m) for m in members)
        return sorted((int(c), int(m)) for c, _, m in (p.partition(":") for p in pairs))

    # -- reasons ----------------------------------------------------------------------------------
    def await_reason(self, chat_id: int, pending: PendingReason) -> None:
        ttl = int(REASON_TTL.total_seconds())
        self._r.set(keys.tg("reason", chat_id), json.dumps(asdict(pending)), ex=ttl)

    def pending_reason(self, chat_id: int) -> PendingReason | None:
        raw = self._r.get(keys.tg("reason", chat_id))
        return PendingReason(**json.loads(raw)) if raw else None

    def take_reason(self, chat_id: int) -> PendingReason | None:
        raw = self._r.getdel(keys.tg("reason", chat_id))
        return PendingReason(**json.loads(raw)) if raw else None
