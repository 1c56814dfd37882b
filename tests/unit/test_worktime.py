"""Working calendar: known dates of the Russian production calendar 2025-2026 and time arithmetic.

Official production calendars (Ministry of Labour / ConsultantPlus) used for the expected values:
2025 — 247 working days, 1972 hours at 40 h/week, shortened days 07.03, 30.04, 11.06, 01.11;
2026 — 247 working days, 1972 hours, shortened days 30.04, 08.05, 11.06, 03.11;
2024 — 248 working days, 1979 hours, shortened days 22.02, 07.03, 08.05, 11.06, 02.11.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from b24app.worktime import WorkCalendar
from b24app.worktime_config import check_calendar
from b24app.yamlio import ConfigError

MSK = ZoneInfo("Europe/Moscow")
CAL = WorkCalendar.default()


def msk(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=MSK)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "calendar.yaml"
    path.write_text(text, encoding="utf-8")
    return path


# -- the must-show examples of issue 6 ---------------------------------------------------------


def test_friday_afternoon_plus_four_hours_lands_on_the_working_saturday() -> None:
    assert CAL.add_working_hours(msk(2025, 10, 31, 16), 4) == msk(2025, 11, 1, 11)


def test_friday_afternoon_plus_two_working_days_skips_the_november_holidays() -> None:
    assert CAL.add_working_days(msk(2025, 10, 31, 16), 2) == msk(2025, 11, 5, 16)


def test_december_30_plus_two_working_days_lands_after_the_new_year_holidays() -> None:
    # 2025-12-31 off by transfer, 01-08.01 holidays, 09.01 off by transfer, 10-11.01 weekend.
    assert CAL.add_working_days(msk(2025, 12, 30, 17), 2) == msk(2026, 1, 13, 17)
    assert CAL.add_working_days(msk(2025, 12, 30, 17), 1) == msk(2026, 1, 12, 17)


@pytest.mark.parametrize(
    "day", [date(2025, 3, 7), date(2025, 4, 30), date(2025, 6, 11), date(2026, 4, 30), date(2026, 11, 3)]
)
def test_a_pre_holiday_day_ends_at_17(day: date) -> None:
    assert CAL.is_shortened(day)
    assert CAL.day_end(day) == datetime.combine(day, datetime.min.time(), MSK) + timedelta(hours=17)
    assert CAL.is_working_time(
        datetime.combine(day, datetime.min.time(), MSK) + timedelta(hours=16, minutes=59)
    )
    assert not CAL.is_working_time(datetime.combine(day, datetime.min.time(), MSK) + timedelta(hours=17))


def test_the_working_saturday_before_the_november_holidays_is_shortened() -> None:
    # 2025-11-01 replaced 2025-11-03 (the day before 04.11), so it has that day's 7 hours.
    assert CAL.is_working_day(date(2025, 11, 1))
    assert CAL.is_shortened(date(2025, 11, 1))
    # Friday 16:00-18:00 is 2 h, Saturday 09:00-17:00 is 8 h (09:00-18:00 minus one hour)
    assert CAL.add_working_hours(msk(2025, 10, 31, 16), 10) == msk(2025, 11, 1, 17)
    assert CAL.add_working_hours(msk(2025, 10, 31, 16), 11) == msk(2025, 11, 5, 10)


@pytest.mark.parametrize(
    "day",
    [
        date(2026, 2, 20),  # Friday; 23.02 is Monday: the weekend is in between
        date(2026, 3, 6),  # Friday; 08.03 is Sunday
        date(2025, 12, 30),  # followed by 31.12, a day off by transfer, not a holiday
        date(2025, 5, 7),  # followed by 08.05, a day off by transfer
        date(2025, 10, 31),  # followed by the working Saturday
    ],
)
def test_days_before_a_weekend_or_a_transferred_day_off_are_full(day: date) -> None:
    assert CAL.is_working_day(day)
    assert not CAL.is_shortened(day)
    assert CAL.day_end(day) == datetime.combine(day, datetime.min.time(), MSK) + timedelta(hours=18)


@pytest.mark.parametrize(
    ("year", "days", "hours", "shortened"),
    [(2024, 248, 1979, 5), (2025, 247, 1972, 4), (2026, 247, 1972, 4)],
)
def test_yearly_totals_match_the_official_production_calendar(
    year: int, days: int, hours: int, shortened: int
) -> None:
    all_days = [date(year, 1, 1) + timedelta(days=i) for i in range(366)]
    year_days = [d for d in all_days if d.year == year]
    assert sum(CAL.is_working_day(d) for d in year_days) == days
    assert sum(CAL.is_shortened(d) for d in year_days) == shortened
    # the official norm counts an 8-hour day: our 09:00-18:00 day (lunch included) minus one hour
    lengths = [
        CAL.working_hours_between(*CAL.working_intervals(d)[0]) for d in year_days if CAL.is_working_day(d)
    ]
    assert sum(lengths, timedelta()) - timedelta(hours=days) == timedelta(hours=hours)


# -- known dates from DEPENDENCIES.md ----------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2025, 11, 1), True),
        (date(2025, 11, 3), False),
        (date(2025, 11, 4), False),
        (date(2025, 12, 31), False),
        (date(2026, 1, 9), False),
        (date(2026, 3, 9), False),
        (date(2026, 5, 11), False),
        (date(2026, 1, 12), True),
        (date(2025, 11, 2), False),
    ],
)
def test_known_days(day: date, working: bool) -> None:
    assert CAL.is_working_day(day) is working


def test_public_holiday_is_the_holiday_itself_not_a_transferred_or_observed_day() -> None:
    assert CAL.is_public_holiday(date(2025, 11, 4))
    assert CAL.is_public_holiday(date(2026, 3, 8))
    assert not CAL.is_public_holiday(date(2025, 11, 3))  # transfer
    assert not CAL.is_public_holiday(date(2026, 3, 9))  # observed (08.03 on a Sunday)


def test_installed_data_covers_next_year() -> None:
    """Fails when the `holidays` package lacks next year's decree: upgrade it or list the days in config."""
    next_year = date.today().year + 1
    assert CAL.covers_year(next_year), f"holidays data has no decree for {next_year}: upgrade `holidays`"
    assert next_year in CAL.covered_years()


