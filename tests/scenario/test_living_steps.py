"""The runner's steps for a living portal (#12 item 7): dismissals, the absence chart, mixed-unit
``advance``, ``refused:`` lists — played on a real stack; the sandbox's state is read before teardown."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests

from b24app.scenario import model as m
from b24app.scenario.loader import load_scenario
from b24app.scenario.runner import DEFAULT_START, ScenarioResult, _Play, known_names
from b24app.scenario.stack import Stack
from b24app.yamlio import ConfigError
from b24sandbox.clock import SandboxClock
from b24sandbox.tls import SandboxCA

MOSCOW = ZoneInfo("Europe/Moscow")


@pytest.fixture
def play(tmp_path: Path, redis_url: str, sandbox_ca: SandboxCA) -> Iterator[object]:
    """``play(text) -> (stack, result)``: load the scenario text and play it on a stack kept open."""
    stacks: list[Stack] = []

    def run(text: str, start: datetime = DEFAULT_START) -> tuple[Stack, ScenarioResult, list[str]]:
        path = tmp_path / "s.yaml"
        path.write_text(text, encoding="utf-8")
        scenario = load_scenario(path, known_names()["payment_requests"])
        clock = SandboxClock(start)
        clock.freeze()
        stack = Stack(redis_url, clock, ca=sandbox_ca).start()
        stacks.append(stack)
        result, lines = ScenarioResult(scenario.name, scenario.file), list[str]()
        _Play(stack, scenario, result, lines.append).run()
        return stack, result, lines

    yield run
    for stack in stacks:
        stack.stop()


def test_an_absence_step_is_in_the_absence_chart_im_user_get_returns(play: object) -> None:
    stack, result, lines = play(  # type: ignore[operator]
        "name: away\nsteps:\n"
        "  - absence: {person: m.orlova, from: 2026-03-02 09:00, to: 2026-03-06 18:00, reason: Отпуск}\n"
        "  - deactivate: s.kuznetsov\n")
    assert result.ok, lines
    hook = stack.portal.webhook_url("admin")
    head = requests.post(f"{hook}im.user.get.json", json={"ID": 3}, verify=stack.portal.ca_bundle, timeout=10)
    assert head.json()["result"]["absent"] == "2026-03-06T18:00:00+03:00"
    dismissed = requests.post(f"{hook}user.get.json", json={"ID": 6}, verify=stack.portal.ca_bundle, timeout=10)
    assert dismissed.json()["result"][0]["ACTIVE"] is False


def test_advance_with_mixed_units_applies_working_then_plain_time(play: object) -> None:
    friday = datetime(2026, 3, 13, 17, 30, tzinfo=MOSCOW)
    stack, result, lines = play("name: t\nsteps:\n  - advance: 1 working hour + 58 minutes\n", friday)  # type: ignore[operator]
    assert result.ok, lines
    # half an hour on Friday, half an hour from 09:00 on Monday (working), then 58 plain minutes
    assert stack.clock.now().replace(microsecond=0) == datetime(2026, 3, 16, 10, 28, tzinfo=MOSCOW)


def test_a_refusal_must_contain_every_word_of_the_list(play: object) -> None:
    _, result, _ = play(  # type: ignore[operator]
        "name: t\nsteps:\n  - deactivate: a.ivanova\n"
        "  - create: {as: a.ivanova, title: x, refused: [deactivated, no such words]}\n")
    assert not result.ok
    assert result.steps[-1].problems == ["expected the refusal to say «no such words»"]


def test_the_loader_reads_the_new_steps_and_checks_names(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        "name: t\nsteps:\n"
        "  - create: {as: a.ivanova, ref: c, workflow: contracts, fields: {SUBJECT: x}}\n"
        "  - edit: {as: a.ivanova, request: c, fields: {CONTRACT_NUMBER: '7'}}\n"
        "  - advance: 2 working days + 1 working hour + 30 minutes\n"
        "  - reactivate: a.ivanova\n", encoding="utf-8")
    create, edit, advance, reactivate = load_scenario(path, known_names()["payment_requests"]).steps
    assert isinstance(create, m.Action) and create.workflow == "contracts"
    assert isinstance(edit, m.Action) and edit.fields == {"CONTRACT_NUMBER": "7"}
    assert isinstance(advance, m.Advance) and [(d.days, d.hours, d.minutes, d.working) for d in advance.by] == [
        (2, 1, 0, True), (0, 0, 30, False)]
    assert reactivate == m.PersonChange(reactivate.where, "reactivate", "a.ivanova")

    path.write_text(
        "name: t\nsteps:\n"
        "  - create: {as: a.ivanova, ref: c, workflow: contracts, fields: {EXPENSE_ITEM: x}}\n"
        "  - deactivate: nobody\n"
        "  - absence: {person: m.orlova, from: 2026-03-03, to: 2026-03-02}\n"
        "  - create: {as: a.ivanova, workflow: nosuch}\n"
        "  - create: {as: a.ivanova, refused: [1]}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_scenario(path, known_names()["payment_requests"])
    text = str(caught.value)
    assert "s.yaml:3: step 1 (create): unknown field 'EXPENSE_ITEM'" in text     # checked against contracts
    assert "s.yaml:4: step 2: unknown person 'nobody'" in text
    assert "s.yaml:5: step 3 (absence): 'to' must be after 'from'" in text
    assert "unknown workflow 'nosuch'" in text
    assert "'refused' is true, or the words" in text
