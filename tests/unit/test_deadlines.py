"""Deadline rules for accounting tasks: every default rule with worked examples, and validation."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from b24app.deadlines import DEFAULT_RULES, DeadlineRules, check
from b24app.worktime import WorkCalendar
from b24app.yamlio import ConfigError

MSK = ZoneInfo("Europe/Moscow")
CONFIG = Path(__file__).resolve().parents[2] / "config"
CAL = WorkCalendar.default()


def msk(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=MSK)


@pytest.fixture(scope="module")
def rules() -> DeadlineRules:
    return DeadlineRules.load(CONFIG / "deadlines.yaml")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "deadlines.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_file_is_the_defaults(rules: DeadlineRules) -> None:
    assert rules == DeadlineRules(CAL)
    assert rules.rules == DEFAULT_RULES
    assert check(CONFIG) == []


# -- worked examples (the shipped rules) --------------------------------------------------------


@pytest.mark.parametrize(
    ("approved_at", "expected", "why"),
    [
        # approved by 14:00 on a working day -> 18:00 the next working day
        (msk(2026, 3, 2, 10), msk(2026, 3, 3, 18), "Monday morning -> Tuesday 18:00"),
        (msk(2026, 3, 2, 14), msk(2026, 3, 3, 18), "exactly 14:00 still counts as by 14:00"),
        (msk(2026, 3, 2, 7, 30), msk(2026, 3, 3, 18), "before the working day starts"),
        # later -> one more working day
        (msk(2026, 3, 2, 14, 0, 1), msk(2026, 3, 4, 18), "one second after 14:00"),
        (msk(2026, 3, 2, 17), msk(2026, 3, 4, 18), "Monday afternoon -> Wednesday 18:00"),
        (msk(2026, 3, 6, 15), msk(2026, 3, 11, 18), "Friday afternoon before 09.03 (off)"),
        # outside working time counts from the next working start
        (msk(2026, 3, 7, 11), msk(2026, 3, 11, 18), "Saturday -> Tuesday 09:00 -> Wednesday"),
        (msk(2026, 3, 3, 19), msk(2026, 3, 5, 18), "Tuesday evening -> Wednesday 09:00 -> Thursday"),
        # a due day that is shortened ends at 17:00
        (msk(2026, 11, 2, 10), msk(2026, 11, 3, 17), "due on 03.11, the day before 04.11"),
        (msk(2025, 10, 31, 12), msk(2025, 11, 1, 17), "due on the shortened working Saturday"),
        # holidays in between
        (msk(2025, 12, 30, 12), msk(2026, 1, 12, 18), "after the New Year holidays"),
        (msk(2026, 2, 20, 15), msk(2026, 2, 25, 18), "Friday afternoon before 23.02"),
    ],
)
def test_regular_payment_deadline(
    rules: DeadlineRules, approved_at: datetime, expected: datetime, why: str
) -> None:
    assert rules.payment_deadline(approved_at, urgent=False, amount=10_000) == expected, why


def test_urgent_requests_get_four_working_hours(rules: DeadlineRules) -> None:
    assert rules.payment_deadline(msk(2026, 3, 2, 10), urgent=True, amount=1) == msk(2026, 3, 2, 14)
    assert rules.payment_deadline(msk(2026, 3, 2, 16), urgent=True, amount=1) == msk(2026, 3, 3, 11)
    # a Friday before a weekend and a day off: 16:00 -> 18:00 (2 h), Tuesday 09:00 -> 11:00 (2 h)
    assert rules.payment_deadline(msk(2026, 3, 6, 16), urgent=True, amount=1) == msk(2026, 3, 10, 11)


def test_urgent_stops_the_rules_even_for_a_large_amount(rules: DeadlineRules) -> None:
    deadline, applied = rules.explain(msk(2026, 3, 2, 10), urgent=True, amount=5_000_000)
    assert deadline == msk(2026, 3, 2, 14)
    assert applied == ("urgent",)


def test_an_amount_at_or_over_the_threshold_gets_one_more_working_day(rules: DeadlineRules) -> None:
    assert rules.payment_deadline(msk(2026, 3, 2, 10), urgent=False, amount=999_999.99) == msk(2026, 3, 3, 18)
    deadline, applied = rules.explain(msk(2026, 3, 2, 10), urgent=False, amount=1_000_000)
    assert deadline == msk(2026, 3, 4, 18)
    assert applied == ("approved by the cut-off", "large amount")
    # later + large: Friday 15:00 -> Wednesday 18:00 -> Thursday 18:00
    assert rules.payment_deadline(msk(2026, 3, 6, 15), urgent=False, amount=2_000_000) == msk(2026, 3, 12, 18)
    # a day's end moved by a working day lands on the end of a shortened day: 17:00
    assert rules.payment_deadline(msk(2026, 10, 30, 10), urgent=False, amount=1_000_000) == msk(
        2026, 11, 3, 17
    )


def test_subtask_deadline_is_parent_plus_four_working_hours(rules: DeadlineRules) -> None:
    assert rules.subtask_deadline(msk(2026, 3, 3, 18)) == msk(2026, 3, 4, 13)
    assert rules.subtask_deadline(msk(2026, 3, 6, 17)) == msk(2026, 3, 10, 12)  # over 07-09.03
    assert rules.subtask_deadline(msk(2026, 11, 3, 17)) == msk(2026, 11, 5, 13)  # 03.11 ends at 17:00


def test_inputs_in_utc_give_moscow_deadlines(rules: DeadlineRules) -> None:
    approved = datetime(2026, 3, 2, 11, 30, tzinfo=UTC)  # 14:30 MSK: after the cut-off
    deadline = rules.payment_deadline(approved, urgent=False, amount=1)
    assert deadline == msk(2026, 3, 4, 18)
    assert deadline.tzinfo == MSK


def test_deadlines_never_fall_outside_working_time(rules: DeadlineRules) -> None:
    generator = random.Random(6)
    for _ in range(400):
        approved = msk(2025, 10, 1) + timedelta(minutes=generator.randrange(0, 60 * 24 * 200))
        urgent = generator.random() < 0.3
        amount = generator.choice([100, 1_000_000, 3_000_000])
        deadline = rules.payment_deadline(approved, urgent=urgent, amount=amount)
        for moment in (deadline, rules.subtask_deadline(deadline)):
            day_end = CAL.day_end(moment.date())
            assert CAL.is_working_time(moment) or moment == day_end, (approved, moment)
            assert moment > approved


# -- configuration ------------------------------------------------------------------------------


def test_a_file_without_rules_uses_the_defaults(tmp_path: Path) -> None:
    loaded = DeadlineRules.load(write(tmp_path, 'cutoff: "12:00"\namount_threshold: 500000\n'), CAL)
    assert loaded.rules == DEFAULT_RULES
    assert loaded.payment_deadline(msk(2026, 3, 2, 13), urgent=False, amount=1) == msk(2026, 3, 4, 18)
    assert loaded.payment_deadline(msk(2026, 3, 2, 10), urgent=False, amount=500_000) == msk(2026, 3, 4, 18)


def test_custom_order_and_actions(tmp_path: Path) -> None:
    text = """
