"""The app's own writes come back as events (echoes) that it does not read — and a person's change made
right after such a write is never lost. Across processes: the sandbox portal over HTTPS delivers its
events to the real ``/b24/events`` endpoint, jobs run through RQ on a real Redis, the sweep reads the
portal's offline queue."""

from __future__ import annotations

from datetime import timedelta

from rq import Queue

from b24app import queue as queues
from handlers import decisions
from handlers.sweep import run_sweep
from tests.integration.approval_env import PR, Env
from tests.integration.test_approval_flow import ETID, HEAD, create, notes


def test_an_echo_costs_no_read(env: Env) -> None:
    item_id = create(env)
    before = env.app_requests
    assert decisions.decide(env.deps, env.member_id, PR, item_id, HEAD, "approve").ok
    decided = env.app_requests
    # read (carrying the finance review's checks, planned at submission with the invoice's download, #16), write
    assert decided - before == 2
    env.settle()                     # the echo of the item update and the closed task's update: no read
    assert env.app_requests == decided
    assert env.stage(item_id) == "FINANCE_REVIEW"


def test_a_persons_change_coalesced_with_the_echo_is_read(env: Env) -> None:
    item_id = create(env)
    assert decisions.decide(env.deps, env.member_id, PR, item_id, HEAD, "approve").ok
    env.sandbox.drain_events()       # the echo is queued at the edge, its job not started yet
    assert Queue(queues.EVENTS, connection=env.deps.redis).count >= 1
    env.as_user("p.fedorov").move_item(ETID, item_id, env.names().stage_ids["PAYMENT"])   # the same second
    env.settle()                     # one job for two deliveries: the echo explains only one of them
    assert env.stage(item_id) == "FINANCE_REVIEW"
    assert any("возвращена" in n for n in notes(env, "p.fedorov"))


def test_a_persons_change_whose_event_met_a_lost_echo_is_caught_by_the_next_sweep(env: Env) -> None:
    item_id = create(env)
    env.sandbox.faults.events(drop=1.0)          # the app's write: its echo never arrives
    assert decisions.decide(env.deps, env.member_id, PR, item_id, HEAD, "approve").ok
    env.sandbox.drain_events()
    env.sandbox.faults.events()
    env.as_user("p.fedorov").move_item(ETID, item_id, env.names().stage_ids["PAYMENT"])
    env.settle()                     # the person's event took the lost echo's place: not read online
    assert env.stage(item_id) == "PAYMENT"
    run_sweep(env.deps, env.member_id)           # the offline queue names the person as the last to change it
    env.settle()
    assert env.stage(item_id) == "FINANCE_REVIEW"
    assert any("возвращена" in n for n in notes(env, "p.fedorov"))


def test_offline_rows_of_changes_already_handled_cost_no_refresh(env: Env) -> None:
    run_sweep(env.deps, env.member_id)           # provisioning's rows
    item = env.as_user("a.ivanova").create_item(ETID, env.request_fields())
    env.sandbox.clock.advance(timedelta(seconds=1))      # the portal delivers the event a moment later
    env.settle()
    item_id = int(item["id"])
    assert decisions.decide(env.deps, env.member_id, PR, item_id, HEAD, "approve").ok
    env.settle()
    report = run_sweep(env.deps, env.member_id)
    assert report.offline_items == 0             # the creation was read after it; the rest were the app's writes
    env.as_user("a.ivanova").update_item(ETID, item_id, {"title": "Оплата поставщику (уточнено)"})
    env.settle()                                 # read online in the same second as the change ...
    assert run_sweep(env.deps, env.member_id).offline_items == 1     # ... so the sweep refreshes it once more
    assert env.stage(item_id) == "FINANCE_REVIEW"
