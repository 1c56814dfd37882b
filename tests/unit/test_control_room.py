"""The control room's pure parts: step times from approval logs, percentiles, the SVG chart, the CSV."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from b24app.control.chart import Week, weekly_svg
from b24app.control.export import rows_csv
from b24app.control.history import figures, percentile, step_times
from b24app.texts.control import texts
from b24app.workflow.snapshot import Entry
from b24app.worktime import WorkCalendar

TZ = ZoneInfo("Europe/Moscow")
CAL = WorkCalendar.default()


def at(day: int, hour: int) -> str:
    return datetime(2026, 3, day, hour, 0, tzinfo=TZ).isoformat()


def entry(seq: int, decision: str, when: str, step: str | None, next_step: str | None, by: int = 3,
          round_: int = 1) -> Entry:
    return Entry(seq=seq, round=round_, decision=decision, by=by, at=when, stage="X", step=step, next_step=next_step)


def test_a_step_lasts_from_entering_to_its_decision_in_working_hours() -> None:
    log = [entry(1, "start", at(2, 10), None, "head", by=4),
           entry(2, "approve", at(3, 11), "head", "finance"),              # Mon 10:00 -> Tue 11:00: 10 h
           entry(3, "approve", at(3, 12), "finance", "payment", by=8)]
    times = step_times("pr", log, CAL)
    assert [(t.step, t.approver, t.duration) for t in times] == [
        ("head", 3, timedelta(hours=10)), ("finance", 8, timedelta(hours=1))]


def test_a_pause_does_not_count_and_a_reroute_keeps_the_clock() -> None:
    log = [entry(1, "start", at(2, 10), None, "head", by=4),
           entry(2, "freeze", at(2, 11), "head", "head"),
           entry(3, "unfreeze", at(2, 15), "head", "head"),
           entry(4, "reroute", at(2, 16), "head", "head", by=0),
           entry(5, "approve", at(2, 17), "head", "finance", by=7)]
    [done] = step_times("pr", log, CAL)
    assert done.duration == timedelta(hours=3) and done.approver == 7   # 7 h minus 4 h frozen


def test_median_p90_and_the_window() -> None:
    assert percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.5) == 5
    assert percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9) == 9
    log = [entry(1, "start", at(2, 9), None, "head", by=4), entry(2, "approve", at(2, 12), "head", "finance")]
    times = step_times("pr", log, CAL)
    [fig] = figures(times, datetime(2026, 3, 1, tzinfo=TZ))
    assert (fig.key, fig.count, fig.median_hours, fig.p90_hours) == (("pr", "head"), 1, 3.0, 3.0)
    assert figures(times, datetime(2026, 3, 3, tzinfo=TZ)) == []            # done before the window


def test_the_chart_is_plain_svg_with_escaped_labels() -> None:
    svg = weekly_svg([Week(date(2026, 3, 2), 5, 2), Week(date(2026, 3, 9), 0, 3)], ("<Созданы>", "Оплачены"), "T")
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert "<script" not in svg and "http" not in svg.replace("http://www.w3.org/2000/svg", "")
    assert "&lt;Созданы&gt;" in svg and ">02.03<" in svg and svg.count("<rect") == 4 + 2


def test_csv_is_utf8_with_bom_and_semicolons() -> None:
    row = {"item_id": 21, "title": "Реклама; у блогеров", "workflow_ru": "Заявки", "step_ru": "Руководитель",
           "approver_name": "Марина Орлова", "department_name": "Маркетинг", "expense_name": "Маркетинг",
           "amount": "95000", "counterparty": "ООО «Блог»", "waiting_hours": 27.25, "overdue": True,
           "paused": False, "url": "https://p/crm/type/1100/details/21/"}
    text = rows_csv([row], texts("ru"), "ru")
    assert text.startswith("\ufeff")
    header, line = list(csv.reader(io.StringIO(text.removeprefix("\ufeff")), delimiter=";"))
    assert header[0] == "№" and line[1] == "Реклама; у блогеров" and line[9] == "27,2" and line[10] == "просрочено"
