"""Carry a plan out, in ``batch`` requests, and report what was done and what was not.

Types go first. When a type was just created, the portal is read again and the rest is re-planned
against what it really holds (its default stages and their ids), so the stage and field changes
always use real ids. The run stops at the first failure; everything after it is reported as not
done, and running again converges because the next plan starts from the portal as it is.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from b24app.errors import RestError
from b24app.provisioning.desired import DesiredState, desired_state, field_name
from b24app.provisioning.observed import ObservedState, observe, observe_bindings
from b24app.provisioning.plan import Action, Change, Plan, binding_changes, make_plan
from b24app.rest.protocol import Bitrix24
from b24app.workflow.models import Workflow

log = logging.getLogger(__name__)

BATCH_SIZE = 50
Command = tuple[str, Mapping[str, Any]]
DONE, FAILED, NOT_DONE, SKIPPED, UNKNOWN = "done", "failed", "not done", "skipped", "unknown"


@dataclass(frozen=True)
class Outcome:
    change: Change
    status: str
    error: str = ""

    def __str__(self) -> str:
        tail = f" — {self.error}" if self.error else ""
        return f"[{self.status}] {self.change}{tail}"


@dataclass(frozen=True)
class Report:
    plan: Plan
    applied: bool
    outcomes: tuple[Outcome, ...] = ()
    requests: int = 0

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def ok(self) -> bool:
        return not any(self.count(s) for s in (FAILED, NOT_DONE, UNKNOWN))

    def render(self) -> str:
        lines = [self.plan.render()]
        if not self.applied:
            if not self.plan.empty:
                lines.append("Nothing was changed. Run again with --apply to carry the plan out"
                             " (and --allow-delete to allow deletions).")
        elif self.outcomes:
            lines.append(f"Applied: {self.count(DONE)} done, {self.count(SKIPPED)} skipped (need --allow-delete), "
                         f"{self.count(FAILED)} failed, {self.count(UNKNOWN)} unknown, {self.count(NOT_DONE)} not done.")
            lines += [f"  {o}" for o in self.outcomes if o.status != DONE]
            if not self.ok:
                lines.append("Fix the failure and run again: the next plan starts from what the portal has now.")
        lines.append(f"REST requests: {self.requests}")
        return "\n".join(lines)


def provision(client: Bitrix24, workflows: list[Workflow], public_url: str, apply: bool = False,
              allow_delete: bool = False) -> Report:
    """Read the portal, plan, and (with ``apply``) carry the plan out."""
    start = client.request_count
    desired = desired_state(workflows, public_url)
    observed = observe(client, [t.entity_type_id for t in desired.types])
    plan = make_plan(desired, observed)
    if not apply:
        return Report(plan, False, (), client.request_count - start)
    outcomes = apply_plan(client, plan, desired, observed, allow_delete)
    return Report(plan, True, outcomes, client.request_count - start)


def rebind(client: Bitrix24, workflows: list[Workflow], public_url: str) -> Report:
    """On install/update: bind the app's events and widgets again (Bitrix24 drops them when an app is
    updated). Bindings belong to the app alone, so stale ones of the app are removed too."""
    start = client.request_count
    desired = desired_state(workflows, public_url)
    etids = [t.entity_type_id for t in desired.types]
    bindings, placements, present = observe_bindings(client, etids)
    missing = [e for e in etids if e not in present]
    if missing:
        # A widget of a type the portal does not have yet cannot be bound (ERROR_PLACEMENT_NOT_FOUND): bind
        # the events now and the widgets once `provision --apply` has created the types (it binds them too).
        log.warning("smart-process types %s are not on this portal yet: widgets not bound; run "
                    "`b24app provision --apply`", ", ".join(map(str, missing)))
        desired = replace(desired, placements=tuple(
            p for p in desired.placements if not any(f"_{e}_" in p.placement for e in missing)))
    plan = Plan(tuple(binding_changes(desired, ObservedState({}, bindings, placements))))
    outcomes = _run(client, list(plan.changes), _Ids(ObservedState({}, (), ())), allow_delete=True)
    return Report(plan, True, outcomes, client.request_count - start)


def apply_plan(client: Bitrix24, plan: Plan, desired: DesiredState, observed: ObservedState,
               allow_delete: bool) -> tuple[Outcome, ...]:
    type_changes = [c for c in plan.changes if c.kind == "type"]
    outcomes = _run(client, type_changes, _Ids(observed), allow_delete)
    if any(o.status != DONE for o in outcomes):
        rest = [c for c in plan.changes if c.kind != "type"]
        return outcomes + tuple(Outcome(c, NOT_DONE) for c in rest)
    rest = [c for c in plan.changes if c.kind != "type"]
    created = frozenset(c.entity_type_id for c in type_changes if c.action is Action.CREATE and c.entity_type_id)
    if created:
        observed = observe(client, [t.entity_type_id for t in desired.types])
        rest = [c for c in make_plan(desired, observed, created).changes if c.kind != "type"]
    return outcomes + _run(client, rest, _Ids(observed), allow_delete)


class _Ids:
    """Resolves the ids a change needs from what the portal reported."""

    def __init__(self, observed: ObservedState) -> None:
        self.types = observed.types

    def type_id(self, etid: int | None) -> int:
        current = self.types[int(etid or 0)]
        assert current.id is not None
        return current.id

    def stage_row(self, etid: int | None, suffix: str) -> int | None:
        return next((s.row_id for s in self.types[int(etid or 0)].stages if s.suffix == suffix), None)

    def stage_entity(self, etid: int | None) -> str:
        return f"DYNAMIC_{etid}_STAGE_{self.types[int(etid or 0)].category_id}"


def _commands(change: Change, ids: _Ids) -> list[Command]:
    kind, action, data, etid = change.kind, change.action, change.data, change.entity_type_id
    if kind == "type":
        if action is Action.CREATE:
            return [("crm.type.add", {"fields": data})]
        return [("crm.type.update", {"id": ids.type_id(etid), "fields": data})]
    if kind == "stage":
        if action is Action.CREATE:
            return [("crm.status.add", {"fields": {"ENTITY_ID": ids.stage_entity(etid), **data}})]
        row = ids.stage_row(etid, change.key)
        if action is Action.UPDATE:
            return [("crm.status.update", {"id": row, "fields": data})]
        return [("crm.status.delete", {"id": row})]
    if kind == "field":
        if action is Action.CREATE:
            type_id = ids.type_id(etid)
            field = {"entityId": f"CRM_{type_id}", "fieldName": field_name(type_id, change.key), **data["field"]}
            return [("userfieldconfig.add", {"moduleId": "crm", "field": field})]
        if action is Action.UPDATE:
            return [("userfieldconfig.update", {"moduleId": "crm", "id": data["id"], "field": data["field"]})]
        return [("userfieldconfig.delete", {"moduleId": "crm", "id": data["id"]})]
    if kind == "event":
        return [("event.bind" if action is Action.CREATE else "event.unbind", data)]
    unbind: Command = ("placement.unbind", {"PLACEMENT": data["PLACEMENT"], "HANDLER": data["HANDLER"]})
    bind: Command = ("placement.bind", data)
    return {Action.CREATE: [bind], Action.UPDATE: [unbind, bind], Action.DELETE: [unbind]}[action]


def _run(client: Bitrix24, changes: list[Change], ids: _Ids, allow_delete: bool) -> tuple[Outcome, ...]:
    outcomes: list[Outcome] = []
    todo = [c for c in changes if not (c.guarded and not allow_delete)]
    skipped = [Outcome(c, SKIPPED) for c in changes if c.guarded and not allow_delete]
    for chunk in _chunks(todo, ids):
        if any(o.status in (FAILED, UNKNOWN) for o in outcomes):
            outcomes += [Outcome(c, NOT_DONE) for c, _ in chunk]
            continue
        commands = {f"c{i}_{j}": cmd for i, (_, cmds) in enumerate(chunk) for j, cmd in enumerate(cmds)}
        try:
            result = client.batch(commands, halt=True)
        except RestError as exc:  # the request itself failed: what the portal did is not known
            outcomes += [Outcome(c, UNKNOWN, f"request failed ({exc}); run again to see") for c, _ in chunk]
            continue
        for i, (change, cmds) in enumerate(chunk):
            keys = [f"c{i}_{j}" for j in range(len(cmds))]
            errors = [result.errors[k] for k in keys if k in result.errors]
            if errors:
                outcomes.append(Outcome(change, FAILED, _describe_error(errors[0])))
            elif all(result.ok(k) for k in keys):
                outcomes.append(Outcome(change, DONE))
            else:
                outcomes.append(Outcome(change, NOT_DONE))
    return tuple(outcomes) + tuple(skipped)


def _chunks(changes: Iterable[Change], ids: _Ids) -> list[list[tuple[Change, list[Command]]]]:
    chunks: list[list[tuple[Change, list[Command]]]] = [[]]
    size = 0
    for change in changes:
        cmds = _commands(change, ids)
        if size + len(cmds) > BATCH_SIZE:
            chunks.append([])
            size = 0
        chunks[-1].append((change, cmds))
        size += len(cmds)
    return [c for c in chunks if c]


def _describe_error(error: Mapping[str, Any]) -> str:
    code, text = error.get("error", ""), error.get("error_description", "")
    return f"{code}: {text}".strip(": ") or "the portal refused the change"
