"""The portal side of the bank round trip: requests at the accounting step with their recipients' bank
details (batched reads), and statement extracts attached to the payment-order subtasks (batched writes).

Recipient details come from the counterparty company's CRM requisites when it has any
(``crm.requisite.list`` with ``ENTITY_TYPE_ID=4``, then ``crm.requisite.bankdetail.list`` of the chosen
requisite: the lowest ``ID`` of each), otherwise from the request's own ``RECIPIENT_*`` fields. The two
sources are never mixed: a company with requisites is paid to those requisites, and what they lack is
listed. Reads: one ``crm.item.list`` page per 50 requests, then one ``batch`` per 50 companies for their
requisites and one per 50 requisites for their bank details.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from b24app import keys
from b24app.bank.issues import Issue
from b24app.bank.write import BankDetails
from b24app.pipeline.definitions import item_names
from b24app.rest.protocol import Command
from b24app.workflow.snapshot import ItemNames

if TYPE_CHECKING:
    from b24app.deps import Deps

WORKFLOW = "payment_requests"
PAYMENT_STAGE = "PAYMENT"
COMPANY = 4                      # ENTITY_TYPE_ID of a company (REFERENCE: CRM entity type ids)
BATCH = 50
REQUEST_FIELDS = ("AMOUNT", "COUNTERPARTY", "COUNTERPARTY_NAME", "INVOICE_NUMBER", "INVOICE_DATE",
                  "RECIPIENT_INN", "RECIPIENT_KPP", "RECIPIENT_ACCOUNT", "RECIPIENT_BIK", "RECIPIENT_BANK",
                  "RECIPIENT_BANK_CITY", "RECIPIENT_CORR_ACCOUNT")
RQ_SELECT = ["ID", "ENTITY_ID", "RQ_COMPANY_NAME", "RQ_NAME", "RQ_INN", "RQ_KPP"]
BD_SELECT = ["ID", "ENTITY_ID", "RQ_BANK_NAME", "RQ_BANK_ADDR", "RQ_BIK", "RQ_ACC_NUM", "RQ_COR_ACC_NUM"]


@dataclass(frozen=True)
class PortalRequest:
    """One request at the accounting step, with its recipient's bank details and where they came from."""

    item_id: int
    number: str                  # the request number staff see («заявка №…»): the item id
    amount: Decimal | None
    invoice_number: str | None
    invoice_date: date | None
    recipient: BankDetails
    source: Issue                # source_company (with its id) or source_fields


def open_requests(deps: Deps, member_id: str) -> list[PortalRequest]:
    """Every request at stage PAYMENT, in id order, with its recipient's bank details."""
    names = item_names(deps, member_id, WORKFLOW)
    client = deps.bitrix(member_id)
    select = ["id", "title", "stageId", *(names.field(code) for code in REQUEST_FIELDS)]
    rows = list(client.list_all("crm.item.list", {
        "entityTypeId": names.entity_type_id, "filter": {"stageId": names.stage_ids[PAYMENT_STAGE]},
        "select": select, "useOriginalUfNames": "Y"}, items_key="items"))
    fields = [{code: row.get(names.field(code)) for code in REQUEST_FIELDS} for row in rows]
    companies = sorted({c for f in fields if (c := company_id(f.get("COUNTERPARTY"))) is not None})
    requisites = company_requisites(deps, member_id, companies)
    found = []
    for row, values in zip(rows, fields, strict=True):
        company = company_id(values.get("COUNTERPARTY"))
        if company is not None and company in requisites:
            recipient, source = requisites[company], Issue.of("source_company", company=company)
        else:
            recipient, source = _from_fields(values), Issue("source_fields")
        found.append(PortalRequest(int(row["id"]), str(row["id"]), money(values.get("AMOUNT")),
                                   _text(values.get("INVOICE_NUMBER")), day(values.get("INVOICE_DATE")),
                                   recipient, source))
    return sorted(found, key=lambda r: r.item_id)


def company_requisites(deps: Deps, member_id: str, companies: Sequence[int]) -> dict[int, BankDetails]:
    """Each company's first requisite with its first bank detail (two batched reads per 50 companies)."""
    client = deps.bitrix(member_id)
    chosen: dict[int, Mapping[str, Any]] = {}
    for part in _chunks(companies):
        answer = client.batch({f"rq{c}": ("crm.requisite.list", {
            "filter": {"ENTITY_TYPE_ID": COMPANY, "ENTITY_ID": c}, "select": RQ_SELECT, "order": {"ID": "ASC"}})
            for c in part})
        answer.raise_first()
        for c in part:
            rows = _rows(answer.results.get(f"rq{c}"))
            if rows:
                chosen[c] = rows[0]
    banks: dict[int, Mapping[str, Any]] = {}
    requisite_ids = sorted(int(r["ID"]) for r in chosen.values())
    for part in _chunks(requisite_ids):
        answer = client.batch({f"bd{r}": ("crm.requisite.bankdetail.list", {
            "filter": {"ENTITY_ID": r}, "select": BD_SELECT, "order": {"ID": "ASC"}}) for r in part})
        answer.raise_first()
        for r in part:
            rows = _rows(answer.results.get(f"bd{r}"))
            if rows:
                banks[r] = rows[0]
    return {c: _from_requisite(rq, banks.get(int(rq["ID"]), {})) for c, rq in chosen.items()}


