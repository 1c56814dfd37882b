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
from rq import Queue, Retry, SimpleWorker
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


class BurstWorker(SimpleWorker):
    """An :class:`rq.SimpleWorker` for ``work(burst=True)`` in the calling thread (tests, the scenario
    runner): it does not subscribe to the worker's command channel. RQ 3 listens there in a thread and
    at the end of every burst joins that thread with a 1 s timeout, a join that loses a race often
    enough (measured: about one burst in three, more on a busy machine) to idle a whole second. A burst
    ends by itself, so it needs no stop command."""

    def subscribe(self) -> None:
        pass
