"""Loops over every installed portal, each portal isolated (the cron jobs and the CLI commands use them).

One broken portal (revoked tokens, a portal that is gone) is logged and the others still run; the
outcome of each portal is kept, and the caller reports them and fails when any portal failed. A portal
found uninstalled during the run (its tokens refused for good, so it is marked removed:
:mod:`b24app.auth.lifecycle`) is an outcome, not a failure: it is kept in ``removed`` and the run succeeds.
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
    #: Portals found uninstalled during the run (marked removed; their periodic jobs stop).
    removed: list[str] = field(default_factory=list)

    def raise_if_failed(self) -> None:
        if not self.failed:
            return
        first = next(iter(self.failed.values()))
        raise PortalJobFailed(f"{self.what} failed for {len(self.failed)} portal(s): "
                              f"{', '.join(map(repr, self.failed))} ({type(first).__name__}); the others ran") from first


def run_each(targets: Iterable[str], run: Callable[[str], T], what: str,
             removed: Callable[[str], bool] | None = None) -> Outcomes[T]:
    """``run(member_id)`` for every portal, each isolated; every failure is logged and kept, but a portal
    that ``removed`` says is now uninstalled is kept in ``Outcomes.removed`` instead."""
    outcomes: Outcomes[T] = Outcomes(what)
    for member_id in targets:
        try:
            outcomes.done[member_id] = run(member_id)
        except Exception as exc:  # isolate portals; the caller reports them (PortalJobFailed, exit status)
            if member_id and removed is not None and removed(member_id):
                log.info("%s: portal %r is uninstalled (marked removed; its periodic jobs stop)", what, member_id)
                outcomes.removed.append(member_id)
                continue
            log.exception("%s failed for portal %r", what, member_id)
            outcomes.failed[member_id] = exc
    return outcomes


def each_portal(targets: Iterable[str], run: Callable[[str], T], what: str,
                removed: Callable[[str], bool] | None = None) -> dict[str, T]:
    """:func:`run_each`, then PortalJobFailed naming the failed portals so the RQ job shows as failed."""
    outcomes = run_each(targets, run, what, removed)
    outcomes.raise_if_failed()
    return outcomes.done


def uninstalled(deps: Deps) -> Callable[[str], bool]:
    """Whether a portal's installation is (now) marked removed — for ``run_each(removed=...)``."""

    def removed(member_id: str) -> bool:
        installation = deps.installations.find(member_id)
        return installation is not None and installation.removed

    return removed