def test_a_year_without_a_decree_is_not_covered() -> None:
    assert not CAL.covers_year(2090)
    assert CAL.covered_years()[-1] < 2090


# -- time arithmetic ---------------------------------------------------------------------------


def test_inputs_in_other_zones_give_results_in_moscow() -> None:
    utc = datetime(2025, 10, 31, 13, tzinfo=UTC)  # 16:00 MSK
    result = CAL.add_working_hours(utc, 4)
    assert result == msk(2025, 11, 1, 11)
    assert result.tzinfo == MSK
    vladivostok = datetime(2025, 10, 31, 23, tzinfo=ZoneInfo("Asia/Vladivostok"))  # 16:00 MSK
    assert CAL.add_working_days(vladivostok, 2) == msk(2025, 11, 5, 16)
    assert CAL.is_working_time(datetime(2025, 11, 1, 6, tzinfo=UTC))  # 09:00 MSK Saturday


def test_naive_datetimes_are_rejected() -> None:
    with pytest.raises(ValueError, match="aware"):
        CAL.add_working_hours(datetime(2025, 10, 31, 16), 1)


def test_hours_may_end_exactly_at_the_end_of_a_day() -> None:
    assert CAL.add_working_hours(msk(2026, 3, 3, 16), 2) == msk(2026, 3, 3, 18)
    assert CAL.add_working_hours(msk(2026, 3, 3, 16), timedelta(hours=2, minutes=1)) == msk(2026, 3, 4, 9, 1)


def test_counting_from_outside_working_time_starts_at_the_next_working_start() -> None:
    assert CAL.next_working_start(msk(2026, 3, 6, 19)) == msk(2026, 3, 10, 9)  # weekend + 09.03 off
    assert CAL.next_working_start(msk(2026, 3, 3, 10, 30)) == msk(2026, 3, 3, 10, 30)
    assert CAL.add_working_hours(msk(2026, 3, 7, 12), 1) == msk(2026, 3, 10, 10)
    assert CAL.add_working_days(msk(2026, 3, 6, 19), 1) == msk(2026, 3, 11, 9)
    assert CAL.add_working_days(msk(2026, 3, 3, 7), 0) == msk(2026, 3, 3, 9)


def test_add_working_days_caps_at_a_shorter_target_day() -> None:
    # 2026-11-02 17:30 + 1 working day -> 2026-11-03, which ends at 17:00
    assert CAL.add_working_days(msk(2026, 11, 2, 17, 30), 1) == msk(2026, 11, 3, 17)


@pytest.mark.parametrize(
    "start",
    [msk(2025, 10, 31, 16), msk(2025, 12, 30, 17, 15), msk(2026, 3, 6, 19), msk(2026, 4, 30, 12)],
)
@pytest.mark.parametrize("hours", [0.5, 4, 9, 30, 100])
def test_working_hours_between_undoes_add_working_hours(start: datetime, hours: float) -> None:
    end = CAL.add_working_hours(start, hours)
    assert CAL.working_hours_between(start, end) == timedelta(hours=hours)
    assert CAL.working_hours_between(end, start) == -timedelta(hours=hours)


def test_working_hours_between_counts_only_working_time() -> None:
    # Friday 16:00 -> Wednesday 11:00 across the November holidays: 2 + 8 (Sat 09:00-17:00) + 2
    assert CAL.working_hours_between(msk(2025, 10, 31, 16), msk(2025, 11, 5, 11)) == timedelta(hours=12)


def test_negative_amounts_are_rejected() -> None:
    with pytest.raises(ValueError):
        CAL.add_working_hours(msk(2026, 3, 3, 10), -1)
    with pytest.raises(ValueError):
        CAL.add_working_days(msk(2026, 3, 3, 10), -1)


# -- configuration -----------------------------------------------------------------------------


