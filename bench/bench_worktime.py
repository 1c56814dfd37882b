"""Throughput of the working calendar: ``python bench/bench_worktime.py`` (run from the repo root).

Prints operations per second of add_working_hours, add_working_days, working_hours_between and a
payment deadline, over approval moments spread across 2025-2026 (day caches warm after the first pass).
"""

from __future__ import annotations

import random
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from b24app.deadlines import DeadlineRules
from b24app.worktime import WorkCalendar

MSK = ZoneInfo("Europe/Moscow")


def main(count: int = 20_000) -> None:
    calendar = WorkCalendar.default()
    rules = DeadlineRules(calendar)
    generator = random.Random(0)
    start = datetime(2025, 1, 1, tzinfo=MSK)
    moments = [start + timedelta(minutes=generator.randrange(0, 60 * 24 * 700)) for _ in range(count)]
    cases = {
        "add_working_hours(4)": lambda m: calendar.add_working_hours(m, 4),
        "add_working_hours(40)": lambda m: calendar.add_working_hours(m, 40),
        "add_working_days(2)": lambda m: calendar.add_working_days(m, 2),
        "working_hours_between(+3 days)": lambda m: calendar.working_hours_between(m, m + timedelta(days=3)),
        "payment_deadline": lambda m: rules.payment_deadline(m, urgent=False, amount=2_000_000),
    }
    for name, operation in cases.items():
        began = time.process_time()
        for moment in moments:
            operation(moment)
        spent = time.process_time() - began
        print(f"{name:32} {count / spent:12,.0f} ops/s (CPU)")


if __name__ == "__main__":
    main()
