"""crm.type.* -- smart processes (REFERENCE §4.1, §4.2).

Not-found answers carry the integer ``"error": 0`` as the portal's do. Managing types needs CRM
administrator rights (``crm.type.get``/``getByEntityTypeId`` also serve users who can read the type).

UNVERIFIED, chosen here: a missing ``title`` answers ``0`` "Required field 'title' is not filled";
a duplicate explicit ``entityTypeId`` answers ``INVALID_ARG_VALUE`` like an out-of-range one;
:data:`RELATIONS_MISSING_SIDE_CLEARS` -- ``relations`` given on update replace the type's links
wholesale, so a side (``parent``/``child``) left out is cleared (``False``: a missing side is kept).
"""

from __future__ import annotations

from typing import Any

from b24sandbox import crmstore as cs
from b24sandbox import ids
from b24sandbox.crmparams import as_int, as_list, as_mapping, int_param, missing, page, true_false, yn
from b24sandbox.filters import compile_filter, compile_order, sort_rows
from b24sandbox.registry import Call, Page, RestError, method

RELATIONS_MISSING_SIDE_CLEARS = True
SYSTEM_ENTITY_TYPES = frozenset({1, 2, 3, 4, 7, 31, 36})
CLIENT_TYPES = (3, 4)  # contact, company: predefined parents when isClientEnabled=Y
LIST_KEYS = (
    "id", "title", "code", "createdBy", "entityTypeId", "customSectionId", *cs.TYPE_FLAGS,
    "isPaymentsEnabled", "isCountersEnabled", "createdTime", "updatedTime", "updatedBy",
)  # fmt: skip


def _not_found(description: str = "SPA not found") -> RestError:
    return RestError(0, description, 400)


def _require_admin(call: Call) -> None:
    if not call.is_admin:
        raise RestError("ACCESS_DENIED", "Access denied", 400)


def type_row(call: Call, smart: cs.SmartType) -> dict[str, Any]:
    """The flat row ``crm.type.list`` shows (also what its filter and order see)."""
    row: dict[str, Any] = {
        "id": smart.id,
        "title": smart.title,
        "code": smart.code,
        "createdBy": smart.created_by,
        "entityTypeId": smart.entity_type_id,
        "customSectionId": smart.custom_section_id,
    }
    row.update({flag: smart.flags[flag] for flag in cs.TYPE_FLAGS})
    row.update(isPaymentsEnabled="N", isCountersEnabled="N")
    row.update(
        createdTime=call.state.iso(smart.created_time),
        updatedTime=call.state.iso(smart.updated_time),
        updatedBy=smart.updated_by,
    )
    return row


def type_view(call: Call, smart: cs.SmartType, with_code: bool = True) -> dict[str, Any]:
    view = type_row(call, smart)
    if not with_code:
        view.pop("code")
    view["relations"] = _relations_view(call, smart)
    view["linkedUserFields"] = dict(smart.linked_user_fields)
    view["customSections"] = []
    return view


def _relations_view(call: Call, smart: cs.SmartType) -> dict[str, list[dict[str, Any]]]:
    etid = smart.entity_type_id
    parent: list[dict[str, Any]] = []
    if smart.flag("isClientEnabled"):
        parent = [{"entityTypeId": t, "isChildrenListEnabled": "Y", "isPredefined": "Y"} for t in CLIENT_TYPES]
    store = cs.crm_store(call.state)
    for rel in store.relations:
        entry = {"isChildrenListEnabled": "Y" if rel.children_list else "N", "isPredefined": "N"}
        if rel.child == etid:
            parent.append({"entityTypeId": rel.parent, **entry})
    child = [
        {"entityTypeId": rel.child, "isChildrenListEnabled": "Y" if rel.children_list else "N", "isPredefined": "N"}
        for rel in store.relations
        if rel.parent == etid
    ]
    return {"parent": parent, "child": child}


def _apply_fields(call: Call, smart: cs.SmartType, fields: dict[str, Any]) -> None:
    if "title" in fields and str(fields["title"]).strip():
        smart.title = str(fields["title"])
    for flag in cs.TYPE_FLAGS:
        value = yn(fields.get(flag))
        if value is not None:
            smart.flags[flag] = value
    linked = as_mapping(fields.get("linkedUserFields"))
    for key in cs.LINKED_USER_FIELDS:
        wanted = true_false(linked.get(key))
        if wanted is not None:
            smart.linked_user_fields[key] = "Y" if wanted else "N"
    if not smart.flag("isUseInUserfieldEnabled"):
        smart.linked_user_fields = dict.fromkeys(cs.LINKED_USER_FIELDS, "N")
    if "relations" in fields:
        _replace_relations(call, smart, as_mapping(fields["relations"]))


