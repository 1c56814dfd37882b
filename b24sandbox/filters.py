"""The prefix-operator filter of Bitrix24 list methods, evaluated over in-memory rows.

A filter is a mapping ``{"<op><field>": value, ...}`` (conditions joined by AND) where ``<op>`` is one
of ``>=``, ``>``, ``<=``, ``<``, ``@`` (IN), ``!@`` (NOT IN), ``%`` (substring LIKE), ``=%``/``%=``
(LIKE with the caller's own ``%``), ``!%``, ``!=%``/``!%=`` (their negations), ``=`` (default),
``!=``/``!`` (not equal). A key that is a number (``"0"``) holds a nested group whose optional
``logic`` key is ``"OR"`` or ``"AND"``: ``{"0": {"logic": "OR", "0": {...}, "1": {...}}}``
(REFERENCE §6.3). Values from form-encoded requests arrive as strings and as lists or numbered maps;
both shapes are accepted.

Comparison is type-aware: the filter value is converted to the type of the row value (int, float,
datetime, date, str). Row values that are lists (multiple fields) match when any element matches.
``None`` rows match only ``=`` against ``""``/``None`` and every negative operator.

Behaviour choices (documented rather than verified): LIKE operators are case-insensitive, as MySQL's
default collation makes them; ``=`` compares exactly. A value that cannot be converted raises
``INVALID_ARG_VALUE`` "Invalid filter: field 'X' has invalid value" when the field's kind is known at
compile time (``kinds``), otherwise the condition simply does not match.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, TypeVar

from b24sandbox.registry import RestError

Row = Mapping[str, Any]
Predicate = Callable[[Row], bool]
R = TypeVar("R", bound=Mapping[str, Any])

OPERATORS = ("!=%", "!%=", ">=", "<=", "!@", "=%", "%=", "!%", "!=", ">", "<", "@", "%", "=", "!")
_NEGATIVE = {"!@", "!%", "!=%", "!%=", "!=", "!"}
_NO_VALUE = object()


class _Unconvertible(Exception):
    pass


def split_key(key: str) -> tuple[str, str]:
    """``">=createdTime"`` -> ``(">=", "createdTime")``; no prefix means ``=``."""
    for op in OPERATORS:
        if key.startswith(op) and len(key) > len(op):
            return op, key[len(op) :]
    return "=", key


def compile_filter(
    filter: Mapping[str, Any] | Sequence[Any] | None,
    resolve: Callable[[str], str],
    kinds: Callable[[str], str | None] | None = None,
) -> Predicate:
    """Build a predicate over rows. ``resolve`` maps a filter field name to the row key or raises
    :class:`RestError` (unknown field); ``kinds`` optionally names a field's kind (``int``, ``float``,
    ``datetime``, ``date``, ``str``) so bad values are rejected up front."""
    if not filter:
        return lambda row: True
    return _group(_as_mapping(filter), resolve, kinds)


def _as_mapping(value: Any) -> Mapping[str, Any]:
    if isinstance(value, Mapping):
        return value
    if isinstance(value, (list, tuple)):
        return {str(i): v for i, v in enumerate(value)}
    raise RestError("INVALID_ARG_VALUE", "Invalid filter", 400)


def _group(spec: Mapping[str, Any], resolve: Callable[[str], str], kinds: Any) -> Predicate:
    logic = str(spec.get("logic", spec.get("LOGIC", "AND"))).upper()
    parts: list[Predicate] = []
    for key, value in spec.items():
        key = str(key)
        if key.lower() == "logic":
            continue
        if key.isdigit() and isinstance(value, (Mapping, list, tuple)):
            parts.append(_group(_as_mapping(value), resolve, kinds))
        else:
            parts.append(_condition(key, value, resolve, kinds))
    if logic == "OR":
        return lambda row: any(part(row) for part in parts) if parts else True
    return lambda row: all(part(row) for part in parts)


def _condition(key: str, value: Any, resolve: Callable[[str], str], kinds: Any) -> Predicate:
    op, name = split_key(key)
    row_key = resolve(name)
    kind = kinds(name) if kinds else None
    values = _values(value)
    if kind is not None:
        try:
            for item in values:
                if item is not None and item != "":
                    _convert(item, kind)
        except _Unconvertible:
            raise RestError("INVALID_ARG_VALUE", f"Invalid filter: field '{name}' has invalid value", 400) from None
    many = op in ("@", "!@") or isinstance(value, (list, tuple, Mapping))
    test = _tester(op, values if many else values[:1])

    def predicate(row: Row) -> bool:
        actual = row.get(row_key)
        if isinstance(actual, (list, tuple, set)):
            hit = any(test(element) for element in actual) if actual else test(None)
            return hit if op not in _NEGATIVE else all(test(element) for element in actual or [None])
        return test(actual)

    return predicate


def _values(value: Any) -> list[Any]:
    if isinstance(value, Mapping):
        return list(value.values())
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def _tester(op: str, wanted: list[Any]) -> Callable[[Any], bool]:
    if op in ("=", "@"):
        return lambda actual: any(_equal(actual, w) for w in wanted)
    if op in ("!=", "!", "!@"):
        return lambda actual: not any(_equal(actual, w) for w in wanted)
    if op in ("%", "=%", "%=", "!%", "!=%", "!%="):
        explicit = op in ("=%", "%=", "!=%", "!%=")
        patterns = [_like(w, explicit) for w in wanted]
        if op.startswith("!"):
            return lambda actual: actual is None or not any(p.search(str(actual)) for p in patterns)
        return lambda actual: actual is not None and any(p.search(str(actual)) for p in patterns)
    return lambda actual: any(_ordered(op, actual, w) for w in wanted)


def _like(value: Any, explicit: bool) -> re.Pattern[str]:
    text = "" if value is None else str(value)
    if not explicit:
        return re.compile(re.escape(text), re.IGNORECASE)
    pieces = [re.escape(part).replace("_", ".") for part in text.split("%")]
    return re.compile("^" + ".*".join(pieces) + "$", re.IGNORECASE | re.DOTALL)


def _equal(actual: Any, wanted: Any) -> bool:
    if wanted is None or wanted == "":
        return actual is None or actual == ""
    if actual is None:
        return False
    try:
        return bool(actual == _align(actual, _convert(wanted, _kind_of(actual))))
    except _Unconvertible:
        return False


def _ordered(op: str, actual: Any, wanted: Any) -> bool:
    if actual is None or wanted is None or wanted == "":
        return False
    try:
        other = _convert(wanted, _kind_of(actual))
    except _Unconvertible:
        return False
    other = _align(actual, other)
    if op == ">=":
        return bool(actual >= other)
    if op == ">":
        return bool(actual > other)
    if op == "<=":
        return bool(actual <= other)
    return bool(actual < other)


def _align(actual: Any, other: Any) -> Any:
    """A naive filter datetime is read in the row value's time zone (the portal's)."""
    if isinstance(actual, datetime) and isinstance(other, datetime):
        if other.tzinfo is None and actual.tzinfo is not None:
            return other.replace(tzinfo=actual.tzinfo)
        if other.tzinfo is not None and actual.tzinfo is None:
            return other.replace(tzinfo=None)
    return other


def _kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return "int"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, datetime):
        return "datetime"
    if isinstance(value, date):
        return "date"
    return "str"


def _convert(value: Any, kind: str) -> Any:
    try:
        if kind == "int":
            if isinstance(value, bool):
                return int(value)
            number = float(str(value).strip())
            if number != int(number):
                return number
            return int(number)
        if kind == "float":
            return float(str(value).strip())
        if kind == "datetime":
            return parse_datetime(value)
        if kind == "date":
            return parse_datetime(value).date()
    except (TypeError, ValueError):
        raise _Unconvertible from None
    return value if isinstance(value, str) else str(value)


def parse_datetime(value: Any) -> datetime:
    """ISO 8601 (with or without offset, date only) or the portal's ``dd.mm.yyyy[ hh:mm:ss]`` form."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    text = str(value).strip()
    for pattern in ("%d.%m.%Y %H:%M:%S", "%d.%m.%Y"):
        try:
            return datetime.strptime(text, pattern)
        except ValueError:
            continue
    return datetime.fromisoformat(text)


