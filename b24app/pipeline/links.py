"""Reading a payment's contract and duplicate candidates for the checked step — one ``batch`` request.

Only when it matters (:func:`wanted`): the checked step's task is about to be created, a blocking
check guards an approval there, or a request not yet started names a signed contract and no
counterparty (which is then taken from the contract, :func:`prefill`). The batch holds:

- ``contract``: ``crm.item.get`` of the parent item (the ``parentId{ETID}`` field; REFERENCE §6.2);
- ``payments``: ``crm.item.list`` of the payment requests with the same ``parentId{ETID}``;
- ``duplicates``: the one filtered ``crm.item.list`` of duplicate candidates — an ``OR`` group of the
  three rules (REFERENCE §6.3) — classified again by :func:`b24app.workflow.linkcheck.duplicates`.

The invoice file's SHA-256 (the same-file rule) is computed before the batch — one download per file id,
then kept in Redis (:mod:`b24app.pipeline.files`) — and written to the app-filled ``INVOICE_HASH`` so the
filters of later requests find it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from b24app.notify.deliver import portal_domain
from b24app.pipeline import files
from b24app.pipeline.definitions import definitions, item_names
from b24app.rest.protocol import Command
from b24app.workflow.actions import Action, CreateTask, SetFields
from b24app.workflow.linkcheck import WINDOW_DAYS, Candidate, Contract, Links, Payment
from b24app.workflow.models import Label, Workflow
from b24app.workflow.snapshot import Entry, ItemNames, Snapshot, has_value, money, parse_time

if TYPE_CHECKING:
    from b24app.deps import Deps
    from b24app.pipeline.read import Loaded

CONTRACT, PAYMENTS, DUPLICATES = "contract", "payments", "duplicates"
INVOICE = "INVOICE"
PARTY = ("COUNTERPARTY", "COUNTERPARTY_NAME")
CANDIDATE_FIELDS = ("COUNTERPARTY", "COUNTERPARTY_NAME", "INVOICE_NUMBER", "INVOICE_HASH", "AMOUNT")


def wanted(loaded: Loaded, actions: list[Action]) -> bool:
    """Whether the engine's first answer needs the links (the engine is then asked again with them)."""
    checks = loaded.workflow.checks
    if checks is None or loaded.ctx.links is not None:
        return False
    if any(isinstance(a, CreateTask) and a.step == checks.step for a in actions):
        return True
    if "block" in (checks.contract, checks.duplicates) and _approves_at(actions, checks.step):
        return True
    return needs_counterparty(loaded.snap) and bool(loaded.snap.parents)


def _approves_at(actions: list[Action], step: str) -> bool:
    """Whether the actions approve at ``step`` (a blocking check must look before that is written)."""
    for action in actions:
        if isinstance(action, SetFields) and action.fields.get("DECISIONS"):
            entry = Entry.parse(action.fields["DECISIONS"][-1])
            if entry is not None and entry.decision == "approve" and entry.step == step:
                return True
    return False


def needs_counterparty(snap: Snapshot) -> bool:
    return not snap.log and not any(snap.has_value(code) for code in PARTY)


def read(deps: Deps, member_id: str, loaded: Loaded) -> Links:
    """The contract, its payments and the duplicate candidates, in one batch."""
    defs = definitions(deps, member_id)
    workflow, names, snap = loaded.workflow, loaded.names, loaded.snap
    digest = invoice_digest(deps, member_id, snap) if snap.log else ""
    if digest:
        snap = replace(snap, fields={**snap.fields, "INVOICE_HASH": digest})
    commands: dict[str, Command] = {}
    parent = _parent(deps, member_id, workflow)
    contract_id = snap.parents.get(parent.entity_type_id) if parent else None
    if parent is not None and contract_id:
        commands[CONTRACT] = ("crm.item.get", {"entityTypeId": parent.entity_type_id, "id": contract_id,
                                               "useOriginalUfNames": "Y"})
        commands[PAYMENTS] = ("crm.item.list", {
            "entityTypeId": names.entity_type_id, "filter": {f"parentId{parent.entity_type_id}": contract_id},
            "select": ["id", "title", "stageId", names.field("AMOUNT")], "useOriginalUfNames": "Y"})
    found = duplicate_filter(workflow, names, snap)
    if found is not None and workflow.checks is not None and loaded.snap.log:
        commands[DUPLICATES] = ("crm.item.list", {
            "entityTypeId": names.entity_type_id, "filter": found, "useOriginalUfNames": "Y",
            "select": ["id", "title", "stageId", "createdTime", *(names.field(c) for c in CANDIDATE_FIELDS)]})
    domain = portal_domain(deps, member_id)
    url = f"https://{domain}/crm/type/{names.entity_type_id}/details/" if domain else ""
    if not commands:
        return Links(contract_id=contract_id, card_url=url, invoice_hash=digest)
    answer = deps.bitrix(member_id).batch(commands)
    answer.raise_first(skip=[CONTRACT])          # a deleted contract reads as "not found", not as a failure
    results = answer.results
    contract = None
    if parent is not None and isinstance(results.get(CONTRACT), dict):
        contract = _contract(defs.workflows[parent.workflow], parent, results[CONTRACT].get("item"))
    return Links(contract, tuple(_payments(names, results.get(PAYMENTS))),
                 tuple(_candidates(names, results.get(DUPLICATES))), contract_id, url, digest)


