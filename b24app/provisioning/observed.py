"""Read what the portal has: the workflows' types, their stages and user fields, the app's event
bindings and widgets — in two ``batch`` requests, a third for the values of list fields (the list method
leaves them out), and more only if a list needs paging.

The result is converted at this boundary into frozen values in the portal's vocabulary, so the plan
never sees a raw REST dict.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from b24app.errors import B24AppError
from b24app.provisioning.desired import DEFAULT_STAGES, TASK_BINDING
from b24app.rest.protocol import BatchResult, Bitrix24

TYPE_FLAGS = ("isStagesEnabled", "isUseInUserfieldEnabled", "isObserversEnabled", "isSetOpenPermissions",
              "isAutomationEnabled", "isBizProcEnabled", "isRecyclebinEnabled")


class ObserveError(B24AppError):
    """The portal could not be read well enough to plan (message names the method and the fix)."""


@dataclass(frozen=True)
class ObservedStage:
    row_id: int | None        # None for a stage assumed on a type not created yet
    status_id: str
    suffix: str
    name: str
    sort: int
    color: str
    semantics: str | None
    system: bool


@dataclass(frozen=True)
class ObservedEnum:
    id: int
    xml_id: str
    value: str
    sort: int


@dataclass(frozen=True)
class ObservedField:
    id: int
    field_name: str
    user_type_id: str
    multiple: str
    mandatory: str
    label_ru: str
    label_en: str
    sort: int
    settings: Mapping[str, Any] = field(default_factory=dict)
    enum: tuple[ObservedEnum, ...] = ()


@dataclass(frozen=True)
class ObservedType:
    id: int | None            # None: the type does not exist (yet)
    entity_type_id: int
    flags: Mapping[str, str]
    parents: tuple[int, ...]
    category_id: int | None
    stages: tuple[ObservedStage, ...]
    fields: tuple[ObservedField, ...]

    @classmethod
    def assumed_new(cls, entity_type_id: int) -> ObservedType:
        """What ``crm.type.add`` is documented to create: a default funnel with five stages (§5.2)."""
        stages = tuple(ObservedStage(None, f"DT{entity_type_id}_0:{suffix}", suffix, suffix.title(), index * 10,
                                     "", semantics, system)
                       for index, (suffix, system, semantics) in enumerate(DEFAULT_STAGES, 1))
        return cls(None, entity_type_id, {}, (), None, stages, ())


@dataclass(frozen=True)
class ObservedBinding:
    event: str
    handler: str
    offline: bool


@dataclass(frozen=True)
class ObservedPlacement:
    placement: str
    handler: str
    title: str


@dataclass(frozen=True)
class ObservedState:
    types: Mapping[int, ObservedType]          # by entityTypeId; only existing types
    bindings: tuple[ObservedBinding, ...]
    placements: tuple[ObservedPlacement, ...]


def observe(client: Bitrix24, entity_type_ids: Iterable[int]) -> ObservedState:
    etids = list(entity_type_ids)
    first = client.batch({
        **{f"type_{e}": ("crm.type.getByEntityTypeId", {"entityTypeId": e}) for e in etids},
        **{f"cats_{e}": ("crm.category.list", {"entityTypeId": e}) for e in etids},
        "events": ("event.get", {}),
        "placements": ("placement.get", {}),
    })
    raw_types = {e: first.results[f"type_{e}"]["type"] for e in etids if _exists(first, f"type_{e}")}
    categories = {e: _default_category(first, e) for e in raw_types}
    second = client.batch({
        **{f"stages_{e}": ("crm.status.list", {"filter": {"ENTITY_ID": f"DYNAMIC_{e}_STAGE_{categories[e]}"},
                                               "order": {"SORT": "ASC"}})
           for e in raw_types if categories[e] is not None},
        **{f"fields_{e}": ("userfieldconfig.list", _fields_params(t)) for e, t in raw_types.items()},
    }) if raw_types else BatchResult()
    types = {e: _type(client, t, categories[e], second) for e, t in raw_types.items()}
    return ObservedState(_with_enums(client, types), _bindings(first), _placements(first))


def _with_enums(client: Bitrix24, types: dict[int, ObservedType]) -> dict[int, ObservedType]:
    """``userfieldconfig.list`` leaves list values out: read the list fields with ``get`` (one batch)."""
    lists = {f"enum_{f.id}": ("userfieldconfig.get", {"moduleId": "crm", "id": f.id})
             for t in types.values() for f in t.fields if f.user_type_id == "enumeration"}
    if not lists:
        return types
    result = client.batch(lists)
    full = {f.id: _field(_required(result, f"enum_{f.id}", "userfieldconfig.get")["field"])
            for t in types.values() for f in t.fields if f"enum_{f.id}" in lists}
    return {e: replace(t, fields=tuple(full.get(f.id, f) for f in t.fields)) for e, t in types.items()}


def observe_bindings(client: Bitrix24, etids: Iterable[int] = ()) -> tuple[
        tuple[ObservedBinding, ...], tuple[ObservedPlacement, ...], frozenset[int]]:
    """The app's event bindings and widgets, and which of the smart-process types ``etids`` exist on the
    portal (one request) — for the re-bind on install."""
    wanted = sorted(set(etids))
    result = client.batch({"events": ("event.get", {}), "placements": ("placement.get", {}),
                           **{f"type_{e}": ("crm.type.getByEntityTypeId", {"entityTypeId": e}) for e in wanted}})
    return _bindings(result), _placements(result), frozenset(e for e in wanted if _exists(result, f"type_{e}"))


def _required(result: BatchResult, key: str, method: str) -> Any:
    if not result.ok(key):
        error = result.errors.get(key, {})
        raise ObserveError(f"{method} failed ({error.get('error', '?')}: {error.get('error_description', '')}); "
                           "event bindings and widgets need the app's own authorisation: use an installation "
                           "(b24app provision --member-id ...), not an incoming webhook")
    return result.results[key]


def _exists(result: BatchResult, key: str) -> bool:
    """A type that is not there answers ``error: 0`` "SPA not found" (§4.1); any other error is a
    real problem (rights, scope) and must not be mistaken for a missing type."""
    if result.ok(key):
        return True
    error = result.errors.get(key, {})
    if str(error.get("error", "")) in ("0", "NOT_FOUND") or "not found" in str(error.get("error_description", "")):
        return False
    raise ObserveError(f"crm.type.getByEntityTypeId failed ({error.get('error', '?')}: "
                       f"{error.get('error_description', '')}); provisioning needs a CRM administrator")


def _default_category(result: BatchResult, etid: int) -> int | None:
    categories = result.results.get(f"cats_{etid}", {}).get("categories", []) if result.ok(f"cats_{etid}") else []
    default = [c for c in categories if c.get("isDefault") == "Y"] or categories[:1]
    return int(default[0]["id"]) if default else None


def _fields_params(raw_type: Mapping[str, Any]) -> dict[str, Any]:
    return {"moduleId": "crm", "filter": {"entityId": f"CRM_{raw_type['id']}"}}


def _rows(client: Bitrix24, result: BatchResult, key: str, method: str, params: Mapping[str, Any],
          items_key: str | None) -> list[dict[str, Any]]:
    value = _required(result, key, method)
    rows = list(value.get(items_key, []) if items_key else value)
    if result.totals.get(key, 0) > len(rows):  # more than one page: read the rest by paging
        rows = list(client.list_all(method, params, items_key=items_key))
    return rows


def _type(client: Bitrix24, raw: Mapping[str, Any], category: int | None, second: BatchResult) -> ObservedType:
    etid = int(raw["entityTypeId"])
    flags = {"title": str(raw.get("title", ""))} | {name: str(raw.get(name, "")) for name in TYPE_FLAGS}
    linked = raw.get("linkedUserFields") or {}
    flags[f"linkedUserFields[{TASK_BINDING}]"] = "Y" if str(linked.get(TASK_BINDING, "")) in ("Y", "true") else "N"
    relations = raw.get("relations") or {}
    parents = tuple(int(r["entityTypeId"]) for r in relations.get("parent", []) or [])
    stages: list[dict[str, Any]] = []
    if category is not None:
        params = {"filter": {"ENTITY_ID": f"DYNAMIC_{etid}_STAGE_{category}"}, "order": {"SORT": "ASC"}}
        stages = _rows(client, second, f"stages_{etid}", "crm.status.list", params, None)
    fields = _rows(client, second, f"fields_{etid}", "userfieldconfig.list", _fields_params(raw), "fields")
    return ObservedType(int(raw["id"]), etid, flags, parents, category,
                        tuple(_stage(row) for row in stages), tuple(_field(row) for row in fields))


def _stage(row: Mapping[str, Any]) -> ObservedStage:
    status_id = str(row["STATUS_ID"])
    return ObservedStage(int(row["ID"]), status_id, status_id.rpartition(":")[2], str(row.get("NAME", "")),
                         int(row.get("SORT") or 0), str(row.get("COLOR") or "").upper(), row.get("SEMANTICS") or None,
                         row.get("SYSTEM") == "Y")


def _field(row: Mapping[str, Any]) -> ObservedField:
    label = row.get("editFormLabel") or {}
    ru, en = (label.get("ru", ""), label.get("en", "")) if isinstance(label, Mapping) else (str(label), str(label))
    enum = tuple(ObservedEnum(int(e["id"]), str(e.get("xmlId") or ""), str(e.get("value", "")), int(e.get("sort") or 0))
                 for e in row.get("enum") or [])
    return ObservedField(int(row["id"]), str(row["fieldName"]), str(row.get("userTypeId", "")),
                         str(row.get("multiple", "N")), str(row.get("mandatory", "N")), str(ru or ""), str(en or ""),
                         int(row.get("sort") or 0), row.get("settings") or {}, enum)


def _bindings(result: BatchResult) -> tuple[ObservedBinding, ...]:
    rows = _required(result, "events", "event.get") or []
    return tuple(ObservedBinding(str(r["event"]).upper(), str(r.get("handler") or ""), _truthy(r.get("offline")))
                 for r in rows)


def _placements(result: BatchResult) -> tuple[ObservedPlacement, ...]:
    rows = _required(result, "placements", "placement.get") or []
    return tuple(ObservedPlacement(str(r["placement"]), str(r.get("handler", "")), str(r.get("title", "")))
                 for r in rows)


def _truthy(value: Any) -> bool:
    return str(value).strip().lower() in ("1", "y", "true")
