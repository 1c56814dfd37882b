"""The escalation sweep: read every open request, decide which reminders and alerts are due, send each once.

:func:`sweep` (called by ``handlers.sweep.run_sweep`` once lost events are caught up) reads
(:mod:`b24app.escalation.read`: a few ``batch`` requests), decides
with :func:`b24app.escalation.rules.due_notices` (pure), and delivers. Once only, per notice and recipient:

* a marker ``keys.escalation(member, "{notice key}:u{user}")`` is claimed with ``SET NX`` ("pending", 10 minutes)
  before sending, so an overlapping or repeated sweep skips it; it becomes "sent" (90 days) after the
  portal accepted the notification, and is released when sending failed — the next sweep retries, so a
  crash or a restart loses nothing (a claim left by a crashed sweep expires after 10 minutes);
* the Bitrix24 notification's ``TAG`` is derived from the same key, so if Redis is lost the repeat
  replaces the earlier notification on the portal: at most one repeated notice per rule and request.

Bitrix24 notifications go 50 to a ``batch``; Telegram (when a bot token is configured and the person
linked a chat) with the decision buttons — both through :mod:`b24app.notify.deliver`.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from b24app import keys
from b24app.errors import B24AppError
from b24app.escalation import digest as daily
from b24app.escalation.people import dismissed_targets
from b24app.escalation.read import Collected, Found, collect, marker
from b24app.escalation.rules import Notice, due_notices
from b24app.notify.base import Message
from b24app.notify.deliver import bitrix24_notifier, portal_domain, telegram_notifier
from b24app.texts.escalation import notice_message, request_card
from b24app.workflow.actors import user_names

if TYPE_CHECKING:
    from b24app.deps import Deps
    from b24app.notify.base import Bitrix24Notifier

log = logging.getLogger(__name__)
CLAIM_TTL = keys.CLAIM_TTL
SENT_TTL = keys.ESCALATION_SENT_TTL


@dataclass(frozen=True)
class Delivery:
    marker: str
    user: int
    notice: Notice
    found: Found
    message: Message


@dataclass
class SweepReport:
    member_id: str
    now: datetime | None = None
    open_requests: int = 0
    due: int = 0                       # deliveries due and not sent before
    sent: int = 0                      # deliveries sent now
    skipped: int = 0                   # claimed by another sweep meanwhile (or sent just now)
    failed: int = 0
    telegram: int = 0                  # of ``sent``, also queued to Telegram
    telegram_enabled: bool = False
    reads: int = 0                     # REST requests reading the open requests (``batch``es)
    offline_requests: int = 0          # REST requests reading/clearing the offline event queue
    offline_items: int = 0             # items refreshed because of an offline event (their own requests apart)
    http_requests: int = 0             # REST requests of this sweep (reads + sends)
    cpu_seconds: float = 0.0
    notices: list[str] = field(default_factory=list)   # "key -> user" of what was sent
    digest: str = ""                   # what the daily digest did (with ``digest=True``)
    dismissed: list[tuple[str, int]] = field(default_factory=list)   # approver deactivated: to re-route

    def summary(self) -> str:
        tg = "on" if self.telegram_enabled else "off (Bitrix24 only)"
        return (f"sweep {self.member_id or '(webhook)'} at {self.now:%Y-%m-%d %H:%M %Z}: "
                f"{self.open_requests} open requests, {self.due} notices due, {self.sent} sent, "
                f"{self.skipped} taken by another sweep, {self.failed} failed; Telegram {tg}; "
                f"{self.http_requests} REST requests, {self.cpu_seconds:.3f} s CPU")


def sweep(deps: Deps, member_id: str, now: datetime | None = None, digest: bool = False,
          offline: tuple[int, int] = (0, 0), started: float | None = None) -> SweepReport:
    """One sweep of one portal; with ``digest``, also the daily digest when it is due
    (:mod:`b24app.escalation.digest`). ``offline``: (REST requests, items) of the lost events caught up
    just before; ``started``: the thread CPU time when the sweep began."""
    started = time.thread_time() if started is None else started
    with gc_paused():
        return _sweep(deps, member_id, now, digest, offline, started)


@contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector held off for the block (and restored as it was, whatever happens).

    Reading 10 000 requests allocates a few hundred thousand containers (the answers' dicts, snapshots,
    log entries, requests); allocations start collections, and the older generations' ones walk most of
    the heap — measured, a quarter to a third of the sweep's CPU at 10 000 requests (docs/performance.md).
    Nearly all the sweep allocates is freed by reference counting as it goes; a cycle left (an exception's
    traceback, say) is found by the first collection after the block."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _sweep(deps: Deps, member_id: str, now: datetime | None, digest: bool, offline: tuple[int, int],
           started: float) -> SweepReport:
    collected = collect(deps, member_id, now, skip_sent_tasks=True, approvers=True)
    report = SweepReport(member_id, collected.now, open_requests=len(collected.found))
    report.reads = report.http_requests = collected.http_requests
    report.offline_requests, report.offline_items = offline
    report.http_requests += report.offline_requests
    report.dismissed, asked = dismissed_targets(deps, member_id, collected)
    report.http_requests += asked
    deliveries = plan(deps, member_id, collected)
    report.due = len(deliveries)
    send(deps, member_id, deliveries, report)
    if digest:
        report.digest = daily.deliver_digest(deps, member_id, collected).reason
    report.cpu_seconds = time.thread_time() - started
    log.info("%s", report.summary())
    return report


# -- deciding -----------------------------------------------------------------------------------------

def due_for(collected: Collected, found: Found) -> list[Notice]:
    if found.notices is not None:
        return list(found.notices)
    defs = collected.defs
    return due_notices(found.step, found.request, collected.now, defs.calendar, roles=defs.roles,
                       absences=defs.org.absences)


def unsent(deps: Deps, member_id: str, pairs: list[tuple[Found, Notice]]) -> list[tuple[Found, Notice]]:
    """The notices with a delivery not remembered as sent or claimed (one pipelined round trip)."""
    pipe = deps.redis.pipeline(transaction=False)
    for _, notice in pairs:
        pipe.exists(*(marker(member_id, key) for key, _ in notice.deliveries()))
    return [pair for pair, count in zip(pairs, pipe.execute(), strict=True) if count < len(pair[1].recipients)]


def plan(deps: Deps, member_id: str, collected: Collected) -> list[Delivery]:
    """The deliveries due now and not sent yet, with their messages."""
    pairs = [(found, notice) for found in collected.found for notice in due_for(collected, found)]
    pairs = unsent(deps, member_id, pairs) if pairs else []
    if not pairs:
        return []
    people = {u for _, n in pairs for u in n.recipients} | {f.request.approver or 0 for f, _ in pairs}
    people |= {n.task.responsible for _, n in pairs if n.task is not None}
    names = people_names(deps, member_id, people - {0})
    domain = portal_domain(deps, member_id, strict=True)
    deliveries: list[Delivery] = []
    for found, notice in pairs:
        message = notice_message(notice, request_card(found, domain, notice.used), names, found.request.approver)
        for key, user in notice.deliveries():
            deliveries.append(Delivery(marker(member_id, key), user, notice, found, message))
    return deliveries


def people_names(deps: Deps, member_id: str, users: Iterable[int]) -> dict[int, str]:
    """Display names, cached in the engine's Redis hash (one ``user.get`` for the ones not known yet)."""
    key = keys.names(member_id)
    known = {int(k): v.decode() if isinstance(v, bytes) else str(v) for k, v in deps.redis.hgetall(key).items()}
    missing = sorted(u for u in set(users) if u not in known)
    if missing:
        fetched = user_names(deps.bitrix(member_id).call("user.get", {"FILTER": {"ID": missing}}))
        known.update(fetched)
        if fetched:
            deps.redis.hset(key, mapping={str(k): v for k, v in fetched.items()})
            deps.redis.expire(key, keys.NAMES_TTL)
    return known


