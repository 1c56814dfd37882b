"""People changing over time: dismissals (deactivation) and the absence chart.

An administrator deactivates a dismissed employee (``User.active = False``): ``user.get`` shows
``ACTIVE: false``, notifications to them are not created (``im.notify*`` answer ``false``), and they can no
longer sign in — their UI actions are refused (:class:`PersonInactive`) and REST calls with their token or
webhook answer 401 ``NO_AUTH_FOUND`` (what a real portal answers there is UNVERIFIED). Reactivating undoes it.

The absence chart holds periods ``start``..``end`` per person; ``im.user.get`` / ``im.user.list.get``
show ``absent`` — "the user's absence end date or false" — while an absence covers the portal's now
(adjacent or overlapping periods count as one; a future absence shows ``false``: UNVERIFIED).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from b24sandbox.state import PortalState, User

if TYPE_CHECKING:
    from b24sandbox.portal import SandboxPortal


class PersonInactive(PermissionError):
    """A deactivated person tried to act: the portal does not let them sign in."""


@dataclass(frozen=True)
class Absence:
    user_id: int
    start: datetime
    end: datetime
    reason: str = "Отпуск"


@dataclass
class PeopleStore:
    absences: list[Absence] = field(default_factory=list)


def store(state: PortalState) -> PeopleStore:
    return state.area("people", PeopleStore)


def absent_until(state: PortalState, user_id: int, now: datetime | None = None) -> datetime | None:
    """The end of the absence covering ``now`` (chained through adjacent periods), else None."""
    moment = now or state.now()
    periods = sorted((a for a in store(state).absences if a.user_id == user_id), key=lambda a: a.start)
    end: datetime | None = None
    for period in periods:
        if end is None and period.start <= moment < period.end:
            end = period.end
        elif end is not None and period.start <= end:
            end = max(end, period.end)
    return end


class People:
    """``portal.people``: what an administrator or HR does to the organisation."""

    def __init__(self, portal: SandboxPortal) -> None:
        self.portal = portal

    def _user(self, login: str) -> User:
        return self.portal.state.user_by_login(login)

    def deactivate(self, login: str) -> None:
        """Dismiss: the person is deactivated (Bitrix24 keeps dismissed employees, inactive)."""
        with self.portal.state.lock:
            self._user(login).active = False

    def reactivate(self, login: str) -> None:
        with self.portal.state.lock:
            self._user(login).active = True

    def record_absence(self, login: str, start: datetime, end: datetime, reason: str = "Отпуск") -> Absence:
        """An entry in the absence chart, ``start``..``end`` (timezone-aware)."""
        if end <= start:
            raise ValueError("an absence ends after it starts")
        with self.portal.state.lock:
            absence = Absence(self._user(login).id, start, end, reason)
            store(self.portal.state).absences.append(absence)
        return absence

    def absences(self, login: str) -> list[Absence]:
        with self.portal.state.lock:
            user_id = self._user(login).id
            return [a for a in store(self.portal.state).absences if a.user_id == user_id]
