"""RQ entry points and the ``rq cron`` registration of the escalation sweep (plain arguments, delegating).

``b24app.cron`` (the Procfile's ``rq cron b24app.cron``) calls :func:`register_cron`: the sweep every 5
minutes; the daily digest is sent by the first sweep at or after 09:30 on a working day (portal time,
see ``handlers.digest``), so it needs no host-time-zone cron line.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from b24app import deps as deps_module
from b24app import queue as queues

if TYPE_CHECKING:
    from b24app.deps import Deps

log = logging.getLogger(__name__)
T = TypeVar("T")

SWEEP_INTERVAL = 300
SWEEP_TIMEOUT = 600


def member_ids(deps: Deps) -> list[str]:
    """Every active installation; "" (the webhook's portal) when there is none and a webhook is set."""
    found = [i.member_id for i in deps.installations.active()]
    return found or ([""] if deps.settings.webhook_url is not None else [])


def sweep_job(member_id: str | None = None, digest: bool = True) -> list[str]:
    """The periodic sweep of one portal (or of every installed portal); returns the summaries."""
    from handlers.sweep import run_sweep

    deps = deps_module.current()
    targets = [member_id] if member_id is not None else member_ids(deps)
    done = each_portal(targets, lambda m: run_sweep(deps, m, digest=digest).summary(), "escalation sweep")
    return list(done.values())


def digest_job(member_id: str | None = None, force: bool = False) -> list[str]:
    from handlers.digest import run_digest

    deps = deps_module.current()
    targets = [member_id] if member_id is not None else member_ids(deps)
    done = each_portal(targets, lambda m: run_digest(deps, m, force=force).summary(), "daily digest")
    return list(done.values())


class PortalJobFailed(RuntimeError):
    """A per-portal job failed on some portals (after every other portal was done); names them."""


def each_portal(targets: Iterable[str], run: Callable[[str], T], what: str) -> dict[str, T]:
    """``run(member_id)`` for every portal, each isolated: one broken portal (revoked tokens, a portal
    that is gone) is logged and the others still run; then PortalJobFailed names the failed ones so the
    RQ job shows as failed."""
    done: dict[str, T] = {}
    failed: list[str] = []
    first: Exception | None = None
    for member_id in targets:
        try:
            done[member_id] = run(member_id)
        except Exception as exc:  # isolate portals; re-raised below as PortalJobFailed
            log.exception("%s failed for portal %r", what, member_id)
            failed.append(member_id)
            first = first or exc
    if failed:
        raise PortalJobFailed(f"{what} failed for {len(failed)} portal(s): {', '.join(map(repr, failed))} "
                              f"({type(first).__name__}); the others ran") from first
    return done


def register_cron(register: Any = None) -> None:
    """Register the sweep with ``rq.cron.register`` (one ``rq cron`` process; the jobs are idempotent)."""
    if register is None:
        from rq.cron import register
    register(sweep_job, queue_name=queues.DEFAULT, interval=SWEEP_INTERVAL, job_timeout=SWEEP_TIMEOUT,
             name="escalation-sweep")
