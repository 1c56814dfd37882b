"""Every scenario file of this folder, played end to end: a real sandbox portal over HTTPS, the real
Flask app on loopback, real RQ jobs on the private redis-server of the test session. ``advance`` runs
the escalation sweep (``b24app.escalation.jobs.sweep_job``) as the 5-minute cron would."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from b24app.scenario import model as m
from b24app.scenario.loader import load_scenario
from b24app.scenario.runner import known_names, run_scenario
from b24sandbox.tls import SandboxCA

HERE = Path(__file__).resolve().parent
FILES = sorted(HERE.glob("*.yaml"))


@pytest.mark.timeout(300)
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_scenario(path: Path, redis_url: str, sandbox_ca: SandboxCA) -> None:
    scenario = load_scenario(path, known_names()[load_scenario(path).workflow])
    lines: list[str] = []
    result = run_scenario(scenario, redis_url, lines.append, ca=sandbox_ca)
    assert result.ok, "\n" + "\n".join(lines)
    assert len(result.steps) == len(scenario.steps)
    assert result.requests > 0
    if any(isinstance(step, m.Advance) for step in scenario.steps):
        assert any("sweep ran" in line for line in lines), "advance did not run the escalation sweep"


def test_an_unmet_expectation_stops_the_scenario_with_a_diff(tmp_path: Path, redis_url: str,
                                                             sandbox_ca: SandboxCA) -> None:
    path = tmp_path / "wrong.yaml"
    path.write_text(
        "name: wrong on purpose\n"
        "steps:\n"
        "  - create: {as: a.ivanova, title: Листовки, fields: {AMOUNT: 1000, EXPENSE_ITEM: MARKETING, "
        "INVOICE: i.pdf}}\n"
        "  - expect: {stage: PAID, approver: director}\n"
        "  - approve: {as: m.orlova}\n",
        encoding="utf-8",
    )
    lines: list[str] = []
    result = run_scenario(load_scenario(path, known_names()["payment_requests"]), redis_url, lines.append,
                          ca=sandbox_ca)
    assert not result.ok
    assert [s.ok for s in result.steps] == [True, False]  # the approve after the failure never ran
    failed = result.steps[-1]
    assert failed.line == f"{path}:4"
    assert failed.problems == [
        "stage: expected PAID («Оплачено»), got HEAD_APPROVAL («Согласование руководителем»)",
        "current approver: expected director, got m.orlova",
    ]
    assert any("✗" in line and "wrong.yaml:4" in line for line in lines)


def test_a_strict_mode_violation_by_the_app_fails_the_step(tmp_path: Path, redis_url: str, sandbox_ca: SandboxCA,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """The app's calls must satisfy the official schemas: a misspelled parameter in what the app sends
    fails the scenario at the step that caused it, even where a real portal would silently ignore it."""
    from b24app.rest import wire

    original = wire.batch_params

    def with_typo(value: Any) -> dict[str, Any]:   # every batch command's params pass through batch_params
        return original({**value, "MESAGE": "typo"} if "MESSAGE" in value else value)

    monkeypatch.setattr(wire, "batch_params", with_typo)
    path = tmp_path / "typo.yaml"
    path.write_text(
        "name: a typo in what the app sends\n"
        "steps:\n"
        "  - create: {as: a.ivanova, title: Листовки, fields: {AMOUNT: 1000, EXPENSE_ITEM: MARKETING, "
        "INVOICE: i.pdf}}\n",
        encoding="utf-8",
    )
    lines: list[str] = []
    result = run_scenario(load_scenario(path, known_names()["payment_requests"]), redis_url, lines.append,
                          ca=sandbox_ca)
    assert not result.ok
    assert any("strict-mode schema violation" in p and "MESAGE" in p for p in result.steps[0].problems)
