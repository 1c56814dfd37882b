"""RQ entry points and the ``rq cron`` registration of the escalation sweep (plain arguments, delegating).

``b24app.cron`` (the Procfile's ``rq cron b24app.cron``) calls :func:`register_cron`: the sweep every 5
minutes; the daily digest is sent by the first sweep at or after 09:30 on a working day (portal time,
see ``b24app.escalation.digest``), so it needs no host-time-zone cron line.
"""

from __future__ import annotations

from typing import Any

from b24app import deps as deps_module
from b24app import queue as queues
from b24app.portals import each_portal, member_ids, uninstalled

SWEEP_INTERVAL = 300
SWEEP_TIMEOUT = 600


def sweep_job(member_id: str | None = None, digest: bool = True) -> list[str]:
    """The periodic sweep of one portal (or of every installed portal); returns the summaries."""
    from handlers.sweep import run_sweep

    deps = deps_module.current()
    targets = [member_id] if member_id is not None else member_ids(deps)
    done = each_portal(targets, lambda m: run_sweep(deps, m, digest=digest).summary(), "escalation sweep",
                       uninstalled(deps))
    return list(done.values())


def digest_job(member_id: str | None = None, force: bool = False) -> list[str]:
    from b24app.escalation.digest import run_digest

    deps = deps_module.current()
    targets = [member_id] if member_id is not None else member_ids(deps)
    done = each_portal(targets, lambda m: run_digest(deps, m, force=force).summary(), "daily digest",
                       uninstalled(deps))
    return list(done.values())


def register_cron(register: Any = None) -> None:
    """Register the sweep with ``rq.cron.register`` (one ``rq cron`` process; the jobs are idempotent)."""
    if register is None:
        from rq.cron import register
    register(sweep_job, queue_name=queues.DEFAULT, interval=SWEEP_INTERVAL, job_timeout=SWEEP_TIMEOUT,
             name="escalation-sweep")
