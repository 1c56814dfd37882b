"""Check an :class:`Expect` step against the portal; every unmet expectation becomes a readable diff.

``check(expect, item_id, view, since)`` returns the problems found (an empty list means met). Each
problem says what was expected, what is there, and lists what the portal has (the request's tasks,
the person's notifications) so the cause is visible without opening the portal.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from b24app.scenario import model as m
from b24app.scenario import telegram, widget
from b24app.scenario.view import Notice, PortalView, TaskRow
from b24app.workflow.models import FieldType


def check(expect: m.Expect, item_id: int, view: PortalView, since: tuple[int, int],
          people: telegram.TelegramPeople | None = None, tg_since: telegram.TgMark | None = None) -> list[str]:
    values = view.values(item_id)
    problems: list[str] = []
    if expect.stage is not None:
        stage = view.stage_code(item_id)
        if stage != expect.stage:
            problems.append(f"stage: expected {view.stage_label(expect.stage)}, got {view.stage_label(stage)}")
    if expect.assignee is not None:
        _compare(problems, "assignee", expect.assignee, view.login(values.get("assignedById")))
    if expect.approver is not None:
        _compare(problems, "current approver", expect.approver, view.login(values.get(view.uf("CURRENT_APPROVER"))))
    problems += _tasks(expect, view.tasks(item_id))
    notices = view.notices(since)
    for notice in expect.notified:
        problems += _notice(notice, [n for n in notices if n.to == notice.to])
    for code, wanted in expect.fields.items():
        problem = _field(view, code, wanted, values)
        if problem:
            problems.append(problem)
    if expect.timeline:
        entries = view.timeline(item_id)
        for words in expect.timeline:
            if not any(_has(entry, (words,)) for entry in entries):
                listing = "".join(f"\n      {e}" for e in entries) or "\n      (empty)"
                problems.append(f"timeline: no entry contains «{words}»; the timeline:{listing}")
    if expect.widget is not None:
        problems += _widget(expect.widget, item_id, view)
    problems += telegram.check(expect.telegram, people, tg_since)
    return problems


def _compare(problems: list[str], what: str, expected: str, actual: str) -> None:
    if expected != actual:
        problems.append(f"{what}: expected {expected or 'nobody'}, got {actual or 'nobody'}")


def _tasks(expect: m.Expect, tasks: list[TaskRow]) -> list[str]:
    problems: list[str] = []
    listing = "".join(f"\n      {t}" for t in tasks) or "\n      (none)"
    if expect.task_count is not None and len(tasks) != expect.task_count:
        problems.append(f"task_count: expected {expect.task_count} tasks, got {len(tasks)}:{listing}")
    for wanted in expect.tasks:
        found = [t for t in tasks if _task_matches(wanted, t)]
        if wanted.count is None and not found:
            problems.append(f"tasks: no task is {_describe_task(wanted)}; the request's tasks:{listing}")
        elif wanted.count is not None and len(found) != wanted.count:
            problems.append(f"tasks: expected {wanted.count} task(s) {_describe_task(wanted)}, got {len(found)}:"
                            f"{listing}")
    return problems


def _task_matches(wanted: m.TaskExpectation, task: TaskRow) -> bool:
    return all((
        wanted.title is None or wanted.title.lower() in task.title.lower(),
        wanted.responsible is None or wanted.responsible == task.responsible,
        wanted.status is None or wanted.status == task.status,
        wanted.deadline is None or (task.deadline is not None and _minute(task.deadline) == _minute(wanted.deadline)),
        wanted.files is None or wanted.files == task.files,
    ))


def _describe_task(wanted: m.TaskExpectation) -> str:
    parts = []
    if wanted.title:
        parts.append(f"titled «…{wanted.title}…»")
    if wanted.responsible:
        parts.append(f"for {wanted.responsible}")
    if wanted.status:
        parts.append(wanted.status)
    if wanted.deadline:
        parts.append(f"due {wanted.deadline.strftime('%Y-%m-%d %H:%M %Z')}")
    if wanted.files is not None:
        parts.append(f"with {wanted.files} file(s)")
    return ", ".join(parts) or "(any)"


def _minute(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(second=0, microsecond=0)


def _notice(wanted: m.NoticeExpectation, received: list[Notice]) -> list[str]:
    matching = [n for n in received if _has(n.text, wanted.words)]
    about = f" containing «{' … '.join(wanted.words)}»" if wanted.words else ""
    listing = "".join(f"\n      «{n.text}»" for n in received) or "\n      (nothing)"
    if wanted.absent and matching:
        return [f"not_notified: {wanted.to} got {len(matching)} notification(s){about}; since the last expect "
                f"{wanted.to} got:{listing}"]
    if wanted.absent:
        return []
    if wanted.count is None and not matching:
        return [f"notified: {wanted.to} got no notification{about}; since the last expect {wanted.to} got:{listing}"]
    if wanted.count is not None and len(matching) != wanted.count:
        return [f"notified: expected {wanted.count} notification(s) to {wanted.to}{about}, got {len(matching)}:"
                f"{listing}"]
    return []


def _has(text: str, words: tuple[str, ...]) -> bool:
    folded = text.casefold().replace("ё", "е")
    return all(w.casefold().replace("ё", "е") in folded for w in words)


def _field(view: PortalView, code: str, wanted: Any, values: dict[str, Any]) -> str | None:
    actual = values.get(view.uf(code))
    kind = view.workflow.field(code).type
    if kind is FieldType.EMPLOYEE:
        shown = view.login(actual)
        return None if shown == (wanted or "") else f"field {code}: expected {wanted or 'empty'}, got {shown or 'empty'}"
    if wanted in (None, ""):
        return None if actual in (None, "", [], False) else f"field {code}: expected empty, got {actual!r}"
    if isinstance(wanted, str):
        text = " ".join(str(v) for v in actual) if isinstance(actual, list) else str(actual or "")
        return None if _has(text, (wanted,)) else f"field {code}: expected «{wanted}» in it, got {actual!r}"
    return None if str(wanted) == str(actual) else f"field {code}: expected {wanted!r}, got {actual!r}"


def _widget(wanted: m.WidgetExpectation, item_id: int, view: PortalView) -> list[str]:
    page = widget.open_tab(view.portal, view.user_id(wanted.login), f"CRM_DYNAMIC_{view.etid}_DETAIL_TAB",
                           {"ID": item_id})
    problems: list[str] = []
    if page.status != 200:
        return [f"widget: the tab did not open for {wanted.login} (HTTP {page.status}): {page.message}"]
    if wanted.buttons is not None and set(wanted.buttons) != set(page.buttons):
        problems.append(f"widget: {wanted.login} should see the buttons [{', '.join(wanted.buttons)}], "
                        f"sees [{', '.join(page.buttons)}]")
    for words in wanted.words:
        if not _has(page.text, (words,)):
            problems.append(f"widget: the tab of {wanted.login} does not say «{words}»; it says: {page.text[:400]}")
    return problems
