"""What the approval tab shows about links between requests, read with the tab's own sheet.

- A payment request whose workflow has ``checks:``: its contract's status, what is paid against it,
  and the flags (each duplicate with a link to the other request) — the batch of
  :func:`b24app.pipeline.links.read`.
- A contract (a workflow other workflows name in ``type: parents``): the payment requests linked to
  it with their stages and amounts — one ``crm.item.list`` per child workflow, in one batch.

Those reads use the app's token, but anyone who may open the card opens the tab, so each line about
*another* item carries that item's ``ref`` (entity type id, id) and the tab shows it only as far as the
person's own portal rights allow (:func:`readable`: one ``batch`` of ``crm.item.get`` with the person's
token; :func:`for_viewer`): a payment of the contract the person may not read is left out (the portal's
own ``crm.item.list`` leaves it out too); the contract or a duplicate candidate the person may not read
is shown only as «№N (нет доступа)» (the portal's ``crm.item.get`` names it too: 400 ``ACCESS_DENIED``,
REFERENCE §6.1) — a flag stays a flag, so a blocked approval is still explained.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, is_dataclass, replace
from typing import TYPE_CHECKING, Any

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
    from b24app.rest.client import RestClient

#: (entity type id, item id) of another item a tab line is about.
Ref = tuple[int, int]

#: ``crm.item.get`` error codes that mean the person may not read the item (REFERENCE §6.1).
UNREADABLE_CODES = frozenset({"ACCESS_DENIED", "NOT_FOUND", "ALLOWED_ONLY_INTRANET_USER"})


@dataclass(frozen=True)
class CheckLine:
    text: Label
    url: str = ""                     # the other request's card (a duplicate)
    flagged: bool = False
    blocks: bool = False
    ref: Ref | None = None            # the other item the line tells about (the contract, a duplicate)
    kind: str = ""                    # "contract" | "duplicate" | "" (about the request itself)


@dataclass(frozen=True)
class PaymentRow:
    id: int
    title: str
    stage_name: Label
    amount: str
    url: str = ""
    entity_type_id: int = 0


def checks(deps: Deps, member_id: str, loaded: Loaded) -> tuple[CheckLine, ...]:
    workflow, snap = loaded.workflow, loaded.snap
    if workflow.checks is None or (not snap.parents and not snap.log):
        return ()
    found = links.read(deps, member_id, loaded)
    snap = links.with_links(loaded, found)[0].snap             # with the invoice's hash, as the engine sees it
    parent = item_names(deps, member_id, workflow.type.parents[0]) if workflow.type.parents else None
    contract: Ref | None = (parent.entity_type_id, int(found.contract_id)) \
        if parent is not None and found.contract_id else None
    lines = [CheckLine(text, ref=contract, kind="contract")
             for text in linkcheck.contract_lines(workflow, snap, found)]
    if found.contract_id and found.contract is None:
        lines.append(CheckLine(txt.CONTRACT_MISSING, flagged=True))
    etid = loaded.names.entity_type_id
    for flag in linkcheck.flags(workflow, snap, found):
        url = f"{found.card_url}{flag.links[0]}/" if flag.links and found.card_url else ""
        if flag.links:
            lines.append(CheckLine(flag.text, url, True, flag.blocks, (etid, flag.links[0]), "duplicate"))
        else:                                                 # unsigned / over: about the contract
            lines.append(CheckLine(flag.text, url, True, flag.blocks, contract, "contract"))
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
                                   linkcheck.money_text(amount), url, names.entity_type_id))
    return tuple(rows)


# --- what the person who opened the tab may see ----------------------------------------------------

@dataclass(frozen=True)
class Seen:
    """What the person's own token already told: readable items, and the entity types whose items in
    the sheet were all decided by a list (read with that token) — nothing of those is asked again."""

    readable: frozenset[Ref] = frozenset()
    decided: frozenset[int] = frozenset()

    def to_ask(self, wanted: Iterable[Ref]) -> set[Ref]:
        return {ref for ref in wanted if ref[0] not in self.decided}


@dataclass(frozen=True)
class Children:
    """The lists that ride the tab's visibility check (the person's own token): the payments linked to
    this contract that the person may read, by ``crm.item.list`` with the parent filter."""

    commands: dict[str, Command]
    entity_types: dict[str, int]          # command key -> the child workflow's entity type id

    def seen(self, results: Mapping[str, Any]) -> Seen:
        readable = frozenset((etid, int(row["id"])) for key, etid in self.entity_types.items()
                             for row in links.rows(results.get(key)) if str(row.get("id") or "").isdigit())
        return Seen(readable, frozenset(self.entity_types.values()))


def children_lists(deps: Deps, member_id: str, workflow_code: str, entity_type_id: int, item_id: int) -> Children:
    """For a contract: one ``crm.item.list`` (ids only) per workflow naming it as parent (none otherwise)."""
    defs = definitions(deps, member_id)
    commands: dict[str, Command] = {}
    etids: dict[str, int] = {}
    for workflow in defs.workflows.values():
        if workflow_code in workflow.type.parents:
            names = item_names(deps, member_id, workflow.code)
            key = f"children_{workflow.code}"
            commands[key] = ("crm.item.list", {"entityTypeId": names.entity_type_id, "select": ["id"],
                                               "filter": {f"parentId{entity_type_id}": item_id}})
            etids[key] = names.entity_type_id
    return Children(commands, etids)


def refs(sheet: Any) -> set[Ref]:
    """The other items the sheet's link lines tell about."""
    found = {c.ref for c in getattr(sheet, "checks", ()) or () if c.ref is not None}
    found |= {(p.entity_type_id, p.id) for p in getattr(sheet, "payments", None) or ()}
    return found


