"""The approval flow end to end: the sandbox portal over HTTPS (strict mode), its events delivered to the
real ``/b24/events`` endpoint, jobs run by an RQ worker on a real Redis, decisions through
``handlers.decisions``. Asserts what people see: stages, tasks, notifications, the timeline."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from b24app import queue as queues
from b24app.texts.decisions import UNKNOWN_OPTION
from b24sandbox import SandboxPortal
from handlers import decisions
from tests.fixtures.waits import WAIT
from tests.integration.approval_env import PR, ROOT, Env, approval_env

ETID = 1100
HEAD, FINANCE, CHIEF, JUNIOR, INITIATOR = 3, 8, 10, 11, 4


def create(env: Env, login: str = "a.ivanova", **fields: Any) -> int:
    item = env.as_user(login).create_item(ETID, env.request_fields(**fields))
    env.settle()
    return int(item["id"])


def open_tasks(env: Env, item_id: int) -> list[dict[str, Any]]:
    return [t for t in env.tasks(item_id) if int(t["status"]) not in (4, 5)]


def notes(env: Env, login: str) -> list[str]:
    return [n.message for n in env.as_user(login).notifications()]


def test_happy_path_from_creation_to_paid(env: Env) -> None:
    item_id = create(env)
    assert env.stage(item_id) == "HEAD_APPROVAL"
    [head_task] = env.tasks(item_id)
    assert int(head_task["responsibleId"]) == HEAD and head_task["title"].startswith("Согласовать заявку на оплату")
    assert len(notes(env, "m.orlova")) == 1

    env.as_user("m.orlova").complete_task(int(head_task["id"]))       # completing the task = approve
    env.settle()
    assert env.stage(item_id) == "FINANCE_REVIEW"
    outcome = decisions.decide(env.deps, env.member_id, PR, item_id, FINANCE, "approve")
    assert outcome.ok and outcome.stage == "PAYMENT"
    env.settle()
    main, sub = sorted(open_tasks(env, item_id), key=lambda t: int(t["id"]))
    assert (int(main["responsibleId"]), int(sub["responsibleId"])) == (CHIEF, JUNIOR)
    assert int(sub["parentId"]) == int(main["id"])

    junior = env.as_user("junior.accountant")
    junior.attach_file_to_task(int(sub["id"]), "order.pdf", b"%PDF payment order")
    junior.complete_task(int(sub["id"]))
    env.as_user("chief.accountant").complete_task(int(main["id"]))
    env.settle()
    assert env.stage(item_id) == "PAID"
    assert any("Оплачено" in n for n in notes(env, "a.ivanova"))
    sheet = decisions.approval_sheet(env.deps, env.member_id, PR, item_id, INITIATOR)
    assert [e.decision for e in sheet.entries] == ["start", "approve", "approve", "complete"]
    assert sheet.entries[1].via == "task" and sheet.allowed == ()
    timeline = [c.params["fields"] for c in env.sandbox.calls if c.method.lower() == "crm.timeline.logmessage.add"]
    assert [int(f["entityId"]) for f in timeline] == [item_id] * 4
    assert "Марина Орлова" in timeline[1]["text"] and "Согласовано" in timeline[1]["title"]


def notify_calls(env: Env, user_id: int | None = None) -> list[dict[str, Any]]:
    found = [c.params for c in env.sandbox.calls if c.method.lower() == "im.notify.system.add"]
    return [p for p in found if user_id is None or int(p["USER_ID"]) == user_id]


def replay_everything(env: Env) -> int:
    """Post every event delivered so far again, newest first, as a re-delivery would (new ``ts``)."""
    sent = [d for d in env.sandbox.deliveries if d.handler.endswith("/b24/events") and d.status == 200]
    for number, delivery in enumerate(reversed(sent)):
        pairs = [(k, f"{v}{number}" if k == "ts" else v) for k, v in delivery.pairs]
        env.sandbox.post_form(delivery.handler, pairs)
    env.settle()
    return len(sent)


def test_duplicated_and_reordered_events_create_one_task_and_one_notification(env: Env) -> None:
    env.sandbox.faults.events(duplicate=1.0, reorder=0.5)
    item_id = create(env)
    env.as_user("m.orlova").complete_task(int(env.tasks(item_id)[0]["id"]))
    env.settle()
    assert env.stage(item_id) == "FINANCE_REVIEW"
    before = (len(env.tasks(item_id)), len(notify_calls(env)), env.item(item_id)["stageId"])
    assert replay_everything(env) >= 6
    assert (len(env.tasks(item_id)), len(notify_calls(env)), env.item(item_id)["stageId"]) == before
    assert sorted(int(t["responsibleId"]) for t in env.tasks(item_id)) == [HEAD, FINANCE]
    assert len(notify_calls(env, HEAD)) == 1 and len(notify_calls(env, FINANCE)) == 1
    sheet = decisions.approval_sheet(env.deps, env.member_id, PR, item_id, FINANCE)
    assert [e.decision for e in sheet.entries] == ["start", "approve"] and "approve" in sheet.allowed


def test_missing_fields_wait_in_new_then_start_once_filled(env: Env) -> None:
    fields = env.request_fields()
    fields.pop(next(k for k in fields if k.lower().endswith("invoice")))
    item = env.as_user("a.ivanova").create_item(ETID, fields)
    env.settle()
    item_id = int(item["id"])
    assert env.stage(item_id) == "NEW" and not env.tasks(item_id)
    assert any("«Счёт»" in n for n in notes(env, "a.ivanova"))
    invoice = env.ui_fields({"INVOICE": ["invoice.pdf", "JVBERi0="]})
    env.as_user("a.ivanova").update_item(ETID, item_id, invoice)
    env.settle()
    assert env.stage(item_id) == "HEAD_APPROVAL" and len(env.tasks(item_id)) == 1


def test_outsider_is_refused_and_a_drag_past_a_step_is_put_back(env: Env) -> None:
    item_id = create(env)
    outcome = decisions.decide(env.deps, env.member_id, PR, item_id, 12, "approve")
    assert not outcome.ok and "Решение сейчас принимает" in outcome.message.ru
    assert env.stage(item_id) == "HEAD_APPROVAL"
    stages = env.names().stage_ids
    env.as_user("p.fedorov").move_item(ETID, item_id, stages["FINANCE_REVIEW"])
    env.settle()
    assert env.stage(item_id) == "HEAD_APPROVAL"
    put_back = [n for n in notes(env, "p.fedorov") if "возвращена" in n]
    assert put_back and all(f"№{item_id}" in n and "/details/" in n for n in put_back)   # names its request (#15)
    env.as_user("m.orlova").move_item(ETID, item_id, stages["PAYMENT"])
    env.settle()
    assert env.stage(item_id) == "HEAD_APPROVAL" and any("пропускает" in n for n in notes(env, "m.orlova"))
    env.as_user("m.orlova").move_item(ETID, item_id, stages["FINANCE_REVIEW"])       # the head's drag = approve
    env.settle()
    assert env.stage(item_id) == "FINANCE_REVIEW"
    assert [int(t["responsibleId"]) for t in open_tasks(env, item_id)] == [FINANCE]


def test_rejection_tells_initiator_and_head_and_resubmission_runs_the_route_again(env: Env) -> None:
    item_id = create(env)
    decisions.decide(env.deps, env.member_id, PR, item_id, HEAD, "approve")
    refused = decisions.decide(env.deps, env.member_id, PR, item_id, FINANCE, "reject")
    assert not refused.ok and "причину" in refused.message.ru
    assert decisions.decide(env.deps, env.member_id, PR, item_id, FINANCE, "reject", "Нет бюджета").ok
    env.settle()
    assert env.stage(item_id) == "REJECTED" and not open_tasks(env, item_id)
    assert any("Нет бюджета" in n for n in notes(env, "a.ivanova"))
    assert any("Нет бюджета" in n for n in notes(env, "m.orlova"))
    assert decisions.decide(env.deps, env.member_id, PR, item_id, INITIATOR, "resubmit").ok
    env.settle()
    assert env.stage(item_id) == "HEAD_APPROVAL"
    assert [int(t["responsibleId"]) for t in open_tasks(env, item_id)] == [HEAD]
    sheet = decisions.approval_sheet(env.deps, env.member_id, PR, item_id, HEAD)
    assert [e.decision for e in sheet.entries] == ["start", "approve", "reject", "resubmit"]


def test_payment_order_subtask_is_reopened_without_the_order(env: Env) -> None:
    item_id = create(env, amount=1_500_000)
    for user in (HEAD, FINANCE):
        assert decisions.decide(env.deps, env.member_id, PR, item_id, user, "approve").ok
    assert env.stage(item_id) == "FINANCE_REVIEW"                     # the director's step for large amounts
    assert decisions.decide(env.deps, env.member_id, PR, item_id, 2, "approve").stage == "PAYMENT"
    env.settle()
    main, sub = sorted(open_tasks(env, item_id), key=lambda t: int(t["id"]))
    env.as_user("junior.accountant").complete_task(int(sub["id"]))
    env.settle()
    assert int(next(t for t in env.tasks(item_id) if t["id"] == sub["id"])["status"]) == 2
    assert any("платёжное поручение" in n for n in notes(env, "junior.accountant"))
    order = env.ui_fields({"PAYMENT_ORDER": ["order.pdf", "JVBERi0="]})
    env.as_user("junior.accountant").update_item(ETID, item_id, order)
    env.as_user("junior.accountant").complete_task(int(sub["id"]))
    env.as_user("chief.accountant").complete_task(int(main["id"]))
    env.settle()
    assert env.stage(item_id) == "PAID"


def test_freeze_unfreeze_and_documents_requested(env: Env) -> None:
    item_id = create(env)
    assert decisions.decide(env.deps, env.member_id, PR, item_id, HEAD, "freeze", "Ждём бюджет").stage == "FROZEN"
    assert not decisions.decide(env.deps, env.member_id, PR, item_id, INITIATOR, "unfreeze").ok
    assert decisions.decide(env.deps, env.member_id, PR, item_id, HEAD, "unfreeze").stage == "HEAD_APPROVAL"
    outcome = decisions.decide(env.deps, env.member_id, PR, item_id, HEAD, "request_documents", "Нужен договор")
    assert outcome.stage == "DOCS_REQUESTED"
    env.settle()
    docs = [t for t in open_tasks(env, item_id) if int(t["responsibleId"]) == INITIATOR]
    assert len(docs) == 1 and docs[0]["title"].startswith("Предоставить документы")
    env.as_user("a.ivanova").complete_task(int(docs[0]["id"]))     # nothing attached: reopened
    env.settle()
    assert env.stage(item_id) == "DOCS_REQUESTED" and any("Приложите" in n for n in notes(env, "a.ivanova"))
    env.as_user("a.ivanova").attach_file_to_task(int(docs[0]["id"]), "contract.pdf", b"%PDF contract")
    env.as_user("a.ivanova").complete_task(int(docs[0]["id"]))
    env.settle()
    assert env.stage(item_id) == "HEAD_APPROVAL"
    assert [int(t["responsibleId"]) for t in open_tasks(env, item_id)] == [HEAD]


WORKER = """
import sys, time
from redis import Redis
from rq import Queue
from b24app.worker import BurstWorker
import b24app.jobs, b24app.pipeline.process   # imported before the start signal: the three start together
conn = Redis.from_url(sys.argv[1])
conn.incr("test:ready")
while not conn.get("test:go"):
    time.sleep(0.005)
