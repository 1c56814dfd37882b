"""Accepting an event in one Redis round trip: verify, coalesce and enqueue in one Lua script.

The script checks the ``application_token`` against the stored installation, counts the delivery on the
pending marker (``handlers.events.Event.count``), and on the first delivery takes the next generation of
the event's digest and stores and queues the job exactly as RQ's unique enqueue does (``rq.scripts``:
the job hash, its TTL, ``SADD`` of the queue to ``rq:queues``, ``RPUSH``; never over an existing job —
it takes the next generation instead).

The token never travels to Redis: Python sends the SHA-1 of the presented token and the script compares
it with the SHA-1 of the stored one (``redis.sha1hex``), so neither Redis' slow log nor ``MONITOR`` can
show a token, and the comparison's time says nothing about the token.

The job hash is RQ's own: :class:`EventJobs` asks RQ once per queue for a job of this shape
(``Queue.create_job`` + ``to_dict``, as ``Queue.enqueue`` builds it) and bakes the fields that are the
same for every event (function, retry, timeout, origin, status, ...) into the script; per event only
``data`` and ``description`` (made with RQ's serializer and ``get_call_string``), the two timestamps and
the id vary. ``tests/integration/test_accept_jobs.py`` compares the stored hash with the one RQ's own
unique enqueue stores, field by field, reads it with ``Job.fetch`` and runs it in a real worker.

The job id is ``event-`` + the SHA-1 of ``digest \\x1f generation`` (taken in the script). The script
reads keys it computes (the job hash): fine on one Redis server, which RQ needs anyway.
"""

from __future__ import annotations

import hashlib
import zlib
from enum import Enum
from typing import Any

from redis import Redis
from redis.commands.core import Script
from redis.exceptions import NoScriptError
from rq import Queue
from rq.utils import get_call_string, now, utcformat

from b24app import jobs, keys
from b24app import queue as queues

PENDING_TTL = 3600
GENERATION_TTL = PENDING_TTL * 24

#: What :meth:`EventJobs.accept` answers.
NO_INSTALLATION, REFUSED, QUEUED, COALESCED = "no-installation", "refused", "queued", "coalesced"

#: The job hash's fields that differ per event; all others come from RQ's template job, once.
VARYING = ("created_at", "enqueued_at", "data", "description")

# KEYS: installation, pending, generation. ARGV: SHA-1 of the presented token, digest, timestamp, data,
# description. Answers {code, count or job id}: code 0 no installation, -1 refused, 1 queued (job id),
# 2 coalesced (deliveries so far). The constants (@...@: TTLs, the queue's keys, the job's constant
# fields) are written into the source once per queue: fewer arguments to pack and parse per event.
_SCRIPT = """
local stored = redis.call('HMGET', KEYS[1], 'member_id', 'application_token', 'removed')
if not stored[1] then return {0, 0} end
if stored[3] == '1' or not stored[2] or stored[2] == '' or redis.sha1hex(stored[2]) ~= ARGV[1] then
  return {-1, 0}
end
local n = redis.call('INCR', KEYS[2])
if n > 1 then return {2, n} end
redis.call('EXPIRE', KEYS[2], @PENDING_TTL@)
local id, job
for attempt = 1, 1000 do
  id = 'event-' .. redis.sha1hex(ARGV[2] .. '\\31' .. redis.call('INCR', KEYS[3]))
  job = @JOB_PREFIX@ .. id
  if redis.call('EXISTS', job) == 0 then break end
  id = nil
end
redis.call('EXPIRE', KEYS[3], @GENERATION_TTL@)
if not id then return redis.error_reply('no free event job id') end
redis.call('HSET', job, 'created_at', ARGV[3], 'enqueued_at', ARGV[3], 'data', ARGV[4],
           'description', ARGV[5]@CONSTANT@)
@TTL@
redis.call('SADD', @QUEUES_KEY@, @QUEUE_KEY@)
redis.call('RPUSH', @QUEUE_KEY@, id)
return {1, id}
"""


def generation_key(digest: str) -> str:
    return keys.event_generation(digest)


def pending_key(digest: str) -> str:
    """Set while a job for this event is queued (it counts the deliveries); the job deletes it as it starts."""
    return keys.event_pending(digest)


