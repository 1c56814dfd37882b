"""Request pacing shared by every process through Redis.

Bitrix24 meters each portal with a leaky bucket (REFERENCE §1.7): every HTTP request adds 1, the level
drains by ``drain`` per second, and a request that finds the level above ``burst`` gets 503
``QUERY_LIMIT_EXCEEDED``. :class:`Pacer` keeps the same bucket in Redis — one atomic Lua script per
request, using the Redis server's clock so every process agrees — and makes callers wait for room
instead of being refused. It runs a little under the portal's budget (``margin``) so network jitter
cannot push the portal's own bucket over.

It also remembers methods the portal paused with 429 ``OPERATION_TIME_LIMIT`` until their
``operating_reset_at``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import redis

from b24app import keys

# KEYS[1] bucket hash; ARGV: drain/s, burst. Returns seconds to wait (0 = admitted, level +1).
_TAKE = """
local now = redis.call('TIME')
local t = tonumber(now[1]) + tonumber(now[2]) / 1000000
local drain = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local level = tonumber(redis.call('HGET', KEYS[1], 'level') or '0')
local last = tonumber(redis.call('HGET', KEYS[1], 'at') or tostring(t))
level = math.max(0, level - math.max(0, t - last) * drain)
if level + 1 <= burst then
  level = level + 1
  redis.call('HSET', KEYS[1], 'level', tostring(level), 'at', tostring(t))
  redis.call('EXPIRE', KEYS[1], math.ceil(burst / drain) + 60)
  return '0'
end
redis.call('HSET', KEYS[1], 'level', tostring(level), 'at', tostring(t))
return tostring((level + 1 - burst) / drain)
"""

_LEVEL = """
local now = redis.call('TIME')
local t = tonumber(now[1]) + tonumber(now[2]) / 1000000
local level = tonumber(redis.call('HGET', KEYS[1], 'level') or '0')
local last = tonumber(redis.call('HGET', KEYS[1], 'at') or tostring(t))
return tostring(math.max(0, level - math.max(0, t - last) * tonumber(ARGV[1])))
"""


class Pacer:
    """A per-portal leaky bucket in Redis, plus per-method pauses."""

    def __init__(
        self,
        conn: redis.Redis,
        portal: str,
        *,
        drain: float,
        burst: int,
        margin: float = 0.9,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._redis = conn
        self._key = keys.bucket(portal)
        self._pause_key = keys.pause(portal)
        self.drain = drain * margin
        self.burst = max(1, int(burst * margin) if burst > 10 else burst - 1)
        self._sleep = sleep
        self._take = conn.register_script(_TAKE)
        self._level = conn.register_script(_LEVEL)

    def acquire(self) -> float:
        """Block until the bucket has room for one request; return the seconds waited."""
        waited = 0.0
        while True:
            wait = float(self._take(keys=[self._key], args=[self.drain, self.burst]))
            if wait <= 0:
                return waited
            wait = min(wait, 5.0)
            self._sleep(wait)
            waited += wait

    def try_acquire(self) -> bool:
        """Take one request's room if there is some now; never waits."""
        return float(self._take(keys=[self._key], args=[self.drain, self.burst])) <= 0

    def level(self) -> float:
        """Requests currently counted in the bucket (the REST budget in use)."""
        return float(self._level(keys=[self._key], args=[self.drain]))

    def pause(self, method: str, until: float) -> None:
        """Remember that ``method`` is blocked until unix time ``until``."""
        ttl_ms = max(1, int((until - time.time()) * 1000))
        self._redis.set(self._pause_key + method.lower(), repr(until), px=ttl_ms)

    def paused_until(self, method: str) -> float:
        """Unix time the method's pause ends, or 0 when it is not paused."""
        raw = self._redis.get(self._pause_key + method.lower())
        return float(raw) if raw else 0.0
