"""check_files: every problem of config/ and workflows/ at once; and the shipped definitions themselves."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from b24app.checks import check_files, load_definitions
from b24app.workflow.models import ActorRule, Duration, FieldType, RuleRef, Semantics
from b24app.workflow.schema import parse_duration
from b24app.yamlio import ConfigError

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def tree(tmp_path: Path) -> tuple[Path, Path]:
    config, workflows = tmp_path / "config", tmp_path / "workflows"
    shutil.copytree(ROOT / "config", config)
    shutil.copytree(ROOT / "workflows", workflows)
    return config, workflows


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_shipped_definitions_are_valid() -> None:
    assert check_files(ROOT / "config", ROOT / "workflows") == []


def test_payment_requests_as_the_issue_describes() -> None:
    org, workflows = load_definitions(ROOT / "config", ROOT / "workflows")
    pr = next(w for w in workflows if w.code == "payment_requests")
    assert [(s.code, s.name.ru) for s in pr.stages] == [
        ("NEW", "Новая"), ("HEAD_APPROVAL", "Согласование руководителем"),
        ("FINANCE_REVIEW", "Проверка финансовым менеджером"), ("PAYMENT", "Оплата"), ("PAID", "Оплачено"),
        ("REJECTED", "Отклонено"), ("FROZEN", "Заморозка"), ("DOCS_REQUESTED", "Запрос документов")]
    assert (pr.success_stage.code, [s.code for s in pr.failure_stages]) == ("PAID", ["REJECTED"])
    assert all(s.name.en for s in pr.stages) and all(f.label.en for f in pr.fields)
    assert pr.field("INVOICE").type is FieldType.FILE and pr.field("INVOICE").required
    assert [v.code for v in pr.field("EXPENSE_ITEM").values] == [v.code for v in org.lists["expense_items"]]
    head = pr.step("head_approval")
    assert head.actor == ActorRule("initiator_department_head")
    assert head.time_rules.allowance == parse_duration("2 working days")
    remind, again, alert = head.time_rules.rules
    assert (remind.every, remind.while_) == (parse_duration("4 working hours"), RuleRef("task_not_started"))
    assert again.after == Duration(days=2, text="2 working days")
    assert alert.after == Duration(days=2, hours=1, text="2 working days + 1 working hour")
    assert alert.to == (ActorRule("role", "operations_manager"),) and alert.offer_decision
    director = pr.step("director_approval")
    assert director.when == RuleRef("amount_at_least", {"amount": 1000000, "currency": "RUB"})
    assert director.actor.role == "director" and org.roles["director"].user_id == 2
    payment = pr.step("payment")
    assert payment.task is not None and payment.task.subtasks[0].requires_field == "PAYMENT_ORDER"
    assert payment.decisions["complete"] == "PAID"
    assert {r: org.roles[r].user_id for r in org.roles} == {
        "director": 2, "finance_manager": 8, "operations_manager": 9, "chief_accountant": 10,
        "junior_accountant": 11, "lawyer": 13}
    contracts = next(w for w in workflows if w.code == "contracts")
    assert [s.code for s in contracts.stages if s.semantics is Semantics.PROCESS] == [
        "NEW", "HEAD_APPROVAL", "LEGAL_REVIEW", "FINANCE_REVIEW", "SIGNING", "FROZEN", "DOCS_REQUESTED"]
    assert pr.type.parents == ("contracts",)


@pytest.mark.parametrize("text, expected", [
    ("4 working hours", Duration(hours=4, text="4 working hours")),
    ("1 working day", Duration(days=1, text="1 working day")),
    ("30 minutes", Duration(minutes=30, working=False, text="30 minutes")),
    ("2 working days + 1 working hour", Duration(days=2, hours=1, text="2 working days + 1 working hour")),
    ("2 days + 1 working hour", None), ("4 hours working", None), ("0 hours", None), ("soon", None),
])
def test_durations(text: str, expected: Duration | None) -> None:
    assert parse_duration(text) == expected


def test_every_problem_of_config_and_workflows_at_once(tree: tuple[Path, Path]) -> None:
    config, workflows = tree
    edit(config / "roles.yaml", "user_id: 8,", "user_id: eight,")
    edit(config / "expense_items.yaml", "code: PACKAGING,", "code: RAW_MATERIALS,")
    edit(workflows / "contracts.yaml", "    stage: SIGNING\n", "    stage: SIGNNG\n")
    problems = check_files(config, workflows)
    text = [str(p) for p in problems]
    assert problems == sorted(problems)
    assert any(t.startswith(f"{config / 'roles.yaml'}:7:") and "must be a whole number" in t for t in text), text
    assert any(f"{config / 'expense_items.yaml'}:6:" in t and "listed twice" in t for t in text), text
    # finance_manager is gone from the roles, so the workflows that name it say so — at their own lines.
    assert any(str(workflows / "payment_requests.yaml") in t and "unknown role 'finance_manager'" in t for t in text)
    assert any(str(workflows / "contracts.yaml") in t and "unknown stage 'SIGNNG'" in t for t in text), text
    with pytest.raises(ConfigError) as raised:
        load_definitions(config, workflows)
    assert len(raised.value.problems) == len(problems)


def test_workflows_must_not_share_a_type(tree: tuple[Path, Path]) -> None:
    config, workflows = tree
    edit(workflows / "contracts.yaml", "entity_type_id: 1102", "entity_type_id: 1100")
    problems = [p for p in check_files(config, workflows) if "entity_type_id 1100 is also used by" in p.message]
    assert [(Path(p.file).name, p.line) for p in problems] == [("payment_requests.yaml", 7)]


def test_parent_must_be_another_workflow(tree: tuple[Path, Path]) -> None:
    config, workflows = tree
    edit(workflows / "payment_requests.yaml", "parents: [contracts]", "parents: [contract]")
    problems = check_files(config, workflows)
    assert [(p.message, p.line) for p in problems] == [
        ("'type': parent 'contract' is not another workflow; known: contracts, payment_requests", 11)]


def test_absence_dates_are_checked(tree: tuple[Path, Path]) -> None:
    config, workflows = tree
    edit(config / "roles.yaml", "absences: []",
         "absences:\n  - {user_id: 3, from: 2026-07-14, to: 2026-07-01, substitute_id: 4}")
    problems = check_files(config, workflows)
    assert [p.message for p in problems] == ["absence: 'to' is before 'from'; swap them"]
    assert problems[0].line == 17


def test_empty_workflows_directory_is_a_problem(tree: tuple[Path, Path], tmp_path: Path) -> None:
    config, _ = tree
    empty = tmp_path / "none"
    empty.mkdir()
    assert "no workflow files" in check_files(config, empty)[0].message