# -- sending once -------------------------------------------------------------------------------------

def claim(deps: Deps, deliveries: list[Delivery]) -> list[Delivery]:
    pipe = deps.redis.pipeline()
    for delivery in deliveries:
        pipe.set(delivery.marker, "pending", nx=True, ex=CLAIM_TTL)
    return [d for d, ok in zip(deliveries, pipe.execute(), strict=True) if ok]


def send(deps: Deps, member_id: str, deliveries: list[Delivery], report: SweepReport) -> None:
    claimed = claim(deps, deliveries)
    report.skipped = len(deliveries) - len(claimed)
    telegram = telegram_notifier(deps, member_id)
    report.telegram_enabled = telegram is not None
    to_portal = [d for d in claimed if "bitrix24" in d.notice.channels]
    others = [d for d in claimed if "bitrix24" not in d.notice.channels]
    notifier = bitrix24_notifier(deps.bitrix(member_id))
    try:
        accepted = _to_bitrix(notifier, to_portal) + others
    finally:
        report.http_requests += notifier.requests
    accepted_markers = {d.marker for d in accepted}
    failed = [d for d in claimed if d.marker not in accepted_markers]
    pipe = deps.redis.pipeline()
    for delivery in accepted:
        pipe.set(delivery.marker, "sent", ex=SENT_TTL)
        _remember(pipe, member_id, delivery, report.now)
    for delivery in failed:
        pipe.delete(delivery.marker)
    pipe.execute()
    for delivery in accepted:
        report.notices.append(f"{delivery.notice.key} -> {delivery.user}")
        if telegram is not None and "telegram" in delivery.notice.channels and \
                telegram.notify(delivery.user, delivery.message):
            report.telegram += 1
    report.sent, report.failed = len(accepted), len(failed)
    if failed:
        log.warning("sweep %s: %d notifications failed; they are retried by the next sweep", member_id, len(failed))


def _remember(pipe: Any, member_id: str, delivery: Delivery, now: datetime | None) -> None:
    """The delivery in the item's history (``keys.escalation_history``), for the approval tab."""
    request = delivery.found.request
    key = keys.escalation_history(member_id, request.entity_type_id, request.item_id)
    at = now.isoformat() if now is not None else ""
    pipe.hset(key, f"{delivery.notice.key}:u{delivery.user}", f"{delivery.notice.action}|{delivery.user}|{at}")
    pipe.expire(key, SENT_TTL)


def _to_bitrix(notifier: Bitrix24Notifier, deliveries: list[Delivery]) -> list[Delivery]:
    if not deliveries:
        return []
    try:
        accepted = notifier.notify_all([(d.user, d.message) for d in deliveries])
    except B24AppError:
        log.exception("sweep: sending notifications failed; they are retried by the next sweep")
        return []
    return [d for d, ok in zip(deliveries, accepted, strict=True) if ok]
