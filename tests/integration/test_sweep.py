"""The escalation sweep against the sandbox over HTTPS (strict mode) with a real Redis: requests created by
people and started by the engine, the sandbox clock advanced, the sweep run as an RQ job (or in two
processes at once), and what people received checked in the portal."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from rq import Queue

from b24app import queue as queues
from b24app.escalation.jobs import sweep_job
from b24app.worker import BurstWorker
from handlers import decisions
from handlers.sweep import run_sweep
from tests.fixtures.waits import WAIT, wait_until
from tests.integration.approval_env import PR, ROOT, Env
from tests.integration.sweep_seed import seed_requests

ETID = 1100
TZ = ZoneInfo("Europe/Moscow")
HEAD, FINANCE, OPS = 3, 8, 9


def create(env: Env, count: int = 1) -> list[int]:
    ids = [int(env.as_user("a.ivanova").create_item(ETID, env.request_fields())["id"]) for _ in range(count)]
    env.settle()
    return ids


def at(env: Env, day: int, hour: int, minute: int = 0) -> None:
    env.sandbox.clock.set(datetime(2026, 3, day, hour, minute, tzinfo=TZ))


def sweep_via_rq(env: Env, digest: bool = False) -> list[str]:
    queue = Queue(queues.DEFAULT, connection=env.deps.redis)
    job = queue.enqueue(sweep_job, env.member_id, digest)
    BurstWorker([queue], connection=env.deps.redis).work(burst=True)
    job.refresh()
    assert job.is_finished, job.latest_result()
    return list(job.return_value() or [])


def received(env: Env, login: str) -> list[str]:
    return [n.message for n in env.sandbox.as_user(login).notifications()]


def escalations(env: Env, login: str) -> list[str]:
    return [n.message for n in env.sandbox.as_user(login).notifications() if n.tag.startswith("b24app:esc:")]


def test_reminder_then_reminder_then_alert_with_a_way_to_approve(env: Env) -> None:
    [item] = create(env)                                        # Mon 2026-03-02 10:00, head: m.orlova
    assert env.stage(item) == "HEAD_APPROVAL"
    at(env, 2, 13, 59)
    sweep_via_rq(env)
    assert escalations(env, "m.orlova") == []
    at(env, 2, 14, 1)                                           # 4 working hours, task not started
    sweep_via_rq(env)
    [first] = escalations(env, "m.orlova")
    assert first.startswith("Напоминание: заявка ждёт вашего решения.") and f"/details/{item}/" in first
    at(env, 4, 10, 1)                                           # 2 working days without a decision
    sweep_via_rq(env)
    assert len(escalations(env, "m.orlova")) == 2 and escalations(env, "ops.manager") == []
    at(env, 4, 11, 1)                                           # + 1 working hour: the operations manager
    sweep_via_rq(env)
    [alert] = escalations(env, "ops.manager")
    assert "Заявка зависла: Марина Орлова не принял(а) решение" in alert
    assert f"[URL=https://{env.sandbox.domain}/crm/type/{ETID}/details/{item}/]" in alert
    before = len(env.sandbox.as_user("m.orlova").notifications()) + len(received(env, "ops.manager"))
    sweep_via_rq(env)                                           # the same moment again: nothing twice
    assert len(env.sandbox.as_user("m.orlova").notifications()) + len(received(env, "ops.manager")) == before
    outcome = decisions.decide(env.deps, env.member_id, PR, item, OPS, "approve", via="card")
    assert outcome.ok and outcome.stage == "FINANCE_REVIEW"    # the alert's "decide on their behalf"


def test_a_lost_event_is_caught_up_by_the_next_sweep_from_the_offline_queue(env: Env) -> None:
    [item] = create(env)
    env.sandbox.faults.events(drop=1.0)                         # every online event is lost from now on
    env.as_user("m.orlova").complete_task(int(env.tasks(item)[0]["id"]))
    env.settle()
    assert env.stage(item) == "HEAD_APPROVAL"
    first = run_sweep(env.deps, env.member_id)
    assert env.stage(item) == "FINANCE_REVIEW" and first.offline_items == 1
    assert sorted(int(t["responsibleId"]) for t in env.tasks(item)) == [HEAD, FINANCE]
    reports = [run_sweep(env.deps, env.member_id) for _ in range(2)]   # the echo of the app's own write, then
    idle = reports[-1]                                                  # nothing: one event.offline.get
    assert (idle.offline_items, idle.offline_requests) == (0, 1)
    assert len(env.tasks(item)) == 2 and env.stage(item) == "FINANCE_REVIEW"


def test_offline_rows_of_an_item_that_failed_wait_for_the_next_sweep(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    from b24app.pipeline import process as itemstate
    from handlers.offline import pending_key

    [item] = create(env)
    env.sandbox.faults.events(drop=1.0)
    env.as_user("m.orlova").complete_task(int(env.tasks(item)[0]["id"]))
    monkeypatch.setattr(itemstate, "LOCK_WAIT", 0.2)
    lock = env.deps.redis.lock(f"b24app:lock:item:{env.member_id}:{ETID}:{item}", timeout=30)
    assert lock.acquire()                                       # another worker holds the item
    try:
        busy = run_sweep(env.deps, env.member_id)
    finally:
        lock.release()
    assert busy.offline_items == 0 and env.stage(item) == "HEAD_APPROVAL"
    assert env.deps.redis.get(pending_key(env.member_id))      # its rows stay reserved for the next sweep
    run_sweep(env.deps, env.member_id)
    assert env.stage(item) == "FINANCE_REVIEW" and not env.deps.redis.get(pending_key(env.member_id))


def test_started_task_stops_reminders_and_finance_review_alerts(env: Env) -> None:
    started, approved = create(env, 2)
    [task] = [t for t in env.tasks(started) if int(t["responsibleId"]) == HEAD]
    env.as_user("m.orlova").start_task(int(task["id"]))
    assert decisions.decide(env.deps, env.member_id, PR, approved, HEAD, "approve").ok
    env.settle()
    at(env, 3, 17)
    sweep_via_rq(env)
    assert escalations(env, "m.orlova") == []                   # taken into work: no periodic reminder
    at(env, 4, 10, 2)                                           # finance review: 2 working days
    sweep_via_rq(env)
    assert len(escalations(env, "m.orlova")) == 1               # the 2-day reminder still comes
    [alert] = escalations(env, "ops.manager")
    assert f"/details/{approved}/" in alert and "Проверка финансовым менеджером" in alert


def test_freeze_keeps_the_time_used(env: Env) -> None:
    [item] = create(env)
    at(env, 2, 14, 30)
    assert decisions.decide(env.deps, env.member_id, PR, item, HEAD, "freeze", "ждём бюджет").ok
    env.settle()
    at(env, 5, 17)
    sweep_via_rq(env)
    assert escalations(env, "m.orlova") == []                   # frozen: the clock stands
    at(env, 9 + 1, 10)                                          # Tue 10 March (9 March is a day off)
    assert decisions.decide(env.deps, env.member_id, PR, item, HEAD, "unfreeze").ok
    env.settle()
    at(env, 10, 13, 31)                                         # 4.5 h before + 3.5 h now = 8 h
    sweep_via_rq(env)
    assert len(escalations(env, "m.orlova")) == 1


def test_digest_once_on_a_working_day(env: Env) -> None:
    waiting, frozen, paying = create(env, 3)
    assert decisions.decide(env.deps, env.member_id, PR, frozen, HEAD, "freeze", "ждём бюджет").ok
    assert decisions.decide(env.deps, env.member_id, PR, paying, HEAD, "approve").ok
    env.settle()
    assert decisions.decide(env.deps, env.member_id, PR, paying, FINANCE, "approve").ok
    env.settle()
    assert env.stage(paying) == "PAYMENT"                       # accounting tasks due Tue 3 March 18:00
    at(env, 4, 12)
    sweep_via_rq(env, digest=True)
    sweep_via_rq(env, digest=True)
    [digest] = [n.message for n in env.sandbox.as_user("ops.manager").notifications()
                if n.tag.startswith("b24app:digest")]
    assert digest.startswith("Сводка на 04.03.2026")
    sections = digest.split("\n\n")
    assert sections[1].startswith("Ждут дольше срока: 1") and f"/details/{waiting}/" in sections[1]
    assert sections[2].startswith("Просрочены задачи бухгалтерии: 1") and f"/details/{paying}/" in sections[2]
    assert sections[3].startswith("Заморожены: 1") and f"/details/{frozen}/" in sections[3]
    assert re.fullmatch(r"Контрольная панель: https://[^/]+/marketplace/app/\d+/", sections[4])  # issue 15
    at(env, 7, 12)                                              # Saturday: no digest
    sweep_via_rq(env, digest=True)
    assert sum(n.tag.startswith("b24app:digest") for n in env.sandbox.as_user("ops.manager").notifications()) == 1


SWEEPER = """
import json, sys, time
import redis
import b24app.escalation.sweep as sweep
from handlers.sweep import run_sweep
from b24app.deps import Deps
from b24app.settings import load_settings
deps = Deps(load_settings(env_file=None))
r = redis.Redis.from_url(deps.settings.redis_url)
claim = sweep.claim

