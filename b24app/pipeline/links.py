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

Folded into the item's read (#13): while the request is on a step before the checked one, the batch's
commands are planned from the item as the app last wrote it (:func:`ahead`, the invoice downloaded then)
and sent with the read that finds it entering the checked step (:func:`ahead_commands`); :func:`read` uses
those answers only when it would send exactly those commands now — else the separate batch, as before.
The filter values are literal (no ``$result`` references: the amount rule's window is computed from the
creation time, and which party field is matched depends on which one is set).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from b24app import keys
from b24app.errors import RestError
from b24app.notify.deliver import portal_domain
from b24app.notify.itemnotes import written_entry
from b24app.pipeline import files
from b24app.pipeline.definitions import definitions, item_names
from b24app.rest.protocol import Command
from b24app.workflow.actions import Action, CreateTask, SetFields
from b24app.workflow.linkcheck import WINDOW_DAYS, Candidate, Contract, Links, Payment
from b24app.workflow.models import Label, Workflow
from b24app.workflow.snapshot import ItemNames, Snapshot, has_value, money, parse_time

if TYPE_CHECKING:
    from b24app.deps import Deps
    from b24app.pipeline.read import Loaded

log = logging.getLogger(__name__)

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
    if "block" in (checks.contract, checks.duplicates) and _approves_at(loaded, actions, checks.step):
        return True
    return needs_counterparty(loaded.snap) and bool(loaded.snap.parents)


def _approves_at(loaded: Loaded, actions: list[Action], step: str) -> bool:
    """Whether the actions approve at ``step`` (a blocking check must look before that is written)."""
    entry = written_entry(loaded.snap, actions)
    return entry is not None and entry.decision == "approve" and entry.step == step


def needs_counterparty(snap: Snapshot) -> bool:
    return not snap.log and not any(snap.has_value(code) for code in PARTY)


def read(deps: Deps, member_id: str, loaded: Loaded) -> Links:
    """The contract, its payments and the duplicate candidates, in one batch — none when the item's read
    already carried these very commands (planned ahead, :func:`ahead`) and they answered."""
    defs = definitions(deps, member_id)
    workflow, names, snap = loaded.workflow, loaded.names, loaded.snap
    digest = invoice_digest(deps, member_id, snap) if snap.log else ""
    if digest:
        snap = replace(snap, fields={**snap.fields, "INVOICE_HASH": digest})
    parent = _parent(deps, member_id, workflow)
    contract_id = snap.parents.get(parent.entity_type_id) if parent else None
    commands = link_commands(workflow, names, parent, snap, submitted=bool(loaded.snap.log))
    domain = portal_domain(deps, member_id)
    url = f"https://{domain}/crm/type/{names.entity_type_id}/details/" if domain else ""
    if not commands:
        return Links(contract_id=contract_id, card_url=url, invoice_hash=digest)
    results = _answered_ahead(loaded.ahead, commands)
    if results is None:
        answer = deps.bitrix(member_id).batch(commands)
        answer.raise_first(skip=[CONTRACT])          # a deleted contract reads as "not found", not as a failure
        results = answer.results
    contract = None
    if parent is not None and isinstance(results.get(CONTRACT), dict):
        contract = _contract(defs.workflows[parent.workflow], parent, results[CONTRACT].get("item"))
    return Links(contract, tuple(_payments(names, results.get(PAYMENTS))),
                 tuple(_candidates(names, results.get(DUPLICATES))), contract_id, url, digest)


def link_commands(workflow: Workflow, names: ItemNames, parent: ItemNames | None, snap: Snapshot, *,
                  submitted: bool) -> dict[str, Command]:
    """The links batch's commands for ``snap`` (its ``INVOICE_HASH`` already the invoice's digest): the
    contract and its payments when a parent is linked, the duplicate candidates once ``submitted``."""
    commands: dict[str, Command] = {}
    contract_id = snap.parents.get(parent.entity_type_id) if parent else None
    if parent is not None and contract_id:
        commands[CONTRACT] = ("crm.item.get", {"entityTypeId": parent.entity_type_id, "id": contract_id,
                                               "useOriginalUfNames": "Y"})
        commands[PAYMENTS] = ("crm.item.list", {
            "entityTypeId": names.entity_type_id, "filter": {f"parentId{parent.entity_type_id}": contract_id},
            "select": ["id", "title", "stageId", names.field("AMOUNT")], "useOriginalUfNames": "Y"})
    found = duplicate_filter(workflow, names, snap)
    if found is not None and workflow.checks is not None and submitted:
        commands[DUPLICATES] = ("crm.item.list", {
            "entityTypeId": names.entity_type_id, "filter": found, "useOriginalUfNames": "Y",
            "select": ["id", "title", "stageId", "createdTime", *(names.field(c) for c in CANDIDATE_FIELDS)]})
    return commands


