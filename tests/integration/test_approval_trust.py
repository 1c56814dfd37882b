"""What people can write must not move a request: a forged approval log, signed entries deleted from it
or an older signed log put back, a forged task with the app's marker; and a write that fails half-way,
or a lock that expires during a slow read, must not leave a step half-made. The whole stack against the
sandbox (HTTPS, strict mode) with a real Redis."""

from __future__ import annotations

import time
from typing import Any

import pytest

from b24app.errors import RestError
from b24app.escalation import read as sweep_read
from b24app.pipeline import process as itemstate
from b24app.pipeline import read as item_read
from b24app.pipeline.logsign import Scope, record_key
from b24app.pipeline.process import ItemBusy, process
from b24app.workflow.actions import Refresh
from b24sandbox.registry import invoke
from handlers import decisions
from tests.integration.approval_env import PR, Env

ETID = 1100
HEAD, FINANCE, INITIATOR = 3, 8, 4


def create(env: Env, **fields: Any) -> int:
    item = env.as_user("a.ivanova").create_item(ETID, env.request_fields(**fields))
    env.settle()
    return int(item["id"])


def entries(env: Env, item_id: int) -> list[str]:
    return [e.decision for e in decisions.approval_sheet(env.deps, env.member_id, PR, item_id, HEAD).entries]


def timeline_titles(env: Env, item_id: int) -> list[str]:
    return [c.params["fields"]["title"] for c in env.sandbox.calls
            if c.method.lower() == "crm.timeline.logmessage.add" and int(c.params["fields"]["entityId"]) == item_id]


def test_a_forged_approval_log_is_ignored_and_reported_once(env: Env) -> None:
    forged = ('{"seq":1,"round":1,"decision":"approve","by":8,"at":"2026-03-02T09:00:00+03:00","stage":"PAYMENT",'
              '"step":"finance_review","next_step":"payment","approver":10,"via":"card"}')
    item_id = create(env, DECISIONS=[forged])
    assert env.stage(item_id) == "HEAD_APPROVAL"
    assert [int(t["responsibleId"]) for t in env.tasks(item_id)] == [HEAD]
    assert entries(env, item_id) == ["start"]
    stored = env.item(item_id)[env.names().field("DECISIONS")]
    assert len(stored) == 1 and '"sig":' in stored[0] and "PAYMENT" not in stored[0]
    assert timeline_titles(env, item_id).count("Записи листа согласования не приняты") == 1
    # a signed entry copied into the log of another request does not count there either
    other = create(env, DECISIONS=[*stored, forged])
    assert entries(env, other) == ["start"] and env.stage(other) == "HEAD_APPROVAL"


def log_values(env: Env, item_id: int) -> list[str]:
    return list(env.item(item_id)[env.names().field("DECISIONS")])


def test_deleting_the_rejection_from_the_log_is_undone_and_reported_once(env: Env) -> None:
    item_id = create(env)
    assert decisions.decide(env.deps, env.member_id, PR, item_id, HEAD, "approve").ok
    assert decisions.decide(env.deps, env.member_id, PR, item_id, FINANCE, "reject", "Нет бюджета").ok
    env.settle()
    written = log_values(env, item_id)
    assert env.stage(item_id) == "REJECTED" and len(written) == 3
    for _ in range(2):                          # the initiator deletes the rejection (signed entries kept)
        env.as_user("a.ivanova").update_item(ETID, item_id, env.ui_fields({"DECISIONS": written[:2]}))
        env.settle()
        assert env.stage(item_id) == "REJECTED"
        assert entries(env, item_id) == ["start", "approve", "reject"]
        assert log_values(env, item_id) == written                  # put back on the portal
    assert [int(t["status"]) for t in env.tasks(item_id) if int(t["responsibleId"]) == FINANCE] == [5]
    assert timeline_titles(env, item_id).count("Лист согласования был изменён вручную и восстановлен") == 1


def test_an_older_signed_log_put_back_is_detected_and_without_the_copy_taken_as_found(env: Env) -> None:
    item_id = create(env)
    older = log_values(env, item_id)
    assert decisions.decide(env.deps, env.member_id, PR, item_id, HEAD, "approve").ok
    env.settle()
    env.as_user("a.ivanova").update_item(ETID, item_id, env.ui_fields({"DECISIONS": older}))
    env.settle()
    assert env.stage(item_id) == "FINANCE_REVIEW" and entries(env, item_id) == ["start", "approve"]
    assert len(log_values(env, item_id)) == 2
    assert timeline_titles(env, item_id).count("Лист согласования был изменён вручную и восстановлен") == 1
    # Redis lost the copy: the signed chain found on the portal is all there is (today's fallback)
    env.deps.redis.delete(record_key(Scope(env.member_id, ETID, item_id)))
    env.sandbox.faults.events(drop=1.0)
    env.as_user("a.ivanova").update_item(ETID, item_id, env.ui_fields({"DECISIONS": older}))
    assert entries(env, item_id) == ["start"]