BurstWorker([Queue("b24app-events", connection=conn)], connection=conn).work(burst=True)
"""


def worker_env(env: Env) -> dict[str, str]:
    s = env.deps.settings
    assert s.client_secret is not None and s.redis_url
    return {**os.environ, "B24APP_REDIS_URL": s.redis_url, "B24APP_CLIENT_ID": s.client_id or "",
            "B24APP_CLIENT_SECRET": s.client_secret.get_secret_value(), "B24APP_OAUTH_SERVER": s.oauth_server,
            "B24APP_CONFIG_DIR": str(s.config_dir), "B24APP_WORKFLOWS_DIR": str(s.workflows_dir),
            "B24APP_RETRY_BASE_DELAY": "0.01"}


def test_copies_of_one_event_in_three_worker_processes_make_one_task(env: Env) -> None:
    item = env.as_user("a.ivanova").create_item(ETID, env.request_fields())
    assert env.sandbox.drain_events(WAIT)
    assert [d for d in env.sandbox.deliveries if d.event.upper().startswith("ONCRMDYNAMICITEMADD")]
    [first] = env.deps.queue(queues.EVENTS).jobs           # the edge coalesces re-deliveries while this waits,
    for copy in range(5):                                  # so put copies on the queue directly, as workers of
        env.deps.queue(queues.EVENTS).enqueue(             # several edges (or retries) could leave them
            "b24app.jobs.handle_event", *first.args[:4], job_id=f"copy-{copy}")
    assert env.deps.redis.llen("rq:queue:b24app-events") == 6
    env.sandbox.faults.delay(1.5, method="tasks.task.add")   # a slow write: the others read meanwhile
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, str(env.deps.settings.redis_url)], cwd=ROOT,
                                env=worker_env(env), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
               for _ in range(3)]
    while int(env.deps.redis.get("test:ready") or 0) < 3:      # start the three at the same moment
        time.sleep(0.01)
    env.deps.redis.set("test:go", "1")
    assert [w.wait(timeout=120) for w in workers] == [0, 0, 0]
    env.sandbox.faults.clear()
    env.settle()
    item_id = int(item["id"])
    assert [int(t["responsibleId"]) for t in env.tasks(item_id)] == [HEAD]
    assert len(notify_calls(env, HEAD)) == 1
    sheet = decisions.approval_sheet(env.deps, env.member_id, PR, item_id, HEAD)
    assert [e.decision for e in sheet.entries] == ["start"]


def test_department_without_a_head_goes_to_the_nearest_parents_head(env: Env) -> None:
    own_head = create(env, "d.petrov")             # Digital-маркетинг has no head: Маркетинг's head
    no_head = create(env, "p.fedorov")             # Производство has no head: the company's head
    assert [int(t["responsibleId"]) for t in env.tasks(own_head)] == [HEAD]
    assert [int(t["responsibleId"]) for t in env.tasks(no_head)] == [2]


def test_contracts_run_on_the_same_engine(env: Env) -> None:
    fields = env.ui_fields({"title": "Договор поставки", "SUBJECT": "Поставка флаконов", "AMOUNT": "500000|RUB",
                            "CONTRACT_FILE": ["contract.pdf", "JVBERi0="]}, "contracts")
    item = env.as_user("a.ivanova").create_item(1102, fields)
    env.settle()
    item_id = int(item["id"])
    assert env.stage(item_id, "contracts") == "HEAD_APPROVAL"
    for user in (HEAD, 13, FINANCE, 2):
        assert decisions.decide(env.deps, env.member_id, "contracts", item_id, user, "approve").ok
    env.settle()
    assert env.stage(item_id, "contracts") == "SIGNED"
    assert len(env.tasks(item_id, "contracts")) == 4


def test_telegram_presses_decide_like_the_card_and_a_second_press_is_stale(env: Env) -> None:
    from b24app.telegram.callbacks import CallbackRecord, Press, Status
    from handlers.telegram_actions import handler_for

    item_id = create(env)
    record = CallbackRecord(env.member_id, ETID, item_id, "head_approval", "approve")
    assert handler_for("approve")(Press(env.member_id, 12, record)).status is Status.REFUSED
    done = handler_for("approve")(Press(env.member_id, HEAD, record))
    assert done.status is Status.DONE and done.decided_by_name == "Марина Орлова"
    assert env.stage(item_id) == "FINANCE_REVIEW"
    assert handler_for("approve")(Press(env.member_id, HEAD, record)).status is Status.STALE
    sheet = decisions.approval_sheet(env.deps, env.member_id, PR, item_id, HEAD)
    assert sheet.entries[-1].via == "telegram"


def test_a_substitute_gets_the_task_during_the_heads_absence(
    sandbox: SandboxPortal, redis_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert sandbox.ca_bundle
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", sandbox.ca_bundle)
    config = tmp_path / "config"
    shutil.copytree(ROOT / "config", config)
    roles = (config / "roles.yaml").read_text(encoding="utf-8").replace(
        "absences: []", "absences:\n  - {user_id: 3, from: 2026-03-01, to: 2026-03-10, substitute_id: 6}")
    (config / "roles.yaml").write_text(roles, encoding="utf-8")
    with approval_env(sandbox, redis_url, config) as env:
        item_id = create(env)
        assert [int(t["responsibleId"]) for t in env.tasks(item_id)] == [6]
        assert not decisions.decide(env.deps, env.member_id, PR, item_id, 7, "approve").ok
        assert decisions.decide(env.deps, env.member_id, PR, item_id, 6, "approve").ok
        entry = decisions.approval_sheet(env.deps, env.member_id, PR, item_id, 6).entries[-1]
        assert (entry.by, entry.on_behalf_of, entry.on_behalf_of_name) == (6, HEAD, "Марина Орлова")


def test_a_decision_on_an_item_another_worker_holds_is_refused_as_busy(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    from b24app.pipeline import process as itemstate

    item_id = create(env)
    monkeypatch.setattr(itemstate, "LOCK_WAIT", 0.2)
    lock = env.deps.redis.lock(f"b24app:lock:item:{env.member_id}:{ETID}:{item_id}", timeout=30)
    assert lock.acquire()
    try:
        outcome = decisions.decide(env.deps, env.member_id, PR, item_id, HEAD, "approve")
    finally:
        lock.release()
    assert not outcome.ok and "обрабатывается" in outcome.message.ru
    assert env.stage(item_id) == "HEAD_APPROVAL"
    assert decisions.decide(env.deps, env.member_id, PR, item_id, HEAD, "approve").ok


def test_deleting_a_request_closes_its_open_tasks(env: Env) -> None:
    item_id = create(env)
    assert len(open_tasks(env, item_id)) == 1
    env.sandbox.clock.advance(timedelta(seconds=1))
    env.client.call("crm.item.delete", {"entityTypeId": ETID, "id": item_id})
    env.settle()
    assert env.tasks(item_id) and not open_tasks(env, item_id)


def test_events_without_tokens_are_handled_with_the_stored_installation(env: Env) -> None:
    """Ordinary events carry no refresh token (as the events page says) and an automation rule's carry no
    tokens at all: the app acts with its stored installation either way."""
    item = env.sandbox.as_automation("a.ivanova").create_item(ETID, env.request_fields())
    env.settle()
    item_id = int(item["id"])
    assert env.stage(item_id) == "HEAD_APPROVAL" and len(env.tasks(item_id)) == 1
    ordinary = [d.decoded()["auth"] for d in env.sandbox.deliveries if d.event.startswith(("ONCRM", "ONTASK"))]
    added = [d.decoded()["auth"] for d in env.sandbox.deliveries if d.event.startswith("ONCRMDYNAMICITEMADD")]
    assert added and all("access_token" not in auth for auth in added)
    assert ordinary and all("refresh_token" not in auth for auth in ordinary)
    assert env.failed_jobs() == []


@pytest.mark.parametrize(("shape", "shown"), [
    ("list", "Сырьё и материалы"), ("map", "Сырьё и материалы"), ("enum", "Сырьё и материалы"),
    ("xml", "Сырьё и материалы"), ("none", UNKNOWN_OPTION),
])
def test_the_sheet_names_the_expense_item_whatever_shape_the_portal_lists_options_in(
    env: Env, shape: str, shown: str
) -> None:
    item_id = create(env)
    env.sandbox.switches.list_items = shape
    sheet = decisions.approval_sheet(env.deps, env.member_id, PR, item_id, HEAD)
    expense = next(value for label, value in sheet.summary if label.ru == "Статья расходов")
    assert expense == shown and str(env.enum_id("EXPENSE_ITEM")) not in expense
