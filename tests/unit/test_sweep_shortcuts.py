"""The sweep's shortcuts give what the full way gives: the lower bound of a rule's span (a request whose
rules cannot be due yet is skipped before any working-time arithmetic), the signature check's fast path
and the garbage collector held off during a sweep."""

from __future__ import annotations

import gc
import json
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from b24app.escalation.rules import least_span, shortest_day, span
from b24app.escalation.sweep import gc_paused
from b24app.pipeline.logsign import Scope, _cut, _split, sign_chain, verify
from b24app.workflow.models import Duration
from b24app.worktime import WorkCalendar
from b24app.worktime_config import CalendarSettings

TZ = ZoneInfo("Europe/Moscow")
CALENDARS = [WorkCalendar.default(),
             WorkCalendar(CalendarSettings(lunch=(time(13), time(14)))),
             WorkCalendar(CalendarSettings(start=time(10), end=time(17), lunch=(time(16, 30), time(17, 30))))]
DURATIONS = [Duration(days=1), Duration(days=2), Duration(days=3, hours=1), Duration(hours=4),
             Duration(days=1, working=False), Duration(hours=30, working=False)]


@pytest.mark.parametrize("calendar", CALENDARS, ids=["default", "lunch", "late-lunch"])
def test_the_least_span_is_never_more_than_the_span(calendar: WorkCalendar) -> None:
    shortest = shortest_day(calendar)
    assert shortest > timedelta(0)
    start = datetime(2025, 12, 24, 0, 7, tzinfo=TZ)             # the new year's holidays, shortened days
    while start < datetime(2026, 1, 16, tzinfo=TZ):
        for duration in DURATIONS:
            bound = least_span(shortest, duration)
            whole = span(calendar, start, duration) if duration.days else \
                timedelta(hours=duration.hours, minutes=duration.minutes)
            assert bound <= whole, (start, duration, bound, whole)
        start += timedelta(minutes=37)


def test_the_fast_signature_path_gives_what_the_full_one_gives() -> None:
    scope = Scope("member", 1100, 7)
    texts = [json.dumps({"seq": i, "at": "2026-03-02T10:00:00+03:00", "reason": 'say "sig":"x"', "zz": "ä"},
                        ensure_ascii=False, separators=(",", ":"), sort_keys=True) for i in range(3)]
    chain = sign_chain(b"secret", scope, texts)
    assert all(_cut(t) == _split(t) for t in chain)
    assert verify(b"secret", scope, list(reversed(chain))).entries == tuple(texts)
    spaced = json.dumps(json.loads(chain[1]))                           # valid, not as the app writes it
    assert _cut(spaced) is None and verify(b"secret", scope, [chain[0], spaced, chain[2]]).entries == tuple(texts)
    gone = verify(b"secret", scope, [chain[0], chain[2]])               # its predecessor removed
    assert gone.entries == (texts[0],) and gone.rejected == (chain[2],)
    forged = chain[2].replace('"seq":2', '"seq":9')
    assert verify(b"secret", scope, [*chain[:2], forged]).rejected == (forged,)


def test_the_sweep_holds_the_garbage_collector_off_and_restores_it() -> None:
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), gc_paused():
        raise RuntimeError("the sweep failed")
    assert gc.isenabled()                                   # restored whatever happens
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()                           # not switched on when it was off before
    finally:
        gc.enable()