def test_a_task_forged_with_the_app_marker_neither_replaces_the_real_task_nor_approves(env: Env) -> None:
    fields = env.request_fields()
    fields.pop(next(k for k in fields if k.lower().endswith("invoice")))
    item_id = int(env.as_user("a.ivanova").create_item(ETID, fields)["id"])
    env.settle()
    assert env.stage(item_id) == "NEW"
    binding = env.names().binding_for(item_id)
    forged = invoke(env.sandbox.state, "tasks.task.add", {"fields": {
        "TITLE": "Согласовать", "RESPONSIBLE_ID": INITIATOR, "UF_CRM_TASK": [binding],
        "DESCRIPTION": f"Заявка\n\n[b24app:{PR}:{item_id}:r1:head_approval]"}}, INITIATOR, "ui")
    env.as_user("a.ivanova").complete_task(int(forged["task"]["id"]))
    env.settle()
    env.as_user("a.ivanova").update_item(ETID, item_id, env.ui_fields({"INVOICE": ["invoice.pdf", "JVBERi0="]}))
    env.settle()
    assert env.stage(item_id) == "HEAD_APPROVAL" and entries(env, item_id) == ["start"]
    real = [t for t in env.tasks(item_id) if int(t["id"]) != int(forged["task"]["id"])]
    assert [(int(t["responsibleId"]), int(t["status"])) for t in real] == [(HEAD, 2)]


def test_a_failed_item_write_creates_none_of_the_next_steps_tasks(env: Env) -> None:
    item_id = create(env)
    [head_task] = env.tasks(item_id)
    env.sandbox.faults.events(drop=1.0)                 # this test drives the engine itself
    env.as_user("m.orlova").complete_task(int(head_task["id"]))
    env.sandbox.faults.operating_limit("crm.item.update", reset_at=time.time() + 600)
    with pytest.raises(RestError):
        process(env.deps, env.member_id, PR, item_id, Refresh("task"))
    assert env.stage(item_id) == "HEAD_APPROVAL" and len(env.tasks(item_id)) == 1   # no finance task
    env.sandbox.faults.clear()
    process(env.deps, env.member_id, PR, item_id, Refresh("task"))                  # the queue's retry
    assert env.stage(item_id) == "FINANCE_REVIEW"
    assert sorted(int(t["responsibleId"]) for t in env.tasks(item_id)) == [HEAD, FINANCE]


def test_the_item_lock_is_renewed_after_the_read_and_a_lost_lock_writes_nothing(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    item_id = create(env)
    env.sandbox.faults.events(drop=1.0)
    env.as_user("m.orlova").complete_task(int(env.tasks(item_id)[0]["id"]))
    key = f"b24app:lock:item:{env.member_id}:{ETID}:{item_id}"
    real_load = item_read.load
    seen: list[int] = []

    def slow_load(*args: Any) -> Any:
        loaded = real_load(*args)
        env.deps.redis.pexpire(key, 500)               # as if most of the lock's lifetime went by
        return loaded

    def checking_perform(*args: Any, **kwargs: Any) -> None:
        seen.append(int(env.deps.redis.pttl(key)))

    monkeypatch.setattr(item_read, "load", slow_load)
    monkeypatch.setattr("b24app.pipeline.perform.perform", checking_perform)
    process(env.deps, env.member_id, PR, item_id, Refresh("task"))
    assert seen and seen[0] > (itemstate.LOCK_TIMEOUT - 10) * 1000

    def load_then_lose_the_lock(*args: Any) -> Any:
        loaded = real_load(*args)
        env.deps.redis.set(key, "another worker's token")   # it expired and another worker took it
        return loaded

    monkeypatch.setattr(item_read, "load", load_then_lose_the_lock)
    seen.clear()
    with pytest.raises(ItemBusy):
        process(env.deps, env.member_id, PR, item_id, Refresh("task"))
    assert not seen and env.stage(item_id) == "HEAD_APPROVAL"
    env.deps.redis.delete(key)


def test_a_failed_item_read_raises_instead_of_looking_like_a_deleted_item(env: Env) -> None:
    item_id = create(env)
    env.sandbox.faults.operating_limit("crm.item.get", reset_at=time.time() + 600)
    with pytest.raises(RestError):
        process(env.deps, env.member_id, PR, item_id, Refresh("item"))      # the queue retries the job
    env.sandbox.faults.clear()
    loaded, _ = process(env.deps, env.member_id, PR, item_id, Refresh("item"))
    assert loaded is not None and loaded.snap.stage == "HEAD_APPROVAL"


def test_the_sweep_reads_a_rolled_back_log_as_the_app_wrote_it(env: Env) -> None:
    item_id = create(env)
    older = log_values(env, item_id)
    assert decisions.decide(env.deps, env.member_id, PR, item_id, HEAD, "approve").ok
    env.settle()
    env.sandbox.faults.events(drop=1.0)                  # no event: only the sweep reads the item
    env.as_user("a.ivanova").update_item(ETID, item_id, env.ui_fields({"DECISIONS": older}))
    [found] = [f for f in sweep_read.collect(env.deps, env.member_id).found if f.snap.item_id == item_id]
    assert [e.decision for e in found.snap.log] == ["start", "approve"]
    assert found.request.step == "finance_review"
