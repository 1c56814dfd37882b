"""Graph checks of a workflow, in the manner of python-statemachine: states and transitions are data
and are checked at load time.

Checked: exactly one initial stage, exactly one success stage and at least one failure stage (what a
Bitrix24 funnel needs), portal stage codes used only for their own kind, every reference (start step,
step stages, decision targets, task fields) exists, every stage is reachable from the initial one,
every stage in progress can still finish, every step can be reached.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable, Iterator

from b24app.workflow.models import Semantics, Stage, Step, TaskSpec, Workflow
from b24app.workflow.schema import Sources
from b24app.yamlio import Problem

# Stage codes the portal gives its system stages; the provisioning maps them to the YAML's own kinds.
RESERVED = {"NEW": "the initial stage", "SUCCESS": "the success stage", "FAIL": "the failure stage"}


def check_graph(workflow: Workflow, src: Sources) -> list[Problem]:
    problems = _stage_kinds(workflow, src) + _references(workflow, src)
    if problems:
        return problems
    edges = _edges(workflow)
    return _reachability(workflow, src, edges) + _steps_reachable(workflow, src)


def check_partial(workflow: Workflow, src: Sources) -> list[Problem]:
    """The checks that stay meaningful when parts of the file failed to parse (so steps may be
    missing): stage kinds, and the stage each parsed step works in."""
    stages = {s.code: s for s in workflow.stages}
    return _stage_kinds(workflow, src) + [p for step in workflow.steps if (p := _step_stage(step, stages, src))]


def _step_stage(step: Step, stages: dict[str, Stage], src: Sources) -> Problem | None:
    where, stage = src.steps[step.code], stages.get(step.stage)
    if stage is None:
        return where.problem(f"step {step.code!r}: unknown stage {step.stage!r}; stages: {', '.join(stages)}", "stage")
    if stage.final or stage.pause:
        return where.problem(f"step {step.code!r}: stage {step.stage!r} is a final or pause stage; a step must "
                             "work in a stage in progress", "stage")
    return None


def _stage_kinds(workflow: Workflow, src: Sources) -> list[Problem]:
    problems: list[Problem] = []
    initial = [s for s in workflow.stages if s.initial]
    success = [s for s in workflow.stages if s.semantics is Semantics.SUCCESS]
    if not initial:
        problems.append(src.root.problem("no stage is marked 'initial: true'; mark the stage new items start in "
                                         "(e.g. NEW)", "stages"))
    for extra in initial[1:]:
        problems.append(src.stages[extra.code].problem(
            f"stage {extra.code!r} is a second initial stage ({initial[0].code!r} is one); keep 'initial: true' "
            "on one stage only", "initial"))
    if not success:
        problems.append(src.root.problem("no success stage; mark the stage where the process ends well with "
                                         "'semantics: success'", "stages"))
    for extra in success[1:]:
        problems.append(src.stages[extra.code].problem(
            f"stage {extra.code!r} is a second success stage ({success[0].code!r} is one); Bitrix24 allows exactly "
            "one — make it 'semantics: failure' or a stage in progress", "semantics"))
    if not workflow.failure_stages:
        problems.append(src.root.problem("no failure stage; mark one stage with 'semantics: failure' (Bitrix24 "
                                         "needs one)", "stages"))
    for stage in workflow.stages:
        kind = {"NEW": stage.initial, "SUCCESS": stage.semantics is Semantics.SUCCESS,
                "FAIL": stage in workflow.failure_stages[:1]}.get(stage.code)
        if kind is False:
            problems.append(src.stages[stage.code].problem(
                f"stage code {stage.code!r} is the portal's code for {RESERVED[stage.code]}; use it only for that "
                "stage, or rename this one", "code"))
    return problems


def _references(workflow: Workflow, src: Sources) -> list[Problem]:
    problems: list[Problem] = []
    stages = {s.code: s for s in workflow.stages}
    steps = {s.code for s in workflow.steps}
    fields = {f.code for f in workflow.fields}
    if workflow.start not in steps:
        problems.append(src.root.problem(f"'start' names {workflow.start!r}, which is not a step; steps: "
                                         f"{', '.join(sorted(steps))}", "start"))
    for step in workflow.steps:
        where = src.steps[step.code]
        problems += [p for p in [_step_stage(step, stages, src)] if p]
        for decision, target in step.decisions.items():
            message = _target_problem(target, stages, steps)
            if message:
                line = where["decisions"].line_of(decision)
                problems.append(Problem(where.file, line, f"step {step.code!r}, decision {decision!r}: {message}"))
        if "complete" in step.decisions and step.task is None:
            problems.append(where.problem(f"step {step.code!r}: 'complete' means all the step's tasks are done, but "
                                          "the step has no 'task'; add one or use 'approve'", "decisions"))
        for task in _tasks(step):
            if task.requires_field and task.requires_field not in fields:
                problems.append(where.problem(f"step {step.code!r}: task requires the field {task.requires_field!r}, "
                                              f"which is not in 'fields'", "task"))
    return problems


def _target_problem(target: str, stages: dict[str, Stage], steps: set[str]) -> str | None:
    if target.islower():
        return None if target in steps else f"unknown step {target!r}; steps: {', '.join(sorted(steps))}"
    stage = stages.get(target)
    if stage is None:
        return f"unknown stage {target!r}; stages: {', '.join(stages)} (or name a step in lower case)"
    if not (stage.final or stage.pause):
        return f"{target!r} is a stage in progress; name the step that works in it (lower case) instead"
    return None


def _tasks(step: Step) -> Iterator[TaskSpec]:
    if step.task is not None:
        yield step.task
        yield from step.task.subtasks


def _stage_targets(workflow: Workflow, target: str, seen: frozenset[str] = frozenset()) -> set[str]:
    """The stages a decision can land in: a skipped conditional step passes on to its approve target."""
    if not target.islower():
        return {target}
    step = workflow.step(target)
    result = {step.stage}
    if step.when is not None and "approve" in step.decisions and target not in seen:
        result |= _stage_targets(workflow, step.decisions["approve"], seen | {target})
    return result


def _edges(workflow: Workflow) -> dict[str, set[str]]:
    edges: dict[str, set[str]] = defaultdict(set)
    edges[workflow.initial_stage.code] |= _stage_targets(workflow, workflow.start)
    for step in workflow.steps:
        for target in step.decisions.values():
            for stage in _stage_targets(workflow, target):
                edges[step.stage].add(stage)
                if workflow.stage(stage).pause:
                    edges[stage].add(step.stage)  # a pause returns to the step that paused
    return edges


def _reachability(workflow: Workflow, src: Sources, edges: dict[str, set[str]]) -> list[Problem]:
    reachable = _closure([workflow.initial_stage.code], edges)
    backwards: dict[str, set[str]] = defaultdict(set)
    for origin, targets in edges.items():
        for target in targets:
            backwards[target].add(origin)
    finishing = _closure([s.code for s in workflow.stages if s.final], backwards)
    problems = []
    for stage in workflow.stages:
        where = src.stages[stage.code]
        if stage.code not in reachable:
            problems.append(where.problem(
                f"stage {stage.code!r} is unreachable: no decision leads to it; add a decision with it as the "
                "target (e.g. 'reject: X' for a final stage) or a step that works in it, or remove the stage"))
        elif not stage.final and stage.code not in finishing:
            problems.append(where.problem(
                f"stage {stage.code!r} cannot finish: from it no decision leads on to a success or failure stage; "
                "give a step in it a decision such as 'approve: <next step>' or 'reject: <failure stage>'"))
    return problems


def _steps_reachable(workflow: Workflow, src: Sources) -> list[Problem]:
    edges: dict[str, set[str]] = defaultdict(set)
    for step in workflow.steps:
        edges[step.code] |= {t for t in step.decisions.values() if t.islower()}
    reachable = _closure([workflow.start], edges)
    return [
        src.steps[step.code].problem(f"step {step.code!r} is unreachable: neither 'start' nor any decision leads "
                                     "to it; add a decision that names it, or remove it")
        for step in workflow.steps if step.code not in reachable
    ]


def _closure(starts: Iterable[str], edges: dict[str, set[str]]) -> set[str]:
    seen = set(starts)
    queue = deque(seen)
    while queue:
        for target in edges.get(queue.popleft(), ()):
            if target not in seen:
                seen.add(target)
                queue.append(target)
    return seen
