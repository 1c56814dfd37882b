"""The 5-minute timer: catch up on lost events, then the escalation sweep (and, when due, the digest).

Thin: :func:`handlers.offline.catch_up` refreshes every item the offline event queue names (through the
item pipeline), then :func:`b24app.escalation.sweep.sweep` reads every open request and sends what is due.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import TYPE_CHECKING

from b24app.escalation.sweep import SweepReport, sweep
from handlers.offline import catch_up

if TYPE_CHECKING:
    from b24app.deps import Deps


def run_sweep(deps: Deps, member_id: str, now: datetime | None = None, digest: bool = False) -> SweepReport:
    """One sweep of one portal; with ``digest``, also the daily digest when it is due."""
    started = time.thread_time()
    caught = catch_up(deps, member_id)
    return sweep(deps, member_id, now, digest, offline=(caught.requests, len(caught.targets)), started=started)