def _replace_relations(call: Call, smart: cs.SmartType, relations: dict[str, Any]) -> None:
    """Relations given on add/update replace the old ones wholesale (a missing side means none);
    invalid entries are dropped silently (REFERENCE §4.1)."""
    store = cs.crm_store(call.state)
    etid = smart.entity_type_id
    for side in ("parent", "child"):
        if side not in relations and not RELATIONS_MISSING_SIDE_CLEARS:
            continue
        def mine(rel: cs.Relation, side: str = side) -> bool:
            return rel.child == etid if side == "parent" else rel.parent == etid

        store.relations = [rel for rel in store.relations if not mine(rel)]
        for entry in as_list(relations.get(side)):
            other = as_int(as_mapping(entry).get("entityTypeId"))
            if other is None or other == etid or not _known_entity_type(call, other):
                continue
            enabled = bool(true_false(as_mapping(entry).get("isChildrenListEnabled")))
            parent, child = (other, etid) if side == "parent" else (etid, other)
            if not any(r.parent == parent and r.child == child for r in store.relations):
                store.relations.append(cs.Relation(parent, child, enabled))


def _known_entity_type(call: Call, etid: int) -> bool:
    return etid in SYSTEM_ENTITY_TYPES or cs.type_by_etid(call.state, etid) is not None


def _valid_new_etid(call: Call, value: Any) -> int:
    etid = as_int(value)
    allowed = etid is not None and ((etid >= 1030 and etid % 2 == 0) or 128 <= etid <= 192)
    if etid is None or not allowed or cs.type_by_etid(call.state, etid) is not None:
        raise RestError("INVALID_ARG_VALUE", "entityTypeId is out of allowed range", 400)
    return etid


@method("crm.type.add", scope="crm")
def add(call: Call) -> dict[str, Any]:
    _require_admin(call)
    fields = as_mapping(call.param("fields"))
    if not fields:
        raise missing("fields")
    if not str(fields.get("title") or "").strip():
        raise RestError(0, "Required field 'title' is not filled", 400)
    if true_false(fields.get("isExternal")) and not fields.get("customSectionId"):
        raise RestError(0, "Select a workplace where the SPA will be located", 400)
    explicit = fields.get("entityTypeId")
    etid = _valid_new_etid(call, explicit) if explicit not in (None, "", 0, "0") else cs.next_entity_type_id(call.state)
    now = call.now
    smart = cs.SmartType(
        id=call.state.next_id("crm.type", ids.CRM_TYPE),
        entity_type_id=etid,
        title=str(fields["title"]),
        flags=dict(cs.FLAG_DEFAULTS),
        linked_user_fields=dict.fromkeys(cs.LINKED_USER_FIELDS, "N"),
        created_by=call.user_id,
        updated_by=call.user_id,
        created_time=now,
        updated_time=now,
    )
    cs.crm_store(call.state).types[smart.id] = smart
    _apply_fields(call, smart, fields)
    name = cs.DEFAULT_CATEGORY_NAME.get(call.state.portal.language, cs.DEFAULT_CATEGORY_NAME["en"])
    cs.add_category(call.state, etid, name, 500, True)
    call.state.emit("ONCRMTYPEADD", {"FIELDS": {"ID": smart.id}}, call.user_id)
    return {"type": type_view(call, smart, with_code=False)}


def _find(call: Call) -> cs.SmartType:
    type_id = int_param(call, "id", lambda: missing("id"))
    smart = cs.crm_store(call.state).types.get(type_id)
    if smart is None:
        raise _not_found()
    return smart


@method("crm.type.update", scope="crm")
def update(call: Call) -> dict[str, Any]:
    _require_admin(call)
    smart = _find(call)
    _apply_fields(call, smart, as_mapping(call.param("fields")))
    smart.updated_by = call.user_id
    smart.updated_time = call.now
    call.state.emit("ONCRMTYPEUPDATE", {"FIELDS": {"ID": smart.id}}, call.user_id)
    return {"type": type_view(call, smart)}


@method("crm.type.get", scope="crm")
def get(call: Call) -> dict[str, Any]:
    return {"type": type_view(call, _find(call))}


@method("crm.type.getByEntityTypeId", scope="crm")
def get_by_entity_type_id(call: Call) -> dict[str, Any]:
    etid = as_int(call.param("entityTypeId"))
    smart = cs.type_by_etid(call.state, etid) if etid is not None else None
    if smart is None:
        raise _not_found("Smart process not found")
    return {"type": type_view(call, smart)}


def _list_field(name: str) -> str:
    if name not in LIST_KEYS:
        raise RestError("INVALID_ARG_VALUE", f"Invalid filter: field '{name}' is not allowed in filter", 400)
    return name