def readable(as_user: RestClient, wanted: Iterable[Ref]) -> frozenset[Ref]:
    """Which of ``wanted`` the person behind ``as_user`` may read: one ``batch`` of ``crm.item.get`` with
    their own token (no request when there is nothing to ask)."""
    asked = sorted(set(wanted))
    if not asked:
        return frozenset()
    answer = as_user.batch({f"i{n}": ("crm.item.get", {"entityTypeId": etid, "id": item_id})
                            for n, (etid, item_id) in enumerate(asked)})
    seen: set[Ref] = set()
    for n, ref in enumerate(asked):
        key = f"i{n}"
        error = answer.error(key)
        if error is not None:
            if error.code.upper() not in UNREADABLE_CODES:
                raise error
            continue
        item = answer.results.get(key)
        item = item.get("item") if isinstance(item, Mapping) else None
        if isinstance(item, Mapping) and str(item.get("id")) == str(ref[1]):
            seen.add(ref)
    return frozenset(seen)


def for_viewer(sheet: Any, seen: Iterable[Ref]) -> Any:
    """The sheet with the link lines the person may see: unreadable payments left out, an unreadable
    contract or duplicate shown only by its number."""
    if isinstance(sheet, type) or not is_dataclass(sheet) or \
            not {"checks", "payments"} <= {f.name for f in fields(sheet)}:
        return sheet
    return _filtered(sheet, set(seen))


def _filtered(sheet: Any, allowed: set[Ref]) -> Any:
    lines: list[CheckLine] = []
    hidden_contract = False
    for line in sheet.checks:
        if line.ref is None or line.ref in allowed:
            lines.append(line)
        elif line.kind == "duplicate":
            lines.append(CheckLine(txt.duplicate_no_access(line.ref[1]), "", line.flagged, line.blocks, line.ref,
                                   line.kind))
        elif not hidden_contract:
            hidden_contract = True
            lines.append(CheckLine(txt.contract_no_access(line.ref[1]), "", any(
                c.flagged for c in sheet.checks if c.ref == line.ref), any(
                c.blocks for c in sheet.checks if c.ref == line.ref), line.ref, line.kind))
    payments = None if sheet.payments is None else \
        tuple(p for p in sheet.payments if (p.entity_type_id, p.id) in allowed)
    return replace(sheet, checks=tuple(lines), payments=payments)
