"""Item values in and out of ``crm.item.*``: type-aware conversion, files, rendering, filter rows.

Write formats (REFERENCE §6.5): enumeration -> option id; date -> ``YYYY-MM-DD``; money ->
``"300|RUB"``; boolean -> ``"Y"``/``"N"`` (user-field booleans are kept as 1/0 and filter by 1/0);
file -> ``["name.pdf", "<base64>"]``; multiple fields -> arrays. File fields read back as
``{id, url, urlMachine}``; on update a multiple file field keeps only the files re-listed as
``{"id": N}``, a single one is replaced by a new upload and cleared by ``""``. Dates (system and user
fields) read back as midnight datetimes with the portal's offset, as ``begindate`` does in the docs.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from datetime import datetime, time
from typing import Any
from urllib.parse import urlencode

from b24sandbox import crmstore as cs
from b24sandbox.crmfields import FieldDef
from b24sandbox.crmparams import as_int, as_list, yn
from b24sandbox.filters import parse_datetime
from b24sandbox.registry import Call, RestError

INT_KINDS = frozenset({
    "integer", "user", "crm_company", "crm_contact", "crm_entity", "crm_category", "employee",
    "iblock_section", "iblock_element",
})  # fmt: skip
_MONEY = re.compile(r"^-?\d+(?:\.\d+)?\|[A-Z]{3}$")


def invalid(field: FieldDef) -> RestError:
    return RestError("CRM_FIELD_ERROR_VALUE_NOT_VALID", f'Invalid value for field "{field.title}"', 400)


def _php_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "double"
    return "string" if isinstance(value, str) else "NULL"


def convert(call: Call, field: FieldDef, value: Any, current: Any) -> Any:
    """The stored form of ``value`` written to ``field`` (``current`` is the stored value before)."""
    if field.kind == "file":
        return _files(call, field, value, current)
    if not field.multiple:
        return _scalar(call, field, value)
    if value in ("", None):
        return []
    if not isinstance(value, (list, tuple, Mapping)):
        raise RestError("100", f"Expected iterable value for multiple field, but got `{_php_type(value)}` instead", 400)
    converted = [_scalar(call, field, element) for element in as_list(value)]
    return [element for element in converted if element is not None]


def _scalar(call: Call, field: FieldDef, value: Any) -> Any:
    if value is None or (value == "" and field.kind != "string"):
        return None
    kind = field.kind
    if kind in INT_KINDS:
        number = as_int(value)
        if number is None:
            raise invalid(field)
        if kind == "crm_entity" and number == 0:
            return None  # parentId{ETID}: 0 unlinks
        parent = field.parent
        if parent is not None and cs.type_by_etid(call.state, parent) and not cs.item_exists(call.state, parent, number):
            raise invalid(field)
        if kind in ("user", "employee") and number not in call.state.users:
            raise invalid(field)
        return number
    if kind == "double":
        try:
            return float(value)
        except (TypeError, ValueError):
            raise invalid(field) from None
    if kind == "boolean":
        return _boolean(field, value)
    if kind in ("date", "datetime"):
        return _moment(call, field, value)
    if kind == "enumeration":
        option = as_int(value)
        uf = field.user_field
        if uf is None or option is None or all(o.id != option for o in uf.enum):
            raise invalid(field)
        return option
    if kind == "money" and not _MONEY.match(str(value)):
        raise invalid(field)
    return str(value)


def _boolean(field: FieldDef, value: Any) -> Any:
    flag = yn(value)
    if flag is None and str(value) in ("0", "1"):
        flag = "Y" if str(value) == "1" else "N"
    if flag is None:
        raise invalid(field)
    if field.user_field is not None:
        return 1 if flag == "Y" else 0
    return flag


def _moment(call: Call, field: FieldDef, value: Any) -> datetime:
    try:
        moment = parse_datetime(value)
    except (TypeError, ValueError):
        raise invalid(field) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=call.state.tz)
    moment = moment.astimezone(call.state.tz)
    if field.kind == "date":
        moment = datetime.combine(moment.date(), time(), tzinfo=call.state.tz)
    return moment


def _upload(call: Call, field: FieldDef, value: Any) -> int | None:
    """``["name.pdf", "<base64>"]`` -> a new stored file id; anything else -> ``None``."""
    pair = as_list(value)
    if len(pair) != 2 or not all(isinstance(part, str) for part in pair):
        return None
    try:
        content = base64.b64decode(pair[1], validate=True)
    except (binascii.Error, ValueError):
        raise invalid(field) from None
    return cs.store_file(call.state, pair[0], content).id


def _files(call: Call, field: FieldDef, value: Any, current: Any) -> Any:
    if not field.multiple:
        if value in ("", None):
            return None
        if isinstance(value, Mapping):
            return current  # {"id": N} keeps the file
        uploaded = _upload(call, field, value)
        if uploaded is None:
            raise invalid(field)
        return uploaded
    if value in ("", None):
        return []
    entries = as_list(value)
    if len(entries) == 2 and all(isinstance(e, str) for e in entries):
        entries = [entries]  # a single pair given for a multiple field
    kept_before = set(current or [])
    result: list[int] = []
    for entry in entries:
        if isinstance(entry, Mapping):
            file_id = as_int(entry.get("id"))
            if file_id is not None and file_id in kept_before and file_id not in result:
                result.append(file_id)
            continue
        uploaded = _upload(call, field, entry)
        if uploaded is None:
            raise invalid(field)
        result.append(uploaded)
    return result


def render(call: Call, smart: cs.SmartType, item: cs.Item, field: FieldDef) -> Any:
    """The value ``crm.item.*`` shows for ``field`` of ``item``."""
    if field.gate is not None and not smart.flag(field.gate):
        return None
    stored = item.values.get(field.name)
    if field.kind == "file":
        if field.multiple:
            return [_file_view(call, item, field, file_id) for file_id in stored or []]
        return _file_view(call, item, field, stored) if stored else None
    if field.multiple:
        return [_render_scalar(call, field, element) for element in stored or []]
    return _render_scalar(call, field, stored)


def _render_scalar(call: Call, field: FieldDef, stored: Any) -> Any:
    if isinstance(stored, datetime):
        return call.state.iso(stored)
    if field.kind == "boolean" and field.user_field is not None:
        return "Y" if stored else "N"
    return stored


def _file_view(call: Call, item: cs.Item, field: FieldDef, file_id: int) -> dict[str, Any]:
    stored = cs.file_by_id(call.state, file_id)
    base = cs.base_url(call.state)
    query = urlencode({
        "action": "crm.controller.item.getFile", "SITE_ID": "s1", "entityTypeId": item.entity_type_id,
        "id": item.id, "fieldName": field.name, "fileId": file_id,
    })  # fmt: skip
    token = stored.token if stored else ""
    # §6.5 / examples/crm.item.file_fields.json: urlMachine carries the caller's auth token. A webhook
    # caller has none to embed: its link comes without auth (add an app token to download).
    machine = urlencode({**({"auth": call.access_token} if call.access_token else {}), "token": token})
    return {
        "id": file_id,
        "url": f"{base}/bitrix/services/main/ajax.php?{query}",
        "urlMachine": f"{base}/rest/crm.controller.item.getFile.json?{machine}",
    }


def typed(item: cs.Item, field: FieldDef) -> Any:
    """The value filters and ordering compare (datetimes as datetimes, user-field booleans as 1/0)."""
    return item.values.get(field.name)


def kind_for_filter(field: FieldDef) -> str | None:
    if field.kind in INT_KINDS or field.kind in ("enumeration", "file") or (
        field.kind == "boolean" and field.user_field is not None
    ):
        return "int"
    if field.kind == "double":
        return "float"
    if field.kind in ("date", "datetime"):
        return "datetime"
    return None
