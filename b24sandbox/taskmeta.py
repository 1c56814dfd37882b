"""Task meta-statuses of ``tasks.task.list`` (REFERENCE §7.2): filter ``STATUS`` −1, −2, −3 and ``subStatus``.

The filter key ``STATUS`` also accepts −1 overdue, −2 unviewed and −3 almost overdue; the response
field ``subStatus`` names the meta-status a task is in, else its real status. The docs give only the
names, so the sandbox defines them (documented choices):

* **−1 overdue**: a deadline is set and has passed (sandbox clock), and the task is not awaiting
  control or completed (statuses 4, 5);
* **−3 almost overdue**: the deadline is within the next :data:`ALMOST_OVERDUE_WINDOW` (24 hours),
  same status condition;
* **−2 unviewed**: the responsible has not looked at it yet — simplest reading: the task is pending
  (status 2, or legacy 1) and the responsible neither created it nor has acted on it since (no
  update, status action or comment by them; ``Task.seen_by``).

``subStatus`` takes the first that applies in the order −1, −3, −2, else the real status.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from b24sandbox import taskstore as ts

if TYPE_CHECKING:
    from b24sandbox.state import PortalState

OVERDUE, UNVIEWED, ALMOST_OVERDUE = -1, -2, -3
ALMOST_OVERDUE_WINDOW = timedelta(hours=24)
_DONE = {ts.SUPPOSEDLY_COMPLETED, ts.COMPLETED}


def meta_statuses(state: PortalState, task: ts.Task) -> list[int]:
    """The meta-statuses that apply to ``task`` now, in ``subStatus`` priority order."""
    found: list[int] = []
    now = state.now()
    if task.deadline is not None and task.status not in _DONE:
        if task.deadline < now:
            found.append(OVERDUE)
        elif task.deadline <= now + ALMOST_OVERDUE_WINDOW:
            found.append(ALMOST_OVERDUE)
    responsible = task.responsible_id
    if task.status in (1, ts.PENDING) and responsible != task.created_by and responsible not in task.seen_by:
        found.append(UNVIEWED)
    return found


def sub_status(state: PortalState, task: ts.Task) -> int:
    found = meta_statuses(state, task)
    return found[0] if found else task.status
