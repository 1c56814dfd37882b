"""crm.item.add / update / get / list / delete / fields and crm.stagehistory.list for smart processes.

REFERENCE §6: camelCase fields (user fields by their converted names, or by ``UF_CRM_`` names with
``useOriginalUfNames: "Y"``); unknown keys in ``fields`` are ignored; fields of disabled features read
as ``null``; an update that changes nothing is not saved and fires no event; ``crm.item.delete``
answers ``[]``. Stage moves keep ``previousStageId``/``movedBy``/``movedTime`` and write stage history
(TYPE_ID 1 created, 2 moved to an in-progress stage, 3 moved to a final stage). Events
``ONCRMDYNAMICITEMADD/UPDATE/DELETE`` carry ``{"FIELDS": {"ID", "ENTITY_TYPE_ID"}}``.

UNVERIFIED, chosen here (switches): :data:`ITEM_NOT_FOUND` text (the docs say both "Item not found"
and "Element not found"); :data:`EXPOSE_STAGE_SEMANTIC_ID` (SPA items without ``stageSemanticId``);
:data:`UPDATE_EVENT_WITHOUT_CHANGE` (an update that changes nothing fires no event);
:data:`ACCEPT_ORIGINAL_NAMES_IN_CAMEL_MODE` (``UF_CRM_`` keys sent without ``useOriginalUfNames: "Y"``
are ignored like any unknown key, which makes the mistake visible). A mandatory user field is
checked on add and, on update, only when the update sets it; the error is
``CRM_FIELD_ERROR_REQUIRED`` ``The "<label>" field is required.`` (inferred from the CRM module).
New items default to ``opened: "Y"`` and, with products enabled, the portal currency
(:data:`DEFAULT_CURRENCY`: RUB on a Russian portal). ``get`` and ``list`` honour the caller's read
rights (:mod:`b24sandbox.crmaccess`: ``get`` → 400 ``ACCESS_DENIED``, ``list`` leaves the item out).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from b24sandbox import crmaccess, ids
from b24sandbox import crmstore as cs
from b24sandbox.crmfields import FieldDef, catalogue, enabled
from b24sandbox.crmparams import as_int, as_list, as_mapping, int_param, missing, page, yn
from b24sandbox.crmvalues import convert, invalid, kind_for_filter, render, typed
from b24sandbox.filters import compile_filter, compile_order, sort_rows
from b24sandbox.registry import Call, Page, RestError, method
from b24sandbox.switches import switches

ITEM_NOT_FOUND = "Item not found"
EXPOSE_STAGE_SEMANTIC_ID = False
UPDATE_EVENT_WITHOUT_CHANGE = False
ACCEPT_ORIGINAL_NAMES_IN_CAMEL_MODE = False
OLD_INVOICE = 5
DEFAULT_CURRENCY = {"ru": "RUB", "en": "USD"}


class _Ctx:
    def __init__(self, call: Call) -> None:
        etid = int_param(call, "entityTypeId", lambda: missing("entityTypeId"))
        if etid == OLD_INVOICE:
            raise RestError("ENTITY_TYPE_NOT_SUPPORTED", "Entity type INVOICE is not supported", 400)
        smart = cs.type_by_etid(call.state, etid)
        if smart is None:
            raise RestError("NOT_FOUND", "Smart process not found", 400)
        if call.user_id not in call.state.users or not call.user.active:
            raise RestError("ACCESS_DENIED", "Access denied", 400)
        self.call = call
        self.smart = smart
        self.fields = catalogue(call.state, smart, yn(call.param("useOriginalUfNames")) == "Y")

    def item(self) -> cs.Item:
        item_id = as_int(self.call.param("id"))
        if item_id is None:
            raise missing("id")
        item = cs.items_of(self.call.state, self.smart.entity_type_id).get(item_id)
        if item is None:
            raise RestError("NOT_FOUND", ITEM_NOT_FOUND, 400)
        return item

    def view(self, item: cs.Item, select: set[str] | None = None) -> dict[str, Any]:
        shown = {
            rest: render(self.call, self.smart, item, field)
            for rest, field in self.fields.items()
            if field.in_item and (select is None or rest in select or rest == "id")
        }
        if EXPOSE_STAGE_SEMANTIC_ID and self.smart.flag("isStagesEnabled"):
            shown["stageSemanticId"] = {"S": "S", "F": "F"}.get(
                cs.stage_semantics(self.call.state, item.values.get("stageId") or "") or "", "P"
            )
        return shown

    def writable(self, rest: str) -> FieldDef | None:
        field = self.fields.get(rest)
        if field is None and ACCEPT_ORIGINAL_NAMES_IN_CAMEL_MODE:
            field = next((f for f in self.fields.values() if f.user_field is not None and f.name == rest), None)
        if field is None or field.read_only or not field.in_item or not enabled(self.smart, field):
            return None
        return field


def _defaults(ctx: _Ctx, item_id: int) -> dict[str, Any]:
    call, now = ctx.call, ctx.call.now
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    values: dict[str, Any] = {
        "id": item_id, "xmlId": None, "title": None, "createdBy": call.user_id, "updatedBy": call.user_id,
        "movedBy": call.user_id, "createdTime": now, "updatedTime": now, "movedTime": now,
        "categoryId": None, "opened": "Y", "stageId": None, "previousStageId": None,
        "begindate": midnight, "closedate": midnight + timedelta(days=7), "companyId": 0, "contactId": 0,
        "opportunity": 0.0, "isManualOpportunity": "N", "taxValue": 0.0,
        "currencyId": DEFAULT_CURRENCY.get(call.state.portal.language, "USD"), "mycompanyId": 0,
        "sourceId": None, "sourceDescription": None, "webformId": None, "assignedById": call.user_id,
        "lastActivityBy": call.user_id, "lastActivityTime": now, "observers": [], "contactIds": [],
        "entityTypeId": ctx.smart.entity_type_id,
    }  # fmt: skip
    for field in ctx.fields.values():
        uf = field.user_field
        if uf is None:
            continue
        default: Any = [] if uf.multiple else None
        if uf.user_type_id == "enumeration":
            chosen = [o.id for o in uf.enum if o.default]
            default = chosen if uf.multiple else (chosen[0] if chosen else None)
        elif uf.user_type_id == "boolean":
            default = 1 if str(uf.settings.get("DEFAULT_VALUE", 0)) == "1" else 0
        elif uf.settings.get("DEFAULT_VALUE") not in (None, "", {}) and uf.user_type_id in ("string", "integer", "double"):
            default = uf.settings["DEFAULT_VALUE"]
        values[uf.field_name] = default
    return values


def _apply(ctx: _Ctx, values: dict[str, Any], incoming: dict[str, Any], creating: bool) -> set[str]:
    """Write ``incoming`` into ``values``; returns the storage names that were given."""
    given: set[str] = set()
    for rest, value in incoming.items():
        field = ctx.writable(rest)
        if field is None:
            continue
        values[field.name] = convert(ctx.call, field, value, values.get(field.name))
        given.add(field.name)
    _place_stage(ctx, values, given)
    for field in ctx.fields.values():
        if field.user_field is not None and field.required and (creating or field.name in given):
            _require(field, values.get(field.name))
    values["opportunityAccount"] = values.get("opportunity")
    values["taxValueAccount"] = values.get("taxValue")
    values["accountCurrencyId"] = values.get("currencyId")
    return given


def _require(field: FieldDef, value: Any) -> None:
    if value in (None, "", []):
        raise RestError("CRM_FIELD_ERROR_REQUIRED", f'The "{field.title}" field is required.', 400)


def _place_stage(ctx: _Ctx, values: dict[str, Any], given: set[str]) -> None:
    state, etid = ctx.call.state, ctx.smart.entity_type_id
    category = cs.crm_store(state).categories.get(values.get("categoryId") or -1)
    if category is None or category.entity_type_id != etid:
        if "categoryId" in given:
            raise invalid(ctx.fields["categoryId"])
        category = cs.default_category(state, etid)
        values["categoryId"] = category.id if category else None
    if category is None or not ctx.smart.flag("isStagesEnabled"):
        return
    stages = cs.stages_of(state, cs.stage_entity_id(etid, category.id))
    codes = [s.status_id for s in stages]
    if values.get("stageId") not in codes:
        if "stageId" in given:
            raise invalid(ctx.fields["stageId"])
        values["stageId"] = codes[0] if codes else None


def _history(ctx: _Ctx, item_id: int, values: dict[str, Any], created: bool) -> None:
    stage_id = values.get("stageId")
    if not stage_id:
        return
    semantics = cs.stage_semantics(ctx.call.state, stage_id)
    kind = 1 if created else (3 if semantics in ("S", "F") else 2)
    row = cs.HistoryRow(
        id=ctx.call.state.next_id("crm.stagehistory", 1), entity_type_id=ctx.smart.entity_type_id, type_id=kind,
        owner_id=item_id, created_time=ctx.call.now, category_id=values.get("categoryId") or 0,
        stage_semantic_id=semantics or "P", stage_id=stage_id,
    )  # fmt: skip
    cs.crm_store(ctx.call.state).history.append(row)


def _event(ctx: _Ctx, name: str, item_id: int) -> None:
    data = {"FIELDS": {"ID": item_id, "ENTITY_TYPE_ID": ctx.smart.entity_type_id}}
    ctx.call.state.emit(name, data, ctx.call.user_id)


def _fields_param(call: Call) -> dict[str, Any]:
    raw = call.param("fields")
    if raw is None or raw == "":
        raise missing("fields")
    return as_mapping(raw)


@method("crm.item.add", scope="crm")
def add(call: Call) -> dict[str, Any]:
    ctx = _Ctx(call)
    incoming = _fields_param(call)
    values = _defaults(ctx, 0)
    _apply(ctx, values, incoming, creating=True)
    item_id = call.state.next_id(f"crm.item.{ctx.smart.entity_type_id}", ids.CRM_ITEM)
    values["id"] = item_id
    if not str(values.get("title") or "").strip():
        values["title"] = f"{ctx.smart.title} #{item_id}"
    item = cs.Item(item_id, ctx.smart.entity_type_id, values)
    cs.items_of(call.state, ctx.smart.entity_type_id)[item_id] = item
    _history(ctx, item_id, values, created=True)
    _event(ctx, "ONCRMDYNAMICITEMADD", item_id)
    return {"item": ctx.view(item)}


@method("crm.item.update", scope="crm")
def update(call: Call) -> dict[str, Any]:
    ctx = _Ctx(call)
    item = ctx.item()
    incoming = _fields_param(call)
    values = dict(item.values)
    _apply(ctx, values, incoming, creating=False)
    if not str(values.get("title") or "").strip():
        values["title"] = f"{ctx.smart.title} #{item.id}"
    if values == item.values:
        if UPDATE_EVENT_WITHOUT_CHANGE:
            _event(ctx, "ONCRMDYNAMICITEMUPDATE", item.id)
        return {"item": ctx.view(item)}
    now = call.now
    if values.get("stageId") != item.values.get("stageId"):
        values.update(previousStageId=item.values.get("stageId"), movedBy=call.user_id, movedTime=now)
        _history(ctx, item.id, values, created=False)
    values.update(updatedBy=call.user_id, updatedTime=now)
    item.values = values
    _event(ctx, "ONCRMDYNAMICITEMUPDATE", item.id)
    return {"item": ctx.view(item)}


@method("crm.item.get", scope="crm")
def get(call: Call) -> dict[str, Any]:
    ctx = _Ctx(call)
    item = ctx.item()
    if not crmaccess.can_read(call.state, call.user_id, item.entity_type_id, item.values):
        raise RestError("ACCESS_DENIED", "Access denied", 400)
    return {"item": ctx.view(item)}


@method("crm.item.delete", scope="crm")
def delete(call: Call) -> list[Any]:
    ctx = _Ctx(call)
    item = ctx.item()
    del cs.items_of(call.state, ctx.smart.entity_type_id)[item.id]
    _event(ctx, "ONCRMDYNAMICITEMDELETE", item.id)
    return []


@method("crm.item.list", scope="crm")
def list_items(call: Call) -> Page:
    ctx = _Ctx(call)

    def resolve(name: str, what: str = "filter") -> str:
        field = ctx.fields.get(name)
        if field is None or not field.in_item or not enabled(ctx.smart, field):
            raise RestError("INVALID_ARG_VALUE", f"Invalid {what}: field '{name}' is not allowed in {what}", 400)
        return name

    matches = compile_filter(
        call.param("filter"), resolve, lambda name: kind_for_filter(ctx.fields[name])
    )
    order = compile_order(as_mapping(call.param("order")) or {"id": "ASC"}, lambda n: resolve(n, "order"))
    items = cs.items_of(call.state, ctx.smart.entity_type_id)
    rows = [{rest: typed(item, f) for rest, f in ctx.fields.items()} for item in items.values()
            if crmaccess.can_read(call.state, call.user_id, item.entity_type_id, item.values)]
    rows = sort_rows([row for row in rows if matches(row)], order)
    chunk, total, following = page(rows, call.param("start"))
    names = [str(n) for n in as_list(call.param("select"))]
    select = None if not names or "*" in names else set(names)
    return Page({"items": [ctx.view(items[row["id"]], select) for row in chunk]}, total, following)


_EXTRA_DESCRIPTION: dict[str, dict[str, Any]] = {
    "companyId": {"settings": {"parentEntityTypeId": 4}},
    "contactId": {"isDeprecated": True},
    "mycompanyId": {"settings": {"isMyCompany": True, "parentEntityTypeId": 4, "isEmbeddedEditorEnabled": True}},
}


def _describe(ctx: _Ctx, rest: str, field: FieldDef) -> dict[str, Any]:
    described: dict[str, Any] = {
        "type": field.kind, "isRequired": field.required, "isReadOnly": field.read_only,
        "isImmutable": False, "isMultiple": field.multiple, "isDynamic": field.user_field is not None,
        "title": field.title,
    }  # fmt: skip
    if field.kind == "crm_status":
        category = cs.default_category(ctx.call.state, ctx.smart.entity_type_id)
        if rest == "sourceId" or category is None:
            described["statusType"] = "SOURCE"
        else:
            described["statusType"] = cs.stage_entity_id(ctx.smart.entity_type_id, category.id)
    if field.parent is not None:
        described["settings"] = {"parentEntityTypeId": field.parent}
    described.update(_EXTRA_DESCRIPTION.get(field.name, {}) if field.user_field is None else {})
    if field.user_field is not None:
        described["settings"] = dict(field.user_field.settings)
    if field.user_field is not None and field.user_field.user_type_id == "enumeration":
        described.update(_list_options(ctx.call.state, field.user_field.enum))
    described["upperName"] = field.upper_name
    return described


def _list_options(state: Any, enum: Any) -> dict[str, Any]:
    """A list field's options in the shape ``switches.list_items`` names (UNVERIFIED for SPA, docs/sandbox.md)."""
    shape = switches(state).list_items
    if shape == "map":
        return {"items": {str(o.id): o.value for o in enum}}
    if shape == "enum":
        return {"enum": [{"id": o.id, "value": o.value, "xmlId": o.xml_id} for o in enum]}
    if shape == "xml":
        return {"items": [{"ID": o.id, "XML_ID": o.xml_id} for o in enum]}
    if shape == "none":
        return {}
    return {"items": [{"ID": o.id, "VALUE": o.value} for o in enum]}


