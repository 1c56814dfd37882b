"""crm.category.list / get / add / update / delete -- funnels of a smart process (REFERENCE §4.3).

Every smart process has a default funnel with a non-zero id (created with the type); a new funnel
gets the five default stages at once. ``isDefault: "Y"`` on add demotes the previous default.

UNVERIFIED, switchable: :data:`ADD_REQUIRES_CATEGORIES_ENABLED` -- the method page says funnels can be
managed over REST even when the funnel UI is disabled (default, ``False``); a tutorial claims
``ENTITY_TYPE_NOT_SUPPORTED`` then (``True``).
"""

from __future__ import annotations

from typing import Any

from b24sandbox import crmstore as cs
from b24sandbox.crmparams import as_int, as_mapping, int_param, missing, page, yn
from b24sandbox.registry import Call, Page, RestError, method

ADD_REQUIRES_CATEGORIES_ENABLED = False


def category_view(category: cs.Category) -> dict[str, Any]:
    return {
        "id": category.id,
        "name": category.name,
        "sort": category.sort,
        "entityTypeId": category.entity_type_id,
        "isDefault": "Y" if category.is_default else "N",
    }


def _smart_type(call: Call, description: str = "Smart process not found") -> cs.SmartType:
    etid = int_param(call, "entityTypeId", lambda: missing("entityTypeId"))
    smart = cs.type_by_etid(call.state, etid)
    if smart is None:
        raise RestError("NOT_FOUND", description, 400)
    return smart


@method("crm.category.list", scope="crm")
def list_categories(call: Call) -> Page:
    smart = _smart_type(call)
    rows = [category_view(c) for c in cs.categories_of(call.state, smart.entity_type_id)]
    chunk, total, following = page(rows, call.params.get("start"))  # §1.4: 50 rows, start
    return Page({"categories": chunk}, total, following)


@method("crm.category.get", scope="crm")
def get(call: Call) -> dict[str, Any]:
    smart = _smart_type(call, "SPA not found")
    return {"category": category_view(_category(call, smart))}


@method("crm.category.add", scope="crm")
def add(call: Call) -> dict[str, Any]:
    smart = _smart_type(call, "SPA not found")
    if not call.is_admin:
        raise RestError("ACCESS_DENIED", "Access denied", 400)
    if ADD_REQUIRES_CATEGORIES_ENABLED and not smart.flag("isCategoriesEnabled"):
        raise RestError("ENTITY_TYPE_NOT_SUPPORTED", f"Entity type {smart.title} is not supported", 400)
    fields = as_mapping(call.param("fields"))
    if not fields:
        raise missing("fields")
    name = str(fields.get("name") or "").strip()
    if not name:
        raise RestError(0, "Field 'NAME' is required", 400)
    sort = as_int(fields.get("sort"))
    is_default = yn(fields.get("isDefault")) == "Y"
    category = cs.add_category(call.state, smart.entity_type_id, name, 500 if sort is None else sort, is_default)
    return {"category": category_view(category)}


def _category(call: Call, smart: cs.SmartType) -> cs.Category:
    category_id = as_int(call.param("id"))
    category = cs.crm_store(call.state).categories.get(category_id) if category_id is not None else None
    if category is None or category.entity_type_id != smart.entity_type_id:
        raise RestError("NOT_FOUND", "Element not found", 400)
    return category


@method("crm.category.update", scope="crm")
def update(call: Call) -> dict[str, Any]:
    smart = _smart_type(call)
    if not call.is_admin:
        raise RestError("ACCESS_DENIED", "Access denied", 400)
    category = _category(call, smart)
    fields = as_mapping(call.param("fields"))
    if str(fields.get("name") or "").strip():
        category.name = str(fields["name"])
    sort = as_int(fields.get("sort"))
    if sort is not None:
        category.sort = max(sort, 0)
    if yn(fields.get("isDefault")) == "Y":
        for other in cs.categories_of(call.state, smart.entity_type_id):
            other.is_default = other.id == category.id
    return {"category": category_view(category)}


@method("crm.category.delete", scope="crm")
def delete(call: Call) -> None:
    smart = _smart_type(call, "SPA not found")
    if not call.is_admin:
        raise RestError("ACCESS_DENIED", "Access denied", 400)
    category = _category(call, smart)
    if category.is_default:
        raise RestError("BX_ERROR", "This funnel is the default funnel", 400)
    if any(item.values.get("categoryId") == category.id for item in cs.items_of(call.state, smart.entity_type_id).values()):
        raise RestError("BX_ERROR", "Elements related to the funnel found", 400)
    store = cs.crm_store(call.state)
    directory = cs.stage_entity_id(smart.entity_type_id, category.id)
    store.stages = {k: s for k, s in store.stages.items() if s.entity_id != directory}
    del store.categories[category.id]
    return None


@method("crm.category.fields", scope="crm")
def fields(call: Call) -> dict[str, Any]:
    _smart_type(call, "SPA not found")
    table = (("id", "integer", False, True), ("name", "string", False, False), ("sort", "integer", False, False),
             ("entityTypeId", "integer", True, True), ("isDefault", "boolean", False, True))  # fmt: skip
    upper = {"id": "ID", "name": "NAME", "sort": "SORT", "entityTypeId": "ENTITY_TYPE_ID", "isDefault": "IS_DEFAULT"}
    return {
        "fields": {
            name: {"type": kind, "isRequired": required, "isReadOnly": read_only, "isImmutable": False,
                   "isMultiple": False, "isDynamic": False, "title": upper[name], "upperName": upper[name]}
            for name, kind, required, read_only in table
        }
    }  # fmt: skip
