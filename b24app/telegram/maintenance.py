"""Telegram housekeeping jobs for the daily sweep: people deactivated in Bitrix24 are unlinked."""

from __future__ import annotations

import logging

from b24app.deps import current
from b24app.portals import each_portal, uninstalled
from b24app.telegram.links import LinkStore, unlink_inactive

log = logging.getLogger(__name__)


def unlink_inactive_job(member_id: str) -> list[int]:
    """RQ job (or a direct call from the sweep): unlink this portal's deactivated or deleted people."""
    deps = current()
    removed = unlink_inactive(deps.bitrix(member_id), LinkStore(deps.redis), member_id)
    if removed:
        log.info("telegram: %d deactivated people of %s unlinked", len(removed), member_id)
    return removed


def unlink_inactive_everywhere_job() -> dict[str, list[int]]:
    """The daily cron job: :func:`unlink_inactive_job` for every active installation, each isolated
    (a broken portal is logged, the others still run; then the job fails naming it)."""
    deps = current()
    targets = [i.member_id for i in deps.installations.active()]
    return each_portal(targets, unlink_inactive_job, "telegram unlink of deactivated people",
                       uninstalled(deps))