def job_id(digest: str, generation: int) -> str:
    """The id the script gives the job of ``digest``'s ``generation``."""
    return "event-" + hashlib.sha1(f"{digest}\x1f{generation}".encode()).hexdigest()


def _lua(value: Any) -> str:
    """A Lua string literal of ``value`` as Redis would store it (every byte but letters and digits escaped)."""
    if isinstance(value, Enum):
        value = value.value
    raw = value if isinstance(value, bytes) else str(value).encode()
    return '"' + "".join(chr(b) if chr(b).isalnum() and b < 128 else f"\\{b:03d}" for b in raw) + '"'


class EventJobs:
    """``b24app.jobs.handle_event`` jobs of one events queue, built by hand from RQ's template."""

    def __init__(self, queue: Queue) -> None:
        self.queue = queue
        template = queue.create_job(jobs.handle_event, args=("m", "E", {}, "", "p"), job_id=job_id("", 0),
                                    retry=queues.remote_retry(), timeout=queues.EVENT_JOB_TIMEOUT)
        queue._prepare_for_queue(template)      # status, origin, enqueued_at: as RQ's own enqueue sets them
        fields = template.to_dict()
        missing = [name for name in VARYING if name not in fields]
        if missing:
            raise RuntimeError(f"RQ's job hash has no {', '.join(missing)}: check b24app.web.accept against rq")
        self.constant = {name: value for name, value in fields.items() if name not in VARYING}
        self.func_name = template.func_name
        self.serializer = template.serializer
        ttl = f"redis.call('EXPIRE', job, {int(template.ttl)})" if template.ttl else ""
        source = (_SCRIPT.replace("@JOB_PREFIX@", _lua(template.redis_job_namespace_prefix))
                  .replace("@PENDING_TTL@", str(int(PENDING_TTL))).replace("@GENERATION_TTL@", str(int(GENERATION_TTL)))
                  .replace("@QUEUES_KEY@", _lua(queue.redis_queues_keys)).replace("@QUEUE_KEY@", _lua(queue.key))
                  .replace("@CONSTANT@", "".join(f", {_lua(k)}, {_lua(v)}" for k, v in self.constant.items()))
                  .replace("@TTL@", ttl))
        self.redis: Redis = queue.connection
        self.script: Script = self.redis.register_script(source)

    def fields(self, args: tuple[Any, ...], timestamp: str) -> dict[str, Any]:
        """The varying fields of the job hash for ``args`` (what RQ's ``to_dict`` gives them)."""
        return {"created_at": timestamp, "enqueued_at": timestamp,
                "data": zlib.compress(self.serializer.dumps((self.func_name, None, args, {}))),
                "description": get_call_string(self.func_name, args, {}, max_length=75)}

    def accept(self, installation_key: str, token: str, digest: str, args: tuple[Any, ...]) -> tuple[str, Any]:
        """Verify, coalesce or enqueue: (``QUEUED``, job id), (``COALESCED``, deliveries so far),
        (``REFUSED``, None) or (``NO_INSTALLATION``, None)."""
        varying = self.fields(args, utcformat(now()))
        call = (3, installation_key, pending_key(digest), generation_key(digest),
                hashlib.sha1(token.encode()).hexdigest(), digest, varying["created_at"], varying["data"],
                varying["description"])
        try:
            code, value = self.redis.evalsha(self.script.sha, *call)
        except NoScriptError:                   # a Redis that lost its scripts (restarted, SCRIPT FLUSH)
            self.script.sha = self.redis.script_load(self.script.script)
            code, value = self.redis.evalsha(self.script.sha, *call)
        code = int(code)
        if code == 1:
            return QUEUED, value.decode() if isinstance(value, bytes) else str(value)
        if code == 2:
            return COALESCED, int(value)
        return (NO_INSTALLATION if code == 0 else REFUSED), None


_built: dict[int, EventJobs] = {}


def event_jobs(redis: Redis, queue: Queue) -> EventJobs:
    """The :class:`EventJobs` of ``queue``, built once per process and connection."""
    found = _built.get(id(queue))
    if found is None or found.queue is not queue or found.queue.connection is not redis:
        found = _built[id(queue)] = EventJobs(queue)
    return found
