"""Load ``workflows/*.yaml`` into :mod:`b24app.workflow.models`, reporting every problem at once.

First a strict schema (unknown keys, types, formats, names looked up in ``b24app.workflow.rules``),
then the graph checks of ``b24app.workflow.graph``. Nothing is returned for an invalid file: callers
get a :class:`ConfigError` listing each problem as ``file:line: message``.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from b24app.workflow import conditions, rules
from b24app.workflow.checkspec import parse_checks
from b24app.workflow.fieldschema import FIELD_CODE, parse_fields
from b24app.workflow.graph import check_graph, check_partial
from b24app.workflow.models import (
    ActorRule,
    FieldType,
    Label,
    OrgConfig,
    RuleRef,
    Semantics,
    Stage,
    Step,
    TaskSpec,
    TimeRule,
    TimeRules,
    TypeSpec,
    Versions,
    Workflow,
)
from b24app.workflow.schema import Reader, Sources, parse_duration
from b24app.yamlio import ConfigError, LocatedDict, Problem, load

WORKFLOW_CODE = r"[a-z][a-z0-9_]{0,39}"
STEP_CODE = r"[a-z][a-z0-9_]{0,39}"
STAGE_CODE = r"[A-Z][A-Z0-9_]{0,39}"
COLOR = r"#[0-9A-Fa-f]{6}"
TOP_KEYS = ("code", "title", "type", "fields", "stages", "start", "steps")
OPTIONAL_TOP_KEYS = ("checks", "versions")


def load_workflows(workflows_dir: Path, org: OrgConfig) -> list[Workflow]:
    """Every workflow of the directory, or a ConfigError with every problem of every file."""
    workflows, problems = check_workflows(workflows_dir, org)
    if problems:
        raise ConfigError(problems)
    return workflows


def check_workflows(workflows_dir: Path, org: OrgConfig) -> tuple[list[Workflow], list[Problem]]:
    """Parse every ``*.yaml`` of the directory; returns the valid workflows and all problems."""
    files = sorted(workflows_dir.glob("*.yaml"))
    if not files:
        return [], [Problem(str(workflows_dir), 0, "no workflow files (*.yaml) found; add one per smart process")]
    workflows: list[Workflow] = []
    problems: list[Problem] = []
    for file in files:
        workflow, found = load_workflow(file, org)
        problems.extend(found)
        if workflow is not None:
            workflows.append(workflow)
    problems.extend(_cross_checks(workflows))
    return workflows, problems


def load_workflow(path: Path, org: OrgConfig) -> tuple[Workflow | None, list[Problem]]:
    try:
        data = load(path)
    except ConfigError as exc:
        return None, list(exc.problems)
    return parse_workflow(data, str(path), org)


def parse_workflow(data: Any, file: str, org: OrgConfig) -> tuple[Workflow | None, list[Problem]]:
    reader = Reader(file)
    if not isinstance(data, LocatedDict):
        return None, [Problem(file, 1, "a workflow file must be a mapping with the keys " + ", ".join(TOP_KEYS))]
    reader.keys(data, "the workflow", TOP_KEYS, OPTIONAL_TOP_KEYS)
    sources = Sources(data)
    steps = tuple(_steps(reader, data, org, sources))
    spec = _type(reader, data)
    workflow = Workflow(
        code=reader.string(data, "code", "the workflow", WORKFLOW_CODE, "use lower-case letters, digits, '_'") or "",
        title=reader.label(data, "title", "the workflow") or _missing_label(),
        type=spec,
        fields=tuple(parse_fields(reader, data, org)),
        stages=tuple(_stages(reader, data, sources)),
        steps=steps,
        start=reader.string(data, "start", "the workflow", STEP_CODE, "name a step code (lower case)") or "",
        source=file,
        checks=parse_checks(reader, data, steps, spec),
    )
    workflow = replace(workflow, versions=_versions(reader, data, workflow))
    if reader.problems:  # graph checks on a half-read file would mislead; only the safe ones run
        return None, reader.problems + check_partial(workflow, sources)
    problems = check_graph(workflow, sources)
    return (None if problems else workflow), problems


def _versions(reader: Reader, data: LocatedDict, workflow: Workflow) -> Versions | None:
    """``versions: {field: CONTRACT_FILE, restart_at: head_approval}``: a file field of this workflow and
    one of its steps (``restart_at`` defaults to ``start``)."""
    if "versions" not in data:
        return None
    spec = reader.mapping(data["versions"], data, "versions", "'versions'")
    if spec is None:
        return None
    reader.keys(spec, "'versions'", ("field",), ("restart_at",))
    code = reader.string(spec, "field", "'versions'", FIELD_CODE, "name a field code (upper case)")
    restart = reader.string(spec, "restart_at", "'versions'", STEP_CODE, "name a step code (lower case)",
                            default=workflow.start)
    field = next((f for f in workflow.fields if f.code == code), None)
    if code and field is None:
        reader.add(spec, f"'versions': unknown field {code!r}; name a field of this workflow "
                   f"(file fields: {', '.join(f.code for f in workflow.fields if f.type is FieldType.FILE) or 'none'})",
                   "field")
    elif field is not None and field.type is not FieldType.FILE:
        reader.add(spec, f"'versions': field {code!r} is of type {field.type.value}; versions need a file field",
                   "field")
    steps = [s.code for s in workflow.steps]
    if restart and "restart_at" in spec and restart not in steps:
        reader.add(spec, f"'versions': unknown step {restart!r} in 'restart_at'; use one of: {', '.join(steps)}",
                   "restart_at")
    if not code or field is None or field.type is not FieldType.FILE or not restart:
        return None
    return Versions(code, restart)


def _missing_label() -> Label:
    return Label("", "")


def _type(reader: Reader, data: LocatedDict) -> TypeSpec:
    spec = reader.mapping(data.get("type"), data, "type", "'type'") if "type" in data else None
    if spec is None:
        return TypeSpec(0)
    reader.keys(spec, "'type'", ("entity_type_id",), ("automation", "bizproc", "recycle_bin", "parents"))
    etid = reader.integer(spec, "entity_type_id", "'type'") if "entity_type_id" in spec else None
    if etid is not None and not (128 <= etid <= 192 or (etid >= 1030 and etid % 2 == 0)):
        reader.add(spec, f"'type': entity_type_id {etid} is not accepted by Bitrix24; use an even number "
                   "from 1030 (e.g. 1100) or a number from 128 to 192", "entity_type_id")
    parents = reader.strings(spec, "parents", "'type'")
    return TypeSpec(etid or 0, reader.boolean(spec, "automation", "'type'", True),
                    reader.boolean(spec, "bizproc", "'type'", False),
                    reader.boolean(spec, "recycle_bin", "'type'", True), tuple(parents))


def _stages(reader: Reader, data: LocatedDict, sources: Sources) -> list[Stage]:
    stages: list[Stage] = []
    for item in reader.mappings(data, "stages"):
        what = f"stage {item.get('code', '?')!r}"
        reader.keys(item, what, ("code", "name", "color"), ("initial", "semantics", "pause"))
        code = reader.string(item, "code", what, STAGE_CODE, "use upper-case letters, digits and '_'")
        color = reader.string(item, "color", what, COLOR, "write a colour as #RRGGBB, e.g. #22B9FF")
        semantics = _semantics(reader, item, what)
        initial, pause = reader.boolean(item, "initial", what), reader.boolean(item, "pause", what)
        if semantics is not Semantics.PROCESS and (initial or pause):
            reader.add(item, f"{what}: a {semantics} stage is final; it cannot be initial or a pause", "semantics")
        if code and code in sources.stages:
            reader.add(item, f"stage code {code!r} is used twice; give each stage its own code", "code")
        elif code:
            sources.stages[code] = item
            stages.append(Stage(code, reader.label(item, "name", what) or _missing_label(), color or "",
                                semantics, initial, pause))
    return stages


def _semantics(reader: Reader, item: LocatedDict, what: str) -> Semantics:
    value = item.get("semantics", "process")
    try:
        return Semantics(value)
    except ValueError:
        reader.add(item, f"{what}: semantics {value!r} is unknown; use success or failure (omit it for a "
                   "stage in progress)", "semantics")
        return Semantics.PROCESS


def _steps(reader: Reader, data: LocatedDict, org: OrgConfig, sources: Sources) -> list[Step]:
    steps: list[Step] = []
    for item in reader.mappings(data, "steps"):
        what = f"step {item.get('code', '?')!r}"
        reader.keys(item, what, ("code", "stage", "actor", "decisions"), ("task", "when", "time_rules", "name"))
        code = reader.string(item, "code", what, STEP_CODE, "use lower-case letters, digits and '_'")
        stage = reader.string(item, "stage", what, STAGE_CODE, "name a stage code (upper case)")
        actor = _actor(reader, item, "actor", what, org, recipient=False)
        decisions = _decisions(reader, item, what)
        task = _task(reader, item, what, org)
        when = _condition(reader, item, "when", what, conditions.STEP_WHEN)
        time_rules = _time_rules(reader, item, what, org)
        if code and code in sources.steps:
            reader.add(item, f"step code {code!r} is used twice; give each step its own code", "code")
        elif code and stage and actor:
            sources.steps[code] = item
            name = reader.label(item, "name", what) if "name" in item else None
            steps.append(Step(code, stage, actor, decisions, task, when, time_rules, name))
    return steps


def _decisions(reader: Reader, item: LocatedDict, what: str) -> dict[str, str]:
    table = reader.mapping(item.get("decisions"), item, "decisions", f"{what}: 'decisions'") \
        if "decisions" in item else None
    result: dict[str, str] = {}
    for name, target in (table or {}).items():
        assert table is not None
        if name not in rules.DECISIONS:
            reader.add(table, f"{what}: {rules.unknown_name('decision', str(name), rules.DECISIONS)}", str(name))
        elif not isinstance(target, str):
            reader.add(table, f"{what}: decision {name!r} must name a step or a stage, not {target!r}", str(name))
        else:
            result[str(name)] = target
    if table is not None and not table:
        reader.add(item, f"{what}: 'decisions' is empty; a step needs at least one way out", "decisions")
    return result


def _task(reader: Reader, item: LocatedDict, what: str, org: OrgConfig) -> TaskSpec | None:
    spec = reader.mapping(item["task"], item, "task", f"{what}: 'task'") if "task" in item else None
    return _task_spec(reader, spec, f"{what}: task", org) if spec is not None else None


def _task_spec(reader: Reader, spec: LocatedDict, where: str, org: OrgConfig) -> TaskSpec:
    reader.keys(spec, where, ("title",), ("deadline", "responsible", "requires_field", "subtasks"))
    subtasks = tuple(_task_spec(reader, sub, f"{where}: subtask", org) for sub in reader.mappings(spec, "subtasks"))
    responsible = _actor(reader, spec, "responsible", where, org, recipient=False) if "responsible" in spec else None
    return TaskSpec(reader.label(spec, "title", where) or _missing_label(), _deadline(reader, spec, where),
                    responsible, reader.string(spec, "requires_field", where), subtasks)


def _deadline(reader: Reader, spec: LocatedDict, where: str) -> Any:
    if isinstance(spec.get("deadline"), LocatedDict):
        return _rule_ref(reader, spec, "deadline", where, "deadline rule", rules.DEADLINE_RULES)
    return reader.duration(spec, "deadline", where)


def _time_rules(reader: Reader, item: LocatedDict, what: str, org: OrgConfig) -> TimeRules:
    spec = reader.mapping(item["time_rules"], item, "time_rules", f"{what}: 'time_rules'") \
        if "time_rules" in item else None
    if spec is None:
        return TimeRules()
    reader.keys(spec, f"{what}: time_rules", (), ("allowance", "rules"))
    found = []
    for rule in reader.mappings(spec, "rules"):
        where = f"{what}: time rule"
        reader.keys(rule, where, ("action", "to"), ("every", "after", "when", "while", "channels", "offer_decision"))
        triggers = [key for key in ("every", "after", "when") if key in rule]
        if len(triggers) != 1:
            reader.add(rule, f"{where}: give exactly one of 'every', 'after' or 'when' (found: "
                       f"{', '.join(triggers) or 'none'})")
        action = reader.string(rule, "action", where)
        if action and action not in rules.TIME_RULE_ACTIONS:
            reader.add(rule, f"{where}: action {action!r} is unknown; use remind or alert", "action")
        channels = reader.strings(rule, "channels", where) or ["bitrix24"]
        for channel in channels:
            if channel not in rules.CHANNELS:
                reader.add(rule, f"{where}: unknown channel {channel!r}; use {', '.join(rules.CHANNELS)}", "channels")
        recipients = [_recipient(reader, rule, text, where, org) for text in reader.strings(rule, "to", where)]
        found.append(TimeRule(
            action or "", tuple(r for r in recipients if r), tuple(channels),
            every=reader.duration(rule, "every", where), after=reader.duration(rule, "after", where),
            when=_condition(reader, rule, "when", where, conditions.TIME_WHEN),
            while_=_condition(reader, rule, "while", where, conditions.TIME_WHILE),
            offer_decision=reader.boolean(rule, "offer_decision", where),
        ))
    return TimeRules(reader.duration(spec, "allowance", f"{what}: time_rules"), tuple(found))


def _actor(reader: Reader, data: LocatedDict, key: str, what: str, org: OrgConfig,
           recipient: bool) -> ActorRule | None:
    text = reader.string(data, key, what)
    return _resolve_actor(reader, data, key, text, what, org, recipient) if text else None


def _recipient(reader: Reader, rule: LocatedDict, text: str, where: str, org: OrgConfig) -> ActorRule | None:
    return _resolve_actor(reader, rule, "to", text, where, org, recipient=True)


def _resolve_actor(reader: Reader, data: LocatedDict, key: str, text: str, what: str, org: OrgConfig,
                   recipient: bool) -> ActorRule | None:
    actor = ActorRule.parse(text)
    table = {**rules.ACTOR_RULES, **(rules.RECIPIENT_ONLY_RULES if recipient else {})}
    if actor.role is not None:
        if actor.role not in org.roles:
            reader.add(data, f"{what}: unknown role {actor.role!r}; add it to config/roles.yaml or use one of: "
                       f"{', '.join(sorted(org.roles))}", key)
            return None
        return actor
    if actor.name not in table or actor.name == "role":
        reader.add(data, f"{what}: {rules.unknown_name('actor rule', text, table)} (or role:<name>)", key)
        return None
    return actor


def _rule_ref(reader: Reader, data: LocatedDict, key: str, what: str, kind: str,
              table: dict[str, rules.RuleSpec]) -> RuleRef | None:
    if key not in data:
        return None
    value = data[key]
    if isinstance(value, str):
        name, params = value, {}
    elif isinstance(value, LocatedDict) and isinstance(value.get("rule"), str):
        name, params = value["rule"], {k: v for k, v in value.items() if k != "rule"}
    else:
        reader.add(data, f"{what}: {key!r} must name a {kind}, as a text or {{rule: <name>, ...parameters}}", key)
        return None
    if name not in table:
        reader.add(data, f"{what}: {rules.unknown_name(kind, name, table)}", key)
        return None
    for message in rules.check_params(table[name], params):
        reader.add(data, f"{what}: {message}", key)
    return RuleRef(name, params)


def _condition(reader: Reader, data: LocatedDict, key: str, what: str, place: str) -> RuleRef | None:
    """A condition by name (``b24app.workflow.conditions``), refused where nothing implements it."""
    table = {name: c.spec for name, c in conditions.CONDITIONS.items()}
    ref = _rule_ref(reader, data, key, what, "condition", table)
    if ref is not None and place not in conditions.CONDITIONS[ref.name].places:
        usable = ", ".join(conditions.usable_in(place))
        reader.add(data, f"{what}: condition {ref.name!r} is not implemented for {place} (it works in "
                   f"{' and '.join(conditions.CONDITIONS[ref.name].places)}); use one of: {usable}", key)
        return None
    return ref


def _cross_checks(workflows: list[Workflow]) -> list[Problem]:
    problems: list[Problem] = []
    by_code = {w.code: w for w in workflows}
    for index, workflow in enumerate(workflows):
        for other in workflows[:index]:
            if other.code == workflow.code:
                problems.append(_at(workflow, "code", f"workflow code {workflow.code!r} is also used by "
                                    f"{other.source}; each workflow needs its own code"))
            if other.type.entity_type_id == workflow.type.entity_type_id:
                problems.append(_at(workflow, "entity_type_id", f"entity_type_id {workflow.type.entity_type_id} "
                                    f"is also used by {other.source}; give each type its own"))
        for parent in workflow.type.parents:
            if parent not in by_code or parent == workflow.code:
                problems.append(_at(workflow, "parents", f"'type': parent {parent!r} is not another workflow; "
                                    f"known: {', '.join(sorted(by_code))}"))
    return problems


def _at(workflow: Workflow, key: str, message: str) -> Problem:
    """A problem at the line of ``key`` (top level, or inside ``type:``), found by reading the file again."""
    data = load(workflow.source)
    where = data.get("type") if key in ("entity_type_id", "parents") else data
    return where.problem(message, key) if isinstance(where, LocatedDict) else Problem(workflow.source, 1, message)


__all__ = ["check_workflows", "load_workflow", "load_workflows", "parse_duration", "parse_workflow"]
