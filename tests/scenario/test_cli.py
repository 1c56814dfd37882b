"""``b24app scenario run``: exit codes, the printed diff and the JSON with REST request counts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from b24app.scenario.cli import scenario_group

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


@pytest.fixture
def runner(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("B24APP_REDIS_URL", redis_url)
    return CliRunner()


@pytest.mark.timeout(300)
def test_json_output_counts_rest_requests(runner: CliRunner) -> None:
    result = runner.invoke(scenario_group, ["run", "--json", str(SCENARIOS / "head_as_initiator.yaml")])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["ok"] is True
    (scenario,) = report["scenarios"]
    assert scenario["requests"] == sum(step["requests"] for step in scenario["steps"]) > 0
    assert scenario["steps"][0]["line"].endswith("head_as_initiator.yaml:3")


@pytest.mark.timeout(300)
def test_an_unmet_expectation_exits_1_with_a_diff(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "wrong.yaml"
    path.write_text("name: wrong\nsteps:\n  - create: {as: a.ivanova, fields: {AMOUNT: 10}}\n"
                    "  - expect: {stage: PAID}\n", encoding="utf-8")
    result = runner.invoke(scenario_group, ["run", str(path)])
    assert result.exit_code == 1
    assert f"✗ {path}:4 expect: unmet expectations:" in result.output
    assert "- stage: expected PAID («Оплачено»), got NEW («Новая»)" in result.output


def test_an_invalid_file_runs_nothing_and_exits_2(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: bad\nsteps:\n  - approve: {as: nobody}\n", encoding="utf-8")
    result = runner.invoke(scenario_group, ["run", str(path)])
    assert result.exit_code == 2
    assert f"{path}:3: step 1 (approve): unknown person 'nobody'" in result.output
    assert "nothing was run" in result.output
