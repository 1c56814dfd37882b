"""The daily digest for the operations manager: requests waiting past their allowance, overdue accounting
tasks, frozen requests — on working days from 09:30 (portal time), once a day.

The sweep sends it (``run_sweep(..., digest=True)``, every 5 minutes) from the requests it has just read,
so it costs no extra reads: the first sweep at or after 09:30 on a working day claims the day's marker
(``keys.digest``) with ``SET NX`` and sends; every later sweep that day finds the marker.
``run_digest`` reads and sends on its own (``b24app digest``; ``force`` ignores the time of day and the
working calendar, not the marker).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from b24app import keys
from b24app.control.link import control_room_url
from b24app.escalation.read import Collected, Found, collect
from b24app.escalation.rules import OpenTask, overdue_tasks, past_allowance, used_time
from b24app.notify.base import Message
from b24app.notify.deliver import bitrix24_notifier, portal_domain, telegram_notifier
from b24app.texts import common as texts
from b24app.texts.control import with_control_room
from b24app.texts.escalation import digest_message, request_card
from b24app.workflow.actors import OPERATIONS_MANAGER, effective

if TYPE_CHECKING:
    from b24app.deps import Deps

log = logging.getLogger(__name__)
DIGEST_AT = time(9, 30)
CLAIM_TTL = keys.CLAIM_TTL
SENT_TTL = keys.DIGEST_SENT_TTL


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
    frozen = [f for f in collected.found if f.request.paused and f.snap.route_log
              and f.snap.route_log[-1].decision == "freeze"]
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
    marker = keys.digest(member_id, day)
    if not deps.redis.set(marker, "pending", nx=True, ex=CLAIM_TTL):
        return DigestReport(member_id, day, False, "already sent")
    waiting, overdue, frozen = sections(collected)
    domain = portal_domain(deps, member_id, strict=True)

    def waited(found: Found) -> timedelta:
        return used_time(found.request, collected.now, defs.calendar)

    message = digest_message(day, [
        (texts.DIGEST_WAITING, [request_card(f, domain, waited(f)) for f in waiting]),
        (texts.DIGEST_OVERDUE_TASKS, [request_card(f, domain, waited(f), t) for f, t in overdue]),
        (texts.DIGEST_FROZEN, [request_card(f, domain, waited(f)) for f in frozen]),
    ])
    room, asked = control_room_url(deps, member_id, domain)
    message = with_control_room(message, room)
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
    report = DigestReport(member_id, day, True, "sent", len(waiting), len(overdue), len(frozen), 1 + asked)
    log.info("%s", report.summary())
    return report


def _send(deps: Deps, member_id: str, user: int, message: Message) -> None:
    bitrix24_notifier(deps.bitrix(member_id)).notify(user, message)
    telegram = telegram_notifier(deps, member_id)
    if telegram is not None:
        telegram.notify(user, message)
