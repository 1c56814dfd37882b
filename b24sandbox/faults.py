"""Faults injected on demand: failing or slow REST answers, blocked methods, and unreliable events.

Every random choice comes from generators seeded with the portal's ``seed``, so a scenario replays
identically. Knobs (all return ``self`` so they chain)::

    portal.faults.fail_next(3, status=503)          # next 3 REST requests: 503 QUERY_LIMIT_EXCEEDED
    portal.faults.fail_next(1, status=502)          # a gateway page (HTML, not JSON), as a proxy sends
    portal.faults.fail_next(1, status=500, method="oauth.token")  # the token endpoint fails once
    portal.faults.error_share(0.2, status=500)      # 20% of REST requests: 500 INTERNAL_SERVER_ERROR
    portal.faults.delay(2.5, method="crm.item.add") # answer that method 2.5 s late (client timeouts)
    portal.faults.operating_limit("crm.item.list", reset_at=ts)  # 429 OPERATION_TIME_LIMIT until ts
    portal.faults.events(drop=0.1, duplicate=0.1, delay=0.2, delay_seconds=1.0, reorder=0.1)
    portal.faults.clear()
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from datetime import datetime

from b24sandbox.registry import RestError

_DOCUMENTED: dict[int, tuple[str, str]] = {
    500: ("INTERNAL_SERVER_ERROR", "Internal server error"),
    503: ("QUERY_LIMIT_EXCEEDED", "Too many requests"),
}


@dataclass(frozen=True)
class RawFault:
    """A non-JSON answer, as a reverse proxy in front of the portal would give."""

    status: int
    body: str


@dataclass(frozen=True)
class EventPlan:
    drop: bool
    copies: int
    delay: float
    hold: bool


class Faults:
    def __init__(self, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._seed = seed
        self.clear()

    def clear(self) -> Faults:
        with self._lock:
            self._rest_rng = random.Random(self._seed)
            self._event_rng = random.Random(self._seed + 1)
            self._fail_next: list[tuple[int, str | None, str | None, str | None]] = []
            self._share = 0.0
            self._share_status = 500
            self._delays: dict[str | None, float] = {}
            self._blocked: dict[str, float] = {}
            self.event_drop = self.event_duplicate = self.event_delay = self.event_reorder = 0.0
            self.event_delay_seconds = 1.0
        return self

    # --- knobs -------------------------------------------------------------------------------

    def fail_next(self, n: int = 1, status: int = 503, error: str | None = None,
                  description: str | None = None, method: str | None = None) -> Faults:
        """The next ``n`` REST requests (of ``method``, or any) fail with ``status``."""
        with self._lock:
            self._fail_next.extend([(status, error, description, method.lower() if method else None)] * n)
        return self

    def error_share(self, share: float, status: int = 500) -> Faults:
        with self._lock:
            self._share, self._share_status = share, status
        return self

    def delay(self, seconds: float, method: str | None = None) -> Faults:
        with self._lock:
            self._delays[method.lower() if method else None] = seconds
        return self

    def operating_limit(self, method: str, reset_at: datetime | float) -> Faults:
        until = reset_at.timestamp() if isinstance(reset_at, datetime) else float(reset_at)
        with self._lock:
            self._blocked[method.lower()] = until
        return self

    def events(self, drop: float = 0.0, duplicate: float = 0.0, delay: float = 0.0,
               delay_seconds: float = 1.0, reorder: float = 0.0) -> Faults:
        with self._lock:
            self.event_drop, self.event_duplicate = drop, duplicate
            self.event_delay, self.event_delay_seconds, self.event_reorder = delay, delay_seconds, reorder
        return self

    # --- used by the transport and the event dispatcher ----------------------------------------

    def take_request_fault(self, method: str, explicit_only: bool = False) -> RestError | RawFault | None:
        """The fault for this request, if any. The token endpoint (``method="oauth.token"``) only takes
        faults aimed at it explicitly."""
        with self._lock:
            for i, (status, error, description, only) in enumerate(self._fail_next):
                if (only is None and not explicit_only) or only == method.lower():
                    del self._fail_next[i]
                    return _fault(status, error, description)
            if self._share and not explicit_only and self._rest_rng.random() < self._share:
                return _fault(self._share_status, None, None)
        return None

    def delay_for(self, method: str) -> float:
        with self._lock:
            return self._delays.get(method.lower(), self._delays.get(None, 0.0))

    def blocked_until(self, method: str, now: float) -> float | None:
        with self._lock:
            until = self._blocked.get(method.lower())
        return until if until is not None and until > now else None

    def plan_event(self) -> EventPlan:
        with self._lock:
            rng = self._event_rng
            drop = rng.random() < self.event_drop
            copies = 2 if rng.random() < self.event_duplicate else 1
            delay = self.event_delay_seconds if rng.random() < self.event_delay else 0.0
            hold = rng.random() < self.event_reorder
        return EventPlan(drop, copies, delay, hold)


def _fault(status: int, error: str | None, description: str | None) -> RestError | RawFault:
    if error is None and status not in _DOCUMENTED and status >= 500:
        reason = {502: "Bad Gateway", 504: "Gateway Time-out"}.get(status, "Server Error")
        return RawFault(status, f"<html><head><title>{status} {reason}</title></head><body>{reason}</body></html>")
    code, text = _DOCUMENTED.get(status, ("INTERNAL_SERVER_ERROR", "Internal server error"))
    return RestError(error or code, description if description is not None else text, status)
