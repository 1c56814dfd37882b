"""The names of list (enumeration) values, read from a ``crm.item.fields`` answer.

The docs show no enumeration field in ``crm.item.fields`` for smart processes (UNVERIFIED, see
docs/sandbox.md). The legacy ``crm.*.fields`` methods describe options as ``items: [{ID, VALUE}]``;
``userfieldconfig`` as ``enum: [{id, value, xmlId}]``; a PHP array with non-sequential keys prints as
a JSON object (``{"41": "Маркетинг"}`` or ``{"41": {"ID": "41", "VALUE": ...}}``). All of these are
accepted, under ``items``, ``ITEMS`` or ``enum``. An option known only by its ``XML_ID`` is named by
the workflow's list value with that code. A value none of them names is shown as
:data:`b24app.texts.decisions.UNKNOWN_OPTION`, never as a raw id.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_OPTION_KEYS = ("items", "ITEMS", "enum")
_ID_KEYS = ("ID", "id")
_NAME_KEYS = ("VALUE", "value", "NAME", "name", "TITLE", "title")
_XML_KEYS = ("XML_ID", "xmlId")


def option_names(answer: Any, by_code: Mapping[str, str] | None = None) -> dict[str, str]:
    """``{"UF_CRM_7_EXPENSE_ITEM:41": "Маркетинг", ...}`` from a ``crm.item.fields`` answer; ``by_code``
    names options by ``XML_ID`` when the portal gives no name."""
    fields = answer.get("fields") if isinstance(answer, Mapping) else None
    found: dict[str, str] = {}
    if not isinstance(fields, Mapping):
        return found
    for name, spec in fields.items():
        if not isinstance(spec, Mapping):
            continue
        upper = str(spec.get("upperName") or name)
        for option_id, label in _options(spec, by_code or {}):
            found[f"{upper}:{option_id}"] = label
    return found


def _options(spec: Mapping[str, Any], by_code: Mapping[str, str]) -> list[tuple[str, str]]:
    raw = next((spec[k] for k in _OPTION_KEYS if spec.get(k)), None)
    if isinstance(raw, Mapping):
        entries = [_entry(v, default_id=str(k), by_code=by_code) for k, v in raw.items()]
    elif isinstance(raw, list):
        entries = [_entry(v, default_id=None, by_code=by_code) for v in raw]
    else:
        return []
    return [e for e in entries if e is not None]


def _entry(value: Any, default_id: str | None, by_code: Mapping[str, str]) -> tuple[str, str] | None:
    if isinstance(value, str | int) and not isinstance(value, bool) and default_id is not None:
        label = str(value).strip()
        return (default_id, label) if label and label != default_id else None
    if not isinstance(value, Mapping):
        return None
    option_id = _first(value, _ID_KEYS) or default_id
    label = _first(value, _NAME_KEYS) or by_code.get(_first(value, _XML_KEYS) or "", "")
    if not option_id or not label or label == option_id:
        return None
    return option_id, label


def _first(value: Mapping[str, Any], keys: tuple[str, ...]) -> str:
    for key in keys:
        if value.get(key) not in (None, ""):
            return str(value[key]).strip()
    return ""
