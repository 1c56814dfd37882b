"""The daily digest for the operations manager: requests waiting past their allowance, overdue accounting
tasks, frozen requests — on working days from 09:30 (portal time), once a day.

The sweep sends it (``run_sweep(..., digest=True)``, every 5 minutes) from the requests it has just read,
so it costs no extra reads: the first sweep at or after 09:30 on a working day claims the day's marker
``b24app:digest:{member}:{date}`` with ``SET NX`` and sends; every later sweep that day finds the marker.
``run_digest`` reads and sends on its own (``b24app digest``; ``force`` ignores the time of day and the
working calendar, not the marker).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from typing import TYPE_CHECKING

from b24app.escalation import OpenTask, overdue_tasks, past_allowance, used_time
from b24app.escalation_texts import bitrix_text, digest_message
from b24app.notify.base import Message, bounded_tag
from b24app.notify.itemnotes import item_url
from b24app.telegram.texts import RequestCard
from b24app.workflow.actors import OPERATIONS_MANAGER, effective
from b24app.workflow.snapshot import money
from handlers.sweep import _telegram, portal_domain
from handlers.sweep_read import Collected, Found, collect

if TYPE_CHECKING:
    from b24app.deps import Deps

log = logging.getLogger(__name__)
DIGEST_AT = time(9, 30)
CLAIM_TTL = 600
SENT_TTL = 7 * 24 * 3600


@dataclass(frozen=True)
class DigestReport:
    member_id: str
    day: date
    sent: bool
    reason: str                  # "sent", "not a working day", "before 09:30", "already sent", ...
    waiting: int = 0
    overdue_tasks: int = 0
    frozen: int = 0
    http_requests: int = 0

    def summary(self) -> str:
        return (f"digest {self.member_id or '(webhook)'} for {self.day}: {self.reason}; {self.waiting} waiting past "
                f"their allowance, {self.overdue_tasks} overdue accounting tasks, {self.frozen} frozen")


def digest_due(now: datetime, calendar_is_working_day: bool) -> bool:
    return calendar_is_working_day and now.timetz().replace(tzinfo=None) >= DIGEST_AT


def sections(collected: Collected) -> tuple[list[Found], list[tuple[Found, OpenTask]], list[Found]]:
    """(waiting past their allowance, overdue accounting tasks, frozen) among the open requests."""
    now, calendar = collected.now, collected.defs.calendar
    waiting = [f for f in collected.found
               if not f.request.paused and past_allowance(f.step, f.request, now, calendar)]
    overdue = [(f, t) for f in collected.found if not f.request.paused and _accounting(f)
               for t in overdue_tasks(f.request, now)]
    frozen = [f for f in collected.found if f.request.paused and f.snap.log and f.snap.log[-1].decision == "freeze"]
    return waiting, overdue, frozen


def _accounting(found: Found) -> bool:
    return any(r.when is not None and r.when.name == "tasks_overdue" for r in found.step.time_rules.rules)


def run_digest(deps: Deps, member_id: str, now: datetime | None = None, force: bool = False) -> DigestReport:
    collected = collect(deps, member_id, now)
    report = deliver_digest(deps, member_id, collected, force=force)
    return replace(report, http_requests=report.http_requests + collected.http_requests)


def deliver_digest(deps: Deps, member_id: str, collected: Collected, force: bool = False) -> DigestReport:
    now, defs = collected.now, collected.defs
    day = now.date()
    if not force and not digest_due(now, defs.calendar.is_working_day(day)):
        why = "before 09:30" if defs.calendar.is_working_day(day) else "not a working day"
        return DigestReport(member_id, day, False, why)
    ops = defs.roles.get(OPERATIONS_MANAGER)
    if ops is None:
        return DigestReport(member_id, day, False, "no operations_manager in config/roles.yaml")
    marker = f"b24app:digest:{member_id}:{day.isoformat()}"
    if not deps.redis.set(marker, "pending", nx=True, ex=CLAIM_TTL):
        return DigestReport(member_id, day, False, "already sent")
    waiting, overdue, frozen = sections(collected)
    domain = portal_domain(deps, member_id)
    message = digest_message(day, [
        ("Ждут дольше срока", "Waiting past their allowance", [_card(collected, f, domain) for f in waiting]),
        ("Просрочены задачи бухгалтерии", "Overdue accounting tasks",
         [_card(collected, f, domain, t) for f, t in overdue]),
        ("Заморожены", "Frozen", [_card(collected, f, domain) for f in frozen]),
    ])
    user = effective(ops, defs.org.absences, now)
    sent = False
    try:
        _send(deps, member_id, user, message)
        sent = True
    finally:
        if sent:
            deps.redis.set(marker, "sent", ex=SENT_TTL)
        else:
            deps.redis.delete(marker)       # not sent: the next sweep tries again
    report = DigestReport(member_id, day, True, "sent", len(waiting), len(overdue), len(frozen), 1)
    log.info("%s", report.summary())
    return report


def _send(deps: Deps, member_id: str, user: int, message: Message) -> None:
    deps.bitrix(member_id).call("im.notify.system.add", {
        "USER_ID": user, "MESSAGE": bitrix_text(message), "TAG": bounded_tag(f"{message.tag}:u{user}")})
    telegram = _telegram(deps, member_id)
    if telegram is not None:
        telegram.notify(user, message)


def _card(collected: Collected, found: Found, domain: str, task: OpenTask | None = None) -> RequestCard:
    request, workflow = found.request, found.workflow
    name = workflow.stage(found.step.stage).name
    amount, currency = money(request.fields.get("AMOUNT"))
    title = f"{request.title} — {task.title}" if task is not None else request.title
    return RequestCard(
        entity_type_id=request.entity_type_id, item_id=request.item_id, title=title,
        counterparty=str(request.fields.get("COUNTERPARTY_NAME") or "—"), amount=amount, currency=currency,
        step=found.step.code, step_name_ru=name.ru, step_name_en=name.en,
        waiting=used_time(request, collected.now, collected.defs.calendar),
        url=item_url(domain, request.entity_type_id, request.item_id),
    )
