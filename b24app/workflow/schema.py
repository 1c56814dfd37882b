"""Small helpers for reading located YAML strictly: every problem is collected with file and line.

A :class:`Reader` walks ``LocatedDict`` values (from ``b24app.yamlio``), rejects unknown keys, checks
types, and records a :class:`Problem` that names the fix instead of raising, so one run reports
everything wrong with a file.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Any

from b24app.workflow.models import Duration, Label
from b24app.yamlio import LocatedDict, Problem

_DURATION_PART = re.compile(r"^(\d+)\s+(working\s+)?(minute|hour|day)s?$")
DURATION_HINT = "write e.g. '4 working hours', '2 working days', '2 working days + 1 working hour' or '30 minutes'"


def parse_duration(text: str) -> Duration | None:
    """``"2 working days + 1 working hour"`` -> Duration; None when the text is not a duration."""
    totals = {"minute": 0, "hour": 0, "day": 0}
    kinds: set[bool] = set()
    for part in text.split("+"):
        match = _DURATION_PART.match(part.strip())
        if not match:
            return None
        totals[match.group(3)] += int(match.group(1))
        kinds.add(bool(match.group(2)))
    if len(kinds) != 1 or not any(totals.values()):
        return None
    return Duration(totals["day"], totals["hour"], totals["minute"], working=kinds.pop(), text=text.strip())


@dataclass
class Sources:
    """Where each stage and step of a workflow was written, for the graph checks' messages."""

    root: LocatedDict
    stages: dict[str, LocatedDict] = field(default_factory=dict)
    steps: dict[str, LocatedDict] = field(default_factory=dict)


@dataclass
class Reader:
    """Collects problems while reading one file."""

    file: str
    problems: list[Problem] = field(default_factory=list)

    def add(self, where: LocatedDict | None, message: str, key: str | None = None) -> None:
        if where is None:
            self.problems.append(Problem(self.file, 0, message))
        else:
            self.problems.append(where.problem(message, key))

    def mapping(self, value: Any, parent: LocatedDict, key: str, what: str) -> LocatedDict | None:
        if isinstance(value, LocatedDict):
            return value
        self.add(parent, f"{what} must be a mapping (key: value lines), not {_kind(value)}", key)
        return None

    def keys(self, data: LocatedDict, what: str, required: tuple[str, ...], optional: tuple[str, ...]) -> None:
        allowed = required + optional
        for key in data:
            if key not in allowed:
                hint = _close(str(key), allowed)
                self.add(data, f"unknown key {key!r} in {what}{hint}; allowed keys: {', '.join(allowed)}", str(key))
        for key in required:
            if key not in data:
                self.add(data, f"{what} needs the key {key!r}")

    def string(self, data: LocatedDict, key: str, what: str, pattern: str | None = None,
               hint: str = "", default: str | None = None) -> str | None:
        if key not in data:
            return default
        value = data[key]
        if not isinstance(value, str) or not value.strip():
            self.add(data, f"{what}: {key!r} must be a non-empty text, not {_kind(value)}", key)
            return None
        if pattern and not re.fullmatch(pattern, value):
            self.add(data, f"{what}: {key!r} is {value!r}; {hint}", key)
            return None
        return value

    def boolean(self, data: LocatedDict, key: str, what: str, default: bool = False) -> bool:
        value = data.get(key, default)
        if not isinstance(value, bool):
            self.add(data, f"{what}: {key!r} must be true or false, not {value!r}", key)
            return default
        return value

    def integer(self, data: LocatedDict, key: str, what: str) -> int | None:
        value = data.get(key)
        if not isinstance(value, int) or isinstance(value, bool):
            self.add(data, f"{what}: {key!r} must be a whole number, not {_kind(value)}", key)
            return None
        return value

    def items(self, data: LocatedDict, key: str, what: str) -> list[Any]:
        value = data.get(key, [])
        if not isinstance(value, list):
            self.add(data, f"{what}: {key!r} must be a list (lines starting with '- '), not {_kind(value)}", key)
            return []
        return value

    def mappings(self, data: LocatedDict, key: str) -> list[LocatedDict]:
        items = self.items(data, key, f"{key!r}")
        good = [item for item in items if isinstance(item, LocatedDict)]
        if len(good) != len(items):
            self.add(data, f"every entry of {key!r} must be a mapping (key: value lines)", key)
        return good

    def strings(self, data: LocatedDict, key: str, what: str) -> list[str]:
        values = self.items(data, key, what)
        if not all(isinstance(v, str) for v in values):
            self.add(data, f"{what}: {key!r} must be a list of texts", key)
            return []
        return values

    def label(self, data: LocatedDict, key: str, what: str) -> Label | None:
        if key not in data:
            return None
        value = self.mapping(data[key], data, key, f"{what}: {key!r}")
        if value is None:
            return None
        self.keys(value, f"{what}: {key!r}", ("ru", "en"), ())
        ru = self.string(value, "ru", f"{what}: {key!r}")
        en = self.string(value, "en", f"{what}: {key!r}")
        return Label(ru, en) if ru and en else None

    def duration(self, data: LocatedDict, key: str, what: str) -> Duration | None:
        if key not in data:
            return None
        value = data[key]
        parsed = parse_duration(value) if isinstance(value, str) else None
        if parsed is None:
            self.add(data, f"{what}: cannot read the duration {value!r} in {key!r}; {DURATION_HINT}", key)
        return parsed


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "empty"
    return repr(value)


def _close(key: str, allowed: tuple[str, ...]) -> str:
    match = difflib.get_close_matches(key, allowed, n=1)
    return f" (did you mean {match[0]!r}?)" if match else ""
