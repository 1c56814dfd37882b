"""When a portal stops accepting the app: believe the portal, never a posted claim, and say it once.

* ``ONAPPUNINSTALL`` carries no tokens, and its ``application_token`` is in every widget's frame POST, so
  the event alone proves nothing. The edge enqueues :func:`confirm_uninstall` (one job per portal at a
  time), which asks the portal one cheap question with the app's own tokens (``app.info``). A portal that
  still answers, and says the app is installed, means the event was forged: it is logged and ignored.
  A genuinely uninstalled app's tokens are refused (the access token with 401 ``NO_AUTH_FOUND``, then the
  refresh with ``invalid_grant``/``invalid_client``), which is what marks the installation removed.
* :func:`portal_refused` is told by the token refresher whenever the OAuth server refuses a portal's refresh
  token for good — during that check, or any job (the 5-minute sweep included). The installation is marked
  removed (so no periodic job calls that portal again) and a *refused* marker is kept until a proved
  administrator install of that portal. Unless the portal announced its uninstall, that is an incident
  (tokens lost or rolled back, e.g. Redis restored from an old snapshot): :func:`alert_once` logs ERROR with
  the fix and tells the operations manager in Telegram when Telegram is configured; readiness
  (``/healthz/ready``) answers 503 naming the portal.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from b24app import keys
from b24app.errors import B24AppError, OAuthError
from b24app.texts.ops import ALERTS
from b24app.yamlio import ConfigError

if TYPE_CHECKING:
    from b24app.deps import Deps

log = logging.getLogger(__name__)



def request_uninstall_check(deps: Deps, member_id: str) -> bool:
    """The edge's part of ``ONAPPUNINSTALL``: remember the announcement and queue one check (coalesced
    while one is queued); False when a check is queued already."""
    from b24app import queue as queues

    deps.redis.set(keys.uninstall_announced(member_id), "1", ex=keys.ANNOUNCED_TTL)
    if not deps.redis.set(keys.uninstall_check(member_id), "1", nx=True, ex=keys.UNINSTALL_CHECK_TTL):
        return False
    queues.enqueue_once(deps.queue(queues.EVENTS), "b24app.jobs.confirm_uninstall", member_id,
                        id=queues.job_id("uninstall-check", member_id, deps.redis.incr(keys.UNINSTALL_CHECKS)),
                        retry=queues.remote_retry())
    return True


def confirm_uninstall(deps: Deps, member_id: str) -> str:
    """Ask the portal with the app's own tokens whether the app is still installed; "removed", "ignored"
    or "unknown" (no active installation to check)."""
    deps.redis.delete(keys.uninstall_check(member_id))
    installation = deps.installations.find(member_id)
    if installation is None or installation.removed:
        return "unknown"
    try:
        info = deps.bitrix(member_id).call("app.info")
    except OAuthError as exc:
        if not _refused_for_good(exc):
            raise
        log.info("uninstalled from %s: confirmed, the portal refuses the app's tokens (%s)", member_id, exc.code)
        return "removed"
    if isinstance(info, dict) and info.get("INSTALLED") is False:
        portal_refused(deps, member_id, "app.info INSTALLED=false")
        return "removed"
    deps.redis.delete(keys.uninstall_announced(member_id))
    log.warning("ONAPPUNINSTALL for %s ignored: the portal still accepts the app's tokens (a forged event — its "
                "application_token is visible to every user who opens a widget)", member_id)
    return "ignored"


def portal_refused(deps: Deps, member_id: str, reason: str) -> None:
    """The portal refuses the app for good: mark it removed, keep the refused marker, say so once."""
    installation = deps.installations.find(member_id)
    if not deps.installations.mark_removed(member_id):
        return
    deps.redis.set(keys.portal_refused(member_id), reason)
    announced = bool(deps.redis.get(keys.uninstall_announced(member_id)))
    if announced:
        deps.redis.delete(keys.portal_refused(member_id))
        log.info("installation %s marked removed: the app was uninstalled (%s); its periodic jobs stop", member_id,
                 reason)
        return
    alert_once(deps, f"refused:{member_id}", member_id, "refused",
               portal=installation.domain if installation else member_id, member=member_id, reason=reason)


def tokens_lost(deps: Deps, member_id: str) -> bool:
    """An event refused because no installation is stored for its portal. A portal the app knows (in the
    index) whose tokens are gone (evicted, or lost with part of the data), or no installation stored at all
    (Redis lost its data): said once. An unknown member id alone (a forged event) says nothing."""
    pipe = deps.redis.pipeline(transaction=False)
    pipe.sismember(keys.INSTALLATIONS, member_id)
    pipe.scard(keys.INSTALLATIONS)
    known, stored = pipe.execute()
    if known:
        return alert_once(deps, f"lost:{member_id}", member_id, "lost", portal=member_id)
    return not stored and alert_once(deps, "no-installations", None, "no-installations")


def clear_refused(deps: Deps, member_id: str) -> None:
    """A proved administrator install: the portal works again."""
    deps.redis.delete(keys.portal_refused(member_id), keys.alerted(f"refused:{member_id}"),
                      keys.alerted(f"lost:{member_id}"), keys.uninstall_announced(member_id))


def refused_portals(deps: Deps) -> list[tuple[str, str]]:
    """(member id, reason) of every portal whose tokens were refused without an announced uninstall."""
    found = []
    for key in deps.redis.scan_iter(match=keys.portal_refused("*"), count=500):
        name = key.decode() if isinstance(key, bytes) else str(key)
        reason = deps.redis.get(name)
        found.append((name.rsplit(":", 1)[-1], reason.decode() if isinstance(reason, bytes) else str(reason or "")))
    return sorted(found)


def alert_once(deps: Deps, what: str, member_id: str | None, text: str, **values: str) -> bool:
    """An ERROR log line with the fix (English) and, when Telegram is configured, a message to the operations
    manager (``ALERTS[text]``, in their language) — once per ``what`` (a day at most, so a lasting problem is
    repeated daily); False if said already."""
    if not deps.redis.set(keys.alerted(what), "1", nx=True, ex=keys.ALERT_TTL):
        return False
    text_ru, text_en = (template.format(**values) for template in ALERTS[text])
    log.error("%s", text_en)
    _tell_operations(deps, member_id, text_ru, text_en)
    return True


def _tell_operations(deps: Deps, member_id: str | None, text_ru: str, text_en: str) -> None:
    from b24app.notify.base import Message
    from b24app.notify.telegram import TelegramNotifier
    from b24app.pipeline.definitions import config_for
    from b24app.telegram.config import TelegramConfig
    from b24app.telegram.links import LinkStore
    from b24app.workflow.actors import OPERATIONS_MANAGER
    from b24app.workflow.config import load_org_config

    config = TelegramConfig.from_settings(deps.settings)
    if not config.enabled:
        return
    targets = [member_id] if member_id else [i.member_id for i in deps.installations.active()] or \
        deps.installations.member_ids() or LinkStore(deps.redis).portals()  # tokens lost, chat links kept
    ops = {m: role.user_id for m in targets
           if (role := load_org_config(config_for(deps, m))[0].roles.get(OPERATIONS_MANAGER)) is not None}
    if not ops:
        log.warning("no operations_manager in %s/roles.yaml: the alert above went to the log only",
                    deps.settings.config_dir)
        return
    message = Message(text_ru, text_en, tag="b24app:ops-alert")
    try:
        sent = [TelegramNotifier(m, deps.redis, config).notify(user, message) for m, user in ops.items()]
        if not any(sent):
            log.warning("the operations manager has no linked Telegram chat: the alert above went to the log only")
    except (B24AppError, ConfigError, OSError) as exc:
        log.warning("the alert could not be queued for Telegram (%s)", type(exc).__name__)


def _refused_for_good(exc: OAuthError) -> bool:
    from b24app.auth.refresh import REFUSED_FOR_GOOD

    return exc.code in REFUSED_FOR_GOOD
