"""``config/calendar.yaml``: the working calendar's settings, validated with file:line for every problem.

:class:`CalendarSettings` is what :class:`b24app.worktime.WorkCalendar` is built from; the defaults are
the client's calendar (Russia, Europe/Moscow, 09:00–18:00).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from b24app.yamlio import ConfigError, LocatedDict, Problem, load


@dataclass(frozen=True)
class CalendarSettings:
    """What ``config/calendar.yaml`` sets; the defaults are the client's calendar."""

    country: str = "RU"
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/Moscow"))
    start: time = time(9)
    end: time = time(18)
    lunch: tuple[time, time] | None = None
    shorten_before_holidays: bool = True
    extra_days_off: frozenset[date] = frozenset()
    extra_working_days: frozenset[date] = frozenset()



_KEYS = {
    "country", "time_zone", "working_hours", "lunch", "shorten_before_holidays",
    "extra_days_off", "extra_working_days",
}  # fmt: skip


def read_config(path: str | Path) -> Any:
    """:func:`b24app.yamlio.load`, plus an impossible date (2026-02-30) as a ConfigError, not ValueError."""
    try:
        return load(path)
    except ValueError as exc:  # raised by the YAML timestamp constructor, without a line
        raise ConfigError([Problem(str(path), 0, f"invalid value: {exc}")]) from None


def load_calendar_settings(path: str | Path) -> CalendarSettings:
    """Read and validate ``config/calendar.yaml``; every problem is reported at once."""
    data = read_config(path)
    problems: list[Problem] = []
    settings = parse_calendar_settings(data, problems, str(path))
    if problems:
        raise ConfigError(problems)
    return settings


def check_calendar(path: str | Path) -> list[Problem]:
    """The problems of a calendar file (empty when it is valid)."""
    try:
        load_calendar_settings(path)
    except ConfigError as exc:
        return exc.problems
    return []


def parse_calendar_settings(data: Any, problems: list[Problem], file: str) -> CalendarSettings:
    if data is None:
        return CalendarSettings()
    if not isinstance(data, LocatedDict):
        problems.append(Problem(file, 1, "the calendar must be a mapping"))
        return CalendarSettings()
    for key in sorted(set(data) - _KEYS):
        problems.append(data.problem(f"unknown key {key!r}; known: {', '.join(sorted(_KEYS))}", key))
    base = CalendarSettings()
    country = data.get("country", base.country)
    if country != "RU":
        message = (
            f"country {country!r} is not supported: the transfer and pre-holiday rules here are Russian (RU)"
        )
        problems.append(data.problem(message, "country"))
        country = base.country
    start, end = _period(data, "working_hours", problems) or (base.start, base.end)
    lunch = _period(data, "lunch", problems) if data.get("lunch") is not None else None
    if lunch and not (start < lunch[0] and lunch[1] < end):
        problems.append(data.problem("the lunch break must lie inside the working hours", "lunch"))
    shorten = data.get("shorten_before_holidays", True)
    if not isinstance(shorten, bool):
        problems.append(
            data.problem("shorten_before_holidays must be true or false", "shorten_before_holidays")
        )
        shorten = True
    off = _dates(data, "extra_days_off", problems)
    working = _dates(data, "extra_working_days", problems)
    for both in sorted(off & working):
        problems.append(
            data.problem(f"{both} is both an extra day off and an extra working day", "extra_working_days")
        )
    return CalendarSettings(
        country=country, tz=_zone(data, problems) or base.tz, start=start, end=end, lunch=lunch,
        shorten_before_holidays=shorten, extra_days_off=off, extra_working_days=working,
    )  # fmt: skip


def _zone(data: LocatedDict, problems: list[Problem]) -> ZoneInfo | None:
    name = data.get("time_zone", "Europe/Moscow")
    try:
        return ZoneInfo(str(name))
    except (ValueError, KeyError, OSError):
        problems.append(
            data.problem(f"unknown time zone {name!r} (IANA name like Europe/Moscow)", "time_zone")
        )
        return None


def _period(data: LocatedDict, key: str, problems: list[Problem]) -> tuple[time, time] | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, LocatedDict) or set(value) != {"start", "end"}:
        problems.append(data.problem(f'{key} must be a mapping with start and end, e.g. start: "09:00"', key))
        return None
    start, end = _clock(value, "start", problems), _clock(value, "end", problems)
    if start is None or end is None:
        return None
    if start >= end:
        problems.append(value.problem(f"{key}: start {start:%H:%M} must be before end {end:%H:%M}", "start"))
        return None
    return start, end


def _clock(data: LocatedDict, key: str, problems: list[Problem]) -> time | None:
    value = data[key]
    if isinstance(value, str) and re.fullmatch(r"\d{2}:\d{2}", value):
        try:
            return time.fromisoformat(value)
        except ValueError:
            pass
    problems.append(data.problem(f'{key} must be a quoted clock time like "09:00", got {value!r}', key))
    return None


def _dates(data: LocatedDict, key: str, problems: list[Problem]) -> frozenset[date]:
    value = data.get(key) or []
    if not isinstance(value, list):
        problems.append(data.problem(f"{key} must be a list of dates (YYYY-MM-DD)", key))
        return frozenset()
    found: set[date] = set()
    for item in value:
        day = item.get("date") if isinstance(item, LocatedDict) else item
        if isinstance(day, date) and not isinstance(day, datetime):
            found.add(day)
            continue
        where = item if isinstance(item, LocatedDict) else data
        problems.append(
            where.problem(
                f"{key}: {day!r} is not a date (YYYY-MM-DD, or date: with a note:)",
                key if where is data else "date",
            )
        )
    return frozenset(found)
