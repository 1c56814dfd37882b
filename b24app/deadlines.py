"""Deadlines of accounting tasks, from ordered rules in ``config/deadlines.yaml``.

Rules are data: each names a condition from :data:`CONDITIONS` (code, never an expression) and
either sets the deadline (``due``) or moves it (``add``). They are applied in file order: the first
matching ``due`` rule sets the deadline, later ``due`` rules are skipped, every matching ``add`` rule
moves it, and a matching rule with ``stop: true`` ends the evaluation. The client's rules are
:data:`DEFAULT_RULES` (used when the file has no ``rules`` key).

Deadlines never fall outside working time: ``end_of_working_day`` is the end of that day's working
time (17:00 on a shortened pre-holiday day), working hours are counted by the calendar, and moving a
deadline that sits at a day's end by working days lands on the end of a later working day.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from b24app.portal_config import ConfigDir
from b24app.worktime import WorkCalendar
from b24app.worktime_config import check_calendar, read_config
from b24app.yamlio import ConfigError, LocatedDict, Problem


@dataclass(frozen=True)
class Request:
    """What a condition sees: the approval moment (moved to the next working start), flags, params."""

    approved_at: datetime
    urgent: bool
    amount: Decimal
    cutoff: time
    amount_threshold: Decimal


CONDITIONS: Mapping[str, Callable[[Request], bool]] = {
    "always": lambda r: True,
    "urgent": lambda r: r.urgent,
    "approved_by_cutoff": lambda r: r.approved_at.time() <= r.cutoff,
    "approved_after_cutoff": lambda r: r.approved_at.time() > r.cutoff,
    "amount_at_or_over_threshold": lambda r: r.amount >= r.amount_threshold,
}

DUE_KINDS = ("end_of_working_day", "working_hours")
ADD_KINDS = ("working_days", "working_hours")


@dataclass(frozen=True)
class Rule:
    name: str
    when: str
    action: str  # "due" or "add"
    kind: str  # one of DUE_KINDS / ADD_KINDS
    amount: float
    stop: bool = False


DEFAULT_RULES = (
    Rule("urgent", "urgent", "due", "working_hours", 4, stop=True),
    Rule("approved by the cut-off", "approved_by_cutoff", "due", "end_of_working_day", 1),
    Rule("approved after the cut-off", "approved_after_cutoff", "due", "end_of_working_day", 2),
    Rule("large amount", "amount_at_or_over_threshold", "add", "working_days", 1),
)


@dataclass(frozen=True)
class DeadlineRules:
    calendar: WorkCalendar
    rules: tuple[Rule, ...] = DEFAULT_RULES
    cutoff: time = time(14)
    amount_threshold: Decimal = Decimal(1_000_000)
    subtask_working_hours: float = 4

    @classmethod
    def load(cls, path: str | Path, calendar: WorkCalendar | None = None) -> DeadlineRules:
        """Read ``deadlines.yaml``; without ``calendar``, ``calendar.yaml`` beside it (or the default)."""
        file = Path(path)
        if calendar is None:
            calendar_file = file.with_name("calendar.yaml")
            exists = calendar_file.exists()
            calendar = WorkCalendar.from_config(calendar_file) if exists else WorkCalendar.default()
        problems: list[Problem] = []
        rules = _parse(read_config(file), problems, str(file), calendar)
        if problems:
            raise ConfigError(problems)
        return rules

    def payment_deadline(
        self, approved_at: datetime, *, urgent: bool, amount: Decimal | float | int
    ) -> datetime:
        """The deadline of the payment task for a request approved at ``approved_at``."""
        return self.explain(approved_at, urgent=urgent, amount=amount)[0]

    def explain(
        self, approved_at: datetime, *, urgent: bool, amount: Decimal | float | int
    ) -> tuple[datetime, tuple[str, ...]]:
        """The deadline and the names of the rules that made it (for the task description)."""
        start = self.calendar.next_working_start(approved_at)
        request = Request(start, urgent, Decimal(str(amount)), self.cutoff, self.amount_threshold)
        deadline: datetime | None = None
        applied: list[str] = []
        for rule in self.rules:
            if not CONDITIONS[rule.when](request) or (rule.action == "due" and deadline is not None):
                continue
            if rule.action == "due":
                deadline = self._due(start, rule)
            elif deadline is not None:
                deadline = self._add(deadline, rule)
            applied.append(rule.name)
            if rule.stop:
                break
        if deadline is None:
            raise ValueError(f"no deadline rule matched the request approved at {approved_at.isoformat()}")
        return deadline, tuple(applied)

    def subtask_deadline(self, parent_deadline: datetime) -> datetime:
        """The payment-order subtask: the parent's deadline plus the configured working hours."""
        return self.calendar.add_working_hours(parent_deadline, self.subtask_working_hours)

    def _due(self, start: datetime, rule: Rule) -> datetime:
        if rule.kind == "working_hours":
            return self.calendar.add_working_hours(start, rule.amount)
        return self._end_of_working_day(start.date(), int(rule.amount))

    def _add(self, deadline: datetime, rule: Rule) -> datetime:
        if rule.kind == "working_hours":
            return self.calendar.add_working_hours(deadline, rule.amount)
        local = deadline.astimezone(self.calendar.tz)
        if local == self.calendar.day_end(local.date()):
            return self._end_of_working_day(local.date(), int(rule.amount))
        return self.calendar.add_working_days(local, int(rule.amount))

    def _end_of_working_day(self, day: date, later: int) -> datetime:
        """The end of the working day ``later`` working days after ``day`` (0: ``day`` itself)."""
        for _ in range(later):
            day = self.calendar.next_working_start(
                datetime.combine(day + timedelta(days=1), time(0), tzinfo=self.calendar.tz)
            ).date()
        end = self.calendar.day_end(day)
        if end is None:  # day 0 outside working time cannot happen: start is a working moment
            raise ValueError(f"{day} is not a working day")
        return end


