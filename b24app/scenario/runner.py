"""Play a :class:`Scenario` on a fresh :class:`Stack`; stop at the first unmet expectation.

Each step's result is echoed as it happens; :class:`ScenarioResult` holds everything for ``--json``,
including the REST requests the app sent to the portal during the scenario (set-up excluded).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from b24app.scenario import model as m
from b24app.scenario.actions import Done, Performer, ScenarioError
from b24app.scenario.bank import BankDesk
from b24app.scenario.expect import check
from b24app.scenario.loader import Known
from b24app.scenario.overrides import config_copy, workflows_copy
from b24app.scenario.stack import Stack, StackError, definition_dir
from b24app.scenario.telegram import TelegramPeople
from b24app.scenario.view import PortalView
from b24app.telegram.links import LinkStore
from b24app.worktime import WorkCalendar
from b24sandbox.clock import SandboxClock
from b24sandbox.state import PortalState
from b24sandbox.tls import SandboxCA

#: A Monday morning in Moscow, when a scenario does not say ``start:``.
DEFAULT_START = datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("Europe/Moscow"))
#: How long after the previous step a person acts (the clock is frozen otherwise).
ACTION_GAP = timedelta(seconds=1)
Echo = Callable[[str], None]


@dataclass
class StepResult:
    line: str
    step: str
    ok: bool
    text: str
    requests: int
    problems: list[str] = field(default_factory=list)


@dataclass
class ScenarioResult:
    name: str
    file: str
    ok: bool = True
    requests: int = 0
    steps: list[StepResult] = field(default_factory=list)
    error: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def known_names(workflows_dir: Path | None = None, config_dir: Path | None = None,
                org: Path | None = None) -> dict[str, Known]:
    """What scenarios may name, per workflow code: the organisation's logins, stages and fields."""
    from b24app.workflow.config import load_org_config
    from b24app.workflow.loader import load_workflows

    workflows_dir = workflows_dir or definition_dir("workflows")
    config_dir = config_dir or definition_dir("config")
    logins = [u.login for u in PortalState.from_org_file(org).users.values()]
    config, _ = load_org_config(config_dir)
    each = {w.code: Known(logins, [s.code for s in w.stages], [f.code for f in w.fields])
            for w in load_workflows(workflows_dir, config)}
    return {code: replace(known, workflows=each) for code, known in each.items()}


def run_scenario(scenario: m.Scenario, redis_url: str, echo: Echo, ca: SandboxCA | None = None) -> ScenarioResult:
    result = ScenarioResult(scenario.name, scenario.file)
    clock = SandboxClock(scenario.start or DEFAULT_START)
    clock.freeze()
    echo(f"▶ {scenario.name} ({scenario.file})")
    org = Path(scenario.org) if scenario.org else None
    for key, mode in scenario.checks.items():
        echo(f"  config: checks: {key}: {mode}")
    for absence in scenario.absences:
        echo(f"  config: {absence.login} is away {absence.start}..{absence.end}, {absence.substitute} stands in")
    try:
        with config_copy(definition_dir("config"), scenario.absences, _user_ids(org)) as config_dir, \
                workflows_copy(definition_dir("workflows"), scenario.workflow, dict(scenario.checks)) as flows, \
                Stack(redis_url, clock, org=org, ca=ca, telegram=scenario.uses_telegram,
                      config_dir=config_dir, workflows_dir=flows) as stack:
            _Play(stack, scenario, result, echo).run()
    except (StackError, ScenarioError, OSError) as exc:
        result.ok = False
        result.error = str(exc)
        echo(f"  ✗ {exc}")
    echo(f"{'✓' if result.ok else '✗'} {scenario.name}: {len(result.steps)} steps, {result.requests} REST requests")
    return result