def compile_order(
    order: Mapping[str, Any] | None, resolve: Callable[[str], str]
) -> list[tuple[str, bool]]:
    """``{"id": "DESC"}`` -> ``[("id", True)]`` (row key, descending); bad directions are refused."""
    result: list[tuple[str, bool]] = []
    for name, direction in (order or {}).items():
        key = resolve(str(name))
        text = str(direction).upper()
        if text not in ("ASC", "DESC"):
            raise RestError(
                "INVALID_ARG_VALUE",
                f"Invalid order: allowed sort directions are ASC, DESC. But got '{direction}' for field '{name}'",
                400,
            )
        result.append((key, text == "DESC"))
    return result


def sort_rows(rows: list[R], keys: list[tuple[str, bool]]) -> list[R]:
    """Stable multi-key sort; ``None`` sorts first ascending, as MySQL does."""
    ordered = list(rows)
    for key, descending in reversed(keys):
        ordered.sort(key=_keyfunc(key), reverse=descending)
    return ordered


def _keyfunc(key: str) -> Callable[[Row], tuple[int, Any]]:
    return lambda row: _sort_key(row.get(key))


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, 0)
    if isinstance(value, (list, tuple)):
        return (3, str(value))
    if isinstance(value, datetime):
        return (1, value.timestamp())
    if isinstance(value, (int, float)):
        return (1, value)
    return (2, str(value).lower())