rules:
  - name: everything
    when: always
    due: {end_of_working_day: 0}
  - name: urgent extra
    when: urgent
    add: {working_hours: 2}
subtask: {working_hours: 1}
"""
    loaded = DeadlineRules.load(write(tmp_path, text), CAL)
    assert loaded.payment_deadline(msk(2026, 3, 2, 16), urgent=False, amount=1) == msk(2026, 3, 2, 18)
    assert loaded.payment_deadline(msk(2026, 3, 2, 16), urgent=True, amount=1) == msk(2026, 3, 3, 11)
    assert loaded.subtask_deadline(msk(2026, 3, 2, 18)) == msk(2026, 3, 3, 10)


def test_the_calendar_beside_the_rules_is_used(tmp_path: Path) -> None:
    (tmp_path / "calendar.yaml").write_text("extra_days_off: [2026-03-03]\n", encoding="utf-8")
    loaded = DeadlineRules.load(write(tmp_path, "{}\n"))
    assert loaded.calendar.is_working_day(date(2026, 3, 3)) is False
    assert loaded.payment_deadline(msk(2026, 3, 2, 10), urgent=False, amount=1) == msk(2026, 3, 4, 18)


def test_config_errors_name_file_and_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """cutoff: 14
amount_threshold: -5
rules:
  - name: big
    when: amount_at_or_over_threshold
    add: {working_days: 1}
  - name: guess
    when: amount > 1000
    due: {working_days: 1}
  - name: both
    when: urgent
    due: {working_hours: 4}
    add: {working_days: 1}
  - name: half
    when: approved_by_cutoff
    due: {end_of_working_day: 1.5}
  - name: fine
    when: approved_by_cutoff
    due: {end_of_working_day: 1}
    priority: 3
subtask: 4
extra: true
""",
    )
    with pytest.raises(ConfigError) as caught:
        DeadlineRules.load(path, CAL)
    lines = [str(p) for p in caught.value.problems]
    assert f'{path}:1: cutoff must be a quoted clock time like "14:00", got 14' in lines
    assert f"{path}:2: amount_threshold must be a non-negative number, got -5" in lines
    assert any(line.startswith(f"{path}:8: unknown condition 'amount > 1000'") for line in lines)
    assert any(line.startswith(f"{path}:9: due must be one of end_of_working_day: N") for line in lines)
    assert f"{path}:10: a rule needs exactly one of due or add" in lines
    assert f"{path}:16: end_of_working_day must be a non-negative whole number, got 1.5" in lines
    assert any(line.startswith(f"{path}:20: unknown key 'priority' in a rule") for line in lines)
    assert any(line.startswith(f"{path}:21: subtask must be a mapping") for line in lines)
    assert any(line.startswith(f"{path}:22: unknown key 'extra'") for line in lines)


def test_rule_order_is_checked(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """rules:
  - name: big
    when: amount_at_or_over_threshold
    add: {working_days: 1}
  - name: early
    when: approved_by_cutoff
    due: {end_of_working_day: 1}
""",
    )
    lines = [str(p) for p in check_dir(tmp_path)]
    assert f"{path}:2: rule 'big' moves a deadline before any due rule sets one" in lines
    assert any(line.startswith(f"{path}:1: some requests would get no deadline") for line in lines)


def test_rules_after_an_unconditional_stop_are_unreachable(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """rules:
  - {name: all, when: always, due: {working_hours: 8}, stop: true}
  - {name: big, when: amount_at_or_over_threshold, add: {working_days: 1}}
""",
    )
    assert [str(p) for p in check_dir(tmp_path)] == [f"{path}:3: rule 'big' can never apply (after 'all')"]


def test_check_reports_calendar_problems_too(tmp_path: Path) -> None:
    (tmp_path / "calendar.yaml").write_text("time_zone: Nowhere/City\n", encoding="utf-8")
    write(tmp_path, "{}\n")
    assert [str(p) for p in check(tmp_path)] == [
        f"{tmp_path / 'calendar.yaml'}:1: unknown time zone 'Nowhere/City' (IANA name like Europe/Moscow)"
    ]


def check_dir(directory: Path) -> list[object]:
    return list(check(directory))
