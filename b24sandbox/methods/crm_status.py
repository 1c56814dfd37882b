"""crm.status.* for smart-process stages (REFERENCE §5).

Rows are UPPER_CASE with string values; errors put the human message into ``error`` (or leave it
empty with the message in ``error_description``), all HTTP 400, exactly as the portal's old CRM
module answers. System stages (``NEW``, ``SUCCESS``, ``FAIL``) need ``params: {FORCED: "Y"}`` to be
deleted; a stage that items are in cannot be deleted. Stage rules (REFERENCE §5.2) are checked when a
stage is added or re-sorted against the funnel's success stage: exactly one success stage, in-progress
stages sort before it and failure stages after it.

UNVERIFIED, chosen here: a second ``S`` stage or a failure stage sorted before the success stage
answers "Error on creating status." (the documented case is an in-progress stage sorted after the
success stage); :data:`ENFORCE_ORDER_ON_UPDATE` applies the same order check to ``SORT`` changes
("Error on updating status."); deleting is not checked against the rules (``FORCED`` exists so that a
system stage -- even the success stage -- can be replaced); a new stage without ``COLOR`` has
``COLOR: null``.
"""

from __future__ import annotations

from typing import Any

from b24sandbox import crmstore as cs
from b24sandbox.crmparams import as_int, as_mapping, page, yn
from b24sandbox.filters import compile_filter, compile_order, sort_rows
from b24sandbox.registry import Call, Page, RestError, method

ROW_KEYS = ("ID", "ENTITY_ID", "STATUS_ID", "NAME", "NAME_INIT", "SORT", "SYSTEM", "CATEGORY_ID", "COLOR", "SEMANTICS")
AFTER_SUCCESS = (
    "Cannot create more stages after the final stage because the final successful stage already exists. "
    "Try using sort order values less than that of the final stage."
)


def _odd(message: str, description: str | None = None) -> RestError:
    return RestError(message, description or message, 400)


def _empty(description: str) -> RestError:
    return RestError("", description, 400)


def typed_row(stage: cs.Stage) -> dict[str, Any]:
    return {
        "ID": stage.id,
        "ENTITY_ID": stage.entity_id,
        "STATUS_ID": stage.status_id,
        "NAME": stage.name,
        "NAME_INIT": stage.name_init,
        "SORT": stage.sort,
        "SYSTEM": "Y" if stage.system else "N",
        "CATEGORY_ID": stage.category_id,
        "COLOR": stage.color,
        "SEMANTICS": stage.semantics,
    }


def status_row(stage: cs.Stage) -> dict[str, Any]:
    row = typed_row(stage)
    row.update(ID=str(stage.id), SORT=str(stage.sort))
    row["CATEGORY_ID"] = None if stage.category_id is None else str(stage.category_id)
    return row


def _row_key(name: str) -> str:
    if name.upper() not in ROW_KEYS:
        raise _odd("Invalid parameters.", "Incorrect parameters passed.")
    return name.upper()


@method("crm.status.list", scope="crm")
def list_statuses(call: Call) -> Page:
    filter_spec = as_mapping(call.param("filter"))
    entity = next((v for k, v in filter_spec.items() if k.upper() == "ENTITY_ID"), None)
    if entity is not None and not isinstance(entity, str):
        raise _empty("Filter by ENTITY_ID must be a string")
    matches = compile_filter(filter_spec, _row_key)
    order = compile_order(as_mapping(call.param("order")) or {"SORT": "ASC"}, _row_key)
    stages = cs.crm_store(call.state).stages.values()
    rows = sort_rows([typed_row(s) for s in stages if matches(typed_row(s))], [*order, ("ID", False)])
    store = cs.crm_store(call.state)
    chunk, total, following = page([status_row(store.stages[r["ID"]]) for r in rows], call.param("start"))
    return Page(chunk, total, following)


def _find(call: Call, when_missing: str = "An invalid identifier was passed.") -> cs.Stage:
    stage_id = as_int(call.param("id"))
    if stage_id is None or stage_id <= 0:
        raise _odd("Invalid identifier.", when_missing)
    stage = cs.crm_store(call.state).stages.get(stage_id)
    if stage is None:
        raise _odd("Status is not found.", "Directory item not found.")
    return stage


@method("crm.status.get", scope="crm")
def get(call: Call) -> dict[str, Any]:
    return status_row(_find(call))


def _directory(call: Call, entity_id: str) -> tuple[int, int]:
    for category in cs.crm_store(call.state).categories.values():
        if cs.stage_entity_id(category.entity_type_id, category.id) == entity_id:
            return category.entity_type_id, category.id
    raise _empty("Specified entity type is not supported.")


def _check_order(others: list[cs.Stage], stage: cs.Stage, error: RestError) -> None:
    """``stage`` (new or re-sorted) against the rest of its funnel: one success stage, in-progress
    stages before it, failure stages after it."""
    if stage.semantics == "S":
        if any(s.semantics == "S" for s in others):
            raise error
        early = any(s.semantics == "F" and s.sort <= stage.sort for s in others)
        if early or any(s.semantics is None and s.sort >= stage.sort for s in others):
            raise error
        return
    success = next((s for s in others if s.semantics == "S"), None)
    if success is None:
        return
    if (stage.semantics is None and stage.sort >= success.sort) or (stage.semantics == "F" and stage.sort <= success.sort):
        raise error


ENFORCE_ORDER_ON_UPDATE = True


