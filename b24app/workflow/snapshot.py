"""What the engine sees of one item: its stage, fields, approval log and bound tasks, as frozen values.

The portal's dicts (``crm.item.get`` with ``useOriginalUfNames=Y``, ``tasks.task.list`` rows) are
converted here, at the boundary, using :class:`ItemNames` (the portal's ids and field names of one
provisioned smart process). The approval log lives in the item's ``DECISIONS`` field (multiple
string): one compact JSON object per entry, so the history survives in the portal itself.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

#: Task statuses that mean "done" (4 = awaiting the creator's control, 5 = completed).
DONE_STATUSES = (4, 5)
MARKER_PREFIX = "b24app"
#: A log entry that records a new file version without moving the request (``b24app.workflow.versions``).
VERSION = "version"
_MARKER = re.compile(r"\[(b24app:[a-z0-9_]+:\d+:r\d+:[a-z0-9_:]+)\]")


@dataclass(frozen=True)
class ItemNames:
    """How one workflow's smart process is named on the portal (from provisioning's runtime mapping)."""

    workflow: str
    entity_type_id: int
    type_id: int
    category_id: int
    stage_ids: Mapping[str, str]      # YAML stage code -> portal STATUS_ID ("DT1100_5:NEW")
    field_names: Mapping[str, str]    # YAML field code -> "UF_CRM_7_AMOUNT"

    @property
    def binding(self) -> str:
        """The value of a task's ``UF_CRM_TASK`` for this type (item id appended)."""
        return f"T{self.entity_type_id:x}_"

    def binding_for(self, item_id: int) -> str:
        return f"{self.binding}{item_id}"

    def stage_code(self, status_id: str) -> str:
        for code, sid in self.stage_ids.items():
            if sid == status_id:
                return code
        return status_id

    def field(self, code: str) -> str:
        return self.field_names.get(code) or f"UF_CRM_{self.type_id}_{code}"


@dataclass(frozen=True)
class Entry:
    """One record of the approval log: a decision, and where the request stands after it.

    ``decision`` is a decision name (approve, reject, ...) or ``start``/``resubmit``/``complete``/
    ``docs_provided``/``unfreeze``. ``step`` is the step decided at; ``next_step``/``approver`` the
    step and approver current after the entry (for a pause: the step it returns to).
    """

    seq: int
    round: int
    decision: str
    by: int
    at: str
    stage: str
    step: str | None = None
    next_step: str | None = None
    approver: int | None = None
    on_behalf_of: int | None = None
    reason: str = ""
    via: str = ""
    files: tuple[int, ...] = ()       # request_documents: the item's file ids when the documents were asked for
    instead_of: int | None = None     # the person the route names, when they could not act (``why``)
    why: str = ""                     # "absent" or "dismissed"
    version: int | None = None        # the document's version current when the entry was made (#16)
    file: int | None = None           # version / restart entries: the version's file id, name, SHA-256, link
    file_name: str = ""
    sha256: str = ""
    url: str = ""
    bank_doc: str = ""                # complete by bank statement: the bank document's number (Номер)
    bank_date: str = ""               # ... and its date (ISO)

    def to_text(self) -> str:
        data = {k: v for k, v in asdict(self).items() if v not in (None, "", ())}
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True)

    @classmethod
    def parse(cls, text: Any) -> Entry | None:
        try:
            data = json.loads(str(text))
            return cls(
                seq=int(data["seq"]), round=int(data["round"]), decision=str(data["decision"]),
                by=int(data["by"]), at=str(data["at"]), stage=str(data["stage"]),
                step=_opt_str(data.get("step")), next_step=_opt_str(data.get("next_step")),
                approver=_opt_int(data.get("approver")), on_behalf_of=_opt_int(data.get("on_behalf_of")),
                reason=str(data.get("reason") or ""), via=str(data.get("via") or ""),
                files=tuple(int(f) for f in data.get("files") or ()),
                instead_of=_opt_int(data.get("instead_of")), why=str(data.get("why") or ""),
                version=_opt_int(data.get("version")), file=_opt_int(data.get("file")),
                file_name=str(data.get("file_name") or ""), sha256=str(data.get("sha256") or ""),
                url=str(data.get("url") or ""),
                bank_doc=str(data.get("bank_doc") or ""), bank_date=str(data.get("bank_date") or ""),
            )
        except (ValueError, KeyError, TypeError):
            return None


@dataclass(frozen=True)
class Marker:
    """The deterministic identity of a task the app creates: ``b24app:{workflow}:{item}:r{round}:{part}``."""

    workflow: str
    item_id: int
    round: int
    part: str     # "head_approval", "payment:sub0", "docs:4"

    def __str__(self) -> str:
        return f"{MARKER_PREFIX}:{self.workflow}:{self.item_id}:r{self.round}:{self.part}"

    @property
    def step(self) -> str:
        return self.part.split(":", 1)[0]

    @classmethod
    def parse(cls, text: str) -> Marker | None:
        found = _MARKER.search(text or "")
        if found is None:
            return None
        _, workflow, item, rnd, part = found.group(1).split(":", 4)
        return cls(workflow, int(item), int(rnd[1:]), part)


@dataclass(frozen=True)
class TaskInfo:
    id: int
    title: str
    status: int
    responsible: int
    marker: Marker | None
    parent_id: int | None = None
    closed_by: int | None = None
    files: tuple[int, ...] = ()
    deadline: str | None = None
    closed_date: str | None = None
    created_by: int | None = None     # who created it (the handlers trust only the app's own tasks)

    @property
    def done(self) -> bool:
        return self.status in DONE_STATUSES


