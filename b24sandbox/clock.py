"""The sandbox portal's clock: real time by default, settable, advanceable, or running faster."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta


class SandboxClock:
    """A clock every timestamp of the sandbox portal comes from.

    ``now()`` is ``anchor + (monotonic elapsed since anchoring) * speed``. ``set()`` and ``advance()``
    move the anchor; ``speed`` > 1 runs the clock faster than real time (the demo uses this).
    ``freeze()`` stops it (speed 0), which is what deterministic tests want.
    """

    def __init__(self, start: datetime | None = None, speed: float = 1.0) -> None:
        self._lock = threading.Lock()
        self._anchor = _aware(start) if start else datetime.now(UTC)
        self._mono = time.monotonic()
        self._speed = speed

    def now(self) -> datetime:
        with self._lock:
            elapsed = (time.monotonic() - self._mono) * self._speed
            return self._anchor + timedelta(seconds=elapsed)

    def timestamp(self) -> float:
        return self.now().timestamp()

    def set(self, moment: datetime) -> None:
        with self._lock:
            self._anchor = _aware(moment)
            self._mono = time.monotonic()

    def advance(self, delta: timedelta) -> datetime:
        with self._lock:
            elapsed = (time.monotonic() - self._mono) * self._speed
            self._anchor = self._anchor + timedelta(seconds=elapsed) + delta
            self._mono = time.monotonic()
            return self._anchor

    @property
    def speed(self) -> float:
        return self._speed

    @speed.setter
    def speed(self, value: float) -> None:
        if value < 0:
            raise ValueError("clock speed cannot be negative")
        with self._lock:
            elapsed = (time.monotonic() - self._mono) * self._speed
            self._anchor = self._anchor + timedelta(seconds=elapsed)
            self._mono = time.monotonic()
            self._speed = value

    def freeze(self) -> None:
        self.speed = 0.0


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("sandbox clock needs a time-zone aware datetime")
    return moment
