"""``b24app scenario run FILE... [--json]``: play scenario files against a fresh sandbox each.

Exit status: 0 when every scenario met every expectation, 1 when one did not (each scenario stops at
its first unmet expectation; the other files still run), 2 when a file is invalid (nothing runs).
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import click

from b24app.scenario.loader import Known, load_scenario
from b24app.scenario.model import Scenario
from b24app.scenario.runner import ScenarioResult, known_names, run_scenario
from b24app.scenario.services import RedisUnavailable, redis_for_tools
from b24app.yamlio import ConfigError, Problem, load


@click.group("scenario")
def scenario_group() -> None:
    """Scenario files: people acting on a sandbox portal, with expected outcomes (docs/scenarios.md)."""


@scenario_group.command("run")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON (incl. REST request counts).")
def run_command(files: tuple[Path, ...], as_json: bool) -> None:
    """Run each FILE against a fresh sandbox portal, Redis, web app and worker."""
    scenarios = load_all(files)
    echo = (lambda _line: None) if as_json else click.echo
    _quiet_logs()
    try:
        with redis_for_tools() as url:
            results = [run_scenario(s, url, echo) for s in scenarios]
    except RedisUnavailable as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    if as_json:
        click.echo(json.dumps({"ok": all(r.ok for r in results), "scenarios": [r.to_json() for r in results]},
                              ensure_ascii=False, indent=2, default=str))
    else:
        _summary(results)
    sys.exit(0 if all(r.ok for r in results) else 1)


def load_all(files: tuple[Path, ...]) -> list[Scenario]:
    """Every file, or exit 2 printing every problem of every file as file:line: message."""
    scenarios: list[Scenario] = []
    problems: list[Problem] = []
    for path in files:
        try:
            scenarios.append(load_scenario(path, _known_for(path)))
        except ConfigError as exc:
            problems.extend(exc.problems)
    if problems:
        for problem in problems:
            click.echo(str(problem), err=True)
        click.echo(f"{len(problems)} problem(s) found; nothing was run", err=True)
        sys.exit(2)
    return scenarios


def _known_for(path: Path) -> Known:
    """The names of the file's workflow and organisation (its top-level ``workflow`` and ``org`` keys)."""
    data = load(path)
    data = data if isinstance(data, dict) else {}
    org = path.parent / str(data["org"]) if isinstance(data.get("org"), str) else None
    known = known_names(org=org if org is not None and org.is_file() else None)
    return known.get(str(data.get("workflow", "payment_requests")), Known())


def _summary(results: list[ScenarioResult]) -> None:
    passed = sum(1 for r in results if r.ok)
    click.echo(f"\n{passed} of {len(results)} scenario(s) passed; "
               f"REST requests: {', '.join(f'{Path(r.file).name} {r.requests}' for r in results)}")


def _quiet_logs() -> None:
    for name in ("werkzeug", "rq.worker", "rq.queue", "rq.job"):
        logging.getLogger(name).setLevel(logging.WARNING)
