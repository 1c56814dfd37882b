"""RQ entry points and the ``rq cron`` registration of the escalation sweep (plain arguments, delegating).

``b24app.cron`` (the Procfile's ``rq cron b24app.cron``) calls :func:`register_cron`: the sweep every 5
minutes; the daily digest is sent by the first sweep at or after 09:30 on a working day (portal time,
see ``handlers.digest``), so it needs no host-time-zone cron line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from b24app import deps as deps_module
from b24app import queue as queues

if TYPE_CHECKING:
    from b24app.deps import Deps

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
    return [run_sweep(deps, m, digest=digest).summary() for m in targets]


def digest_job(member_id: str | None = None, force: bool = False) -> list[str]:
    from handlers.digest import run_digest

    deps = deps_module.current()
    targets = [member_id] if member_id is not None else member_ids(deps)
    return [run_digest(deps, m, force=force).summary() for m in targets]


def register_cron(register: Any = None) -> None:
    """Register the sweep with ``rq.cron.register`` (one ``rq cron`` process; the jobs are idempotent)."""
    if register is None:
        from rq.cron import register
    register(sweep_job, queue_name=queues.DEFAULT, interval=SWEEP_INTERVAL, job_timeout=SWEEP_TIMEOUT,
             name="escalation-sweep")
