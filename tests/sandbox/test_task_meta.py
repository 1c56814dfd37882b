"""Task meta-statuses in tasks.task.list: STATUS −1 overdue, −2 unviewed, −3 almost overdue; subStatus (§7.2)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from b24sandbox import registry
from b24sandbox.clock import SandboxClock
from b24sandbox.state import PortalState

IVANOVA, KUZNETSOV = 4, 6
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("Europe/Moscow"))


@pytest.fixture
def state() -> PortalState:
    clock = SandboxClock(NOW)
    clock.freeze()
    return PortalState.from_org_file(clock=clock)


def call(state: PortalState, method: str, params: dict[str, Any], user: int = IVANOVA) -> Any:
    return registry.invoke(state, method, params, user_id=user, auth_kind="oauth")


def add(state: PortalState, title: str, deadline: datetime | None, responsible: int = KUZNETSOV) -> int:
    fields: dict[str, Any] = {"TITLE": title, "RESPONSIBLE_ID": responsible}
    if deadline is not None:
        fields["DEADLINE"] = deadline.isoformat()
    return int(call(state, "tasks.task.add", {"fields": fields})["task"]["id"])


def titles(state: PortalState, flt: dict[str, Any]) -> list[str]:
    tasks = call(state, "tasks.task.list", {"filter": flt, "select": ["ID", "TITLE"], "order": {"ID": "asc"}})
    return [t["title"] for t in tasks["tasks"]]


def sub_statuses(state: PortalState) -> dict[str, str]:
    tasks = call(state, "tasks.task.list", {"select": ["ID", "TITLE", "subStatus"]})["tasks"]
    return {t["title"]: t["subStatus"] for t in tasks}


def test_meta_statuses_filter_and_sub_status(state: PortalState) -> None:
    overdue = add(state, "просрочена", NOW - timedelta(hours=1))
    add(state, "почти", NOW + timedelta(hours=23))
    add(state, "не скоро", NOW + timedelta(days=3))
    add(state, "себе", None, responsible=IVANOVA)
    done = add(state, "сделана", NOW - timedelta(days=1))
    call(state, "tasks.task.complete", {"taskId": done}, KUZNETSOV)

    assert titles(state, {"STATUS": -1}) == ["просрочена"]
    assert titles(state, {"STATUS": "-3"}) == ["почти"]
    assert titles(state, {"STATUS": -2}) == ["просрочена", "почти", "не скоро"]
    assert titles(state, {"@STATUS": [5, -3]}) == ["почти", "сделана"]
    assert titles(state, {"!STATUS": -1}) == ["почти", "не скоро", "себе", "сделана"]
    assert sub_statuses(state) == {"просрочена": "-1", "почти": "-3", "не скоро": "-2", "себе": "2", "сделана": "5"}

    call(state, "tasks.task.start", {"taskId": overdue}, KUZNETSOV)  # the responsible acted on it
    assert titles(state, {"STATUS": -2}) == ["почти", "не скоро"]
    state.clock.advance(timedelta(days=3))
    assert titles(state, {"STATUS": -1}) == ["просрочена", "почти", "не скоро"]


def test_a_comment_by_the_responsible_counts_as_viewed(state: PortalState) -> None:
    task = add(state, "с комментарием", None)
    assert titles(state, {"STATUS": -2}) == ["с комментарием"]
    call(state, "task.commentitem.add", {"TASKID": task, "FIELDS": {"POST_MESSAGE": "Смотрю"}}, KUZNETSOV)
    assert titles(state, {"STATUS": -2}) == []
