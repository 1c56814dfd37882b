"""Request limits of a Bitrix24 portal (REFERENCE §1.7).

* The leaky bucket: per portal and source IP, each HTTP request adds 1, the counter drains by
  ``rate`` per second, and a request that would push it over ``burst`` is answered 503
  ``QUERY_LIMIT_EXCEEDED``. A ``batch`` is one request. Standard plans: 2/s, 50; Enterprise: 5/s, 250.
* The "operating" budget: per method and app/webhook, execution seconds summed over a 10-minute
  window, reported in ``time.operating`` / ``time.operating_reset_at``; the sandbox blocks a method
  with 429 ``OPERATION_TIME_LIMIT`` only on demand (``portal.faults.operating_limit``), because the
  cloud threshold is UNVERIFIED.

Draining time is the larger of real time and sandbox-clock time elapsed since the last request: the
bucket works in real time for benchmarks and the demo, and a test with a frozen clock can drain it
instantly with ``portal.clock.advance(...)`` instead of sleeping.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass

from b24sandbox.clock import SandboxClock

PROFILES: dict[str, tuple[float, int]] = {"standard": (2.0, 50), "enterprise": (5.0, 250)}
OPERATING_WINDOW = 600.0


@dataclass
class _Level:
    level: float
    real: float
    sandbox: float


class LeakyBucket:
    def __init__(self, clock: SandboxClock, profile: str = "standard", enabled: bool = True,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        if profile not in PROFILES:
            raise ValueError(f"unknown sandbox profile {profile!r}; expected one of {sorted(PROFILES)}")
        self.rate, self.burst = PROFILES[profile]
        self.enabled = enabled
        self._clock = clock
        self._monotonic = monotonic
        self._levels: dict[str, _Level] = {}
        self._lock = threading.Lock()
        self.rejected = 0

    def hit(self, key: str) -> bool:
        """Count one request from ``key`` (source IP); ``False`` when it must be refused."""
        if not self.enabled:
            return True
        with self._lock:
            level = self._drained(key)
            if level.level + 1 > self.burst:
                self.rejected += 1
                return False
            level.level += 1
            return True

    def level(self, key: str) -> float:
        with self._lock:
            return self._drained(key).level

    def reset(self) -> None:
        with self._lock:
            self._levels.clear()

    def _drained(self, key: str) -> _Level:
        real, sandbox = self._monotonic(), self._clock.timestamp()
        current = self._levels.get(key)
        if current is None:
            current = self._levels[key] = _Level(0.0, real, sandbox)
            return current
        elapsed = max(real - current.real, sandbox - current.sandbox, 0.0)
        current.level = max(0.0, current.level - elapsed * self.rate)
        current.real, current.sandbox = real, sandbox
        return current


class OperatingMeter:
    """Seconds spent per (method, app or webhook) over the last ten minutes of sandbox time."""

    def __init__(self) -> None:
        self._spent: dict[tuple[str, str], deque[tuple[float, float]]] = defaultdict(deque)
        self._lock = threading.Lock()

    def add(self, method: str, caller: str, at: float, seconds: float) -> tuple[float, int]:
        """Record a call; return (``operating`` seconds, ``operating_reset_at`` unix time)."""
        with self._lock:
            spent = self._spent[(method.lower(), caller)]
            spent.append((at, seconds))
            while spent and spent[0][0] <= at - OPERATING_WINDOW:
                spent.popleft()
            return sum(s for _, s in spent), int(spent[0][0] + OPERATING_WINDOW)
