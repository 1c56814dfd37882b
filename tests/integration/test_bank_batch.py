"""The bank import pays its clear matches together (#18): reads and writes in shared batches, with the
single-item path's result. Against the sandbox over HTTPS with real Redis and the RQ edge: the echoes of
the shared writes come back as events and must cost no read."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from b24app.bank import portal, service
from b24app.deps import Deps
from b24app.errors import RestError
from b24app.pipeline import perform
from b24app.pipeline.logsign import Scope, verify
from b24app.pipeline.many import Outcome
from b24app.pipeline.process import process
from b24app.workflow.actions import BankPayment, Trigger
from b24app.workflow.snapshot import Entry
from tests.integration.approval_env import PR, Env
from tests.integration.test_bank_service import JUNIOR, at_payment, statement


def one_by_one(deps: Deps, member_id: str, workflow_code: str, triggers: Mapping[int, Trigger]) -> Outcome:
    """The reference: every request through the single-item path, one after the other."""
    return Outcome(done={i: process(deps, member_id, workflow_code, i, t) for i, t in sorted(triggers.items())})


def requests(env: Env, first: int, count: int) -> list[int]:
    return [at_payment(env, 15000 + first + n, INVOICE_NUMBER=f"А-{first + n}") for n in range(count)]


def result(env: Env, item_id: int) -> dict[str, Any]:
    """What paying did to a request, without what differs between two requests (ids, numbers, times)."""
    names = env.names()
    checked = verify(env.deps.app_secret, Scope(env.member_id, names.entity_type_id, item_id),
                     env.item(item_id)[names.field("DECISIONS")])
    entries = [(e.seq, e.round, e.decision, e.by, e.stage, e.step, e.next_step, e.approver, e.on_behalf_of,
                e.via, e.bank_date, bool(e.bank_doc)) for e in map(Entry.parse, checked.entries) if e is not None]
    timeline = [c.params["fields"]["title"] for c in env.sandbox.calls
                if c.method.lower() == "crm.timeline.logmessage.add" and int(c.params["fields"]["entityId"]) == item_id]
    return {"stage": env.stage(item_id), "rejected": checked.rejected, "log": entries, "timeline": timeline,
            "tasks": sorted((str(t["status"]), str(t["responsibleId"])) for t in env.tasks(item_id))}


def test_a_batched_import_pays_as_one_by_one_in_a_few_batches_and_its_echoes_cost_no_read(
        env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    alone = requests(env, 1, 3)
    with monkeypatch.context() as patched:
        patched.setattr(service, "process_many", one_by_one)
        first = statement(env)
        before = env.app_requests
        assert len(service.import_statement(env.deps, env.member_id, first, user_id=JUNIOR).paid) == 3
        single = env.app_requests - before
    env.settle()
    together = requests(env, 11, 3)
    data = statement(env)
    before = env.app_requests
    report = service.import_statement(env.deps, env.member_id, data, user_id=JUNIOR)
    imported = env.app_requests
    assert sorted(line.item_id or 0 for line in report.paid) == together
    # the list, one read batch, the items' updates, their tasks and timeline, the extracts (one batch; the
    # Drive folder is known since the first import); one by one: a read and a write batch each (+ the folder)
    assert imported - before == 1 + 1 + 1 + 1 + 1 and single == 1 + 2 * 3 + 1 + 1
    env.settle()                     # the echoes of the items' and tasks' updates: no read
    assert env.app_requests == imported
    for batched, reference in zip(together, alone, strict=True):
        assert result(env, batched) == result(env, reference)
        assert result(env, batched)["stage"] == "PAID" and result(env, batched)["log"][-1][9] == "bank"
    again = service.import_statement(env.deps, env.member_id, data, user_id=JUNIOR)     # changes nothing
    assert again.paid == [] and len(again.unchanged) == 3
    assert [result(env, i) for i in together] == [result(env, i) for i in alone]


def test_a_request_whose_shared_write_failed_is_paid_on_its_own_path_and_the_others_are_not_affected(
        env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    first, broken, last = requests(env, 1, 3)
    real = perform.prepare
    spoilt: list[int] = []

    def prepare(*args: Any, **kwargs: Any) -> perform.Prepared:
        ready = real(*args, **kwargs)
        item = ready.commands.get("item")
        if item is not None and item[1]["id"] == broken and not spoilt:      # its update fails once: NOT_FOUND
            spoilt.append(broken)
            return perform.Prepared({**ready.commands, "item": (item[0], {**item[1], "id": 999999})}, ready.marks)
        return ready

    monkeypatch.setattr(perform, "prepare", prepare)
    data, start = statement(env), len(env.sandbox.calls)
    report = service.import_statement(env.deps, env.member_id, data, user_id=JUNIOR)
    assert spoilt == [broken]
    assert sorted(line.item_id or 0 for line in report.paid) == [first, broken, last]
    env.settle()
    assert {env.stage(i) for i in (first, broken, last)} == {"PAID"}
    assert result(env, broken) == result(env, first) == result(env, last)
    calls = env.sandbox.calls[start:]
    tasks = {int(t["id"]): i for i in (first, broken, last) for t in env.tasks(i)}
    per_item = [(n, tasks.get(int(c.params["taskId"]))) for n, c in enumerate(calls)
                if c.method.lower() == "tasks.task.complete"]
    written = min(n for n, c in enumerate(calls) if c.method.lower() == "crm.item.update" and c.error is None
                  and int(c.params["id"]) == broken)
    # nothing of the broken request ran in the shared round: its tasks were closed once, after its own update
    closed = [n for n, i in per_item if i == broken]
    assert len(closed) == [i for _, i in per_item].count(first) == [i for _, i in per_item].count(last) > 0
    assert min(closed) > written


def test_a_request_that_left_the_payment_step_before_its_read_is_left_alone_in_the_batch(
        env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    gone, kept = requests(env, 1, 2)
    data = statement(env)
    listed = portal.open_requests(env.deps, env.member_id)           # both were open when the list was read
    process(env.deps, env.member_id, PR, gone, BankPayment(JUNIOR, "77", "2026-03-03", "15001.00", "elsewhere"))
    env.settle()
    assert env.stage(gone) == "PAID"
    log = env.item(gone)[env.names().field("DECISIONS")]
    monkeypatch.setattr(portal, "open_requests", lambda deps, member_id: listed)
    report = service.import_statement(env.deps, env.member_id, data, user_id=JUNIOR)
    assert [line.item_id for line in report.paid] == [kept] and env.stage(kept) == "PAID"
    [late] = [line for line in report.unmatched if line.reason.code == "not_at_payment"]
    assert late.item_id is None and env.item(gone)[env.names().field("DECISIONS")] == log


def test_a_request_that_fails_on_its_own_path_too_raises_after_the_others_are_paid_and_recorded(
        env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    first, broken, last = requests(env, 1, 3)
    real = perform.prepare

    def prepare(*args: Any, **kwargs: Any) -> perform.Prepared:
        ready = real(*args, **kwargs)
        item = ready.commands.get("item")
        if item is not None and item[1]["id"] == broken:                    # its update always fails
            return perform.Prepared({**ready.commands, "item": (item[0], {**item[1], "id": 999999})}, ready.marks)
        return ready

    monkeypatch.setattr(perform, "prepare", prepare)
    data, tasks = statement(env), env.tasks(broken)
    with pytest.raises(RestError, match="NOT_FOUND"):
        service.import_statement(env.deps, env.member_id, data, user_id=JUNIOR)
    env.settle()
    assert [env.stage(i) for i in (first, broken, last)] == ["PAID", "PAYMENT", "PAID"]
    assert env.tasks(broken) == tasks                                      # nothing of its step was closed
    monkeypatch.setattr(perform, "prepare", real)
    again = service.import_statement(env.deps, env.member_id, data, user_id=JUNIOR)
    assert [line.item_id for line in again.paid] == [broken] and len(again.unchanged) == 2
