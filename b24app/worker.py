"""``b24app worker``: an RQ worker that outlives a Redis outage and brings abandoned jobs back quickly.

rq 3.0 (see /work/shared/DEPENDENCIES.md "RQ after a crash") leaves its work loop on a lost Redis
connection ("found an unhandled exception, quitting") and re-queues a job whose worker died only at its
registry maintenance, every 10 minutes by default. Here:

* between jobs rq itself retries a lost connection ("could not connect to Redis instance ... retrying
  in N seconds"); :class:`AppWorker` caps that backoff at 15 s (rq: 60 s);
* when the connection is lost during a job, rq leaves its loop: :func:`run_worker` then waits for Redis
  with the same capped backoff (1 s doubling to 15 s, a log line each time, "Redis is back" when it is)
  and starts a fresh worker, for as long as it takes; only a stop request (SIGTERM/SIGINT) or
  ``--burst`` ends it;
* :class:`AppWorker` runs registry maintenance every :data:`MAINTENANCE_INTERVAL` seconds and heartbeats
  jobs every :data:`JOB_MONITORING_INTERVAL` seconds. A work-horse killed while its worker lives is
  noticed at once by the worker and retried; it runs once the item's lock is free, about 65 s later. When the
  worker dies with it, the job's heartbeat runs out after ``JOB_MONITORING_INTERVAL + 60`` s, the next
  maintenance of any live worker retries it, and a worker without the scheduler takes the dead
  scheduler's lock at its next maintenance — the job runs again within about 85 s of the kill.
  The item locks a job holds are recorded per job (``b24app.queue.track_lock``): when its work-horse
  dies they are shortened to :data:`b24app.queue.IN_FLIGHT_BOUND` (65 s — a request the horse sent may
  still run at the portal that long, and acting on the item before it ends could write twice), and when
  the job is found abandoned (its heartbeat ran out, so its requests are over) they are released; the
  retry does not wait for the lock's own expiry (120 s). Handlers act on current state under deterministic keys, so the re-run finishes the
  item with no duplicate task or notification.
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable
from typing import Any

import redis
from rq import SimpleWorker, Worker

from b24app import queue as queues

log = logging.getLogger(__name__)

MAINTENANCE_INTERVAL = 10
JOB_MONITORING_INTERVAL = 5
BACKOFF_START = 1.0
BACKOFF_MAX = 15.0


class AppWorker(Worker):
    """An RQ worker that remembers whether it was asked to stop (to tell a stop from a lost connection)."""

    stop_asked = False
    #: rq's own backoff while it waits for Redis between jobs (its default grows to 60 s).
    max_connection_wait_time = BACKOFF_MAX

    def request_stop(self, signum: Any, frame: Any) -> None:
        self.stop_asked = True
        super().request_stop(signum, frame)  # type: ignore[no-untyped-call]


class BurstWorker(SimpleWorker):
    """An :class:`rq.SimpleWorker` for ``work(burst=True)`` in the calling thread (tests, the scenario
    runner): it does not subscribe to the worker's command channel. RQ 3 listens there in a thread and
    at the end of every burst joins that thread with a 1 s timeout, a join that loses a race often
    enough (measured: about one burst in three, more on a busy machine) to idle a whole second. A burst
    ends by itself, so it needs no stop command."""

    def subscribe(self) -> None:
        pass


def run_worker(conn: redis.Redis, burst: bool = False, sleep: Callable[[float], None] = time.sleep) -> None:
    """Work the app's queues until asked to stop, reconnecting to Redis whenever it goes away."""
    stopping = {"asked": False}
    while True:
        if not wait_for_redis(conn, sleep, stopping):
            return
        worker = AppWorker([queues.get_queue(conn, name) for name in queues.ALL_QUEUES], connection=conn,
                           maintenance_interval=MAINTENANCE_INTERVAL, job_monitoring_interval=JOB_MONITORING_INTERVAL,
                           work_horse_killed_handler=lambda job, *_: _release(conn, job.id, "its work-horse died",
                                                                             queues.IN_FLIGHT_BOUND),
                           exception_handlers=[_abandoned(conn)])
        try:
            worker.work(burst=burst, with_scheduler=True)
        except (redis.ConnectionError, redis.TimeoutError) as exc:  # its teardown could not reach Redis either
            log.warning("worker %s lost Redis (%s)", worker.name, type(exc).__name__)
        if burst or worker.stop_asked or stopping["asked"]:
            return
        log.warning("worker %s left its loop (Redis unreachable?); reconnecting", worker.name)


def _release(conn: redis.Redis, job_id: str, why: str, keep: float = 0) -> None:
    released = queues.release_job_locks(conn, job_id, keep)
    if released:
        log.warning("job %s: %s; the %d lock(s) it held %s", job_id, why, released,
                    f"expire within {keep:g} s (a request it sent may still run that long)" if keep else "are released")


def _abandoned(conn: redis.Redis) -> Callable[..., bool]:
    """An exception handler: a job found abandoned by registry maintenance (its worker died with it) lets go
    of its locks too; other failures pass on (their locks were released as the job unwound)."""
    from rq.exceptions import AbandonedJobError

    def handler(job: Any, exc_type: Any, exc_value: Any, traceback: Any) -> bool:
        if exc_type is AbandonedJobError:
            _release(conn, job.id, "it was abandoned (its worker died)")
        return True

    return handler


def wait_for_redis(conn: redis.Redis, sleep: Callable[[float], None], stopping: dict[str, bool]) -> bool:
    """Block until Redis answers (True) or a stop is requested (False)."""
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}

    def stop(signum: int, frame: Any) -> None:
        stopping["asked"] = True

    for sig in previous:
        signal.signal(sig, stop)
    try:
        delay, down_since = BACKOFF_START, None
        while not stopping["asked"]:
            try:
                conn.ping()
                if down_since is not None:
                    log.warning("Redis is back after %.0f s; the worker resumes", time.monotonic() - down_since)
                return True
            except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
                down_since = down_since if down_since is not None else time.monotonic()
                log.warning("Redis unreachable (%s); retrying in %.0f s", type(exc).__name__, delay)
                sleep(delay)
                delay = min(BACKOFF_MAX, delay * 2)
        return False
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
