"""What the sweep reads about people and changes beyond the item events (issue 12).

* :func:`dismissed_targets` — the open requests whose current approver has been deactivated since the
  step began: the portal sends no event for a dismissal, so the sweep asks (one ``im.user.list.get``
  for all current approvers, riding in one of the sweep's read batches) and the timer's handler runs those items through the pipeline, which
  re-routes the step (``reroute`` in the approval log).
* :func:`changed_targets` — on plans without ``rest_offline_extended`` (``feature.get``) the offline
  queue cannot be read with ``clear=0``, so it is no backstop for lost events: the sweep reads the items
  changed since its last run instead (``crm.item.list`` by ``updatedTime``, one paged read per workflow)
  and the handler refreshes them, so a dropped event is still recovered within a sweep.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from b24app import keys
from b24app.pipeline.definitions import definitions, item_names
from b24app.rest.protocol import Command

if TYPE_CHECKING:
    from b24app.deps import Deps
    from b24app.escalation.read import Collected

Target = tuple[str, int]
FEATURE = "rest_offline_extended"
FEATURE_TTL = 24 * 3600
MAX_PAGES = 20


def dismissed_targets(deps: Deps, member_id: str, collected: Collected) -> tuple[list[Target], int]:
    """(workflow, item) of open requests whose approver is deactivated, and the REST requests it took of
    its own: the states come with the sweep's reads (``collect(approvers=True)``: one
    ``im.user.list.get`` riding in a batch that goes anyway; a call of its own only when none could take
    it). Without them (a failed lookup, or a collection that did not ask) nothing is re-routed now."""
    del deps, member_id
    states = collected.approvers
    if not states:
        return [], collected.approver_requests
    gone = {u for u, p in states.items() if not p.active}
    return ([(f.workflow.code, f.snap.item_id) for f in collected.found if f.request.approver in gone],
            collected.approver_requests)


def extended_offline(deps: Deps, member_id: str, refresh: bool = False) -> bool:
    """Whether this portal's plan has ``rest_offline_extended`` (read at install, cached for a day)."""
    key = keys.feature(member_id, FEATURE)
    cached = None if refresh else deps.redis.get(key)
    if cached is not None:
        return cached in (b"Y", "Y")
    answer = deps.bitrix(member_id).call("feature.get", {"CODE": FEATURE})
    value = "Y" if isinstance(answer, dict) and str(answer.get("value", "")).upper() == "Y" else "N"
    deps.redis.set(key, value, ex=FEATURE_TTL)
    return value == "Y"


def changed_targets(deps: Deps, member_id: str, now: datetime) -> tuple[list[Target], int]:
    """Items changed since the last sweep (by ``updatedTime``), when the offline queue is no backstop:
    the first page of every workflow in one ``batch``, further pages (rare) in further batches."""
    if not member_id:
        return [], 0
    mark = keys.reconciled(member_id)
    raw = deps.redis.get(mark)
    since = raw.decode() if isinstance(raw, bytes) else raw
    client = deps.bitrix(member_id)
    pending = {code: 0 for code in definitions(deps, member_id).workflows}
    targets: list[Target] = []
    requests = 0
    for _ in range(MAX_PAGES):
        if not pending:
            break
        commands = {f"{code}|{start}": _changed(deps, member_id, code, start, since) for code, start in pending.items()}
        answer = client.batch(commands)
        answer.raise_first()
        requests += 1
        pending = {}
        for key, page in answer.results.items():
            code = key.partition("|")[0]
            rows = page.get("items") if isinstance(page, dict) else []
            targets += [(code, int(r["id"])) for r in rows or [] if str(r.get("id", "")).isdigit()]
            if answer.nexts.get(key):
                pending[code] = int(answer.nexts[key])
    deps.redis.set(mark, now.isoformat(timespec="seconds"), ex=keys.SENT_TTL)
    return targets, requests


def _changed(deps: Deps, member_id: str, code: str, start: int, since: str | None) -> Command:
    names = item_names(deps, member_id, code)
    flt: dict[str, Any] = {"categoryId": names.category_id}
    if since:
        flt[">=updatedTime"] = since
    return ("crm.item.list", {"entityTypeId": names.entity_type_id, "select": ["id"], "filter": flt,
                              "order": {"id": "ASC"}, "start": start})
