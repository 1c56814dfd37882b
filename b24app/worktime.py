"""Working calendar: Russian production calendar, working hours, working-time arithmetic.

Pure and time-zone aware: every method takes the moment it works on as a parameter (nothing here
reads the clock). Inputs may be in any time zone; results are in the calendar's zone. Naive
datetimes are rejected. Durations are counted in the calendar zone's wall-clock time.

Where the days come from:

* public holidays, transfers of days off and working Saturdays: the ``holidays`` package
  (``country_holidays("RU")``; version 0.109 carries the government decrees for 2024–2027);
* ``extra_days_off`` / ``extra_working_days`` from ``config/calendar.yaml`` override it (company
  days, or a decree newer than the installed data);
* the working day before a public holiday is one hour shorter (Labour Code art. 95), see
  :meth:`WorkCalendar.is_shortened`.

Working time of a day is ``[start, end)`` minus the optional lunch break. A moment exactly at the
end of a day is not working time, but :meth:`WorkCalendar.add_working_hours` may return exactly a
day's end (the last working moment), so a deadline never falls outside working time.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import holidays

from b24app.worktime_config import CalendarSettings, load_calendar_settings

_TRANSFER = re.compile(r"перенесено с (\d{2})\.(\d{2})\.(\d{4})")
_OBSERVED_SUFFIX = "(выходной)"
_SEARCH_DAYS = 3700  # about ten years without a working day means a misconfigured calendar
_SHORTENING = timedelta(hours=1)

Interval = tuple[datetime, datetime]


@dataclass(frozen=True)
class _YearData:
    public_holidays: frozenset[date]  # art. 112 holidays themselves (not transfers, not observed)
    replaced: dict[date, date]  # working weekend day -> the transferred day off it stands in for
    has_decree: bool  # the installed data has at least one transfer for this year


@dataclass(frozen=True)
class WorkCalendar:
    """A working calendar; build it with :meth:`default` or :meth:`from_config`."""

    settings: CalendarSettings = field(default_factory=CalendarSettings)
    _data: Any = field(init=False, repr=False, compare=False)
    _years: dict[int, _YearData] = field(init=False, repr=False, compare=False, default_factory=dict)
    _days: dict[date, tuple[Interval, ...]] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )
    _lock: threading.Lock = field(init=False, repr=False, compare=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        data = holidays.country_holidays(self.settings.country, language="ru", years=[])
        object.__setattr__(self, "_data", data)

    @classmethod
    def default(cls) -> WorkCalendar:
        """Russia, Europe/Moscow, 09:00–18:00, no lunch break, no company days."""
        return cls(CalendarSettings())

    @classmethod
    def from_config(cls, path: str | Path) -> WorkCalendar:
        """Load ``config/calendar.yaml``; raises :class:`b24app.yamlio.ConfigError` naming file:line."""
        return cls(load_calendar_settings(path))

    @property
    def tz(self) -> ZoneInfo:
        return self.settings.tz

    # -- the installed data ---------------------------------------------------------------------

    def _year(self, year: int) -> _YearData:
        found = self._years.get(year)
        if found is None:
            with self._lock:
                found = self._years.get(year) or self._load_year(year)
                self._years[year] = found
        return found

    def _load_year(self, year: int) -> _YearData:
        for y in (year - 1, year, year + 1):
            self._data.get(date(y, 1, 1))  # populates that year (the data expands on access)
        public: set[date] = set()
        replaced: dict[date, date] = {}
        has_decree = False
        for day, names in self._data.items():
            for name in str(names).split("; "):
                match = _TRANSFER.search(name)
                if match is None:
                    if day.year == year and not name.endswith(_OBSERVED_SUFFIX):
                        public.add(day)
                    continue
                has_decree = has_decree or day.year == year
                dd, mm, yyyy = (int(g) for g in match.groups())
                source = date(yyyy, mm, dd)
                if source.year == year and source in self._data.weekend_workdays:
                    replaced[source] = day
        return _YearData(frozenset(public), replaced, has_decree)

    def covers_year(self, year: int) -> bool:
        """Whether the calendar knows the government decree for ``year``.

        True when the installed ``holidays`` data has transfers of days off for that year (every
        year since 2005 has had some), or the configuration lists extra days for it.
        """
        configured = self.settings.extra_days_off | self.settings.extra_working_days
        return self._year(year).has_decree or any(d.year == year for d in configured)

    def covered_years(self, first: int = 2013) -> range:
        """Consecutive years from ``first`` the calendar has decree data for."""
        last = first - 1
        while last < 2200 and self.covers_year(last + 1):
            last += 1
        return range(first, last + 1)

    # -- days -------------------------------------------------------------------------------------

    def is_working_day(self, day: date) -> bool:
        if day in self.settings.extra_days_off:
            return False
        if day in self.settings.extra_working_days:
            return True
        self._year(day.year)
        return bool(self._data.is_working_day(day))

    def is_public_holiday(self, day: date) -> bool:
        """A non-working public holiday itself (art. 112), not a transferred or observed day off."""
        return day not in self.settings.extra_working_days and day in self._year(day.year).public_holidays

    def is_shortened(self, day: date) -> bool:
        """Whether ``day`` is a working day one hour shorter (Labour Code art. 95).

        A working day is shortened when the next calendar day is a non-working public holiday.
        A working weekend day that stands in for a transferred day off has that day's length (the
        rule the official production calendar follows): 2025-11-01 (Sat) replaced 2025-11-03 (Mon),
        the day before the 2025-11-04 holiday, so it is shortened. A working day followed by a
        transferred day off and only then a holiday (2025-05-07, 2025-12-30) is a full day.
        """
        if not self.settings.shorten_before_holidays or not self.is_working_day(day):
            return False
        if day in self.settings.extra_working_days:
            return False
        if self.is_public_holiday(day + timedelta(days=1)):
            return True
        replaced = self._year(day.year).replaced.get(day)
        return replaced is not None and self.is_public_holiday(replaced + timedelta(days=1))

    def working_intervals(self, day: date) -> tuple[Interval, ...]:
        """The working periods of ``day`` as aware datetimes in the calendar zone (empty if off)."""
        cached = self._days.get(day)
        if cached is None:
            cached = self._build_intervals(day)
            self._days[day] = cached
        return cached

    def _build_intervals(self, day: date) -> tuple[Interval, ...]:
        if not self.is_working_day(day):
            return ()
        s, tz = self.settings, self.settings.tz
        start = datetime.combine(day, s.start, tzinfo=tz)
        end = datetime.combine(day, s.end, tzinfo=tz)
        if self.is_shortened(day):
            end -= _SHORTENING
        if s.lunch is None:
            return ((start, end),)
        lunch_start = datetime.combine(day, s.lunch[0], tzinfo=tz)
        lunch_end = datetime.combine(day, s.lunch[1], tzinfo=tz)
        parts = ((start, min(lunch_start, end)), (lunch_end, end))
        return tuple((a, b) for a, b in parts if a < b)

    def day_end(self, day: date) -> datetime | None:
        """The end of ``day``'s working time (17:00 on a shortened day), or None on a day off."""
        intervals = self.working_intervals(day)
        return intervals[-1][1] if intervals else None

    # -- moments ------------------------------------------------------------------------------

    def _local(self, moment: datetime) -> datetime:
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"a time-zone aware datetime is required, got naive {moment.isoformat()}")
        return moment.astimezone(self.tz)

    def _intervals_from(self, day: date) -> Iterator[Interval]:
        for offset in range(_SEARCH_DAYS):
            yield from self.working_intervals(day + timedelta(days=offset))
        raise ValueError(f"no working time within {_SEARCH_DAYS} days after {day}: check the calendar")

    def is_working_time(self, moment: datetime) -> bool:
        local = self._local(moment)
        return any(a <= local < b for a, b in self.working_intervals(local.date()))

    def next_working_start(self, moment: datetime) -> datetime:
        """``moment`` itself if it is working time, else the start of the next working period."""
        local = self._local(moment)
        for a, b in self._intervals_from(local.date()):
            if local < b:
                return max(a, local)
        raise AssertionError("unreachable")  # pragma: no cover

    def add_working_hours(self, moment: datetime, hours: float | timedelta) -> datetime:
        """The moment when ``hours`` of working time have passed after ``moment``.

        From outside working time the count starts at the next working start. The result may be
        exactly the end of a working day (16:00 + 2 h on a 09:00–18:00 day is 18:00 that day).
        """
        remaining = hours if isinstance(hours, timedelta) else timedelta(hours=hours)
        if remaining < timedelta(0):
            raise ValueError("hours must not be negative")
        local = self._local(moment)
        for a, b in self._intervals_from(local.date()):
            if b <= local:
                continue
            begin = max(a, local)
            if remaining <= b - begin:
                return begin + remaining
            remaining -= b - begin
        raise AssertionError("unreachable")  # pragma: no cover

    def add_working_days(self, moment: datetime, days: int) -> datetime:
        """The same clock time ``days`` working days later.

        From outside working time the count starts at the next working start (Friday 20:00 + 1
        working day is Tuesday 09:00 when Monday is working). On a shorter target day the result is
        capped at that day's end; inside a lunch break it moves to the break's end.
        """
        if days < 0:
            raise ValueError("days must not be negative")
        start = self.next_working_start(moment)
        day = start.date()
        for _ in range(days):
            day = self._next_working_day(day)
        clock = datetime.combine(day, start.timetz())
        for a, b in self.working_intervals(day):
            if clock < b:
                return max(a, clock)
        return self.working_intervals(day)[-1][1]

    def _next_working_day(self, day: date) -> date:
        for offset in range(1, _SEARCH_DAYS):
            candidate = day + timedelta(days=offset)
            if self.working_intervals(candidate):
                return candidate
        raise ValueError(f"no working day within {_SEARCH_DAYS} days after {day}: check the calendar")

    def working_hours_between(self, start: datetime, end: datetime) -> timedelta:
        """Working time between two moments (negative when ``end`` is before ``start``)."""
        a, b = self._local(start), self._local(end)
        if b < a:
            return -self.working_hours_between(b, a)
        total = timedelta(0)
        day = a.date()
        while day <= b.date():
            for x, y in self.working_intervals(day):
                overlap = min(y, b) - max(x, a)
                if overlap > timedelta(0):
                    total += overlap
            day += timedelta(days=1)
        return total


# -- configuration --------------------------------------------------------------------------------