def _order_field(name: str) -> str:
    if name not in LIST_KEYS:
        raise RestError("INVALID_ARG_VALUE", f"Invalid order: field '{name}' is not allowed in order", 400)
    return name


@method("crm.type.list", scope="crm")
def list_types(call: Call) -> Page:
    _require_admin(call)
    matches = compile_filter(call.param("filter"), _list_field)
    order = compile_order(as_mapping(call.param("order")) or {"id": "ASC"}, _order_field)
    store = cs.crm_store(call.state)
    rows = [type_row(call, smart) for smart in store.types.values()]
    ordered = sort_rows([_typed(row, store) for row in rows if matches(_typed(row, store))], order)
    shown = [type_row(call, store.types[row["id"]]) for row in ordered]
    chunk, total, following = page(shown, call.param("start"))
    return Page({"types": chunk}, total, following)


def _typed(row: dict[str, Any], store: cs.CrmStore) -> dict[str, Any]:
    smart = store.types[row["id"]]
    return {**row, "createdTime": smart.created_time, "updatedTime": smart.updated_time}


@method("crm.type.delete", scope="crm")
def delete(call: Call) -> list[Any]:
    _require_admin(call)
    smart = _find(call)
    if cs.items_of(call.state, smart.entity_type_id):
        raise RestError("BX_ERROR", "You cannot delete an entity type that has elements", 400)
    store = cs.crm_store(call.state)
    etid = smart.entity_type_id
    store.relations = [r for r in store.relations if etid not in (r.parent, r.child)]
    for category in cs.categories_of(call.state, etid):
        del store.categories[category.id]
    prefix = f"DYNAMIC_{etid}_STAGE_"
    store.stages = {k: s for k, s in store.stages.items() if not s.entity_id.startswith(prefix)}
    store.user_fields = {k: f for k, f in store.user_fields.items() if f.entity_id != smart.uf_entity_id}
    del store.types[smart.id]
    call.state.emit("ONCRMTYPEDELETE", {"FIELDS": {"ID": smart.id}}, call.user_id)
    return []


_FIELD_TABLE = (
    # name, type, required, read-only, immutable, title
    ("id", "integer", False, True, False, "ID"),
    ("title", "string", True, False, False, "Title"),
    ("code", "string", False, False, False, "Symbolic Code"),
    ("createdBy", "user", False, True, False, "Created By"),
    ("entityTypeId", "integer", True, False, True, "Type Identifier"),
    ("customSectionId", "integer", False, False, True, "Digital Workspace"),
    *((flag, "boolean", False, False, False, flag) for flag in cs.TYPE_FLAGS),
    ("createdTime", "datetime", False, False, False, "Creation Date"),
    ("updatedTime", "datetime", False, False, False, "Modification Date"),
    ("updatedBy", "user", False, True, False, "Modified By"),
)


def upper_name(name: str) -> str:
    return "".join(f"_{ch}" if ch.isupper() else ch.upper() for ch in name)


@method("crm.type.fields", scope="crm")
def fields(call: Call) -> dict[str, Any]:
    _require_admin(call)
    described = {
        name: {
            "type": kind,
            "isRequired": required,
            "isReadOnly": read_only,
            "isImmutable": immutable,
            "isMultiple": False,
            "isDynamic": False,
            "title": title,
            "upperName": upper_name(name),
        }
        for name, kind, required, read_only, immutable, title in _FIELD_TABLE
    }
    return {"fields": described}


_OWNER_TYPES = (
    (1, "Lead", "LEAD", "L"), (2, "Deal", "DEAL", "D"), (3, "Contact", "CONTACT", "C"),
    (4, "Company", "COMPANY", "CO"), (5, "Invoice (old version)", "INVOICE", "I"),
    (31, "Invoice", "SMART_INVOICE", "SI"), (7, "Quote", "QUOTE", "Q"), (8, "Billing Details", "REQUISITE", "RQ"),
    (36, "Document", "SMART_DOCUMENT", "DO"), (39, "Company Document", "SMART_B2E_DOC", "SBD"),
)  # fmt: skip


@method("crm.enum.ownertype", scope="crm")
def owner_types(call: Call) -> list[dict[str, Any]]:
    """System types (names as documented, in English) and each smart process with its ``T{hex}`` code."""
    rows = [{"ID": i, "NAME": n, "SYMBOL_CODE": code, "SYMBOL_CODE_SHORT": short} for i, n, code, short in _OWNER_TYPES]
    for smart in sorted(cs.crm_store(call.state).types.values(), key=lambda t: t.id):
        etid = smart.entity_type_id
        short = cs.binding_code(etid, 0).rsplit("_", 1)[0]
        rows.append({"ID": etid, "NAME": smart.title, "SYMBOL_CODE": f"DYNAMIC_{etid}", "SYMBOL_CODE_SHORT": short})
    return rows
