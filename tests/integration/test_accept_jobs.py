"""The event edge's one Lua script (``b24app.web.accept``) on a real Redis: the job hash it builds by hand is
RQ's own, a real ``b24app worker`` runs it, and verify / coalesce / enqueue hold in every branch."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import redis
import requests
from redis.connection import Connection
from rq import Queue
from rq.job import Job
from rq.registry import FailedJobRegistry

from b24app import phpform
from b24app import queue as queues
from b24app.deps import Deps
from b24app.web import accept
from b24app.web.events import event_digest
from tests.integration.helpers import APP_TOKEN, MEMBER_ID, event_form, install

ROOT = Path(__file__).resolve().parents[2]
DATA: dict[str, object] = {"FIELDS": {"ID": "22", "ENTITY_TYPE_ID": "1220"}, "LONG": "x" * 200}   # a description RQ truncates


def events_queue(conn: redis.Redis) -> Queue:
    return Queue(queues.EVENTS, connection=conn)


def args_for(name: str = "ONCRMDYNAMICITEMADD", data: dict[str, object] | None = None) -> tuple[object, ...]:
    fields = DATA if data is None else data
    digest = event_digest(MEMBER_ID, name, fields)
    return MEMBER_ID, name, fields, "1723534033", accept.pending_key(digest)


def accept_event(deps: Deps, args: tuple[object, ...], token: str = APP_TOKEN) -> tuple[str, object]:
    digest = event_digest(MEMBER_ID, str(args[1]), args[2])  # type: ignore[arg-type]
    jobs = accept.EventJobs(events_queue(deps.redis))
    return jobs.accept(deps.installations.key(MEMBER_ID), token, digest, args)


def post(base_url: str, form: dict[str, object]) -> requests.Response:
    return requests.post(f"{base_url}/b24/events", data=phpform.flatten(form),
                         headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=10)


def test_the_stored_job_hash_is_what_rq_itself_stores(deps: Deps, redis_conn: redis.Redis) -> None:
    """Field for field against RQ's own unique enqueue of the same call: only the id and the two
    timestamps differ."""
    install(deps)
    args = args_for()
    outcome, job_id = accept_event(deps, args)
    assert outcome == accept.QUEUED
    queue = events_queue(redis_conn)
    assert queue.key.encode() in redis_conn.smembers("rq:queues")       # as RQ's enqueue registers it
    theirs = queue.enqueue("b24app.jobs.handle_event", args=args, job_id="event-rq-reference", unique=True,
                           retry=queues.remote_retry(), job_timeout=queues.EVENT_JOB_TIMEOUT)
    ours_hash = redis_conn.hgetall(f"rq:job:{job_id}")
    theirs_hash = redis_conn.hgetall(theirs.key)
    assert ours_hash.keys() == theirs_hash.keys()
    differing = {key for key in ours_hash if ours_hash[key] != theirs_hash[key]}
    assert differing <= {b"created_at", b"enqueued_at"}
    assert redis_conn.ttl(f"rq:job:{job_id}") == redis_conn.ttl(theirs.key) == -1
    assert queue.job_ids == [job_id, theirs.id]


def test_rq_reads_the_job_back(deps: Deps, redis_conn: redis.Redis) -> None:
    install(deps)
    args = args_for()
    _, job_id = accept_event(deps, args)
    job = Job.fetch(str(job_id), connection=redis_conn)
    assert job.func_name == "b24app.jobs.handle_event"
    assert job.args == args and job.kwargs == {}
    assert job.get_status() == "queued" and job.origin == queues.EVENTS
    assert job.timeout == queues.EVENT_JOB_TIMEOUT
    assert job.retries_left == len(queues.REMOTE_RETRY_INTERVALS)
    assert job.retry_intervals == queues.REMOTE_RETRY_INTERVALS
    assert job.enqueued_at is not None and job.created_at is not None
    assert job.description is not None and job.description.startswith("b24app.jobs.handle_event('")
    assert APP_TOKEN not in (job.description or "")


def test_a_real_worker_runs_the_hand_built_job(deps: Deps, redis_conn: redis.Redis, tmp_path: Path) -> None:
    """``b24app worker --burst`` (the production worker, forking a work-horse) in its own process."""
    install(deps)
    args = args_for("ONUNKNOWNEVENT", {"FIELDS": {"ID": "7"}})
    outcome, job_id = accept_event(deps, args)
    assert outcome == accept.QUEUED and redis_conn.get(str(args[4])) == b"1"
    env = {k: v for k, v in os.environ.items() if not k.startswith("B24APP_")}
    env.update(PYTHONPATH=str(ROOT), B24APP_REDIS_URL=deps.settings.redis_url or "",
               B24APP_CONFIG_DIR=str(ROOT / "config"), B24APP_WORKFLOWS_DIR=str(ROOT / "workflows"))
    done = subprocess.run([sys.executable, "-m", "b24app.cli", "worker", "--burst"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    job = Job.fetch(str(job_id), connection=redis_conn)
    assert job.get_status() == "finished", done.stderr
    assert job.return_value() == 0
    assert redis_conn.get(str(args[4])) is None                     # the job took its pending marker
    assert not FailedJobRegistry(queues.EVENTS, connection=redis_conn).get_job_ids()


def test_a_duplicate_is_coalesced_and_counted(deps: Deps, redis_conn: redis.Redis) -> None:
    install(deps)
    args = args_for()
    first = accept_event(deps, args)
    assert accept_event(deps, args) == (accept.COALESCED, 2)
    assert accept_event(deps, args) == (accept.COALESCED, 3)
    assert first[0] == accept.QUEUED and events_queue(redis_conn).job_ids == [first[1]]
    assert redis_conn.get(str(args[4])) == b"3"                   # handle_event's Event.count


@pytest.mark.parametrize("case", ["wrong token", "empty token", "removed", "no installation"])
def test_a_refused_event_touches_nothing(deps: Deps, redis_conn: redis.Redis, case: str) -> None:
    if case != "no installation":
        install(deps)
    if case == "removed":
        deps.redis.hset(deps.installations.key(MEMBER_ID), "removed", "1")
    token = {"wrong token": "forged-token-000000", "empty token": ""}.get(case, APP_TOKEN)
    before = set(redis_conn.keys())
    outcome, _ = accept_event(deps, args_for(), token)
    assert outcome == (accept.NO_INSTALLATION if case == "no installation" else accept.REFUSED)
    assert set(redis_conn.keys()) == before                         # no marker, no generation, no job


def test_a_refused_event_over_http_then_the_right_one(deps: Deps, base_url: str, redis_conn: redis.Redis) -> None:
    install(deps)
    assert post(base_url, event_form(token="forged-token-000000")).status_code == 401
    assert events_queue(redis_conn).count == 0
    assert post(base_url, event_form()).json() == {"result": "queued"}      # not coalesced into the refused one
    assert events_queue(redis_conn).count == 1


def test_a_stale_job_with_the_same_id_does_not_swallow_the_event(deps: Deps, redis_conn: redis.Redis) -> None:
    """The generation key expires after a quiet day while a failed job of generation 1 is kept (RQ keeps
    failed jobs a year): the next event takes the next free generation instead of being lost."""
    install(deps)
    args = args_for()
    digest = event_digest(MEMBER_ID, str(args[1]), DATA)
    redis_conn.hset(f"rq:job:{accept.job_id(digest, 1)}", mapping={"status": "failed"})
    outcome, job_id = accept_event(deps, args)
    assert (outcome, job_id) == (accept.QUEUED, accept.job_id(digest, 2))
    assert events_queue(redis_conn).job_ids == [job_id]
    assert redis_conn.hget(f"rq:job:{accept.job_id(digest, 1)}", "status") == b"failed"   # left alone


def test_the_token_never_reaches_redis(deps: Deps, base_url: str) -> None:
    """Only a SHA-1 of the presented token is sent (nothing for Redis' slow log or MONITOR to show)."""
    install(deps)
    sent: list[bytes] = []
    original = Connection.send_packed_command

    def recording(self: Connection, command: object, check_health: bool = True) -> None:
        parts = command if isinstance(command, list) else [command]
        sent.extend(part if isinstance(part, bytes) else bytes(part) for part in parts)  # type: ignore[arg-type]
        original(self, command, check_health)

    Connection.send_packed_command = recording  # type: ignore[method-assign,assignment]
    try:
        assert post(base_url, event_form()).json() == {"result": "queued"}
        assert post(base_url, event_form(token="forged-token-000000")).status_code == 401
    finally:
        Connection.send_packed_command = original  # type: ignore[method-assign]
    wire = b"".join(sent)
    assert b"EVALSHA" in wire
    assert APP_TOKEN.encode() not in wire and b"forged-token-000000" not in wire


def test_a_redis_that_lost_its_scripts_still_accepts(deps: Deps, redis_conn: redis.Redis) -> None:
    """A restarted Redis (or ``SCRIPT FLUSH``) no longer knows the script: it is loaded again, once."""
    install(deps)
    jobs = accept.EventJobs(events_queue(deps.redis))
    args = args_for()
    digest = event_digest(MEMBER_ID, str(args[1]), DATA)
    assert jobs.accept(deps.installations.key(MEMBER_ID), APP_TOKEN, digest, args)[0] == accept.QUEUED
    redis_conn.script_flush()
    assert redis_conn.script_exists(jobs.script.sha) == [False]
    other = args_for(data={"FIELDS": {"ID": "23"}})
    digest = event_digest(MEMBER_ID, str(other[1]), other[2])  # type: ignore[arg-type]
    assert jobs.accept(deps.installations.key(MEMBER_ID), APP_TOKEN, digest, other)[0] == accept.QUEUED
    assert events_queue(redis_conn).count == 2
