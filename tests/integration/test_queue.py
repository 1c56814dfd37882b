"""Queue: one job per id, retries for remote calls, exhausted jobs visible in the failed registry."""

from __future__ import annotations

import os
from typing import Any

import redis
from rq import Queue, Retry
from rq.registry import ScheduledJobRegistry

from b24app import deps as deps_module
from b24app import jobs
from b24app import queue as queues
from b24app.deps import Deps
from b24app.worker import BurstWorker
from handlers import events
from tests.integration.helpers import make_settings


def flaky(key: str, failures: int) -> str:
    """Fail ``failures`` times (counted in Redis), then succeed."""
    conn = redis.Redis.from_url(os.environ["B24APP_TEST_QUEUE_REDIS"])
    if conn.incr(key) <= failures:
        raise RuntimeError("portal unavailable")
    return "done"


def run_worker(conn: redis.Redis, name: str = queues.DEFAULT) -> None:
    BurstWorker([Queue(name, connection=conn)], connection=conn).work(burst=True)


def test_same_job_id_is_enqueued_once(redis_conn: redis.Redis) -> None:
    queue = queues.get_queue(redis_conn)
    first = queues.enqueue_once(queue, flaky, "k", 0, id=queues.job_id("x", 1))
    second = queues.enqueue_once(queue, flaky, "k", 0, id=queues.job_id("x", 1))
    assert first is not None and second is None
    assert queue.count == 1


def test_failed_job_is_retried_then_succeeds(redis_url: str, redis_conn: redis.Redis, monkeypatch: Any) -> None:
    monkeypatch.setenv("B24APP_TEST_QUEUE_REDIS", redis_url)
    queue = queues.get_queue(redis_conn)
    job = queues.enqueue_once(queue, flaky, "attempts", 1, id="flaky-1", retry=Retry(max=2))
    assert job is not None
    run_worker(redis_conn)
    job.refresh()
    assert job.get_status() == "finished"
    assert int(redis_conn.get("attempts") or 0) == 2
    assert queues.failed_job_ids(redis_conn, queues.DEFAULT) == []


def test_exhausted_job_lands_in_failed_registry(redis_url: str, redis_conn: redis.Redis, monkeypatch: Any) -> None:
    monkeypatch.setenv("B24APP_TEST_QUEUE_REDIS", redis_url)
    queue = queues.get_queue(redis_conn)
    queues.enqueue_once(queue, flaky, "always", 99, id="flaky-2", retry=Retry(max=1))
    run_worker(redis_conn)
    assert int(redis_conn.get("always") or 0) == 2
    assert queues.failed_job_ids(redis_conn, queues.DEFAULT) == ["flaky-2"]


def test_remote_retry_schedules_the_next_attempt(redis_url: str, redis_conn: redis.Redis, monkeypatch: Any) -> None:
    monkeypatch.setenv("B24APP_TEST_QUEUE_REDIS", redis_url)
    queue = queues.get_queue(redis_conn)
    job = queues.enqueue_once(queue, flaky, "remote", 99, id="flaky-3", retry=queues.remote_retry())
    assert job is not None
    run_worker(redis_conn)
    job.refresh()
    assert job.get_status() == "scheduled"
    assert job.retries_left == len(queues.REMOTE_RETRY_INTERVALS) - 1
    assert "flaky-3" in ScheduledJobRegistry(queues.DEFAULT, connection=redis_conn).get_job_ids()


def test_after_install_job_dispatches_the_installed_hooks(redis_url: str, redis_conn: redis.Redis) -> None:
    seen: list[str] = []

    @events.handles(events.INSTALLED)
    def hook(deps: Deps, event: events.Event) -> None:
        seen.append(event.member_id)

    deps_module.set_current(Deps(make_settings(redis_url)))
    try:
        queue = queues.get_queue(redis_conn)
        queues.enqueue_once(queue, jobs.after_install, "member-1", id=queues.job_id("install", "member-1"))
        run_worker(redis_conn)
    finally:
        deps_module.set_current(None)
        events._registry[events.INSTALLED].remove(hook)
    assert seen == ["member-1"]
