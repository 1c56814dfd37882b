"""The escalation scenarios, played end to end like ``tests/scenarios/``: the runner's ``advance`` ticks the
5-minute cron, which runs ``b24app.jobs.sweep`` — set here to the escalation sweep job until the foundation's
``b24app/jobs.py`` exposes it (then these files can move up to ``tests/scenarios/``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from b24app import jobs
from b24app.escalation_jobs import sweep_job
from b24app.sandbox.tls import SandboxCA
from b24app.scenario.loader import load_scenario
from b24app.scenario.runner import known_names, run_scenario

HERE = Path(__file__).resolve().parent
FILES = sorted(HERE.glob("*.yaml"))


@pytest.mark.timeout(300)
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_escalation_scenario(path: Path, redis_url: str, sandbox_ca: SandboxCA,
                             monkeypatch: pytest.MonkeyPatch) -> None:
    if not callable(getattr(jobs, "sweep", None)):
        monkeypatch.setattr(jobs, "sweep", sweep_job, raising=False)
    scenario = load_scenario(path, known_names()[load_scenario(path).workflow])
    lines: list[str] = []
    result = run_scenario(scenario, redis_url, lines.append, ca=sandbox_ca)
    assert result.ok, "\n" + "\n".join(lines)
    assert len(result.steps) == len(scenario.steps)
    assert any("sweep ran" in line for line in lines)
