"""userfieldconfig.* -- user fields of smart processes (REFERENCE §6.4).

Fields belong to ``entityId = CRM_{type id}`` and are named ``UF_CRM_{type id}_{SUFFIX}``. Errors are
HTTP 400 with an empty ``error`` and a sentence. Numbers come back as strings. Changing fields needs
CRM administrator rights; reading them any user. Besides the ``userfieldconfig`` scope the caller
needs ``crm`` (checked when the transport supplies the caller's scopes).

UNVERIFIED, chosen here: ``get`` of a missing id answers like a forbidden one ("You do not have
permission to view user field settings"); a malformed ``fieldName`` answers "Fail to create new user
field"; on ``update`` the ``enum`` entries with an ``id`` change that option (``del: "Y"`` removes it),
entries without one are added and unlisted options are kept.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from b24sandbox import crmstore as cs
from b24sandbox.crmparams import as_int, as_list, as_mapping, page, yn
from b24sandbox.filters import compile_filter, compile_order, sort_rows
from b24sandbox.registry import Call, Page, RestError, method

USER_TYPES = frozenset({
    "string", "integer", "double", "boolean", "enumeration", "datetime", "date", "money", "url",
    "address", "file", "employee", "crm_status", "iblock_section", "iblock_element", "crm",
})  # fmt: skip
DEFAULT_SETTINGS: dict[str, dict[str, Any]] = {
    "enumeration": {"DISPLAY": "LIST", "LIST_HEIGHT": 1, "CAPTION_NO_VALUE": "", "SHOW_NO_VALUE": "Y"},
    "boolean": {"DEFAULT_VALUE": 0, "DISPLAY": "CHECKBOX", "LABEL": ["", ""], "LABEL_CHECKBOX": ""},
    "string": {"SIZE": 20, "ROWS": 1, "REGEXP": "", "MIN_LENGTH": 0, "MAX_LENGTH": 0, "DEFAULT_VALUE": ""},
}
LIST_KEYS = (
    "id", "entityId", "fieldName", "userTypeId", "xmlId", "sort", "multiple", "mandatory",
    "showFilter", "showInList", "editInList", "isSearchable",
)  # fmt: skip
_NAME = re.compile(r"^[A-Z0-9_]{1,50}$")
_LABELS = ("editFormLabel", "listColumnLabel", "listFilterLabel", "errorMessage", "helpMessage")


def _fail(description: str) -> RestError:
    return RestError("", description, 400)


def _check_access(call: Call, admin_message: str | None) -> None:
    if str(call.param("moduleId") or "") != "crm":
        raise _fail("No settings for UserFieldAccess")
    if call.scopes and "crm" not in call.scopes:
        raise _fail("The current method required more scopes. (crm)")
    if admin_message and not call.is_admin:
        raise _fail(admin_message)


def _languages(call: Call) -> list[str]:
    return sorted({"en", "ru", call.state.portal.language})


def field_view(call: Call, uf: cs.UserField, language: str | None = None, with_enum: bool = True) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": str(uf.id), "entityId": uf.entity_id, "fieldName": uf.field_name, "userTypeId": uf.user_type_id,
        "xmlId": uf.xml_id, "sort": str(uf.sort), "multiple": "Y" if uf.multiple else "N",
        "mandatory": "Y" if uf.mandatory else "N", "showFilter": uf.show_filter, "showInList": uf.show_in_list,
        "editInList": uf.edit_in_list, "isSearchable": uf.is_searchable, "settings": dict(uf.settings),
    }  # fmt: skip
    languages = [language] if language else _languages(call)
    view["languageId"] = {lang: lang for lang in languages}
    stored = {"editFormLabel": uf.edit_form_label, "helpMessage": uf.help_message}
    for label in _LABELS:
        texts = stored.get(label, {})
        if language:
            view[label] = {language: texts[language]} if texts.get(language) else None
        elif label == "editFormLabel" and texts:
            view[label] = dict(texts)
        else:
            view[label] = {lang: texts.get(lang) for lang in languages}
    if with_enum and uf.user_type_id == "enumeration":
        view["enum"] = [
            {"id": str(o.id), "userFieldId": str(uf.id), "value": o.value, "def": "Y" if o.default else "N",
             "sort": str(o.sort), "xmlId": o.xml_id}
            for o in sorted(uf.enum, key=lambda o: (o.sort, o.id))
        ]  # fmt: skip
    return view


def _labels(call: Call, value: Any) -> dict[str, str | None]:
    if isinstance(value, str):
        return {call.state.portal.language: value}
    return {str(k): (None if v is None else str(v)) for k, v in as_mapping(value).items()}


def _apply(call: Call, uf: cs.UserField, spec: dict[str, Any]) -> None:
    if "xmlId" in spec:
        uf.xml_id = None if spec["xmlId"] in (None, "") else str(spec["xmlId"])
    if as_int(spec.get("sort")) is not None:
        uf.sort = int(spec["sort"])
    if yn(spec.get("mandatory")):
        uf.mandatory = yn(spec["mandatory"]) == "Y"
    for key in ("showFilter", "isSearchable"):
        if yn(spec.get(key)):
            setattr(uf, "show_filter" if key == "showFilter" else "is_searchable", yn(spec[key]))
    if isinstance(spec.get("settings"), dict):
        uf.settings.update(spec["settings"])
    if "editFormLabel" in spec:
        uf.edit_form_label.update(_labels(call, spec["editFormLabel"]))
    if "helpMessage" in spec:
        uf.help_message.update(_labels(call, spec["helpMessage"]))
    if "enum" in spec and uf.user_type_id == "enumeration":
        _apply_enum(call, uf, as_list(spec["enum"]))


def _apply_enum(call: Call, uf: cs.UserField, entries: list[Any]) -> None:
    for raw in entries:
        entry = as_mapping(raw)
        option = next((o for o in uf.enum if o.id == as_int(entry.get("id"))), None)
        if option is not None and yn(entry.get("del")) == "Y":
            uf.enum.remove(option)
            continue
        if option is None:
            if not str(entry.get("value") or "").strip():
                continue
            option = cs.EnumOption(call.state.next_id("userfield.enum", 1), "", False, 500, secrets.token_hex(16))
            uf.enum.append(option)
        if entry.get("value") not in (None, ""):
            option.value = str(entry["value"])
        option.default = yn(entry.get("def")) == "Y" if "def" in entry else option.default
        sort = as_int(entry.get("sort"))
        option.sort = option.sort if sort is None else sort
        option.xml_id = str(entry["xmlId"]) if entry.get("xmlId") else option.xml_id


def _event(call: Call, name: str, uf: cs.UserField) -> None:
    data = {"FIELDS": {"ID": uf.id, "ENTITY_ID": uf.entity_id, "FIELD_NAME": uf.field_name}}
    call.state.emit(name, data, call.user_id)


@method("userfieldconfig.add", scope="userfieldconfig")
def add(call: Call) -> dict[str, Any]:
    _check_access(call, "Access denied")
    spec = as_mapping(call.param("field"))
    entity_id = str(spec.get("entityId") or "")
    smart = next((t for t in cs.crm_store(call.state).types.values() if t.uf_entity_id == entity_id), None)
    if smart is None:
        raise _fail("You cannot create custom fields")
    user_type = str(spec.get("userTypeId") or "")
    if user_type not in USER_TYPES and not user_type.startswith("rest_"):
        raise _fail("The 'USER_TYPE_ID' field is not found")
    name = str(spec.get("fieldName") or "")
    if not name:
        raise _fail("The 'FIELD_NAME' field is not found")
    if not _NAME.match(name) or not name.startswith(f"UF_{entity_id}_") or len(name) <= len(entity_id) + 4:
        raise _fail("Fail to create new user field")
    if any(uf.field_name == name for uf in cs.crm_store(call.state).user_fields.values()):
        raise _fail(f"Field {name} already exists")
    uf = cs.UserField(
        id=call.state.next_id("userfield", 1), entity_id=entity_id, field_name=name, user_type_id=user_type,
        multiple=yn(spec.get("multiple")) == "Y", settings=dict(DEFAULT_SETTINGS.get(user_type, {})),
    )  # fmt: skip
    _apply(call, uf, {k: v for k, v in spec.items() if k != "enum"})
    uf.edit_in_list = yn(spec.get("editInList")) or uf.edit_in_list  # documented for add (REFERENCE §6.4)
    if user_type == "enumeration":
        _apply_enum(call, uf, as_list(spec.get("enum")))
    cs.crm_store(call.state).user_fields[uf.id] = uf
    _event(call, "ONCRMTYPEUSERFIELDADD", uf)
    return {"field": field_view(call, uf)}


def _find(call: Call, message: str) -> cs.UserField:
    uf_id = as_int(call.param("id"))
    uf = cs.crm_store(call.state).user_fields.get(uf_id) if uf_id is not None else None
    if uf is None:
        raise _fail(message)
    return uf


@method("userfieldconfig.get", scope="userfieldconfig")
def get(call: Call) -> dict[str, Any]:
    _check_access(call, None)
    return {"field": field_view(call, _find(call, "You do not have permission to view user field settings"))}


@method("userfieldconfig.update", scope="userfieldconfig")
def update(call: Call) -> dict[str, Any]:
    message = "You cannot change the settings of the user field"
    _check_access(call, message)
    uf = _find(call, message)
    spec = as_mapping(call.param("field"))
    before = [(o.id, o.value, o.default, o.sort) for o in uf.enum]
    _apply(call, uf, spec)
    _event(call, "ONCRMTYPEUSERFIELDUPDATE", uf)
    if before != [(o.id, o.value, o.default, o.sort) for o in uf.enum]:
        _event(call, "ONCRMTYPEUSERFIELDSETENUMVALUES", uf)
    return {"field": field_view(call, uf)}


@method("userfieldconfig.delete", scope="userfieldconfig")
def delete(call: Call) -> None:
    message = "You cannot delete the user field"
    _check_access(call, message)
    uf = _find(call, message)
    store = cs.crm_store(call.state)
    for items in store.items.values():
        for item in items.values():
            item.values.pop(uf.field_name, None)
    del store.user_fields[uf.id]
    _event(call, "ONCRMTYPEUSERFIELDDELETE", uf)
    return None


def _list_key(name: str) -> str:
    if name not in LIST_KEYS:
        raise _fail(f"Invalid filter: field '{name}' is not allowed")
    return name


@method("userfieldconfig.list", scope="userfieldconfig")
def list_fields(call: Call) -> Page:
    _check_access(call, None)
    select = as_mapping(call.param("select"))
    language = str(select["language"]) if select.get("language") else None
    matches = compile_filter(as_mapping(call.param("filter")), _list_key)
    order = compile_order(as_mapping(call.param("order")) or {"sort": "ASC", "id": "ASC"}, _list_key)
    fields = list(cs.crm_store(call.state).user_fields.values())
    typed = [{**field_view(call, uf, with_enum=False), "id": uf.id, "sort": uf.sort} for uf in fields]
    rows = sort_rows([row for row in typed if matches(row)], order)
    by_id = cs.crm_store(call.state).user_fields
    shown = [field_view(call, by_id[row["id"]], language, with_enum=False) for row in rows]
    chunk, total, following = page(shown, call.param("start"))
    return Page({"fields": chunk}, total, following)


_TYPE_TITLES = {
    "string": "String", "integer": "Integer", "double": "Number", "boolean": "Yes/No", "enumeration": "List",
    "datetime": "Date/Time", "date": "Date", "money": "Money", "url": "Link", "address": "Address", "file": "File",
    "employee": "Binding to User", "crm_status": "Binding to CRM Directories",
    "iblock_section": "Binding to Information Block Sections",
    "iblock_element": "Binding to Information Block Elements", "crm": "Binding to CRM Entities",
}  # fmt: skip


_TYPE_DESCRIPTIONS = {
    **_TYPE_TITLES, "datetime": "Date with time", "employee": "Linked to employee",
    "crm_status": "Linked to CRM directories", "crm": "Linked to CRM entities",
    "iblock_section": "Linked to information block sections", "iblock_element": "Linked to information block elements",
}  # fmt: skip


@method("userfieldconfig.getTypes", scope="userfieldconfig")
def get_types(call: Call) -> dict[str, Any]:
    _check_access(call, None)
    return {"types": {kind: {"userTypeId": kind, "description": text} for kind, text in _TYPE_DESCRIPTIONS.items()}}


@method("crm.userfield.types", scope="crm")
def crm_userfield_types(call: Call) -> list[dict[str, str]]:
    return [{"ID": kind, "title": title} for kind, title in _TYPE_TITLES.items()]
