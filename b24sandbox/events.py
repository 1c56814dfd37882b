"""Event delivery as a Bitrix24 portal does it (REFERENCE §3).

Areas announce changes with ``state.emit(event, data, user_id)``. The :class:`EventDispatcher` matches
the app's bindings (the generic name and the per-type ``{EVENT}_{ENTITY_TYPE_ID}`` variant), and for
each online binding queues one form-encoded POST: ``event``, ``event_handler_id``, ``data[...]``,
``ts``, ``auth[...]`` — every scalar a string, ``auth`` carrying an access token of the user who caused
the change (or of the binding's ``auth_type`` user), or no tokens at all when an automation rule,
workflow or agent caused it (``user_id=None``, or inside :meth:`EventDispatcher.automation`). As the
events page says, ``refresh_token`` comes only with events that need long-term access (``ONAPPINSTALL``,
``ONOFFLINEEVENT``); ``refresh_in_auth=True`` adds it to every event, as the documented examples show.
A background thread delivers the queue after the triggering call; failures are recorded, never
retried. Nothing is sent before the app's installation is finished. Offline bindings collect rows
for ``event.offline.get`` instead.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from b24sandbox import oauth, phpquery
from b24sandbox.faults import Faults
from b24sandbox.state import PortalState

log = logging.getLogger(__name__)

Poster = Callable[[str, list[tuple[str, str]]], int]


@dataclass
class Binding:
    id: int
    event: str
    handler: str
    auth_type: int
    offline: bool
    client_id: str
    auth_connector: str = ""
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class OfflineRow:
    id: int
    timestamp: str
    event: str
    data: Any
    additional: Any
    message_id: str
    key: tuple[str, str]
    process_id: str = ""
    error: bool = False

    def public(self, with_state: bool = False) -> dict[str, Any]:
        row = {"ID": str(self.id), "TIMESTAMP_X": self.timestamp, "EVENT_NAME": self.event,
               "EVENT_DATA": self.data, "EVENT_ADDITIONAL": self.additional, "MESSAGE_ID": self.message_id}
        if with_state:
            row |= {"PROCESS_ID": self.process_id, "ERROR": "1" if self.error else "0"}
        return row


@dataclass
class EventStore:
    bindings: list[Binding] = field(default_factory=list)
    offline: list[OfflineRow] = field(default_factory=list)
    last_offline_signal: float = 0.0


def store(state: PortalState) -> EventStore:
    return state.area("events", EventStore)


@dataclass(frozen=True)
class Delivery:
    """One attempted POST to a handler (``status`` is None when the connection failed)."""

    event: str
    handler: str
    pairs: tuple[tuple[str, str], ...]
    status: int | None
    error: str = ""

    def decoded(self) -> dict[str, Any]:
        return phpquery.decode(self.pairs)


def stringify(value: Any) -> Any:
    """Scalars as PHP would print them into a form: ints/floats as text, true "1", false/None ""."""
    if isinstance(value, dict):
        return {str(k): stringify(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [stringify(v) for v in value]
    if isinstance(value, bool):
        return "1" if value else ""
    if value is None:
        return ""
    return str(value)


class EventDispatcher:
    def __init__(self, state: PortalState, faults: Faults, poster: Poster, refresh_in_auth: bool = False,
                 task_handler_id: bool = True, delay: float = 0.0) -> None:
        self.state = state
        self.delay = delay  # seconds every delivery waits: a real portal delivers through a queue (§3.2)
        self.faults = faults
        self.refresh_in_auth = refresh_in_auth
        self.task_handler_id = task_handler_id  # UNVERIFIED whether task events carry event_handler_id
        self.deliveries: list[Delivery] = []
        self.dropped: list[tuple[str, str]] = []
        self.suppressed = 0
        self._poster = poster
        self._cond = threading.Condition()
        self._queue: list[tuple[float, int, str, str, list[tuple[str, str]]]] = []
        self._held: list[tuple[str, str, list[tuple[str, str]]]] = []
        self._seq = itertools.count()
        self._busy = 0
        self._stop = False
        self._thread: threading.Thread | None = None
        self._cause = threading.local()
        state.subscribe(self.on_event)

    @contextmanager
    def automation(self) -> Iterator[None]:
        """Changes made inside come from an automation rule or agent: their events carry no tokens."""
        self._cause.automated = True
        try:
            yield
        finally:
            self._cause.automated = False

    # --- lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="sandbox-events", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        if self._thread:
            self._thread.join(timeout=5)

    def drain(self, timeout: float = 5.0) -> bool:
        """Wait until every queued delivery has been attempted; ``False`` on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            self._release_held()
            while self._queue or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.05))
        return True

    # --- emission ------------------------------------------------------------------------------

    def on_event(self, event: str, data: dict[str, Any], user_id: int | None) -> None:
        app = oauth.installed_app(self.state)
        if app is None or not app.installed:
            self.suppressed += 1
            return
        names = {event}
        fields = data.get("FIELDS") if isinstance(data, dict) else None
        if isinstance(fields, dict) and fields.get("ENTITY_TYPE_ID") not in (None, ""):
            names.add(f"{event}_{fields['ENTITY_TYPE_ID']}")
        bindings = [b for b in store(self.state).bindings if b.event in names and b.client_id == app.client_id]
        automated = bool(getattr(self._cause, "automated", False))
        for binding in bindings:
            if binding.offline:
                self._add_offline(binding, data, None if automated else user_id)
            elif automated:
                self.send(binding, data, None, auth=self.auth_block(None))
            else:
                self.send(binding, data, user_id)

    def send(self, binding: Binding, data: Any, user_id: int | None, auth: dict[str, Any] | None = None) -> None:
        """Queue one online delivery of ``binding`` (the event name sent is the bound name)."""
        uid = binding.auth_type or user_id
        payload: dict[str, Any] = {"event": binding.event, "event_handler_id": binding.id}
        if binding.event.startswith("ONTASK") and not self.task_handler_id:
            del payload["event_handler_id"]
        payload |= {"data": data, "ts": int(self.state.clock.timestamp()),
                    "auth": auth if auth is not None else self.auth_block(uid)}
        self.enqueue(binding.event, binding.handler, phpquery.flatten(stringify(payload)))

    def auth_block(self, user_id: int | None, refresh: bool | None = None) -> dict[str, Any]:
        app = oauth.installed_app(self.state)
        assert app is not None
        ends = oauth.store(self.state).endpoints
        portal = self.state.portal
        if user_id is None or user_id not in self.state.users:
            return {"domain": portal.domain, "client_endpoint": ends.client_endpoint,
                    "server_endpoint": ends.server_endpoint, "member_id": portal.member_id,
                    "application_token": app.application_token}
        tokens = oauth.issue_user_tokens(self.state, user_id)
        block = {
            "access_token": tokens["access_token"], "expires_in": tokens["expires_in"], "scope": tokens["scope"],
            "domain": portal.domain, "server_endpoint": ends.server_endpoint, "status": tokens["status"],
            "client_endpoint": ends.client_endpoint, "member_id": portal.member_id,
        }
        if self.refresh_in_auth if refresh is None else refresh:
            block["refresh_token"] = tokens["refresh_token"]
        block["application_token"] = app.application_token
        return block

    def enqueue(self, event: str, handler: str, pairs: list[tuple[str, str]]) -> None:
        plan = self.faults.plan_event()
        with self._cond:
            if plan.drop:
                self.dropped.append((event, handler))
                return
            held, self._held = self._held, []
            for _ in range(plan.copies):
                if plan.hold and not held:
                    self._held.append((event, handler, pairs))
                else:
                    self._push(time.monotonic() + plan.delay, event, handler, pairs)
            for item in held:
                self._push(time.monotonic(), *item)
            self._cond.notify_all()

    def _push(self, due: float, event: str, handler: str, pairs: list[tuple[str, str]]) -> None:
        heapq.heappush(self._queue, (due + self.delay, next(self._seq), event, handler, pairs))

    def _release_held(self) -> None:
        held, self._held = self._held, []
        for item in held:
            self._push(time.monotonic(), *item)

    # --- delivery thread -----------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._cond:
                item = self._next_due()
                if item is None:
                    return
                self._busy += 1
            _, _, event, handler, pairs = item
            try:
                self._deliver(event, handler, pairs)
            finally:
                with self._cond:
                    self._busy -= 1
                    self._cond.notify_all()

    def _next_due(self) -> tuple[float, int, str, str, list[tuple[str, str]]] | None:
        while not self._stop:
            if self._held and not self._queue:  # a held event goes out after the next one, or soon
                self._cond.wait(2.0)
                if self._held and not self._queue:
                    self._release_held()
                continue
            if self._queue and self._queue[0][0] <= time.monotonic():
                return heapq.heappop(self._queue)
            wait = self._queue[0][0] - time.monotonic() if self._queue else 0.5
            self._cond.wait(max(0.001, min(wait, 0.5)))
        return None

    def _deliver(self, event: str, handler: str, pairs: list[tuple[str, str]]) -> None:
        try:
            status: int | None = self._poster(handler, pairs)
            error = ""
        except Exception as exc:  # the portal logs failed deliveries and moves on (no retries)
            status, error = None, f"{type(exc).__name__}: {exc}"
            log.info("sandbox event %s to %s failed: %s", event, handler, error)
        self.deliveries.append(Delivery(event, handler, tuple(pairs), status, error))

    # --- offline queue -------------------------------------------------------------------------

    def _add_offline(self, binding: Binding, data: dict[str, Any], user_id: int | None) -> None:
        events = store(self.state)
        fields = data.get("FIELDS") if isinstance(data, dict) else None
        object_id = str(fields.get("ID", "")) if isinstance(fields, dict) else ""
        key = (binding.event, object_id or str(next(self._seq)))
        events.offline = [r for r in events.offline if r.key != key or r.process_id]
        row_id = self.state.next_id("offline_event")
        additional = {"user_id": str(user_id)} if user_id is not None else False
        events.offline.append(OfflineRow(row_id, self.state.iso(), binding.event, stringify(data), additional,
                                         str(row_id), key))
        self._signal_offline(events)

    def _signal_offline(self, events: EventStore) -> None:
        now = self.state.clock.timestamp()
        for binding in events.bindings:
            if binding.event == "ONOFFLINEEVENT" and not binding.offline:
                min_timeout = float(binding.options.get("minTimeout", 1) or 1)
                if now - events.last_offline_signal >= min_timeout:
                    events.last_offline_signal = now
                    self.send(binding, [], None, auth=self.auth_block(self._admin_id(), refresh=True))

    def _admin_id(self) -> int | None:
        return next((u.id for u in self.state.users.values() if u.admin), None)
