"""Payments linked to contracts and duplicate invoices, across processes: the sandbox over HTTPS (strict),
events to the real edge, RQ jobs on a real Redis. What the finance manager's task holds, what the app
stored (the invoice's hash) and what the check cost the portal: one links batch, one duplicate list."""

from __future__ import annotations

import hashlib
from typing import Any

from b24app.pipeline.files import latest
from b24sandbox.dispatch import CallRecord
from tests.integration.approval_env import PR, Env

ETID, CONTRACTS = 1100, 1102
INVOICE = b"%PDF-1.4 invoice"          # Env.request_fields' invoice content


def _to_finance(env: Env, **fields: Any) -> int:
    item = env.as_user("a.ivanova").create_item(ETID, env.request_fields(**fields))
    env.settle()
    item_id = int(item["id"])
    [head] = env.tasks(item_id)
    env.as_user("m.orlova").complete_task(int(head["id"]))
    env.settle()
    assert env.stage(item_id) == "FINANCE_REVIEW"
    return item_id


def _duplicate_lists(calls: list[CallRecord]) -> list[CallRecord]:
    return [c for c in calls if c.method == "crm.item.list" and "!=id" in (c.params.get("filter") or {})]


def test_entering_the_finance_review_costs_one_duplicate_list_and_stores_the_invoice_hash(env: Env) -> None:
    first = _to_finance(env)
    start = len(env.sandbox.calls)
    second = _to_finance(env)
    calls = env.sandbox.calls[start:]
    [listed] = _duplicate_lists(calls)                 # one filtered list for the second request ...
    assert listed.in_batch                             # ... inside a batch
    assert str(listed.params["filter"]["!=id"]) == str(second)
    downloads = [c for c in calls if "getFile" in c.method]
    assert len(downloads) == 1                         # its invoice, once
    names = env.names()
    stored = env.item(second)[names.field("INVOICE_HASH")]
    assert stored == hashlib.sha256(INVOICE).hexdigest()
    assert latest(env.item(second)[names.field("INVOICE")]) is not None
    [task] = [t for t in env.tasks(second) if t["title"].startswith("Проверить заявку")]
    assert f"Возможный дубль: заявка №{first}" in task["description"]
    assert "тот же файл счёта" in task["description"] and f"/crm/type/{ETID}/details/{first}/" in task["description"]


def test_a_payment_linked_to_a_contract_reads_it_and_its_payments_with_the_parent_filter(env: Env) -> None:
    contract = env.as_user("a.ivanova").create_item(CONTRACTS, env.ui_fields({
        "title": "Договор поставки", "SUBJECT": "Поставка", "AMOUNT": "100000|RUB",
        "CONTRACT_FILE": ["contract.pdf", "JVBERi0="]}, "contracts"))
    env.settle()
    contract_id = int(contract["id"])
    start = len(env.sandbox.calls)
    item_id = _to_finance(env, amount=120000, **{f"parentId{CONTRACTS}": contract_id})
    assert int(env.item(item_id)[f"parentId{CONTRACTS}"]) == contract_id
    calls = env.sandbox.calls[start:]
    parents = [c for c in calls if c.method == "crm.item.list"
               and str((c.params.get("filter") or {}).get(f"parentId{CONTRACTS}")) == str(contract_id)]
    assert len(parents) == 1 and parents[0].in_batch
    [task] = [t for t in env.tasks(item_id) if t["title"].startswith("Проверить заявку")]
    assert "Договор «Договор поставки» не подписан" in task["description"]
    assert "больше остатка по договору 100 000 RUB" in task["description"]
    assert env.stage(item_id, PR) == "FINANCE_REVIEW"
