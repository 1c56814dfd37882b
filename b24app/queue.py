"""RQ queues, deterministic job ids and the retry policy.

Job ids may contain only letters, digits, ``_`` and ``-`` (RQ 3). :func:`job_id` builds one from any
parts, so the same logical work always gets the same id, and :func:`enqueue_once` enqueues with
``unique=True`` so a second enqueue of the same id is a no-op instead of a duplicate run.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

import redis
from redis.lock import Lock
from rq import Queue, Retry, get_current_job
from rq.exceptions import DuplicateJobError
from rq.job import Job
from rq.registry import FailedJobRegistry
from rq.types import FunctionReferenceType

#: Events received from Bitrix24 (the web edge enqueues here).
EVENTS = "b24app-events"
#: Everything else that talks to Bitrix24: install hooks, reminders, the sweep.
DEFAULT = "b24app-default"
#: Telegram sending (paced separately from Bitrix24).
TELEGRAM = "b24app-telegram"
#: The order a worker serves them in.
ALL_QUEUES = (EVENTS, DEFAULT, TELEGRAM)

#: Jobs that call Bitrix24 or Telegram: a few quick retries, then slower ones; then FailedJobRegistry.
REMOTE_RETRY_INTERVALS = [10, 30, 120, 600, 1800]
EVENT_JOB_TIMEOUT = 300

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


def remote_retry() -> Retry:
    """A fresh Retry for a job that calls Bitrix24 or Telegram."""
    return Retry(max=len(REMOTE_RETRY_INTERVALS), interval=list(REMOTE_RETRY_INTERVALS))


def job_id(kind: str, *parts: object) -> str:
    """``{kind}-{sha256 of parts}``: the same inputs always give the same RQ-safe id."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:40]
    return f"{_UNSAFE.sub('_', kind)}-{digest}"


def get_queue(conn: redis.Redis, name: str = DEFAULT) -> Queue:
    if name not in ALL_QUEUES:
        raise ValueError(f"unknown queue {name!r}; known: {', '.join(ALL_QUEUES)}")
    return Queue(name, connection=conn)


def enqueue_once(
    queue: Queue,
    func: FunctionReferenceType,
    *args: Any,
    id: str,
    retry: Retry | None = None,
    job_timeout: int | None = None,
    **kwargs: Any,
) -> Job | None:
    """Enqueue ``func(*args, **kwargs)`` as job ``id`` unless that job already exists; None if it did."""
    try:
        return queue.enqueue(
            func,
            args=args,
            job_id=id,
            unique=True,
            retry=retry,
            job_timeout=job_timeout,
            kwargs=kwargs or None,
        )
    except DuplicateJobError:
        return None


def failed_job_ids(conn: redis.Redis, name: str) -> list[str]:
    """Ids of jobs that ran out of retries on queue ``name`` (RQ's FailedJobRegistry)."""
    return list(FailedJobRegistry(name, connection=conn).get_job_ids())


# -- locks held by a job: released when its work-horse dies (b24app.worker) -------------------------
_JOB_LOCKS = "b24app:job-locks:{}"
#: How long a request of a dead work-horse may still run at the portal: Bitrix24 cloud ends every request
#: within 60 s (REFERENCE §1.7), the REST client gives up after 60 s. Its locks are kept that long.
IN_FLIGHT_BOUND = 65
# KEYS[1] lock; ARGV: token, keep ms (0 = delete). Only a lock still carrying the job's token is touched.
_RELEASE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local keep = tonumber(ARGV[2])
if keep == 0 then return redis.call('DEL', KEYS[1]) end
if redis.call('PTTL', KEYS[1]) > keep then redis.call('PEXPIRE', KEYS[1], keep) end
return 1
"""


def track_lock(conn: redis.Redis, lock: Lock) -> None:
    """Remember that the running job holds ``lock`` (no-op outside a job), so that a killed work-horse's
    locks are released at once instead of blocking the job's own retry until they expire."""
    job = get_current_job()
    token = lock.local.token
    if job is None or token is None:
        return
    key = _JOB_LOCKS.format(job.id)
    conn.hset(key, str(lock.name), token)
    conn.expire(key, 24 * 3600)


def untrack_lock(conn: redis.Redis, lock: Lock) -> None:
    job = get_current_job()
    if job is not None:
        conn.hdel(_JOB_LOCKS.format(job.id), str(lock.name))


def release_job_locks(conn: redis.Redis, job_id: str, keep: float = 0) -> int:
    """Release the locks job ``job_id`` still holds (only those still carrying its token), or with ``keep``
    shorten them to expire within ``keep`` seconds; how many."""
    key = _JOB_LOCKS.format(job_id)
    released = 0
    for name, token in conn.hgetall(key).items():
        released += int(conn.eval(_RELEASE, 1, name, token, int(keep * 1000)))
    conn.delete(key)
    return released