def claim_after_both_planned(deps, deliveries):
    # the worst overlap: both sweeps have decided what is due before either claims anything
    r.incr("test:planned")
    while int(r.get("test:planned")) < 2:
        time.sleep(0.005)
    return claim(deps, deliveries)

sweep.claim = claim_after_both_planned
r.incr("test:ready")
while not r.exists("test:go"):
    time.sleep(0.005)
report = run_sweep(deps, sys.argv[1])
print(json.dumps({"sent": report.sent, "skipped": report.skipped, "requests": report.http_requests}))
"""


def _process_env(env: Env) -> dict[str, str]:
    s = env.deps.settings
    secret = s.client_secret.get_secret_value() if s.client_secret else ""
    return {**os.environ, "B24APP_REDIS_URL": str(s.redis_url), "B24APP_CLIENT_ID": str(s.client_id),
            "B24APP_CLIENT_SECRET": secret, "B24APP_OAUTH_SERVER": str(s.oauth_server),
            "B24APP_CONFIG_DIR": str(ROOT / "config"), "B24APP_WORKFLOWS_DIR": str(ROOT / "workflows"),
            "B24APP_RATE_DRAIN": str(s.rate[0]), "B24APP_RATE_BURST": str(s.rate[1]),   # the env's own pacing
            "PYTHONPATH": str(ROOT)}


def test_two_sweeps_at_the_same_moment_send_nothing_twice(env: Env) -> None:
    items = create(env, 3)
    at(env, 2, 14, 5)
    procs = [subprocess.Popen([sys.executable, "-c", SWEEPER, env.member_id], cwd=ROOT, env=_process_env(env),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    wait_until(lambda: int(env.deps.redis.get("test:ready") or 0) == 2 or any(p.poll() is not None for p in procs),
               WAIT, "both sweeps to be ready")                   # both started and waiting for the signal
    env.deps.redis.set("test:go", "1")
    reports: list[dict[str, Any]] = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        reports.append(json.loads(out.strip().splitlines()[-1]))
    assert sum(r["sent"] for r in reports) == 3 and sum(r["skipped"] for r in reports) == 3
    reminders = escalations(env, "m.orlova")
    assert len(reminders) == 3 and all(any(f"/details/{i}/" in m for m in reminders) for i in items)
    sweep_via_rq(env)
    assert len(escalations(env, "m.orlova")) == 3


def test_reads_are_batched(env: Env) -> None:
    seed_requests(env.sandbox, env.names(), 120, datetime(2026, 3, 2, 10, tzinfo=TZ),   # three pages of items
                  secret=env.deps.app_secret, member_id=env.member_id)
    at(env, 2, 14, 5)
    client = env.deps.bitrix(env.member_id)
    before, calls_before, refreshed = client.request_count, len(env.sandbox.calls), env.sandbox.refresh_count
    report = run_sweep(env.deps, env.member_id)
    retried = env.sandbox.refresh_count - refreshed            # the clock moved 4 h: the token expired once
    methods = [c.method for c in env.sandbox.calls[calls_before:]]
    assert report.open_requests == 120 and report.sent == 120
    assert methods.count("crm.item.list") == 4 and methods.count("tasks.task.list") == 8   # 2 + 3 pages; 120/16
    assert report.reads == 3                     # page 0 of both workflows; the other pages; the tasks
    # + the names of the people told (one user.get) + 120 notifications, 50 to a batch
    # (+ the offline event queue, empty: one event.offline.get); the current approvers' im.user.list.get
    # rides in the task batch (no request of its own)
    assert report.offline_requests == 1 and methods.count("im.user.list.get") == 1
    assert client.request_count - before - retried == report.reads + 1 + 3 + 1, client.requests_by_method
    calls_before = len(env.sandbox.calls)
    again = run_sweep(env.deps, env.member_id)                  # the same moment: nothing new to send
    # no task reads; the pages the last sweep's totals predict (+1) go with page 0, and so does the last
    # sweep's approvers' lookup: one batch
    assert (again.sent, again.skipped, again.reads, again.http_requests) == (0, 0, 1, 2)
    methods = [c.method for c in env.sandbox.calls[calls_before:]]
    assert methods.count("crm.item.list") == 4 + 1 and methods.count("im.user.list.get") == 1
    seed_requests(env.sandbox, env.names(), 60, datetime(2026, 3, 2, 10, tzinfo=TZ),      # more than predicted
                  secret=env.deps.app_secret, member_id=env.member_id)
    grown = run_sweep(env.deps, env.member_id)
    assert grown.open_requests == 180 and grown.reads >= 2      # the pages beyond the prediction are read too


def test_sweep_command_prints_a_summary(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from b24app.escalation.cli import sweep_command

    create(env)
    at(env, 2, 14, 5)
    for key, value in _process_env(env).items():
        if key.startswith("B24APP_"):
            monkeypatch.setenv(key, value)
    result = CliRunner().invoke(sweep_command, ["--member-id", env.member_id, "-v"])
    assert result.exit_code == 0, result.output
    assert "1 open requests, 1 notices due, 1 sent" in result.output and ":head_approval:r1:0:every1" in result.output


def test_the_rq_cron_config_registers_the_sweep_every_five_minutes(redis_conn: Any) -> None:
    from rq.cron import CronScheduler

    import b24app.cron
    from b24app.telegram.maintenance import unlink_inactive_everywhere_job

    cron = CronScheduler(connection=redis_conn)
    cron.load_config_from_file(str(Path(b24app.cron.__file__).resolve()))   # what the Procfile's line loads
    job, daily = cron.get_jobs()
    assert (job.func, job.interval, job.queue_name) == (sweep_job, 300, queues.DEFAULT)
    assert (daily.func, daily.interval) == (unlink_inactive_everywhere_job, 24 * 3600)
    job.enqueue(redis_conn)                       # what the scheduler does when it is due
    [queued] = Queue(queues.DEFAULT, connection=redis_conn).get_jobs()
    assert queued.func_name == "b24app.escalation.jobs.sweep_job"


def test_linked_operations_manager_gets_the_alert_in_telegram_with_decision_buttons(env: Env) -> None:
    from pydantic import SecretStr

    from b24app.deps import Deps
    from b24app.telegram.links import LinkStore

    [item] = create(env)
    links = LinkStore(env.deps.redis)
    assert links.consume_token(links.issue_token(env.member_id, OPS), chat_id=555) is not None
    with_bot = Deps(env.deps.settings.model_copy(update={"telegram_token": SecretStr("123:secret-token")}))
    at(env, 4, 11, 1)
    report = run_sweep(with_bot, env.member_id)
    assert report.telegram_enabled and report.telegram == 1          # the head has no linked chat
    [raw] = env.deps.redis.lrange("b24app:tg:outbox:555", 0, -1)
    payload = json.loads(raw)
    assert payload["text"].startswith("Заявка зависла") and f"/details/{item}/" in payload["text"]
    buttons = [b["text"] for row in payload["reply_markup"]["inline_keyboard"] for b in row]
    assert buttons[:2] == ["Согласовать", "Отклонить"]
    assert len(escalations(env, "ops.manager")) == 1                  # and in Bitrix24


def test_payment_tasks_are_read_only_once_a_deadline_the_app_set_may_have_passed(env: Env) -> None:
    at(env, 2, 10)
    [item] = create(env)
    for user in (HEAD, FINANCE):
        assert decisions.decide(env.deps, env.member_id, PR, item, user, "approve").ok
    env.settle()
    assert env.stage(item) == "PAYMENT"
    report = run_sweep(env.deps, env.member_id)
    assert report.reads == 1 and not report.notices       # the items only: the app set the deadlines itself
    at(env, 20, 12)                                         # long past the payment task's deadline
    report = run_sweep(env.deps, env.member_id)
    assert report.reads == 2                                # now the tasks are read ...
    assert any(":task" in notice for notice in report.notices), report.notices   # ... and the alert is sent
    calls_before = len(env.sandbox.calls)
    again = run_sweep(env.deps, env.member_id)              # the same tasks again: they ride with the items
    methods = [c.method for c in env.sandbox.calls[calls_before:]]
    first_batch = methods[methods.index("event.offline.get") + 1:methods.index("batch")]
    assert again.reads == 1 and not again.notices           # read (the alert is remembered as sent) ...
    assert "tasks.task.list" in first_batch and "crm.item.list" in first_batch   # ... in the one item batch
    env.deps.redis.delete(*env.deps.redis.keys("b24app:esc:*"))    # forget what was sent: the tasks read
    repeat = run_sweep(env.deps, env.member_id)                       # with the items decide the alert again
    assert repeat.reads == 1 and any(":task" in notice for notice in repeat.notices), repeat.notices
