"""``b24app check-config`` also checks the working calendar and the deadline rules, with file and line."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.integration.test_cli import ROOT, run_cli


def _checkout(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "config", tmp_path / "config")
    shutil.copytree(ROOT / "workflows", tmp_path / "workflows")
    return tmp_path


def test_broken_calendar_and_deadlines_are_reported_with_file_and_line(tmp_path: Path) -> None:
    root = _checkout(tmp_path)
    (root / "config" / "calendar.yaml").write_text(
        'time_zone: Europe/Moscow\nworking_hours: {start: "25:00", end: "18:00"}\nbogus_key: 1\n')
    (root / "config" / "deadlines.yaml").write_text("rules:\n  - {nonsense: true}\n")
    result = run_cli("check-config", cwd=root)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "config/calendar.yaml:2:" in result.stdout and "25:00" in result.stdout
    assert "config/calendar.yaml:3: unknown key 'bogus_key'" in result.stdout
    assert "config/deadlines.yaml:2:" in result.stdout and "nonsense" in result.stdout


def test_an_impossible_calendar_date_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    root = _checkout(tmp_path)
    (root / "config" / "calendar.yaml").write_text("extra_days_off: [2026-02-30]\n")
    result = run_cli("check-config", cwd=root)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "config/calendar.yaml" in result.stdout and "Traceback" not in result.stderr


def test_the_shipped_checkout_is_clean(tmp_path: Path) -> None:
    result = run_cli("check-config", cwd=_checkout(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_condition_used_where_nothing_implements_it_is_refused_with_file_and_line(tmp_path: Path) -> None:
    # Both pass the name check (each is a known condition) but would silently never hold where they are used.
    root = _checkout(tmp_path)
    path = root / "workflows" / "payment_requests.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    reminder = next(i for i, line in enumerate(lines) if "while: task_not_started" in line)
    lines[reminder] = lines[reminder].replace("while: task_not_started", "while: urgent")
    director = next(i for i, line in enumerate(lines) if "when: {rule: amount_at_least" in line)
    lines[director] = lines[director].split("when:")[0] + "when: tasks_overdue"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run_cli("check-config", cwd=root)
    assert result.returncode == 2, result.stdout + result.stderr
    assert (f"workflows/payment_requests.yaml:{reminder + 1}: " in result.stdout
            and "condition 'urgent' is not implemented for a time rule's 'while'" in result.stdout), result.stdout
    assert (f"workflows/payment_requests.yaml:{director + 1}: " in result.stdout
            and "condition 'tasks_overdue' is not implemented for a step's 'when'" in result.stdout), result.stdout
