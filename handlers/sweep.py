"""The 5-minute timer: catch up on lost events, then the escalation sweep (and, when due, the digest).

Thin: :func:`handlers.offline.catch_up` refreshes every item the offline event queue names (through the
item pipeline), then :func:`b24app.escalation.sweep.sweep` reads every open request and sends what is due.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from typing import TYPE_CHECKING

from b24app.errors import B24AppError
from b24app.escalation.people import changed_targets, extended_offline
from b24app.escalation.sweep import SweepReport, sweep
from b24app.pipeline.process import process
from b24app.workflow.actions import Refresh
from handlers.offline import CatchUp, catch_up

if TYPE_CHECKING:
    from b24app.deps import Deps

log = logging.getLogger(__name__)


def run_sweep(deps: Deps, member_id: str, now: datetime | None = None, digest: bool = False) -> SweepReport:
    """One sweep of one portal; with ``digest``, also the daily digest when it is due.

    On a plan without ``rest_offline_extended`` the offline queue is no backstop: the items changed since
    the last sweep are refreshed instead (:func:`b24app.escalation.people.changed_targets`). Requests whose
    approver was dismissed are refreshed after the sweep, which re-routes them."""
    started = time.thread_time()
    extended = not member_id or _extended(deps, member_id)
    caught = catch_up(deps, member_id) if extended else CatchUp()
    report = sweep(deps, member_id, now, digest, offline=(caught.requests, len(caught.targets)), started=started)
    if not extended and report.now is not None:      # since the last sweep, by the portal's clock
        changed, asked = changed_targets(deps, member_id, report.now)
        _refresh(deps, member_id, changed)
        report.offline_requests, report.offline_items = asked, len(changed)
        report.http_requests += asked
    _refresh(deps, member_id, report.dismissed)
    return report


def _extended(deps: Deps, member_id: str) -> bool:
    try:
        return extended_offline(deps, member_id)
    except B24AppError as exc:
        log.warning("feature.get on %s failed: %s; reading the offline queue", member_id, exc)
        return True


def _refresh(deps: Deps, member_id: str, targets: list[tuple[str, int]]) -> None:
    for code, item_id in dict.fromkeys(targets):
        try:
            process(deps, member_id, code, item_id, Refresh("sweep"))
        except B24AppError as exc:
            log.warning("refreshing %s #%s failed: %s", code, item_id, exc)