class _Play:
    def __init__(self, stack: Stack, scenario: m.Scenario, result: ScenarioResult, echo: Echo) -> None:
        self.stack = stack
        self.scenario = scenario
        self.result = result
        self.echo = echo
        self._views: dict[str, PortalView] = {}
        self._performers: dict[str, Performer] = {}
        self.view = self.view_of(scenario.workflow)
        self.telegram = TelegramPeople(stack.bot, self.view, LinkStore(stack.deps.redis), stack.web_url,
                                       stack.settle) if stack.bot is not None else None
        self.tg_since = self.telegram.mark() if self.telegram is not None else None
        self.calendar = _calendar(stack.config_dir)
        self.refs: dict[str, tuple[str, int]] = {}
        self.last: tuple[str, int] | None = None
        self.since = self.view.mark()
        self.start_count = stack.portal.request_count
        self.bank = BankDesk(stack, _user_ids(Path(scenario.org) if scenario.org else None),
                             lambda ref: self.refs[ref][1])

    def view_of(self, code: str) -> PortalView:
        """The portal as seen for one workflow (a scenario may span both)."""
        if code not in self._views:
            workflow = next((w for w in self.stack.workflows if w.code == code), None)
            if workflow is None:
                raise ScenarioError(f"no workflow {code!r} in {self.stack.workflows_dir}")
            self._views[code] = PortalView(self.stack.portal, workflow)
        return self._views[code]

    def performer(self, code: str) -> Performer:
        if code not in self._performers:
            telegram = self.telegram if code == self.scenario.workflow else None
            self._performers[code] = Performer(self.view_of(code), self.stack.settle, telegram)
        return self._performers[code]

    def run(self) -> None:
        for step in self.scenario.steps:
            before = self.stack.portal.request_count
            seen = len(self.stack.portal.violations)
            try:
                ok, text, problems = self.step(step)
            except (ScenarioError, StackError) as exc:
                ok, text, problems = False, str(exc), []
            violations = self.stack.portal.violations[seen:]
            if violations:   # the app sent something the official schemas refuse: never a pass
                ok = False
                problems = [*problems, *(f"strict-mode schema violation: {v}" for v in violations)]
            if self.telegram is not None:
                self.telegram.remember()
            spent = self.stack.portal.request_count - before
            self.result.requests = self.stack.portal.request_count - self.start_count
            self.record(step, ok, text, problems, spent)
            if not ok:
                self.result.ok = False
                return

    def record(self, step: m.Step, ok: bool, text: str, problems: list[str], spent: int) -> None:
        label = _label(step)
        where = str(step.where)
        self.result.steps.append(StepResult(where, label, ok, text, spent, problems))
        self.echo(f"  {'✓' if ok else '✗'} {where} {label}: {text} [{spent} REST]")
        for problem in problems:
            self.echo(f"      - {problem}")

    def step(self, step: m.Step) -> tuple[bool, str, list[str]]:
        if isinstance(step, m.Action):
            return self.action(step)
        if isinstance(step, m.Advance):
            return True, self.advance(step), []
        if isinstance(step, m.PersonChange):
            change = self.stack.portal.people.deactivate if step.kind == "deactivate" else \
                self.stack.portal.people.reactivate
            change(step.login)
            return True, f"{self.view.person(step.login)} is {step.kind}d by the administrator", []
        if isinstance(step, m.Absence):
            self.stack.portal.people.record_absence(step.login, step.start, step.end, step.reason)
            return True, f"absence chart: {self.view.person(step.login)} away {_moscow(step.start)} – " \
                         f"{_moscow(step.end)} ({step.reason})", []
        if isinstance(step, m.Bank):
            self.stack.clock.advance(ACTION_GAP)
            return self.bank.run(step)
        if isinstance(step, m.Faults):
            self.stack.portal.faults.events(drop=step.drop, duplicate=step.duplicate, delay=step.delay,
                                            delay_seconds=0.2, reorder=step.reorder)
            return True, f"event faults: drop {step.drop}, duplicate {step.duplicate}, delay {step.delay}, " \
                         f"reorder {step.reorder}", []
        return self.expect(step)

    def action(self, action: m.Action) -> tuple[bool, str, list[str]]:
        # People act a second after what came before, so times in the record keep the order of actions.
        self.stack.clock.advance(ACTION_GAP)
        if action.kind == "create":
            code, target = action.workflow or self.scenario.workflow, None
        else:
            code, target = self.target(action.request)
        if action.contract:
            parent_code, parent_id = self.refs[action.contract]
            action = replace(action, parent=(self.view_of(parent_code).etid, parent_id))
        done = self.performer(code).perform(action, target)
        if done.item_id is not None:
            self.last = (code, done.item_id)
            if action.ref:
                self.refs[action.ref] = self.last
        self.stack.settle()
        return _judge(action, done)

    def advance(self, step: m.Advance) -> str:
        clock = self.stack.clock
        target = step.to or clock.now()
        for part in step.by:
            span = timedelta(hours=part.hours, minutes=part.minutes)
            if part.working:
                target = self.calendar.add_working_days(target, part.days) if part.days else target
                target = self.calendar.add_working_hours(target, span)
            else:
                target = target + timedelta(days=part.days) + span
        clock.set(target)
        swept = self.stack.tick()
        return f"clock now {target.astimezone(ZoneInfo('Europe/Moscow')):%Y-%m-%d %H:%M} (Moscow)" + \
            (", sweep ran" if swept else "")

    def expect(self, step: m.Expect) -> tuple[bool, str, list[str]]:
        code, item_id = self.target(step.request)
        if item_id is None:
            raise ScenarioError("no request yet: the scenario needs a 'create' step before 'expect'")
        view = self.view_of(code)
        problems = check(step, item_id, view, self.since, self.telegram, self.tg_since)
        self.since = self.view.mark()
        self.tg_since = self.telegram.mark() if self.telegram is not None else None
        if problems:
            return False, "unmet expectations:", problems
        return True, f"request #{item_id} is in {view.stage_label(view.stage_code(item_id))}", []

    def target(self, ref: str | None) -> tuple[str, int | None]:
        """The workflow and item of a request named by ``ref`` (default: the last created)."""
        found = self.refs[ref] if ref else self.last
        return found if found is not None else (self.scenario.workflow, None)


