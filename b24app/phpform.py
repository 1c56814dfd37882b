"""PHP-style bracket form encoding, as Bitrix24 speaks it.

Bitrix24 sends events and accepts parameters as ``application/x-www-form-urlencoded`` pairs whose keys
use PHP bracket syntax: ``data[FIELDS][ID]=22``. These two functions convert between such pairs and
nested Python values. Lists whose keys are ``0..n-1`` decode to Python lists.

:func:`decode` refuses what no Bitrix24 form needs — keys nested deeper than :data:`MAX_DEPTH`
brackets or more than :data:`MAX_KEYS` pairs (PHP's own ``max_input_nesting_level`` /
``max_input_vars`` play the same part) — with :class:`FormTooComplex`, before building anything, so a
hostile form costs neither recursion nor memory.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlencode

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_PART = re.compile(r"\[([^\[\]]*)\]")

#: Bracket levels below the top key (Bitrix24 sends at most ``data[FIELDS][ID]``-like depth 3-4).
MAX_DEPTH = 16
#: Pairs in one form (an event carries about 15, a widget POST about 12).
MAX_KEYS = 1000


class FormTooComplex(ValueError):
    """The form is nested too deep or has too many keys; the message says which limit (never values)."""


def decode(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Turn ``[("data[FIELDS][ID]", "22")]`` into ``{"data": {"FIELDS": {"ID": "22"}}}``.

    Empty brackets (``ids[]=1&ids[]=2``) append. Numbered maps become lists when their keys are exactly
    ``0..n-1``. Values stay strings, as PHP would leave them.
    """
    root: dict[str, Any] = {}
    for raw_key, value in check(pairs):
        if "[" not in raw_key and "]" not in raw_key:       # a plain key (``event``, ``ts``): no parsing
            root[raw_key] = value
            continue
        match = _KEY.match(raw_key)
        if match is None:
            root[raw_key] = value
            continue
        path = [match.group(1), *_PART.findall(match.group(2))]
        _assign(root, path, value)
    return {key: _listify(value) for key, value in root.items()}      # the top level stays a mapping


def check(pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The pairs as a list; :class:`FormTooComplex` past :data:`MAX_KEYS` pairs or :data:`MAX_DEPTH` levels."""
    checked: list[tuple[str, str]] = []
    for raw_key, value in pairs:
        if len(checked) >= MAX_KEYS:
            raise FormTooComplex(f"more than {MAX_KEYS} form keys")
        if raw_key.count("[") > MAX_DEPTH:
            raise FormTooComplex(f"a form key nested deeper than {MAX_DEPTH} levels")
        checked.append((raw_key, value))
    return checked


def _assign(node: dict[str, Any], path: list[str], value: str) -> None:
    for i, part in enumerate(path):
        last = i == len(path) - 1
        if part == "":
            part = str(sum(1 for k in node if k.isdigit()))
        if last:
            node[part] = value
            return
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child


def _listify(value: Any) -> Any:
    """Numbered maps whose keys are exactly ``"0".."n-1"`` become lists (not ``"00"``, ``"²"`` or ``"٣"``)."""
    if not isinstance(value, dict):
        return value
    converted = {k: _listify(v) for k, v in value.items()}
    if converted and all(k.isdigit() for k in converted):
        indexes = [str(i) for i in range(len(converted))]
        if converted.keys() == set(indexes):
            return [converted[i] for i in indexes]
    return converted


def flatten(value: Mapping[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """Turn nested values into bracket pairs; the inverse of :func:`decode` for string leaves.

    Booleans become ``"1"``/``"0"``, so callers that care should pass strings. ``None`` becomes an empty
    string. An empty list becomes ``name=`` — the portal reads ``""``, the documented way to clear a
    field (REFERENCE §6.5) — where PHP's ``http_build_query`` would drop the key, leaving the field as it
    was (``{"UF_CRM_7_FILES": []}`` inside a ``batch`` command would silently change nothing).
    """
    pairs: list[tuple[str, str]] = []
    for key, item in value.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        pairs.extend(_flatten_item(name, item))
    return pairs


def _flatten_item(name: str, item: Any) -> list[tuple[str, str]]:
    if isinstance(item, Mapping):
        return flatten(item, name)
    if isinstance(item, list | tuple):
        if not item:
            return [(name, "")]
        return flatten({str(i): v for i, v in enumerate(item)}, name)
    if item is None:
        return [(name, "")]
    if isinstance(item, bool):
        return [(name, "1" if item else "0")]
    return [(name, str(item))]


def encode(value: Mapping[str, Any]) -> str:
    """URL-encode nested values with PHP bracket keys (brackets percent-encoded, as a form encoder does)."""
    return urlencode(flatten(value))
