"""``b24app worker`` as a real process: it outlives a restart of its Redis (the test's own redis-server,
never 6379), and a job whose work-horse is SIGKILLed in the middle of its batch runs again and finishes
the item with one task and one notification."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from rq import Queue
from rq.job import Job, JobStatus

from b24app import queue as queues
from tests.fixtures.redis import free_port
from tests.integration.approval_env import ROOT, Env
from tests.integration.test_approval_flow import ETID, HEAD, notify_calls, worker_env

DEADLINE = 90.0


def _until(check: Callable[[], bool], seconds: float, what: str) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"not within {seconds:g} s: {what}")


def _redis_server(port: int, data: Path) -> subprocess.Popen[bytes]:
    binary = shutil.which("redis-server")
    assert binary, "redis-server is not on PATH"
    process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
                                "no", "--dir", str(data)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    conn = redis.Redis(port=port)
    _until(lambda: _pings(conn), 10, "redis-server starts")
    return process


def _pings(conn: redis.Redis) -> bool:
    try:
        return bool(conn.ping())
    except redis.ConnectionError:
        return False


def _worker(env: dict[str, str], log: Path, cwd: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen([sys.executable, "-m", "b24app.cli", "worker"], cwd=cwd, env=env, stdout=out,
                                stderr=subprocess.STDOUT)


def _finished(conn: redis.Redis, job: Job) -> Callable[[], bool]:
    return lambda: Job.fetch(job.id, connection=conn).get_status() == JobStatus.FINISHED


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    port, data = free_port(), tmp_path / "redis"
    data.mkdir()
    yield port, data


def test_the_worker_survives_a_restart_of_its_redis(own_redis: tuple[int, Path], tmp_path: Path) -> None:
    port, data = own_redis
    server = _redis_server(port, data)
    conn = redis.Redis(port=port)
    url = f"redis://127.0.0.1:{port}/0"
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("B24APP_")}, "PYTHONPATH": str(ROOT),
           "B24APP_REDIS_URL": url, "B24APP_CONFIG_DIR": str(ROOT / "config"),
           "B24APP_WORKFLOWS_DIR": str(ROOT / "workflows")}
    log = tmp_path / "worker.log"
    worker = _worker(env, log, tmp_path)
    try:
        first = Queue(queues.DEFAULT, connection=conn).enqueue("b24app.queue.job_id", "before", 1)
        _until(_finished(conn, first), 60, "a job before the restart")
        busy = Queue(queues.DEFAULT, connection=conn).enqueue("time.sleep", 8)   # Redis goes away mid-job
        _until(lambda: Job.fetch(busy.id, connection=conn).get_status() == JobStatus.STARTED, 60, "a job starts")
        server.terminate()
        server.wait(timeout=10)
        _until(lambda: b"Redis unreachable" in log.read_bytes(), 60, "the worker notices")
        time.sleep(3)                                            # a few seconds without Redis
        server = _redis_server(port, data)
        assert worker.poll() is None
        second = Queue(queues.DEFAULT, connection=conn).enqueue("b24app.queue.job_id", "after", 2)
        _until(_finished(conn, second), 60, "a job after the restart")
        assert worker.poll() is None
        assert b"Redis is back" in log.read_bytes()
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)
        server.terminate()
        server.wait(timeout=10)
    assert worker.returncode == 0, log.read_text()


def _horse_of(worker_pid: int) -> int | None:
    """The work-horse: a child of the worker that leads its own process group (rq calls setpgrp)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ppid, pgrp = int(fields[1]), int(fields[2])
        if ppid == worker_pid and pgrp == int(entry.name):
            return int(entry.name)
    return None


def test_a_job_whose_work_horse_is_killed_mid_batch_runs_again_with_nothing_doubled(
        env: Env, tmp_path: Path) -> None:
    item_id = int(env.as_user("a.ivanova").create_item(ETID, env.request_fields())["id"])
    env.sandbox.drain_events(timeout=10)
    stage_before = env.item(item_id)["stageId"]
    env.sandbox.faults.delay(6.0, method="tasks.task.add")   # the batch is held after the item's update
    worker = _worker(worker_env(env) | {"PYTHONPATH": str(ROOT)}, tmp_path / "worker.log", ROOT)
    try:
        _until(lambda: env.item(item_id)["stageId"] != stage_before, 60, "the batch's item update ran")
        horse = _horse_of(worker.pid)
        assert horse is not None and env.tasks(item_id) == []  # mid-batch: the item moved, no task yet
        os.kill(horse, signal.SIGKILL)
        env.sandbox.faults.clear()
        _until(lambda: _settled(env), DEADLINE, "the killed job ran again and finished")
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)
    assert [int(t["responsibleId"]) for t in env.tasks(item_id)] == [HEAD]
    # the dead horse's batch may have sent the notice before it died unrecorded: a re-run sends it again
    # under the same TAG, which replaces it — the person has one notice
    tags = {str(p["TAG"]) for p in notify_calls(env, HEAD)}
    assert len(tags) == 1
    assert [n.tag for n in env.as_user("m.orlova").notifications() if n.tag in tags] == list(tags)
    assert b"Work-horse terminated unexpectedly" in (tmp_path / "worker.log").read_bytes()


def _settled(env: Env) -> bool:
    conn = env.deps.redis
    queued = sum(Queue(name, connection=conn).count for name in queues.ALL_QUEUES)
    busy = sum(len(Queue(name, connection=conn).started_job_registry) for name in queues.ALL_QUEUES)
    scheduled = sum(len(Queue(name, connection=conn).scheduled_job_registry) for name in queues.ALL_QUEUES)
    return queued == 0 and busy == 0 and scheduled == 0 and len(env.tasks(env_item(env))) > 0


def env_item(env: Env) -> int:
    rows = env.client.call("crm.item.list", {"entityTypeId": ETID, "select": ["id"]})["items"]
    return int(rows[-1]["id"])
