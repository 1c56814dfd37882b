"""Many open requests in the sandbox, fast: items and their approval tasks written in-process through
``b24sandbox.registry.invoke`` (no HTTP, no events), in the state the engine leaves a request in after
it started it: stage HEAD_APPROVAL, the approval log's ``start`` entry, a bound approval task.
For the sweep's request-count test and ``bench/bench_sweep.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from b24app.pipeline.logsign import Scope, sign
from b24app.workflow.snapshot import Entry, ItemNames, Marker
from b24sandbox import SandboxPortal
from b24sandbox.registry import invoke

HEAD, INITIATOR = 3, 4


@contextmanager
def no_events(sandbox: SandboxPortal) -> Iterator[None]:
    """Seeding is not something people did: the portal announces none of it."""
    state: Any = sandbox.state
    listeners, state._listeners = state._listeners, []
    try:
        yield
    finally:
        state._listeners = listeners


def seed_requests(sandbox: SandboxPortal, names: ItemNames, count: int, started: datetime,
                  head: int = HEAD, initiator: int = INITIATOR, secret: bytes = b"", member_id: str = "") -> list[int]:
    """``count`` requests waiting for ``head`` at head approval since ``started``; returns their ids.
    The log entry is signed as the app signs it (``secret``: the app's ``deps.app_secret``)."""
    ids: list[int] = []
    state = sandbox.state
    with no_events(sandbox):
        for _ in range(count):
            fields = {
                "title": "Оплата упаковки", "stageId": names.stage_ids["HEAD_APPROVAL"],
                "categoryId": names.category_id,
                names.field("AMOUNT"): "150000|RUB", names.field("COUNTERPARTY_NAME"): "ООО «Упаковка»",
                names.field("CURRENT_APPROVER"): head,
            }
            item = invoke(state, "crm.item.add", {"entityTypeId": names.entity_type_id, "fields": fields,
                                                  "useOriginalUfNames": "Y"}, initiator)["item"]
            item_id = int(item["id"])
            scope = Scope(member_id, names.entity_type_id, item_id)

            def signed(text: str, scope: Scope = scope) -> str:
                return sign(secret, scope, text)

            entry = Entry(seq=1, round=1, decision="start", by=initiator, at=started.isoformat(timespec="seconds"),
                          stage="HEAD_APPROVAL", next_step="head_approval", approver=head, via="auto")
            invoke(state, "crm.item.update", {"entityTypeId": names.entity_type_id, "id": item_id,
                                              "fields": {names.field("DECISIONS"): [signed(entry.to_text())]},
                                              "useOriginalUfNames": "Y"}, initiator)
            marker = Marker(names.workflow, item_id, 1, "head_approval")
            invoke(state, "tasks.task.add", {"fields": {
                "TITLE": f"Согласовать заявку на оплату №{item_id}", "RESPONSIBLE_ID": head,
                "DESCRIPTION": f"Заявка на оплату\n\n[{marker}]", "UF_CRM_TASK": [names.binding_for(item_id)],
            }}, 1)
            ids.append(item_id)
    return ids
