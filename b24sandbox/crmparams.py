"""Reading CRM method parameters as a portal does, and paging list answers.

Values may come typed (JSON) or as strings (form and query encodings); nested lists may arrive as
numbered maps. These helpers accept both and raise the caller-chosen :class:`RestError` on garbage.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from b24sandbox.registry import Call, RestError

PAGE_SIZE = 50


def as_int(value: Any) -> int | None:
    """``177``, ``"177"``, ``177.0`` -> 177; anything else -> ``None``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def as_list(value: Any) -> list[Any]:
    """A JSON array, a numbered map from a form encoding, or a single scalar, as a list."""
    if value is None:
        return []
    if isinstance(value, Mapping):
        return list(value.values())
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def as_mapping(value: Any) -> dict[str, Any]:
    if isinstance(value, Mapping):
        return {str(k): v for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return {str(i): v for i, v in enumerate(value)}
    return {}


def yn(value: Any) -> str | None:
    """A ``"Y"``/``"N"`` flag from ``"Y"``/``"N"`` (any case) or a JSON boolean; else ``None``."""
    if isinstance(value, bool):
        return "Y" if value else "N"
    if isinstance(value, str) and value.upper() in ("Y", "N"):
        return value.upper()
    return None


def true_false(value: Any) -> bool | None:
    """Only ``"true"``/``"false"`` (or JSON booleans) -- ``linkedUserFields`` refuses ``Y``/``N``."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def int_param(call: Call, name: str, error: Callable[[], RestError]) -> int:
    """A required integer parameter; ``error()`` builds the answer for a missing or bad value."""
    value = as_int(call.param(name))
    if value is None:
        raise error()
    return value


def missing(name: str) -> RestError:
    return RestError("100", f"Could not find value for parameter {{{name}}}", 400)


def page(rows: list[Any], start_value: Any) -> tuple[list[Any], int, int | None]:
    """One 50-row page: ``(rows, total, next)``. ``start=-1`` skips counting: total 0, no next."""
    start = as_int(start_value)
    if start == -1:
        return rows[:PAGE_SIZE], 0, None
    start = max(start or 0, 0)
    chunk = rows[start : start + PAGE_SIZE]
    following = start + PAGE_SIZE
    return chunk, len(rows), following if following < len(rows) else None