@method("crm.item.fields", scope="crm")
def fields(call: Call) -> dict[str, Any]:
    ctx = _Ctx(call)
    return {
        "fields": {
            rest: _describe(ctx, rest, field)
            for rest, field in ctx.fields.items()
            if field.in_fields and enabled(ctx.smart, field)
        }
    }


HISTORY_KEYS = ("ID", "TYPE_ID", "OWNER_ID", "CREATED_TIME", "CATEGORY_ID", "STAGE_SEMANTIC_ID", "STAGE_ID")


@method("crm.stagehistory.list", scope="crm")
def stage_history(call: Call) -> Page:
    etid = int_param(call, "entityTypeId", lambda: missing("entityTypeId"))
    if cs.type_by_etid(call.state, etid) is None:
        raise RestError("ENTITY_TYPE_NOT_SUPPORTED", f"Entity type {etid} is not supported", 400)

    def resolve(name: str, what: str = "filter") -> str:
        if name.upper() not in HISTORY_KEYS:
            raise RestError("INVALID_ARG_VALUE", f"Invalid {what}: field '{name}' is not allowed in {what}", 400)
        return name.upper()

    matches = compile_filter(call.param("filter"), resolve)
    order = compile_order(as_mapping(call.param("order")) or {"ID": "ASC"}, lambda n: resolve(n, "order"))
    rows = [
        {"ID": h.id, "TYPE_ID": h.type_id, "OWNER_ID": h.owner_id, "CREATED_TIME": h.created_time,
         "CATEGORY_ID": h.category_id, "STAGE_SEMANTIC_ID": h.stage_semantic_id, "STAGE_ID": h.stage_id}
        for h in cs.crm_store(call.state).history
        if h.entity_type_id == etid
    ]  # fmt: skip
    rows = sort_rows([row for row in rows if matches(row)], order)
    chunk, total, following = page(rows, call.param("start"))
    select = {str(n).upper() for n in as_list(call.param("select"))} or set(HISTORY_KEYS)
    shown = [
        {k: (call.state.iso(v) if k == "CREATED_TIME" else v) for k, v in row.items() if k in select}
        for row in chunk
    ]
    return Page({"items": shown}, total, following)
