"""Accepting a verified event in one Redis round trip: coalesce and enqueue in one Lua script.

The script counts the delivery on the pending marker (``handlers.events.Event.count``); the first delivery
also takes the next generation of the event's digest and stores and queues the job exactly as RQ's unique
enqueue does (``rq.scripts``: the job hash, its TTL, ``RPUSH`` to the queue; never over an existing job).
The job id depends on the generation, so the caller reads the generation beforehand (in the same round
trip as the installation); when another edge process took it meanwhile, the script says so and the job
is enqueued under the generation it got (one more round trip, rare).
"""

from __future__ import annotations

from typing import Any

from redis import Redis
from redis.commands.core import Script
from rq import Queue
from rq.job import Job

from b24app import jobs, keys
from b24app import queue as queues

PENDING_TTL = 3600
GENERATION_TTL = PENDING_TTL * 24

# KEYS: pending, generation, job key, queue key. ARGV: pending TTL, generation TTL, expected generation,
# job id, job TTL (-1: none), then the job hash's field/value pairs.
_ACCEPT = """
local n = redis.call('INCR', KEYS[1])
if n > 1 then return {n, 0} end
redis.call('EXPIRE', KEYS[1], ARGV[1])
local generation = redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], ARGV[2])
if generation ~= tonumber(ARGV[3]) then return {1, generation} end
if redis.call('EXISTS', KEYS[3]) == 1 then return {1, -1} end
redis.call('HSET', KEYS[3], unpack(ARGV, 6))
local ttl = tonumber(ARGV[5])
if ttl and ttl > 0 then redis.call('EXPIRE', KEYS[3], ttl) end
redis.call('RPUSH', KEYS[4], ARGV[4])
return {1, generation}
"""


_scripts: dict[int, Script] = {}


def generation_key(digest: str) -> str:
    return keys.event_generation(digest)


def pending_key(digest: str) -> str:
    """Set while a job for this event is queued (it counts the deliveries); the job deletes it as it starts."""
    return keys.event_pending(digest)


def _job(queue: Queue, digest: str, generation: int, args: tuple[Any, ...]) -> Job:
    job = queue.create_job(jobs.handle_event, args=args, job_id=queues.job_id("event", digest, generation),
                           retry=queues.remote_retry(), timeout=queues.EVENT_JOB_TIMEOUT)
    queue._prepare_for_queue(job)           # status, origin, enqueued_at: as RQ's own enqueue sets them
    return job


def _hash_args(job: Job) -> list[Any]:
    return [part for key, value in job.to_dict().items() for part in (key, value)]


def accept(redis: Redis, queue: Queue, digest: str, expected: int, args: tuple[Any, ...]) -> bool:
    """Coalesce or enqueue; True when a new job was queued. ``expected``: the generation read + 1."""
    job = _job(queue, digest, expected, args)
    script = _scripts.get(id(redis)) or _scripts.setdefault(id(redis), redis.register_script(_ACCEPT))
    count, generation = script(keys=[pending_key(digest), generation_key(digest), job.key, queue.key],
                               args=[PENDING_TTL, GENERATION_TTL, expected, job.id,
                                     job.ttl if job.ttl is not None else -1, *_hash_args(job)])
    if int(count) > 1:
        return False
    if int(generation) not in (expected, -1):            # another edge process took that generation
        queues.enqueue_once(queue, jobs.handle_event, *args,
                            id=queues.job_id("event", digest, int(generation)), retry=queues.remote_retry(),
                            job_timeout=queues.EVENT_JOB_TIMEOUT)
    return True