@dataclass(frozen=True)
class FileInfo:
    """The current file of a workflow's ``versions`` field, with its content hash (the pipeline reads it)."""

    id: int
    name: str
    sha256: str
    url: str = ""      # the browser link (``url``): the person's own portal access decides


@dataclass(frozen=True)
class Snapshot:
    """The item's current state as read from the portal."""

    item_id: int
    title: str
    stage: str                                  # YAML stage code (raw STATUS_ID when unknown)
    initiator: int                              # createdBy
    fields: Mapping[str, Any] = field(default_factory=dict)   # by YAML field code
    moved_by: int | None = None
    moved_time: str | None = None
    updated_by: int | None = None
    log: tuple[Entry, ...] = ()
    tasks: tuple[TaskInfo, ...] = ()
    created: datetime | None = None             # createdTime
    #: linked parent items by entity type id (``parentId1102`` -> {1102: 7}; REFERENCE §6.2)
    parents: Mapping[int, int] = field(default_factory=dict)
    version_file: FileInfo | None = None        # the ``versions`` field's current file (None: none, or no versions)

    @property
    def route_log(self) -> tuple[Entry, ...]:
        """The log without the entries that only record a file version (they do not move the request)."""
        return route_entries(self.log)

    def task(self, marker: Marker) -> TaskInfo | None:
        text = str(marker)
        return next((t for t in self.tasks if t.marker is not None and str(t.marker) == text), None)

    def has_value(self, code: str) -> bool:
        return has_value(self.fields.get(code))


# -- parsing at the boundary ------------------------------------------------------------------------

def parse_item(raw: Mapping[str, Any], names: ItemNames, tasks: Iterable[Mapping[str, Any]] = ()) -> Snapshot:
    """A snapshot from a ``crm.item.get`` item (``useOriginalUfNames=Y``) and ``tasks.task.list`` rows."""
    fields = {code: raw.get(name) for code, name in names.field_names.items()}
    log = parse_log(fields.get("DECISIONS"))
    return Snapshot(
        item_id=int(raw["id"]),
        title=str(raw.get("title") or ""),
        stage=names.stage_code(str(raw.get("stageId") or "")),
        initiator=int(raw.get("createdBy") or 0),
        fields=fields,
        moved_by=_opt_int(raw.get("movedBy")),
        moved_time=_opt_str(raw.get("movedTime")),
        updated_by=_opt_int(raw.get("updatedBy")),
        log=log,
        tasks=tuple(parse_task(t) for t in tasks),
        created=parse_time(raw.get("createdTime")),
        parents=parents_of(raw),
    )


def route_entries(log: Iterable[Entry]) -> tuple[Entry, ...]:
    """``log`` without the ``version`` entries (a version that restarted approval is a ``restart``: kept)."""
    return tuple(e for e in log if e.decision != VERSION)


def parents_of(raw: Mapping[str, Any]) -> dict[int, int]:
    """``parentId{ETID}`` fields with a link (0 or empty: none)."""
    found: dict[int, int] = {}
    for key, value in raw.items():
        if key.startswith("parentId") and key[8:].isdigit() and (_opt_int(value) or 0) > 0:
            found[int(key[8:])] = int(value)
    return found


def parse_time(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def parse_log(value: Any) -> tuple[Entry, ...]:
    values = value if isinstance(value, list | tuple) else ([value] if value else [])
    entries = [e for e in (Entry.parse(v) for v in values) if e is not None]
    return tuple(sorted(entries, key=lambda e: e.seq))


def parse_task(raw: Mapping[str, Any]) -> TaskInfo:
    files = raw.get("ufTaskWebdavFiles")
    return TaskInfo(
        id=int(raw["id"]),
        title=str(raw.get("title") or ""),
        status=int(raw.get("status") or 0),
        responsible=int(raw.get("responsibleId") or 0),
        marker=Marker.parse(str(raw.get("description") or "")),
        parent_id=_opt_int(raw.get("parentId")) or None,
        closed_by=_opt_int(raw.get("closedBy")),
        files=tuple(int(f) for f in files) if isinstance(files, list) else (),
        deadline=_opt_str(raw.get("deadline")),
        closed_date=_opt_str(raw.get("closedDate")),
        created_by=_opt_int(raw.get("createdBy")),
    )


def file_ids(value: Any) -> set[int]:
    """Ids of the files in a file field value (``{"id": 5, ...}`` or a list of them)."""
    values = value if isinstance(value, list | tuple) else [value]
    return {int(v["id"]) for v in values if isinstance(v, dict) and str(v.get("id", "")).isdigit()}


def is_yes(value: Any) -> bool:
    """A Bitrix24 yes/no value ("Y", "1", true) as a bool."""
    return value is True or str(value).strip().upper() in ("Y", "1", "TRUE")


def money(value: Any) -> tuple[Decimal, str]:
    """``"1500000|RUB"`` -> (Decimal("1500000"), "RUB"); numbers are taken as roubles."""
    text = str(value or "").strip()
    amount, _, currency = text.partition("|")
    try:
        return Decimal(amount or "0"), currency or "RUB"
    except InvalidOperation:
        return Decimal(0), currency or "RUB"


def has_value(value: Any) -> bool:
    if value is None or value is False:
        return False
    if isinstance(value, str):
        return value.strip() not in ("", "|RUB") and not value.strip().startswith("|")
    if isinstance(value, list | tuple | dict):
        return len(value) > 0
    return True


def _opt_int(value: Any) -> int | None:
    if value in (None, "", False):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _opt_str(value: Any) -> str | None:
    return None if value in (None, "") else str(value)
