"""What the approval tab shows about links between requests, read with the tab's own sheet.

- A payment request whose workflow has ``checks:``: its contract's status, what is paid against it,
  and the flags (each duplicate with a link to the other request) — the batch of
  :func:`b24app.pipeline.links.read`.
- A contract (a workflow other workflows name in ``type: parents``): the payment requests linked to
  it with their stages and amounts — one ``crm.item.list`` per child workflow, in one batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from b24app.notify.deliver import portal_domain
from b24app.pipeline import links
from b24app.pipeline.definitions import definitions, item_names
from b24app.rest.protocol import Command
from b24app.texts import links as txt
from b24app.workflow import linkcheck
from b24app.workflow.models import Label
from b24app.workflow.snapshot import money

if TYPE_CHECKING:
    from b24app.deps import Deps
    from b24app.pipeline.read import Loaded


@dataclass(frozen=True)
class CheckLine:
    text: Label
    url: str = ""                     # the other request's card (a duplicate)
    flagged: bool = False
    blocks: bool = False


@dataclass(frozen=True)
class PaymentRow:
    id: int
    title: str
    stage_name: Label
    amount: str
    url: str = ""


def checks(deps: Deps, member_id: str, loaded: Loaded) -> tuple[CheckLine, ...]:
    workflow, snap = loaded.workflow, loaded.snap
    if workflow.checks is None or (not snap.parents and not snap.log):
        return ()
    found = links.read(deps, member_id, loaded)
    snap = links.with_links(loaded, found)[0].snap             # with the invoice's hash, as the engine sees it
    lines = [CheckLine(text) for text in linkcheck.contract_lines(workflow, snap, found)]
    if found.contract_id and found.contract is None:
        lines.append(CheckLine(txt.CONTRACT_MISSING, flagged=True))
    for flag in linkcheck.flags(workflow, snap, found):
        url = f"{found.card_url}{flag.links[0]}/" if flag.links and found.card_url else ""
        lines.append(CheckLine(flag.text, url, True, flag.blocks))
    return tuple(lines)


def payments(deps: Deps, member_id: str, loaded: Loaded) -> tuple[PaymentRow, ...] | None:
    """The requests of the workflows that name this one as their parent, linked to this item (None: no
    workflow names this one as its parent)."""
    defs = definitions(deps, member_id)
    parent = loaded.names.entity_type_id
    children = [w for w in defs.workflows.values() if loaded.workflow.code in w.type.parents]
    if not children:
        return None
    commands: dict[str, Command] = {}
    named = {w.code: item_names(deps, member_id, w.code) for w in children}
    for code, names in named.items():
        commands[code] = ("crm.item.list", {
            "entityTypeId": names.entity_type_id, "filter": {f"parentId{parent}": loaded.snap.item_id},
            "select": ["id", "title", "stageId", names.field("AMOUNT")], "order": {"id": "ASC"},
            "useOriginalUfNames": "Y"})
    answer = deps.bitrix(member_id).batch(commands)
    answer.raise_first()
    rows: list[PaymentRow] = []
    domain = portal_domain(deps, member_id)
    for code, names in named.items():
        workflow = defs.workflows[code]
        known = {s.code: s.name for s in workflow.stages}
        for row in links.rows(answer.results.get(code)):
            stage = names.stage_code(str(row.get("stageId") or ""))
            amount = money(row.get(names.field("AMOUNT")))[0]
            url = f"https://{domain}/crm/type/{names.entity_type_id}/details/{row['id']}/" if domain else ""
            rows.append(PaymentRow(int(row["id"]), str(row.get("title") or ""), known.get(stage, Label(stage, stage)),
                                   linkcheck.money_text(amount), url))
    return tuple(rows)
