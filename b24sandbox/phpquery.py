"""PHP's query-string arrays, as the portal's PHP side reads and writes them.

The sandbox's own implementation, written apart from the app's form codec so that a bug in one cannot
hide in the other. Reading follows PHP's ``parse_str``: ``a[b][]=1`` nests, ``[]`` appends, and nesting
deeper than PHP's default ``max_input_nesting_level`` (64) drops the variable, as PHP does; at most
``max_input_vars`` (1000) variables are read. Writing follows ``http_build_query``: nested keys in
brackets, ``true``/``false`` as ``1``/``0``, ``null`` and empty arrays left out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

MAX_NESTING = 64
MAX_VARS = 1000


def decode(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """``[("data[FIELDS][ID]", "22")]`` -> ``{"data": {"FIELDS": {"ID": "22"}}}``; maps keyed 0..n-1 become lists."""
    root: dict[str, Any] = {}
    for count, (key, value) in enumerate(pairs):
        if count >= MAX_VARS:
            break
        segments = _segments(key)
        if segments is not None and len(segments) - 1 <= MAX_NESTING:
            _store(root, segments, value)
    decoded: dict[str, Any] = _as_lists(root)
    return decoded


def _segments(key: str) -> list[str] | None:
    """Split ``name[a][b]`` into ``["name", "a", "b"]``; a key that is not of that form is taken whole."""
    opening = key.find("[")
    if opening <= 0:
        return [key] if key else None
    segments = [key[:opening]]
    position = opening
    while position < len(key):
        if key[position] != "[":
            return [key]
        closing = key.find("]", position)
        if closing < 0:
            return [key]
        inner = key[position + 1:closing]
        if "[" in inner:
            return [key]
        segments.append(inner)
        position = closing + 1
    return segments


def _store(root: dict[str, Any], segments: list[str], value: str) -> None:
    node = root
    for depth, segment in enumerate(segments):
        name = segment if segment != "" else str(_next_index(node))
        if depth == len(segments) - 1:
            node[name] = value
            return
        if not isinstance(node.get(name), dict):
            node[name] = {}
        node = node[name]


def _next_index(node: dict[str, Any]) -> int:
    numbers = [int(k) for k in node if k.isdigit()]
    return max(numbers) + 1 if numbers else 0


def _as_lists(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    items = {key: _as_lists(inner) for key, inner in value.items()}
    if items and sorted(items) == sorted(str(i) for i in range(len(items))):
        return [items[str(i)] for i in range(len(items))]
    return items


def flatten(value: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Nested values -> ``(key, value)`` pairs with bracket keys, as ``http_build_query`` writes them."""
    pairs: list[tuple[str, str]] = []
    for key, item in value.items():
        _emit(str(key), item, pairs)
    return pairs


def _emit(name: str, item: Any, pairs: list[tuple[str, str]]) -> None:
    if isinstance(item, Mapping):
        for key, inner in item.items():
            _emit(f"{name}[{key}]", inner, pairs)
    elif isinstance(item, list | tuple):
        for index, inner in enumerate(item):
            _emit(f"{name}[{index}]", inner, pairs)
    elif isinstance(item, bool):
        pairs.append((name, "1" if item else "0"))
    elif item is not None:
        pairs.append((name, str(item)))