def check(config_dir: str | Path | ConfigDir) -> list[Problem]:
    """Every problem of ``calendar.yaml`` and ``deadlines.yaml`` in ``config_dir``."""
    directory = config_dir if isinstance(config_dir, ConfigDir) else Path(config_dir)
    calendar_file = directory / "calendar.yaml"
    problems = check_calendar(calendar_file) if calendar_file.exists() else []
    calendar = WorkCalendar.default() if problems or not calendar_file.exists() else WorkCalendar.from_config(calendar_file)
    try:
        DeadlineRules.load(directory / "deadlines.yaml", calendar)
    except ConfigError as exc:
        problems += exc.problems
    return sorted(problems)


# -- parsing ----------------------------------------------------------------------------------

_TOP_KEYS = {"cutoff", "amount_threshold", "rules", "subtask"}
_RULE_KEYS = {"name", "when", "due", "add", "stop"}


def _parse(data: Any, problems: list[Problem], file: str, calendar: WorkCalendar) -> DeadlineRules:
    base = DeadlineRules(calendar)
    if data is None:
        return base
    if not isinstance(data, LocatedDict):
        problems.append(Problem(file, 1, "the deadline rules must be a mapping"))
        return base
    for key in sorted(set(data) - _TOP_KEYS):
        problems.append(data.problem(f"unknown key {key!r}; known: {', '.join(sorted(_TOP_KEYS))}", key))
    cutoff = _cutoff(data, problems) or base.cutoff
    threshold = _threshold(data, problems)
    rules = _rules(data, problems) if "rules" in data else base.rules
    subtask = base.subtask_working_hours
    if "subtask" in data:
        value = data["subtask"]
        if isinstance(value, LocatedDict) and set(value) == {"working_hours"}:
            subtask = _number(value, "working_hours", problems, integer=False)
        else:
            problems.append(
                data.problem(
                    "subtask must be a mapping with working_hours, e.g. {working_hours: 4}", "subtask"
                )
            )
    return DeadlineRules(
        calendar, rules, cutoff, threshold if threshold is not None else base.amount_threshold, subtask
    )


def _cutoff(data: LocatedDict, problems: list[Problem]) -> time | None:
    value = data.get("cutoff")
    if value is None:
        return None
    try:
        if isinstance(value, str) and len(value) == 5:
            return time.fromisoformat(value)
    except ValueError:
        pass
    problems.append(data.problem(f'cutoff must be a quoted clock time like "14:00", got {value!r}', "cutoff"))
    return None


