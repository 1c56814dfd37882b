"""Open requests at every step, as the pipeline leaves them, cloned fast (for ``bench/bench_sweep.py``).

:func:`play_templates` plays one real request to each step through the sandbox and the app (events, RQ,
the pipeline's writes): payment requests at head approval, finance review, director approval (an amount
above the threshold), payment (the accounting task and subtask, the app's deadline record), frozen and
documents requested; contracts at head approval, legal review, finance review and signing.
:func:`clone` copies a template's state in the sandbox store (no HTTP, no events): the item, its bound
tasks (the marker, the binding and the parent link rewritten for the new item), the approval log signed
again for the new item (a signature binds an entry to one item), and in Redis the app's copy of the log
and its last-processing record (read second, write second, earliest open-task deadline).
"""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass
from typing import Any

from b24app import keys
from b24app.pipeline import echo
from b24app.pipeline.logsign import Scope, remember, sign_chain, verify
from b24app.workflow.snapshot import ItemNames
from b24sandbox import ids
from b24sandbox import taskstore as ts
from b24sandbox.crmstore import items_of
from handlers import decisions
from tests.integration.approval_env import PR, Env
from tests.integration.sweep_seed import no_events

CONTRACTS = "contracts"
HEAD, LAWYER, FINANCE, DIRECTOR = 3, 13, 8, 2
#: (workflow, amount, decisions by user) that bring a new request to each step.
ROUTES: dict[str, tuple[str, int, list[tuple[int, str]]]] = {
    "pr:head_approval": (PR, 150000, []),
    "pr:finance_review": (PR, 150000, [(HEAD, "approve")]),
    "pr:director_approval": (PR, 1500000, [(HEAD, "approve"), (FINANCE, "approve")]),
    "pr:payment": (PR, 150000, [(HEAD, "approve"), (FINANCE, "approve")]),
    "pr:frozen": (PR, 150000, [(HEAD, "freeze")]),
    "pr:docs_requested": (PR, 150000, [(HEAD, "request_documents")]),
    "contracts:head_approval": (CONTRACTS, 500000, []),
    "contracts:legal_review": (CONTRACTS, 500000, [(HEAD, "approve")]),
    "contracts:finance_review": (CONTRACTS, 500000, [(HEAD, "approve"), (LAWYER, "approve")]),
    "contracts:signing": (CONTRACTS, 500000, [(HEAD, "approve"), (LAWYER, "approve"), (FINANCE, "approve")]),
}


@dataclass(frozen=True)
class Template:
    name: str
    workflow: str
    item_id: int


def _create(env: Env, workflow: str, amount: int) -> int:
    if workflow == PR:
        fields = env.request_fields(amount)
    else:
        fields = env.ui_fields({"title": "Договор поставки", "SUBJECT": "Поставка флаконов",
                                "AMOUNT": f"{amount}|RUB", "CONTRACT_FILE": ["contract.pdf", "JVBERi0="]}, workflow)
    item = env.as_user("a.ivanova").create_item(env.names(workflow).entity_type_id, fields)
    env.settle()
    return int(item["id"])


def play_templates(env: Env) -> list[Template]:
    """One real request at each step (the sandbox clock where it is now)."""
    templates: list[Template] = []
    for name, (workflow, amount, steps) in ROUTES.items():
        item_id = _create(env, workflow, amount)
        for user, decision in steps:
            comment = "Нужны документы" if decision in ("freeze", "request_documents") else ""
            assert decisions.decide(env.deps, env.member_id, workflow, item_id, user, decision, comment).ok, name
            env.settle()
        templates.append(Template(name, workflow, item_id))
    return templates


def clone(env: Env, template: Template, count: int) -> list[int]:
    """``count`` copies of ``template``'s state as the pipeline left it; returns the new item ids."""
    names: ItemNames = env.names(template.workflow)
    etid, state, deps = names.entity_type_id, env.sandbox.state, env.deps
    items = items_of(state, etid)
    source = items[template.item_id]
    decisions_field = names.field("DECISIONS")
    entries = verify(deps.app_secret, Scope(env.member_id, etid, template.item_id),
                     source.values.get(decisions_field) or []).entries
    tasks = [t for t in ts.store(state).tasks.values() if names.binding_for(template.item_id) in t.crm]
    seen = echo.seen_records(deps.redis, env.member_id, [echo.seen_field(etid, template.item_id)])
    record = "|".join(seen.get(echo.seen_field(etid, template.item_id), []))
    created: list[int] = []
    pipe = deps.redis.pipeline(transaction=False)
    with no_events(env.sandbox):
        for _ in range(count):
            new_id = state.next_id(f"crm.item.{etid}", ids.CRM_ITEM)
            item = copy.deepcopy(source)
            item.id = new_id
            item.values["id"] = new_id
            scope = Scope(env.member_id, etid, new_id)
            item.values[decisions_field] = sign_chain(deps.app_secret, scope, entries)
            items[new_id] = item
            _clone_tasks(state, tasks, names, template, new_id)
            remember(pipe, scope, entries)
            if record:
                pipe.hset(keys.seen(env.member_id), echo.seen_field(etid, new_id), record)
            created.append(new_id)
    pipe.execute()
    return created


def _clone_tasks(state: Any, tasks: list[ts.Task], names: ItemNames, template: Template, new_id: int) -> None:
    old_marker, new_marker = f":{template.item_id}:r", f":{new_id}:r"
    mapped: dict[int, int] = {}
    for task in sorted(tasks, key=lambda t: t.id):
        twin = copy.deepcopy(task)
        twin.id = state.next_id("task", ids.TASK)
        twin.guid = "{" + str(uuid.uuid4()) + "}"
        twin.crm = [names.binding_for(new_id) if b == names.binding_for(template.item_id) else b for b in task.crm]
        twin.description = task.description.replace(old_marker, new_marker)
        twin.title = task.title.replace(f"№{template.item_id}", f"№{new_id}")
        if task.parent_id in mapped:
            twin.parent_id = mapped[task.parent_id]
        mapped[task.id] = twin.id
        ts.store(state).tasks[twin.id] = twin
