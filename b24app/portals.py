"""Loops over every installed portal, each portal isolated (the cron jobs and the CLI commands use them).

One broken portal (revoked tokens, a portal that is gone) is logged and the others still run; the
outcome of each portal is kept, and the caller reports them and fails when any portal failed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from b24app.deps import Deps

log = logging.getLogger(__name__)
T = TypeVar("T")


def member_ids(deps: Deps) -> list[str]:
    """Every active installation; "" (the webhook's portal) when there is none and a webhook is set."""
    found = [i.member_id for i in deps.installations.active()]
    return found or ([""] if deps.settings.webhook_url is not None else [])


class PortalJobFailed(RuntimeError):
    """A per-portal job failed on some portals (after every other portal was done); names them."""


@dataclass
class Outcomes(Generic[T]):
    """What ``run`` returned for each portal that succeeded, and the error of each that failed (in order)."""

    what: str
    done: dict[str, T] = field(default_factory=dict)
    failed: dict[str, Exception] = field(default_factory=dict)

    def raise_if_failed(self) -> None:
        if not self.failed:
            return
        first = next(iter(self.failed.values()))
        raise PortalJobFailed(f"{self.what} failed for {len(self.failed)} portal(s): "
                              f"{', '.join(map(repr, self.failed))} ({type(first).__name__}); the others ran") from first


def run_each(targets: Iterable[str], run: Callable[[str], T], what: str) -> Outcomes[T]:
    """``run(member_id)`` for every portal, each isolated; every failure is logged and kept."""
    outcomes: Outcomes[T] = Outcomes(what)
    for member_id in targets:
        try:
            outcomes.done[member_id] = run(member_id)
        except Exception as exc:  # isolate portals; the caller reports them (PortalJobFailed, exit status)
            log.exception("%s failed for portal %r", what, member_id)
            outcomes.failed[member_id] = exc
    return outcomes


def each_portal(targets: Iterable[str], run: Callable[[str], T], what: str) -> dict[str, T]:
    """:func:`run_each`, then PortalJobFailed naming the failed portals so the RQ job shows as failed."""
    outcomes = run_each(targets, run, what)
    outcomes.raise_if_failed()
    return outcomes.done