def test_the_shipped_config_is_the_default_calendar() -> None:
    config = Path(__file__).resolve().parents[2] / "config" / "calendar.yaml"
    assert WorkCalendar.from_config(config).settings == CAL.settings


def test_lunch_break_is_not_working_time(tmp_path: Path) -> None:
    cal = WorkCalendar.from_config(
        write(
            tmp_path, 'working_hours: {start: "09:00", end: "18:00"}\nlunch: {start: "13:00", end: "14:00"}\n'
        )
    )
    assert not cal.is_working_time(msk(2026, 3, 3, 13, 30))
    assert cal.is_working_time(msk(2026, 3, 3, 14))
    assert cal.add_working_hours(msk(2026, 3, 3, 12), 2) == msk(2026, 3, 3, 15)
    assert cal.working_hours_between(msk(2026, 3, 3, 9), msk(2026, 3, 3, 18)) == timedelta(hours=8)
    assert cal.next_working_start(msk(2026, 3, 3, 13, 15)) == msk(2026, 3, 3, 14)
    assert cal.add_working_days(msk(2026, 3, 3, 12), 1) == msk(2026, 3, 4, 12)
    # the day before 4 November: 09:00-13:00 and 14:00-17:00
    assert cal.working_hours_between(msk(2026, 11, 3), msk(2026, 11, 4)) == timedelta(hours=7)
    assert cal.add_working_hours(msk(2026, 11, 3, 16), 1) == msk(2026, 11, 3, 17)


def test_extra_days_off_and_working_days_from_config(tmp_path: Path) -> None:
    cal = WorkCalendar.from_config(
        write(
            tmp_path,
            "extra_days_off:\n  - 2026-03-04\n  - {date: 2026-03-05, note: company day}\n"
            "extra_working_days: [2026-03-07]\n",
        )
    )
    assert not cal.is_working_day(date(2026, 3, 4))
    assert not cal.is_working_day(date(2026, 3, 5))
    assert cal.is_working_day(date(2026, 3, 7))
    assert cal.add_working_days(msk(2026, 3, 3, 10), 1) == msk(2026, 3, 6, 10)
    assert cal.add_working_days(msk(2026, 3, 3, 10), 2) == msk(2026, 3, 7, 10)


def test_other_time_zone_and_hours_from_config(tmp_path: Path) -> None:
    cal = WorkCalendar.from_config(
        write(tmp_path, 'time_zone: Asia/Yekaterinburg\nworking_hours: {start: "08:00", end: "17:00"}\n')
    )
    ekb = ZoneInfo("Asia/Yekaterinburg")
    result = cal.add_working_hours(msk(2026, 3, 3, 14), 1)  # 16:00 local
    assert result == datetime(2026, 3, 3, 17, tzinfo=ekb)
    assert result.tzinfo == ekb


def test_config_years_count_as_covered(tmp_path: Path) -> None:
    cal = WorkCalendar.from_config(write(tmp_path, "extra_days_off: [2090-01-02]\n"))
    assert cal.covers_year(2090)


def test_config_errors_name_file_and_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "country: RU\n"
        "time_zone: Mars/Olympus\n"
        'working_hours: {start: 9:00, end: "18:00"}\n'
        "extra_days_off: [2026-03-01, not-a-date]\n"
        "colour: blue\n",
    )
    with pytest.raises(ConfigError) as caught:
        WorkCalendar.from_config(path)
    text = str(caught.value)
    assert f"{path}:2: unknown time zone 'Mars/Olympus'" in text
    assert f"{path}:3: start must be a quoted clock time" in text
    assert f"{path}:4: extra_days_off: 'not-a-date' is not a date" in text
    assert f"{path}:5: unknown key 'colour'" in text
    assert check_calendar(path) == caught.value.problems


def test_lunch_outside_working_hours_and_reversed_hours_are_errors(tmp_path: Path) -> None:
    path = write(
        tmp_path, 'working_hours:\n  start: "18:00"\n  end: "09:00"\nlunch: {start: "07:00", end: "08:00"}\n'
    )
    text = "\n".join(str(p) for p in check_calendar(path))
    assert f"{path}:2: working_hours: start 18:00 must be before end 09:00" in text
    assert f"{path}:4: the lunch break must lie inside the working hours" in text


def test_a_day_both_off_and_working_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "extra_days_off: [2026-03-04]\nextra_working_days:\n  - 2026-03-04\n")
    assert [str(p) for p in check_calendar(path)] == [
        f"{path}:2: 2026-03-04 is both an extra day off and an extra working day"
    ]


def test_only_russia_is_supported(tmp_path: Path) -> None:
    path = write(tmp_path, "country: DE\n")
    assert [p.line for p in check_calendar(path)] == [1]
    assert "not supported" in str(check_calendar(path)[0])


def test_an_impossible_date_is_a_config_error(tmp_path: Path) -> None:
    path = write(tmp_path, "extra_days_off: [2026-02-30]\n")
    problems = check_calendar(path)
    assert len(problems) == 1
    assert problems[0].file == str(path)
    assert "day is out of range for month" in problems[0].message