@dataclass(frozen=True)
class Ahead:
    """The links commands planned ahead (:func:`ahead`) as the item's read sent them, and their answers."""

    commands: dict[str, Any]
    results: dict[str, Any]
    errors: dict[str, Any]


#: The planned commands' keys in the item's read batch (``ahead_contract``, ...).
AHEAD_PREFIX = "ahead_"


def ahead_commands(deps: Deps, member_id: str, names: ItemNames, item_id: int) -> dict[str, Command]:
    """The links commands planned for this item (:func:`ahead`), to send in its read batch: keyed with
    :data:`AHEAD_PREFIX`; none when nothing was planned."""
    raw = deps.redis.get(keys.link_plan(member_id, names.entity_type_id, item_id))
    if raw is None:
        return {}
    planned = json.loads(raw)
    return {AHEAD_PREFIX + key: (str(method), params) for key, (method, params) in planned.items()}


def ahead_answer(commands: Mapping[str, Command], results: Mapping[str, Any],
                 errors: Mapping[str, Any]) -> Ahead | None:
    """What the read batch answered to the planned commands (None: none were sent)."""
    sent = {k[len(AHEAD_PREFIX):]: v for k, v in commands.items() if k.startswith(AHEAD_PREFIX)}
    if not sent:
        return None
    own = {k: AHEAD_PREFIX + k for k in sent}
    return Ahead(sent, {k: results.get(key) for k, key in own.items() if key in results},
                 {k: errors[key] for k, key in own.items() if key in errors})


def _canonical(commands: Mapping[str, Any]) -> str:
    return json.dumps({k: [m, p] for k, (m, p) in commands.items()}, sort_keys=True, default=str,
                      ensure_ascii=False)


def _answered_ahead(found: Ahead | None, commands: Mapping[str, Command]) -> dict[str, Any] | None:
    """The read batch's answers when it sent exactly ``commands`` (planned from values that still hold)
    and nothing but the contract failed (as the separate batch allows); else None: the batch is sent."""
    if found is None or _canonical(found.commands) != _canonical(commands):
        return None
    if any(key != CONTRACT for key in found.errors) or any(key not in found.results and key not in found.errors
                                                          for key in commands):
        return None
    return dict(found.results)


def ahead(deps: Deps, member_id: str, loaded: Loaded, actions: list[Action]) -> None:
    """Plan the finance review's links batch while the item is on a step before the checked one, so the
    read that finds it entering the checked step carries these commands (one request fewer).

    Planned from the item as it will be after ``actions``' writes (their fields), with the invoice's digest
    (downloaded now — once per file id — so the checked step finds it in Redis). Only an exact match is used
    (:func:`read` builds the commands again from what that read found): a field changed since, a new invoice
    file, a new contract link — and the separate batch is sent as before. Entering the checked step drops
    the plan (a blocking approval there reads the batch separately). A download refused here plans nothing."""
    workflow = loaded.workflow
    checks = workflow.checks
    if checks is None:
        return
    order = [s.code for s in workflow.steps]
    created = {a.step for a in actions if isinstance(a, CreateTask)}
    key = keys.link_plan(member_id, loaded.names.entity_type_id, loaded.snap.item_id)
    if checks.step in created or checks.step not in order:
        deps.redis.delete(key)
        return
    before = order.index(checks.step)
    if not any(step in order and order.index(step) < before for step in created):
        return
    snap = loaded.snap
    written = {k: v for a in actions if isinstance(a, SetFields) for k, v in a.fields.items() if k != "DECISIONS"}
    if written:
        snap = replace(snap, fields={**snap.fields, **written})
    try:
        digest = invoice_digest(deps, member_id, snap)
    except RestError as exc:
        log.warning("invoice of item %s not downloaded ahead (%s); the checked step reads it", snap.item_id, exc)
        deps.redis.delete(key)
        return
    if digest:
        snap = replace(snap, fields={**snap.fields, "INVOICE_HASH": digest})
    commands = link_commands(workflow, loaded.names, _parent(deps, member_id, workflow), snap, submitted=True)
    if not commands:
        deps.redis.delete(key)
        return
    deps.redis.set(key, json.dumps({k: [m, p] for k, (m, p) in commands.items()}, default=str, ensure_ascii=False),
                   ex=keys.LINK_PLAN_TTL)


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
