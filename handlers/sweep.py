"""The escalation sweep: read every open request, decide which reminders and alerts are due, send each once.

``run_sweep(deps, member_id, now=None)`` first catches up on events that were lost (``handlers.offline``:
the offline event queue, one request when it is empty; each item found is refreshed once), then reads
(``handlers.sweep_read``: a few ``batch`` requests), decides
with :func:`b24app.escalation.due_notices` (pure), and delivers. Once only, per notice and recipient:

* a marker ``b24app:esc:{member}:{notice key}:u{user}`` is claimed with ``SET NX`` ("pending", 10 minutes)
  before sending, so an overlapping or repeated sweep skips it; it becomes "sent" (90 days) after the
  portal accepted the notification, and is released when sending failed — the next sweep retries, so a
  crash or a restart loses nothing (a claim left by a crashed sweep expires after 10 minutes);
* the Bitrix24 notification's ``TAG`` is derived from the same key, so if Redis is lost the repeat
  replaces the earlier notification on the portal: at most one repeated notice per rule and request.

Bitrix24 notifications go 50 to a ``batch``; Telegram (when a bot token is configured and the person
linked a chat) through ``b24app.notify.telegram.TelegramNotifier`` with the decision buttons.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from b24app.errors import B24AppError
from b24app.escalation import Notice, due_notices
from b24app.escalation_texts import bitrix_text, notice_message
from b24app.notify.base import Message, bounded_tag
from b24app.notify.itemnotes import item_url
from b24app.telegram.texts import RequestCard
from b24app.workflow.actors import user_names
from b24app.workflow.snapshot import money
from handlers.offline import catch_up
from handlers.sweep_read import Batcher, Collected, Found, collect, marker

if TYPE_CHECKING:
    from b24app.deps import Deps

log = logging.getLogger(__name__)
CLAIM_TTL = 600
SENT_TTL = 90 * 24 * 3600
NAMES_TTL = 24 * 3600


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

    def summary(self) -> str:
        tg = "on" if self.telegram_enabled else "off (Bitrix24 only)"
        return (f"sweep {self.member_id or '(webhook)'} at {self.now:%Y-%m-%d %H:%M %Z}: "
                f"{self.open_requests} open requests, {self.due} notices due, {self.sent} sent, "
                f"{self.skipped} taken by another sweep, {self.failed} failed; Telegram {tg}; "
                f"{self.http_requests} REST requests, {self.cpu_seconds:.3f} s CPU")


def run_sweep(deps: Deps, member_id: str, now: datetime | None = None, digest: bool = False) -> SweepReport:
    """One sweep of one portal; with ``digest``, also the daily digest when it is due (``handlers.digest``)."""
    started = time.thread_time()
    caught = catch_up(deps, member_id)
    collected = collect(deps, member_id, now, skip_sent_tasks=True)
    report = SweepReport(member_id, collected.now, open_requests=len(collected.found))
    report.reads = report.http_requests = collected.http_requests
    report.offline_requests, report.offline_items = caught.requests, len(caught.targets)
    report.http_requests += caught.requests
    deliveries = plan(deps, member_id, collected)
    report.due = len(deliveries)
    send(deps, member_id, deliveries, report)
    if digest:
        from handlers.digest import deliver_digest

        report.digest = deliver_digest(deps, member_id, collected).reason
    report.cpu_seconds = time.thread_time() - started
    log.info("%s", report.summary())
    return report


# -- deciding -----------------------------------------------------------------------------------------

def due_for(collected: Collected, found: Found) -> list[Notice]:
    defs = collected.defs
    return due_notices(found.step, found.request, collected.now, defs.calendar, roles=defs.roles,
                       absences=defs.org.absences)


def unsent(deps: Deps, member_id: str, pairs: list[tuple[Found, Notice]]) -> list[tuple[Found, Notice]]:
    """The notices with a delivery not remembered as sent or claimed (one pipelined round trip)."""
    pipe = deps.redis.pipeline()
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
    domain = portal_domain(deps, member_id)
    deliveries: list[Delivery] = []
    for found, notice in pairs:
        message = notice_message(notice, card_for(found, notice, domain), names, found.request.approver)
        for key, user in notice.deliveries():
            deliveries.append(Delivery(marker(member_id, key), user, notice, found, message))
    return deliveries


def card_for(found: Found, notice: Notice, domain: str) -> RequestCard:
    request, workflow = found.request, found.workflow
    name = workflow.stage(found.step.stage).name
    amount, currency = money(request.fields.get("AMOUNT"))
    return RequestCard(
        entity_type_id=request.entity_type_id, item_id=request.item_id, title=request.title,
        counterparty=str(request.fields.get("COUNTERPARTY_NAME") or "—"), amount=amount, currency=currency,
        step=found.step.code, step_name_ru=name.ru, step_name_en=name.en, waiting=notice.used,
        url=item_url(domain, request.entity_type_id, request.item_id),
    )


def portal_domain(deps: Deps, member_id: str) -> str:
    if member_id:
        return deps.installations.get(member_id).domain
    from b24app.settings import webhook_parts

    url = deps.settings.webhook_url
    return webhook_parts(url.get_secret_value())[0] if url is not None else "portal"


def people_names(deps: Deps, member_id: str, users: Iterable[int]) -> dict[int, str]:
    """Display names, cached in the engine's Redis hash (one ``user.get`` for the ones not known yet)."""
    key = f"b24app:names:{member_id}"
    known = {int(k): v.decode() if isinstance(v, bytes) else str(v) for k, v in deps.redis.hgetall(key).items()}
    missing = sorted(u for u in set(users) if u not in known)
    if missing:
        fetched = user_names(deps.bitrix(member_id).call("user.get", {"FILTER": {"ID": missing}}))
        known.update(fetched)
        if fetched:
            deps.redis.hset(key, mapping={str(k): v for k, v in fetched.items()})
            deps.redis.expire(key, NAMES_TTL)
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
    telegram = _telegram(deps, member_id)
    report.telegram_enabled = telegram is not None
    to_portal = [d for d in claimed if "bitrix24" in d.notice.channels]
    others = [d for d in claimed if "bitrix24" not in d.notice.channels]
    batcher = Batcher(deps.bitrix(member_id))
    try:
        accepted = _to_bitrix(batcher, to_portal) + others
    finally:
        report.http_requests += batcher.requests
    accepted_markers = {d.marker for d in accepted}
    failed = [d for d in claimed if d.marker not in accepted_markers]
    pipe = deps.redis.pipeline()
    for delivery in accepted:
        pipe.set(delivery.marker, "sent", ex=SENT_TTL)
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


def _to_bitrix(batcher: Batcher, deliveries: list[Delivery]) -> list[Delivery]:
    commands: dict[str, tuple[str, dict[str, Any]]] = {}
    for index, delivery in enumerate(deliveries):
        commands[f"n{index}"] = ("im.notify.system.add", {
            "USER_ID": delivery.user, "MESSAGE": bitrix_text(delivery.message),
            "TAG": bounded_tag(f"{delivery.message.tag}:u{delivery.user}")})
    if not commands:
        return []
    try:
        results, errors, _, _ = batcher.run(commands)
    except B24AppError:
        log.exception("sweep: sending notifications failed; they are retried by the next sweep")
        return []
    return [d for i, d in enumerate(deliveries) if f"n{i}" in results and f"n{i}" not in errors]


def _telegram(deps: Deps, member_id: str) -> Any:
    from b24app.notify.telegram import TelegramNotifier
    from b24app.telegram.config import TelegramConfig

    config = TelegramConfig.from_settings(deps.settings)
    return TelegramNotifier(member_id, deps.redis, config) if config.enabled else None