def _threshold(data: LocatedDict, problems: list[Problem]) -> Decimal | None:
    value = data.get("amount_threshold")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        problems.append(
            data.problem(f"amount_threshold must be a non-negative number, got {value!r}", "amount_threshold")
        )
        return None
    return Decimal(str(value))


def _rules(data: LocatedDict, problems: list[Problem]) -> tuple[Rule, ...]:
    items = data["rules"]
    if not isinstance(items, list) or not items:
        problems.append(data.problem("rules must be a non-empty list", "rules"))
        return DEFAULT_RULES
    rules = [rule for item in items if (rule := _rule(item, data, problems)) is not None]
    if len(rules) == len(items):
        _check_order(rules, items, data, problems)
    return tuple(rules)


def _rule(item: Any, parent: LocatedDict, problems: list[Problem]) -> Rule | None:
    if not isinstance(item, LocatedDict):
        problems.append(parent.problem(f"a rule must be a mapping, got {item!r}", "rules"))
        return None
    count = len(problems)
    for key in sorted(set(item) - _RULE_KEYS):
        problems.append(
            item.problem(f"unknown key {key!r} in a rule; known: {', '.join(sorted(_RULE_KEYS))}", key)
        )
    name = item.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.append(item.problem("a rule needs a name", "name"))
    when = item.get("when")
    if when not in CONDITIONS:
        problems.append(item.problem(f"unknown condition {when!r}; known: {', '.join(CONDITIONS)}", "when"))
    actions = [a for a in ("due", "add") if a in item]
    if len(actions) != 1:
        problems.append(item.problem("a rule needs exactly one of due or add"))
        return None
    action = actions[0]
    kinds = DUE_KINDS if action == "due" else ADD_KINDS
    spec = item[action]
    if not isinstance(spec, LocatedDict) or len(spec) != 1 or next(iter(spec)) not in kinds:
        problems.append(
            item.problem(f"{action} must be one of {', '.join(k + ': N' for k in kinds)}", action)
        )
        return None
    kind = next(iter(spec))
    amount = _number(spec, kind, problems, integer=kind != "working_hours")
    stop = item.get("stop", False)
    if not isinstance(stop, bool):
        problems.append(item.problem("stop must be true or false", "stop"))
    if len(problems) > count:
        return None
    return Rule(str(name), str(when), action, kind, amount, bool(stop))


def _number(spec: LocatedDict, key: str, problems: list[Problem], *, integer: bool) -> float:
    value = spec[key]
    ok_type = isinstance(value, int) if integer else isinstance(value, int | float)
    if isinstance(value, bool) or not ok_type or value < 0:
        wanted = "a non-negative whole number" if integer else "a non-negative number"
        problems.append(spec.problem(f"{key} must be {wanted}, got {value!r}", key))
        return 0
    return float(value)


def _check_order(
    rules: list[Rule], items: list[LocatedDict], data: LocatedDict, problems: list[Problem]
) -> None:
    """Every request gets a deadline, ``add`` rules follow a ``due`` rule, nothing is unreachable."""
    due_conditions = {r.when for r in rules if r.action == "due"}
    if (
        "always" not in due_conditions
        and not {"approved_by_cutoff", "approved_after_cutoff"} <= due_conditions
    ):
        problems.append(data.problem(
            "some requests would get no deadline: add a due rule for 'always', or for both "
            "'approved_by_cutoff' and 'approved_after_cutoff'", "rules",
        ))  # fmt: skip
    seen_due = False
    for index, (rule, item) in enumerate(zip(rules, items, strict=True)):
        if rule.action == "add" and not seen_due:
            problems.append(item.problem(f"rule {rule.name!r} moves a deadline before any due rule sets one"))
        seen_due = seen_due or rule.action == "due"
        if rule.when != "always":
            continue
        for later, later_item in zip(rules[index + 1 :], items[index + 1 :], strict=True):
            if rule.stop or (rule.action == "due" and later.action == "due"):
                problems.append(
                    later_item.problem(f"rule {later.name!r} can never apply (after {rule.name!r})")
                )