def _from_requisite(rq: Mapping[str, Any], bank: Mapping[str, Any]) -> BankDetails:
    """``RQ_COMPANY_NAME`` (an organisation) or ``RQ_NAME`` (a person's full name: a sole trader);
    the bank's city (``Банк2``) from ``RQ_BANK_ADDR``."""
    return BankDetails(name=_text(rq.get("RQ_COMPANY_NAME")) or _text(rq.get("RQ_NAME")), inn=_text(rq.get("RQ_INN")),
                       kpp=_text(rq.get("RQ_KPP")), account=_text(bank.get("RQ_ACC_NUM")),
                       bank_name=_text(bank.get("RQ_BANK_NAME")), bank_city=_text(bank.get("RQ_BANK_ADDR")),
                       bik=_text(bank.get("RQ_BIK")), corr_account=_text(bank.get("RQ_COR_ACC_NUM")))


def _from_fields(values: Mapping[str, Any]) -> BankDetails:
    return BankDetails(name=_text(values.get("COUNTERPARTY_NAME")), inn=_text(values.get("RECIPIENT_INN")),
                       kpp=_text(values.get("RECIPIENT_KPP")), account=_text(values.get("RECIPIENT_ACCOUNT")),
                       bank_name=_text(values.get("RECIPIENT_BANK")),
                       bank_city=_text(values.get("RECIPIENT_BANK_CITY")), bik=_text(values.get("RECIPIENT_BIK")),
                       corr_account=_text(values.get("RECIPIENT_CORR_ACCOUNT")))


def attach_extracts(deps: Deps, member_id: str, files: Sequence[tuple[int, str, bytes]]) -> dict[int, int]:
    """Upload each ``(task id, name, content)`` to the app's Drive folder and attach it to the task
    (``disk.folder.uploadFile`` then ``tasks.task.files.attach`` with ``$result``, in batches of 25
    pairs so a pair never spans two batches). Returns task id -> attachment id; failures are logged
    by the caller from what is missing."""
    if not files:
        return {}
    client = deps.bitrix(member_id)
    folder = _folder(deps, member_id)
    attached: dict[int, int] = {}
    for start in range(0, len(files), BATCH // 2):
        part = files[start:start + BATCH // 2]
        commands: dict[str, Command] = {}
        for i, (task_id, name, content) in enumerate(part):
            commands[f"up{i}"] = ("disk.folder.uploadFile", {
                "id": folder, "data": {"NAME": name}, "generateUniqueName": True,
                "fileContent": [name, base64.b64encode(content).decode("ascii")]})
            commands[f"at{i}"] = ("tasks.task.files.attach", {"taskId": task_id, "fileId": f"$result[up{i}][ID]"})
        answer = client.batch(commands)
        for i, (task_id, _, _) in enumerate(part):
            result = answer.results.get(f"at{i}")
            if isinstance(result, dict) and result.get("attachmentId") is not None:
                attached[task_id] = int(result["attachmentId"])
    return attached


def _folder(deps: Deps, member_id: str) -> int:
    """The root folder of the app's Drive storage (``disk.storage.getForApp``), remembered in Redis."""
    key = keys.bank(member_id, "folder")
    stored = deps.redis.get(key)
    if stored:
        return int(stored)
    storage = deps.bitrix(member_id).call("disk.storage.getForApp")
    folder = int(storage["ROOT_OBJECT_ID"])
    deps.redis.set(key, folder)
    return folder


def names_of(deps: Deps, member_id: str) -> ItemNames:
    return item_names(deps, member_id, WORKFLOW)


# -- values at the boundary -------------------------------------------------------------------------

def company_id(value: Any) -> int | None:
    """A crm field's company link: ``"12"`` (a field bound to companies only) or ``"CO_12"``."""
    if isinstance(value, list):
        value = value[0] if value else None
    text = str(value or "").strip()
    if text.upper().startswith("CO_"):
        text = text[3:]
    return int(text) if text.isdigit() and int(text) > 0 else None


def money(value: Any) -> Decimal | None:
    """A money field (``"1000.50|RUB"``) as a Decimal; None when empty or unreadable."""
    text = str(value or "").split("|", 1)[0].strip()
    try:
        return Decimal(text) if text else None
    except InvalidOperation:
        return None


def day(value: Any) -> date | None:
    text = str(value or "")[:10]
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _text(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


def _rows(result: Any) -> list[Mapping[str, Any]]:
    return [r for r in result if isinstance(r, dict)] if isinstance(result, list) else []


def _chunks(values: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(values), BATCH):
        yield values[start:start + BATCH]