def _judge(action: m.Action, done: Done) -> tuple[bool, str, list[str]]:
    if done.error:
        return False, done.error, []
    if not action.refused:
        if done.refused:
            return False, f"refused: «{done.text}»", ["expected it to go through (add 'refused:' if it should not)"]
        return True, done.text, []
    if not done.refused:
        return False, f"went through: {done.text}", ["expected a refusal"]
    words = action.refused if isinstance(action.refused, tuple) else ()
    missing = [w for w in words if w.casefold() not in done.text.casefold()]
    if missing:
        return False, f"refused: «{done.text}»", [f"expected the refusal to say «{w}»" for w in missing]
    return True, f"refused as expected: «{done.text}»", []


def _moscow(moment: datetime) -> str:
    return f"{moment.astimezone(ZoneInfo('Europe/Moscow')):%Y-%m-%d %H:%M}"


def _label(step: m.Step) -> str:
    if isinstance(step, m.Action):
        via = f" via {step.via}" if step.via else ""
        return f"{step.kind} — {step.login}{via}"
    if isinstance(step, m.PersonChange):
        return f"{step.kind} — {step.login}"
    if isinstance(step, m.Absence):
        return f"absence — {step.login}"
    if isinstance(step, m.Bank):
        return f"{step.kind} — {step.login}" if step.login else step.kind
    return type(step).__name__.lower()


def _user_ids(org: Path | None) -> Callable[[str], int]:
    """login -> user id in the scenario's organisation (for the ``config:`` block)."""
    state = PortalState.from_org_file(org)
    return lambda login: state.user_by_login(login).id


def _calendar(config_dir: Path) -> WorkCalendar:
    path = config_dir / "calendar.yaml"
    return WorkCalendar.from_config(path) if path.exists() else WorkCalendar.default()