def invoice_digest(deps: Deps, member_id: str, snap: Snapshot) -> str:
    """SHA-256 of the invoice file's content (its newest file; "" without one): downloaded once per file
    id, then from Redis (:mod:`b24app.pipeline.files`)."""
    ref = files.latest(snap.fields.get(INVOICE))
    if ref is None or not ref.url_machine:
        return ""
    return files.digest(deps.bitrix(member_id), deps.redis, member_id, ref).sha256


def _parent(deps: Deps, member_id: str, workflow: Workflow) -> ItemNames | None:
    return item_names(deps, member_id, workflow.type.parents[0]) if workflow.type.parents else None


def duplicate_filter(workflow: Workflow, names: ItemNames, snap: Snapshot) -> dict[str, Any] | None:
    """Other live requests meeting any rule: one ``OR`` group of ``AND`` groups (None: nothing to match on)."""
    fields = snap.fields
    company, name = fields.get("COUNTERPARTY"), fields.get("COUNTERPARTY_NAME")
    party = {names.field("COUNTERPARTY"): _one(company)} if has_value(company) else \
        ({names.field("COUNTERPARTY_NAME"): str(name).strip()} if has_value(name) else None)
    groups: list[dict[str, Any]] = []
    number = str(fields.get("INVOICE_NUMBER") or "").strip()
    if party and number:
        groups.append({**party, names.field("INVOICE_NUMBER"): number})
    digest = str(fields.get("INVOICE_HASH") or "").strip()
    if digest:
        groups.append({names.field("INVOICE_HASH"): digest})
    amount, currency = money(fields.get("AMOUNT"))
    if party and amount and snap.created is not None:
        window = timedelta(days=WINDOW_DAYS)
        groups.append({**party, names.field("AMOUNT"): f"{amount.normalize():f}|{currency}",
                       ">=createdTime": (snap.created - window).isoformat(),
                       "<=createdTime": (snap.created + window).isoformat()})
    if not groups:
        return None
    failed = sorted(names.stage_ids[s.code] for s in workflow.failure_stages if s.code in names.stage_ids)
    return {"!=id": snap.item_id, "!@stageId": failed,
            "0": {"logic": "OR", **{str(i): group for i, group in enumerate(groups)}}}


def _one(value: Any) -> Any:
    return value[0] if isinstance(value, list | tuple) and value else value


def _contract(workflow: Workflow, names: ItemNames, raw: Any) -> Contract | None:
    if not isinstance(raw, Mapping) or not raw.get("id"):
        return None
    stage = names.stage_code(str(raw.get("stageId") or ""))
    known = {s.code: s.name for s in workflow.stages}
    amount, currency = money(raw.get(names.field("AMOUNT")))
    return Contract(int(raw["id"]), str(raw.get("title") or ""), stage, known.get(stage, Label(stage, stage)),
                    stage == workflow.success_stage.code, amount, currency,
                    str(_one(raw.get(names.field("COUNTERPARTY"))) or ""),
                    str(raw.get(names.field("COUNTERPARTY_NAME")) or ""))


def rows(result: Any) -> list[Mapping[str, Any]]:
    rows = result.get("items") if isinstance(result, Mapping) else None
    return [r for r in rows if isinstance(r, Mapping)] if isinstance(rows, list) else []


def _payments(names: ItemNames, result: Any) -> list[Payment]:
    return [Payment(int(r["id"]), str(r.get("title") or ""), names.stage_code(str(r.get("stageId") or "")),
                    money(r.get(names.field("AMOUNT")))[0]) for r in rows(result)]


def _candidates(names: ItemNames, result: Any) -> list[Candidate]:
    found = []
    for r in rows(result):
        value = {code: r.get(names.field(code)) for code in CANDIDATE_FIELDS}
        found.append(Candidate(int(r["id"]), str(r.get("title") or ""), names.stage_code(str(r.get("stageId") or "")),
                               str(_one(value["COUNTERPARTY"]) or ""), str(value["COUNTERPARTY_NAME"] or ""),
                               str(value["INVOICE_NUMBER"] or ""), str(value["INVOICE_HASH"] or ""),
                               money(value["AMOUNT"])[0], parse_time(r.get("createdTime"))))
    return found


def with_links(loaded: Loaded, links: Links) -> tuple[Loaded, list[Action]]:
    """The loaded state with the links in the engine's context — and, for a request not yet started that
    names a signed contract and no counterparty, the contract's counterparty filled in (written too)."""
    contract, snap = links.contract, loaded.snap
    filled: dict[str, Any] = {}
    if contract is not None and contract.signed and needs_counterparty(snap):
        filled = {code: value for code, value in
                  (("COUNTERPARTY", contract.counterparty), ("COUNTERPARTY_NAME", contract.counterparty_name)) if value}
    if links.invoice_hash and links.invoice_hash != str(snap.fields.get("INVOICE_HASH") or ""):
        filled["INVOICE_HASH"] = links.invoice_hash           # stored where the next request's filter finds it
    if filled:
        snap = replace(snap, fields={**snap.fields, **filled})
    loaded = replace(loaded, snap=snap, ctx=replace(loaded.ctx, links=links))
    return loaded, [SetFields(filled)] if filled else []
