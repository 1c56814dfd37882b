"""The finance review's links batch riding the item's read (#16, #13), across processes: the sandbox over
HTTPS (strict), events to the real edge, RQ jobs on a real Redis. Planned at submission (with the invoice's
download), sent with the read that finds the request entering the finance review; anything the plan
depended on changed since (a field, the invoice file) and the separate batch is sent, so the result is
the same as without the plan."""

from __future__ import annotations

import base64
from typing import Any

from b24app import keys
from b24sandbox.dispatch import CallRecord
from tests.integration.approval_env import Env

ETID = 1100


def _submit(env: Env, **fields: Any) -> int:
    item = env.as_user("a.ivanova").create_item(ETID, env.request_fields(**fields))
    env.settle()
    return int(item["id"])


def _head_completes(env: Env, item_id: int) -> list[CallRecord]:
    [head] = env.tasks(item_id)
    start = len(env.sandbox.calls)
    env.as_user("m.orlova").complete_task(int(head["id"]))
    env.settle()
    assert env.stage(item_id) == "FINANCE_REVIEW"
    return env.sandbox.calls[start:]


def _file(content: bytes) -> list[str]:
    return ["invoice.pdf", base64.b64encode(content).decode()]


def _duplicate_batches(calls: list[CallRecord]) -> list[dict[str, Any]]:
    """The ``cmd`` of each batch holding a duplicate-candidates list (recorded after its commands)."""
    found = []
    for index, call in enumerate(calls):
        if call.method == "crm.item.list" and "!=id" in (call.params.get("filter") or {}):
            batch = next(c for c in calls[index + 1:] if c.method == "batch")
            found.append(dict(batch.params.get("cmd") or {}))
    return found


def _reads_tasks(cmd: dict[str, Any]) -> bool:
    return any("tasks.task.list" in str(v) for v in cmd.values())


def _review_task(env: Env, item_id: int) -> str:
    [task] = [t for t in env.tasks(item_id) if t["title"].startswith("Проверить заявку")]
    return str(task["description"])


def test_the_checks_ride_the_read_entering_the_finance_review_and_find_the_duplicate(env: Env) -> None:
    first = _submit(env, amount=90000, INVOICE_NUMBER="СЧ-1")
    _head_completes(env, first)
    second = _submit(env, amount=70000, INVOICE_NUMBER="СЧ-2")
    plan = keys.link_plan(env.member_id, ETID, second)
    assert env.deps.redis.exists(plan)                       # planned at submission ...
    before = env.app_requests
    calls = _head_completes(env, second)
    assert env.app_requests - before == 2                    # ... so entering the review: read + write
    assert [c for c in calls if "getFile" in c.method] == []  # the invoice was downloaded at submission
    [cmd] = _duplicate_batches(calls)
    assert _reads_tasks(cmd)                                 # the duplicate list rode the item's read
    description = _review_task(env, second)
    assert f"Возможный дубль: заявка №{first}" in description and "тот же файл счёта" in description
    assert not env.deps.redis.exists(plan)                   # entered: later reads carry nothing more


def test_a_field_changed_after_submission_sends_the_separate_batch_with_the_new_value(env: Env) -> None:
    first = _submit(env, amount=90000, INVOICE_NUMBER="СЧ-7", INVOICE=_file(b"%PDF-1.4 first"))
    _head_completes(env, first)
    second = _submit(env, amount=70000, INVOICE_NUMBER="СЧ-8", INVOICE=_file(b"%PDF-1.4 second"))
    env.as_user("a.ivanova").update_item(ETID, second, env.ui_fields({"INVOICE_NUMBER": "СЧ-7"}))
    env.settle()
    calls = _head_completes(env, second)
    batches = _duplicate_batches(calls)
    assert [_reads_tasks(cmd) for cmd in batches] == [True, False]   # the planned list, then the separate one
    assert f"Возможный дубль: заявка №{first}" in _review_task(env, second)   # the number, as changed


def test_a_new_invoice_file_after_submission_is_hashed_before_the_check(env: Env) -> None:
    first = _submit(env, amount=90000, INVOICE_NUMBER="СЧ-3", INVOICE=_file(b"%PDF-1.4 shared"))
    _head_completes(env, first)
    second = _submit(env, amount=70000, INVOICE_NUMBER="СЧ-4", INVOICE=_file(b"%PDF-1.4 other"))
    env.as_user("a.ivanova").update_item(ETID, second, env.ui_fields({"INVOICE": _file(b"%PDF-1.4 shared")}))
    env.settle()
    calls = _head_completes(env, second)
    assert len([c for c in calls if "getFile" in c.method]) == 1     # the new file id, hashed now
    assert [_reads_tasks(cmd) for cmd in _duplicate_batches(calls)] == [True, False]
    description = _review_task(env, second)
    assert f"Возможный дубль: заявка №{first}" in description and "тот же файл счёта" in description
