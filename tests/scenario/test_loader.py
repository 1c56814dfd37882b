"""Scenario files are checked before anything runs: each problem is reported as file:line: message."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from b24app.scenario import model as m
from b24app.scenario.loader import Known, load_scenario
from b24app.scenario.runner import known_names
from b24app.yamlio import ConfigError

KNOWN = Known(logins=("a.ivanova", "m.orlova", "finance.manager"),
              stages=("NEW", "HEAD_APPROVAL", "FINANCE_REVIEW", "REJECTED"),
              fields=("AMOUNT", "INVOICE", "PAYMENT_ORDER", "REJECTION_REASON"))
SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


def problems(tmp_path: Path, text: str, known: Known = KNOWN) -> list[str]:
    path = tmp_path / "case.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_scenario(path, known)
    return [f"{p.line}: {p.message}" for p in caught.value.problems]


def test_a_valid_file_becomes_typed_steps(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text(
        "name: ok\n"
        "start: 2026-03-06 17:30\n"
        "steps:\n"
        "  - create: {as: a.ivanova, ref: r1, fields: {AMOUNT: 1500}}\n"
        "  - reject: {as: m.orlova, reason: Нет счёта, refused: Укажите}\n"
        "  - advance: 2 working days + 1 working hour\n"
        "  - faults: {duplicate: 1}\n"
        "  - expect:\n"
        "      request: r1\n"
        "      stage: REJECTED\n"
        "      approver: ''\n"
        "      tasks: [{responsible: m.orlova, status: completed, deadline: 2026-03-10 17:30}]\n"
        "      notified: [{to: a.ivanova, contains: [Отклонена, Нет счёта], count: 1}]\n"
        "      not_notified: [finance.manager]\n",
        encoding="utf-8",
    )
    scenario = load_scenario(path, KNOWN)
    moscow = ZoneInfo("Europe/Moscow")
    assert scenario.start == datetime(2026, 3, 6, 17, 30, tzinfo=moscow)
    create, reject, advance, faults, expect = scenario.steps
    assert isinstance(create, m.Action) and create.ref == "r1" and create.fields == {"AMOUNT": 1500}
    assert isinstance(reject, m.Action) and reject.via == "card" and reject.refused == ("Укажите",)
    assert reject.where == m.Where(str(path), 5)
    assert isinstance(advance, m.Advance) and [(d.days, d.hours) for d in advance.by] == [(2, 1)]
    assert isinstance(faults, m.Faults) and faults.duplicate == 1.0
    assert isinstance(expect, m.Expect) and expect.stage == "REJECTED" and expect.approver == ""
    assert expect.tasks[0].deadline == datetime(2026, 3, 10, 17, 30, tzinfo=moscow)
    assert [(n.to, n.words, n.count, n.absent) for n in expect.notified] == [
        ("a.ivanova", ("Отклонена", "Нет счёта"), 1, False), ("finance.manager", (), None, True)]


def test_every_problem_is_reported_with_its_line(tmp_path: Path) -> None:
    found = problems(tmp_path, (
        "name: bad\n"
        "steps:\n"
        "  - create: {as: a.ivanova, fields: {AMOUNTT: 1}}\n"
        "  - approve: {as: m.orlva}\n"
        "  - reject: {as: m.orlova, via: kanban}\n"
        "  - advance: 4 working hourz\n"
        "  - expect: {stage: HEAD_APROVAL}\n"
        "  - jump: {as: m.orlova}\n"
        "  - move: {as: m.orlova}\n"
    ))
    assert found == [
        "3: step 1 (create): unknown field 'AMOUNTT'; fields: AMOUNT, INVOICE, PAYMENT_ORDER, REJECTION_REASON",
        "4: step 2 (approve): unknown person 'm.orlva'; people: a.ivanova, finance.manager, m.orlova",
        "5: step 3 (reject): reject cannot be done via kanban; use one of: card, task_card, telegram",
        "6: step 4: cannot read the duration '4 working hourz'; write e.g. '4 working hours', "
        "'2 working days', '2 working days + 1 working hour' or '30 minutes' (working and plain units may be "
        "mixed: '1 working hour + 58 minutes')",
        "7: step 5 (expect): unknown stage 'HEAD_APROVAL'; stages: NEW, HEAD_APPROVAL, FINANCE_REVIEW, REJECTED",
        "8: step 6: unknown step 'jump'; steps are: create, edit, approve, reject, request_documents, freeze, "
        "unfreeze, resubmit, move, start_task, complete_task, attach, link_telegram, advance, faults, expect, "
        "deactivate, reactivate, absence, bank_orders, bank_statement, bank_import",
        "9: step 7 (move) needs 'to': the stage code the card is dragged to",
    ]


def test_telegram_steps_and_expectations(tmp_path: Path) -> None:
    path = tmp_path / "tg.yaml"
    path.write_text(
        "name: tg\n"
        "steps:\n"
        "  - link_telegram: {as: m.orlova}\n"
        "  - create: {as: a.ivanova}\n"
        "  - reject: {as: m.orlova, via: telegram, reason: Нет бюджета}\n"
        "  - expect:\n"
        "      telegram:\n"
        "        a.ivanova: {contains: [отклонена, Нет бюджета], buttons: [Открыть в Битрикс24], count: 1}\n"
        "        m.orlova: {buttons: []}\n"
        "      not_telegram: [finance.manager, {to: a.ivanova, contains: Согласовать}]\n",
        encoding="utf-8",
    )
    scenario = load_scenario(path, KNOWN)
    link, _, reject, expect = scenario.steps
    assert isinstance(link, m.Action) and (link.kind, link.login, link.via) == ("link_telegram", "m.orlova", None)
    assert isinstance(reject, m.Action) and (reject.via, reject.reason) == ("telegram", "Нет бюджета")
    assert isinstance(expect, m.Expect)
    assert [(t.login, t.words, t.buttons, t.count, t.absent) for t in expect.telegram] == [
        ("a.ivanova", ("отклонена", "Нет бюджета"), ("Открыть в Битрикс24",), 1, False),
        ("m.orlova", (), (), None, False),
        ("finance.manager", (), None, None, True),
        ("a.ivanova", ("Согласовать",), None, None, True),
    ]
    assert expect.telegram[0].where == m.Where(str(path), 8)
    assert scenario.uses_telegram


def test_telegram_is_started_only_for_scenarios_that_use_it(tmp_path: Path) -> None:
    path = tmp_path / "card.yaml"
    path.write_text("name: c\nsteps:\n  - create: {as: a.ivanova}\n  - approve: {as: m.orlova}\n"
                    "  - expect: {stage: FINANCE_REVIEW}\n", encoding="utf-8")
    assert not load_scenario(path, KNOWN).uses_telegram


def test_telegram_mistakes_are_named(tmp_path: Path) -> None:
    assert problems(tmp_path, (
        "name: t\n"
        "steps:\n"
        "  - create: {as: a.ivanova}\n"
        "  - freeze: {as: m.orlova, via: telegram, reason: x}\n"
        "  - link_telegram: {as: m.orlova, via: card}\n"
        "  - expect:\n"
        "      telegram: {m.orlva: {contains: x}, m.orlova: {text: x}}\n"
    )) == [
        "4: step 2 (freeze): freeze cannot be done via telegram; use one of: card, task_card",
        "5: step 3 (link_telegram): link_telegram cannot be done via card; leave via out",
        "5: unknown key 'via' in step 3 (link_telegram); allowed keys: as, request, refused, note",
        "7: step 4 (expect): telegram of m.orlva: unknown person 'm.orlva'; people: a.ivanova, finance.manager, "
        "m.orlova",
        "7: unknown key 'text' in step 4 (expect): telegram of m.orlova; allowed keys: contains, buttons, count",
    ]


def test_unknown_keys_refs_and_values_are_named(tmp_path: Path) -> None:
    found = problems(tmp_path, (
        "name: keys\n"
        "stps: []\n"
        "steps:\n"
        "  - reject: {as: m.orlova, resaon: x, request: r9}\n"
        "  - faults: {duplicate: 2}\n"
        "  - expect:\n"
        "      tasks:\n"
        "        - {status: done}\n"
        "      widget: {as: m.orlova, buttons: [aprove]}\n"
        "  - expect: {}\n"
        "  - attach: {as: m.orlova, to: item}\n"
    ))
    assert found == [
        "2: unknown key 'stps' in the scenario (did you mean 'steps'?); allowed keys: name, steps, description, "
        "workflow, start, org, config",
        "4: step 1 (reject): no earlier 'create' has ref 'r9'",
        "4: unknown key 'resaon' in step 1 (reject) (did you mean 'reason'?); allowed keys: as, via, request, "
        "refused, note, reason",
        "5: step 2 (faults): 'duplicate' is a share between 0 and 1 (1 = every event), not 2",
        "8: step 3 (expect): task: unknown status 'done'; one of pending, in_progress, awaiting_control, "
        "completed, deferred",
        "9: step 3 (expect): widget: unknown button 'aprove'; buttons are approve, reject, request_documents, "
        "freeze, unfreeze, resubmit",
        "10: step 4 (expect) checks nothing; add e.g. 'stage:' or 'tasks:'",
        "11: step 5 (attach) needs 'file': the name of the file attached, e.g. payment_order.pdf",
        "11: step 5 (attach): attaching to the item needs 'field' (a file field code, e.g. PAYMENT_ORDER)",
    ]


def test_yaml_syntax_errors_name_the_line(tmp_path: Path) -> None:
    found = problems(tmp_path, "name: broken\nsteps:\n  - approve: {as: m.orlova\n  - expect: {stage: NEW}\n")
    assert len(found) == 1 and found[0].startswith("4: invalid YAML")


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_scenarios_load(path: Path) -> None:
    scenario = load_scenario(path, known_names()["payment_requests"])
    assert scenario.steps


def test_an_organisation_file_is_found_next_to_the_scenario(tmp_path: Path) -> None:
    assert problems(tmp_path, "name: o\norg: our_people.yaml\nsteps:\n  - advance: 30 minutes\n") == [
        f"2: the scenario: no organisation file '{tmp_path / 'our_people.yaml'}' (org is relative to the "
        "scenario file)"]
    (tmp_path / "our_people.yaml").write_text("portal: {}\n", encoding="utf-8")
    (tmp_path / "case.yaml").write_text("name: o\norg: our_people.yaml\nsteps:\n  - advance: 30 minutes\n",
                                        encoding="utf-8")
    assert load_scenario(tmp_path / "case.yaml", KNOWN).org == str(tmp_path / "our_people.yaml")
