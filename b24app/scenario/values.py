"""Reading the values of a scenario file strictly, each problem recorded with its file and line.

:class:`Values` is the part of the scenario parser that reads one value — a login, a stage code, a
moment, a share — and checks it against :class:`Known` (the organisation's people, the workflow's
stages and fields) when given.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from b24app.scenario import model as m
from b24app.workflow.schema import Reader
from b24app.yamlio import LocatedDict

TZ = ZoneInfo("Europe/Moscow")
MOMENT_HINT = "write a moment as 'YYYY-MM-DD HH:MM' (Moscow time)"


@dataclass(frozen=True)
class Known:
    """Names a scenario may use: people's logins, the workflow's stage and field codes; ``workflows``
    holds the same for every workflow (by code), for requests of another workflow than the scenario's."""

    logins: Collection[str] = ()
    stages: Collection[str] = ()
    fields: Collection[str] = ()
    workflows: Mapping[str, Known] = field(default_factory=dict)


@dataclass
class Values:
    r: Reader
    known: Known
    refs: set[str] = field(default_factory=set)

    def login(self, body: LocatedDict, key: str, what: str) -> str | None:
        value = self.r.string(body, key, what)
        if value is None:
            return None
        return value if self.check_login(body, key, value, what) else None

    def check_login(self, body: LocatedDict, key: str, value: str, what: str) -> bool:
        if self.known.logins and value not in self.known.logins:
            self.r.add(body, f"{what}: unknown person {value!r}; people: {', '.join(sorted(self.known.logins))}", key)
            return False
        return True

    def stage(self, body: LocatedDict, key: str, what: str) -> str | None:
        value = self.r.string(body, key, what, r"[A-Z][A-Z0-9_]*", "a stage code is upper case, e.g. HEAD_APPROVAL")
        if value and self.known.stages and value not in self.known.stages:
            self.r.add(body, f"{what}: unknown stage {value!r}; stages: {', '.join(self.known.stages)}", key)
            return None
        return value

    def field_code(self, body: LocatedDict, code: str, what: str, key: str | None = None) -> None:
        if code == "title":
            return
        if self.known.fields and code not in self.known.fields:
            self.r.add(body, f"{what}: unknown field {code!r}; fields: {', '.join(self.known.fields)}", key or code)

    def via(self, kind: str, body: LocatedDict, what: str) -> str | None:
        value = self.r.string(body, "via", what, default=m.DEFAULT_VIA.get(kind))
        if value is None or "via" not in body:
            return value
        if value not in m.VIA:
            self.r.add(body, f"{what}: unknown via {value!r}; one of {', '.join(m.VIA)}", "via")
            return None
        if kind not in m.VIA[value]:
            allowed = [v for v, kinds in m.VIA.items() if kind in kinds]
            self.r.add(body, f"{what}: {kind} cannot be done via {value}; "
                             f"{'use one of: ' + ', '.join(allowed) if allowed else 'leave via out'}", "via")
            return None
        if value in m.UNSUPPORTED_VIA:
            self.r.add(body, f"{what}: {m.UNSUPPORTED_VIA[value]}", "via")
            return None
        return value

    def request_ref(self, body: LocatedDict, what: str) -> str | None:
        ref = self.r.string(body, "request", what)
        if ref and ref not in self.refs:
            self.r.add(body, f"{what}: no earlier 'create' has ref {ref!r}", "request")
        return ref

    def refused(self, body: LocatedDict, what: str) -> bool | tuple[str, ...]:
        value = body.get("refused", False)
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip():
            return (value,)
        if isinstance(value, list) and value and all(isinstance(v, str) and v.strip() for v in value):
            return tuple(value)
        self.r.add(body, f"{what}: 'refused' is true, or the words (one text or a list) the refusal must contain",
                   "refused")
        return False

    def words(self, body: LocatedDict, key: str, what: str) -> tuple[str, ...]:
        value = body.get(key)
        if value is None:
            return ()
        if isinstance(value, str) and value.strip():
            return (value,)
        return tuple(self.r.strings(body, key, what))

    def count(self, body: LocatedDict, key: str, what: str) -> int | None:
        if key not in body:
            return None
        value = self.r.integer(body, key, what)
        if value is not None and value < 0:
            self.r.add(body, f"{what}: {key!r} cannot be negative", key)
            return None
        return value

    def share(self, body: LocatedDict, key: str, what: str) -> float:
        value = body.get(key, 0.0)
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            self.r.add(body, f"{what}: {key!r} is a share between 0 and 1 (1 = every event), not {value!r}", key)
            return 0.0
        return float(value)

    def moment(self, body: LocatedDict, key: str, what: str) -> datetime | None:
        value = body.get(key)
        parsed = parse_moment(value)
        if parsed is None:
            self.r.add(body, f"{what}: cannot read the moment {value!r} in {key!r}; {MOMENT_HINT}", key)
        return parsed


def parse_moment(value: Any) -> datetime | None:
    """``2026-03-02 10:00`` (text or a YAML timestamp) -> an aware datetime; naive means Moscow time."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    else:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=TZ)