@method("crm.status.add", scope="crm")
def add(call: Call) -> int:
    raw = call.param("fields")
    if not isinstance(raw, dict):
        raise _empty("Parameter 'fields' must be array.")
    if not call.is_admin:
        raise _empty("Access denied.")
    fields = {str(k).upper(): v for k, v in raw.items()}
    absent = [f"The field {name} is required." for name in ("ENTITY_ID", "STATUS_ID") if not fields.get(name)]
    if absent:
        raise _empty(", ".join(absent))
    if not str(fields.get("NAME") or "").strip():
        raise _empty("The field Title is required.")
    etid, category_id = _directory(call, str(fields["ENTITY_ID"]))
    status_id = str(fields["STATUS_ID"])
    if ":" not in status_id:
        status_id = f"{cs.stage_prefix(etid, category_id)}:{status_id}"
    if cs.stage_by_status_id(call.state, status_id) is not None:
        raise RestError("ERROR_CORE", "The specified status ID already exists.", 400)
    semantics = str(fields.get("SEMANTICS") or "").upper() or None
    if semantics not in (None, "S", "F"):
        semantics = None
    sort = as_int(fields.get("SORT"))
    stage = cs.Stage(
        id=0, entity_id=str(fields["ENTITY_ID"]), status_id=status_id, name=str(fields["NAME"]), name_init="",
        sort=10 if sort is None else sort, system=False, category_id=category_id,
        color=str(fields["COLOR"]) if fields.get("COLOR") else None, semantics=semantics,
    )  # fmt: skip
    siblings = cs.stages_of(call.state, stage.entity_id)
    success = next((s for s in siblings if s.semantics == "S"), None)
    if semantics is None and success is not None and stage.sort >= success.sort:
        raise _empty(AFTER_SUCCESS)
    _check_order(siblings, stage, _empty("Error on creating status."))
    stage.id = call.state.next_id("crm.status", 1)
    cs.crm_store(call.state).stages[stage.id] = stage
    return stage.id


@method("crm.status.update", scope="crm")
def update(call: Call) -> bool:
    if not call.is_admin:
        raise _odd("Access denied.")
    stage = _find(call, "An incorrect identifier was passed.")
    fields = {str(k).upper(): v for k, v in as_mapping(call.param("fields")).items()}
    sort = as_int(fields.get("SORT"))
    if sort is not None and sort != stage.sort:
        if ENFORCE_ORDER_ON_UPDATE:
            moved = cs.Stage(**{**stage.__dict__, "sort": sort, "semantics": stage.semantics or None})
            others = [s for s in cs.stages_of(call.state, stage.entity_id) if s.id != stage.id]
            _check_order(others, moved, _odd("Error on updating status."))
        stage.sort = sort
    if str(fields.get("NAME") or "").strip():
        stage.name = str(fields["NAME"])
    if fields.get("COLOR"):
        stage.color = str(fields["COLOR"])
    return True


@method("crm.status.delete", scope="crm")
def delete(call: Call) -> bool:
    if not call.is_admin:
        raise _odd("Access denied.")
    stage = _find(call)
    forced = yn(as_mapping(call.param("params")).get("FORCED")) == "Y"
    if stage.system and not forced:
        message = 'CRM System Status can be deleted only if parameter FORCED is specified and equal to "Y".'
        raise _odd(message)
    if stage.category_id is not None:
        etid = int(stage.entity_id.split("_")[1])
        if any(item.values.get("stageId") == stage.status_id for item in cs.items_of(call.state, etid).values()):
            raise _odd("There are active items in this status.")
    del cs.crm_store(call.state).stages[stage.id]
    return True


@method("crm.status.entity.types", scope="crm")
def entity_types(call: Call) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    store = cs.crm_store(call.state)
    for smart in sorted(store.types.values(), key=lambda t: t.id):
        for category in cs.categories_of(call.state, smart.entity_type_id):
            rows.append({
                "ID": cs.stage_entity_id(smart.entity_type_id, category.id),
                "NAME": f"{smart.title} ({category.name})",
                "SEMANTIC_INFO": [],
                "PREFIX": cs.stage_prefix(smart.entity_type_id, category.id),
                "FIELD_ATTRIBUTE_SCOPE": f"category_{category.id}",
                "ENTITY_TYPE_ID": smart.entity_type_id,
                "IS_ENABLED": True,
                "CATEGORY_ID": category.id,
                "CATEGORY_NAME": category.name,
                "CATEGORY_SORT": category.sort,
                "IS_DEFAULT_CATEGORY": category.is_default,
            })  # fmt: skip
    return rows


_FIELDS = (
    # name, type, required, read-only, immutable, title
    ("ID", "integer", False, True, False, "ID"), ("ENTITY_ID", "string", True, False, True, "Entity ID"),
    ("STATUS_ID", "string", True, False, True, "Status"), ("SORT", "integer", False, False, False, "Sorting"),
    ("NAME", "string", True, False, False, "Name"), ("NAME_INIT", "string", False, True, False, "Default Name"),
    ("SYSTEM", "char", False, True, False, "System"), ("CATEGORY_ID", "integer", False, False, True, "CATEGORY_ID"),
    ("COLOR", "string", False, False, False, "COLOR"), ("SEMANTICS", "char", False, False, True, "SEMANTICS"),
    ("EXTRA", "crm_status_extra", False, False, False, "Additional Fields"),
)  # fmt: skip


@method("crm.status.fields", scope="crm")
def fields(call: Call) -> dict[str, Any]:
    return {
        name: {"type": kind, "isRequired": required, "isReadOnly": read_only, "isImmutable": immutable,
               "isMultiple": False, "isDynamic": False, "title": title}
        for name, kind, required, read_only, immutable, title in _FIELDS
    }  # fmt: skip
