"""The plan: a pure diff of desired against observed state, as an ordered list of changes.

Objects are matched by stable keys only — a type by ``entityTypeId``, a stage by the suffix of its
``STATUS_ID``, a user field by its name, a binding by event + handler, a widget by placement + handler
— never by title. Deletions are marked ``guarded`` (they need ``--allow-delete``) except the default
stages of a type this run creates. Ids are not in the plan: ``apply`` resolves them when it runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from b24app.provisioning.desired import (
    TASK_BINDING,
    DesiredField,
    DesiredPlacement,
    DesiredStage,
    DesiredState,
    DesiredType,
)
from b24app.provisioning.observed import ObservedField, ObservedStage, ObservedState, ObservedType


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


SIGNS = {Action.CREATE: "+", Action.UPDATE: "~", Action.DELETE: "-"}


@dataclass(frozen=True)
class Change:
    action: Action
    kind: str                      # "type" | "stage" | "field" | "event" | "placement"
    target: str                    # readable name, e.g. "payment_requests/HEAD_APPROVAL"
    details: tuple[str, ...] = ()
    guarded: bool = False          # a deletion that needs --allow-delete
    entity_type_id: int | None = None
    key: str = ""                  # stage suffix, field code, event or placement code
    data: Mapping[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        text = f"{SIGNS[self.action]} {self.kind} {self.target}"
        if self.details:
            text += ": " + "; ".join(self.details)
        return text + ("  [needs --allow-delete]" if self.guarded else "")


@dataclass(frozen=True)
class Plan:
    changes: tuple[Change, ...]

    @property
    def empty(self) -> bool:
        return not self.changes

    def render(self) -> str:
        if self.empty:
            return "No changes: the portal matches the workflows."
        counts = {a: sum(1 for c in self.changes if c.action is a) for a in Action}
        head = f"Plan: {counts[Action.CREATE]} to create, {counts[Action.UPDATE]} to update, " \
               f"{counts[Action.DELETE]} to delete"
        return "\n".join([head, *(f"  {change}" for change in self.changes)])


def make_plan(desired: DesiredState, observed: ObservedState, fresh: frozenset[int] = frozenset()) -> Plan:
    """``fresh``: entityTypeIds of types this run has just created (their default stages go freely)."""
    changes: list[Change] = []
    for spec in desired.types:
        current = observed.types.get(spec.entity_type_id)
        if current is None:
            changes.append(_create_type(spec))
        else:
            changes.extend(_update_type(spec, current))
        changes.extend(type_contents(spec, current or ObservedType.assumed_new(spec.entity_type_id),
                                     fresh=current is None or spec.entity_type_id in fresh))
    changes.extend(binding_changes(desired, observed))
    return Plan(tuple(changes))


def type_contents(spec: DesiredType, current: ObservedType, fresh: bool) -> list[Change]:
    """Stage and field changes of one type; ``fresh`` means the type is created by this run."""
    return _stages(spec, current, fresh) + _fields(spec, current)


def binding_changes(desired: DesiredState, observed: ObservedState) -> list[Change]:
    changes: list[Change] = []
    wanted = {(b.event, b.handler if not b.offline else "", b.offline): b for b in desired.bindings}
    have = {(b.event, b.handler if not b.offline else "", b.offline) for b in observed.bindings}
    for key in have - wanted.keys():
        event, handler, offline = key
        changes.append(Change(Action.DELETE, "event", f"{event} (offline)" if offline else f"{event} -> {handler}",
                              guarded=True, key=event, data=_binding_params(event, handler, offline)))
    for key, binding in wanted.items():
        if key not in have:
            changes.append(Change(Action.CREATE, "event", binding.key, key=binding.event,
                                  data=_binding_params(binding.event, binding.handler, binding.offline)))
    changes.extend(_placements(desired.placements, observed))
    return changes


def _binding_params(event: str, handler: str, offline: bool) -> dict[str, Any]:
    params: dict[str, Any] = {"event": event, "handler": handler}
    if offline:
        params["event_type"] = "offline"
    return params


def _placements(desired: tuple[DesiredPlacement, ...], observed: ObservedState) -> list[Change]:
    changes: list[Change] = []
    have = {(p.placement, p.handler): p for p in observed.placements}
    wanted = {(p.placement, p.handler): p for p in desired}
    for (code, handler) in have.keys() - wanted.keys():
        changes.append(Change(Action.DELETE, "placement", f"{code} -> {handler}", guarded=True, key=code,
                              data={"PLACEMENT": code, "HANDLER": handler}))
    for key, spec in wanted.items():
        bind = {"PLACEMENT": spec.placement, "HANDLER": spec.handler, "TITLE": spec.title,
                "LANG_ALL": {"ru": {"TITLE": spec.title}, "en": {"TITLE": spec.title_en}}}
        if key not in have:
            changes.append(Change(Action.CREATE, "placement", f"{spec.placement} -> {spec.handler}",
                                  (f"title «{spec.title}»",), key=spec.placement, data=bind))
        elif have[key].title != spec.title:
            changes.append(Change(Action.UPDATE, "placement", f"{spec.placement} -> {spec.handler}",
                                  (f"title {have[key].title!r} -> {spec.title!r} (re-bound)",), key=spec.placement,
                                  data=bind))
    return changes


def _type_fields(spec: DesiredType, flags: Mapping[str, str]) -> dict[str, Any]:
    fields: dict[str, Any] = {k: v for k, v in flags.items() if not k.startswith("linkedUserFields")}
    if f"linkedUserFields[{TASK_BINDING}]" in flags:
        fields["isUseInUserfieldEnabled"] = "Y"
        fields["linkedUserFields"] = {TASK_BINDING: "true"}
    return fields


def _create_type(spec: DesiredType) -> Change:
    data = {"entityTypeId": spec.entity_type_id, **_type_fields(spec, spec.flags)}
    if spec.parents:
        data["relations"] = {"parent": [{"entityTypeId": p, "isChildrenListEnabled": "true"} for p in spec.parents]}
    details = (f"entityTypeId {spec.entity_type_id}", f"title «{spec.title}»")
    return Change(Action.CREATE, "type", spec.code, details, entity_type_id=spec.entity_type_id, data=data)


def _update_type(spec: DesiredType, current: ObservedType) -> list[Change]:
    changed = {k: v for k, v in spec.flags.items() if current.flags.get(k) != v}
    details = [f"{k}: {current.flags.get(k)!r} -> {v!r}" for k, v in changed.items()]
    data = _type_fields(spec, changed)
    missing = [p for p in spec.parents if p not in current.parents]
    if missing:
        parents = sorted(set(current.parents) | set(spec.parents))
        data["relations"] = {"parent": [{"entityTypeId": p, "isChildrenListEnabled": "true"} for p in parents]}
        details.append("parent link to " + ", ".join(str(p) for p in missing))
    if not data:
        return []
    ours = {f.code for f in spec.fields}
    if "title" in changed and not any(f.field_name.rpartition(f"_{current.id}_")[2] in ours for f in current.fields):
        details.append(f"WARNING: type {spec.entity_type_id} has none of this workflow's fields — is it another "
                       "process? If so, choose a free entity_type_id in the workflow")
    return [Change(Action.UPDATE, "type", spec.code, tuple(details), entity_type_id=spec.entity_type_id, data=data)]


def _stages(spec: DesiredType, current: ObservedType, fresh: bool) -> list[Change]:
    have = {s.suffix: s for s in current.stages}
    wanted = {s.suffix: s for s in spec.stages}
    deletes, updates, creates = [], [], []
    for extra in [s for s in current.stages if s.suffix not in wanted]:
        why = "default stage of the new type" if fresh else f"not in the workflow: «{extra.name}»"
        deletes.append(_stage_change(Action.DELETE, spec, extra.suffix, (why,), guarded=not fresh))
    for stage in spec.stages:
        old = have.get(stage.suffix)
        if old is None:
            creates.append(_stage_change(Action.CREATE, spec, stage.suffix, _describe(stage), _stage_fields(stage)))
        elif (old.semantics or None) != stage.semantics:
            details = (f"semantics {old.semantics!r} -> {stage.semantics!r} cannot be changed: re-created",)
            deletes.append(_stage_change(Action.DELETE, spec, stage.suffix, details, guarded=True))
            creates.append(_stage_change(Action.CREATE, spec, stage.suffix, _describe(stage), _stage_fields(stage)))
        else:
            diff = _stage_diff(stage, old)
            if diff:
                updates.append((stage.sort, _stage_change(Action.UPDATE, spec, stage.suffix, tuple(diff),
                                                          {k: _stage_fields(stage)[k] for k in _keys(diff)})))
    # Deletions first, then moves to later positions first, so the order rules hold at every step.
    ordered_updates = [c for _, c in sorted(updates, key=lambda pair: -pair[0])]
    return deletes + ordered_updates + creates


def _stage_change(action: Action, spec: DesiredType, suffix: str, details: tuple[str, ...],
                  data: Mapping[str, Any] | None = None, guarded: bool = False) -> Change:
    code = next((s.code for s in spec.stages if s.suffix == suffix), suffix)
    target = f"{spec.code}/{code}" + (f" ({suffix})" if code != suffix else "")
    return Change(action, "stage", target, details, guarded, spec.entity_type_id, suffix, data or {})


def _stage_fields(stage: DesiredStage) -> dict[str, Any]:
    fields: dict[str, Any] = {"STATUS_ID": stage.suffix, "NAME": stage.name, "SORT": stage.sort, "COLOR": stage.color}
    if stage.semantics:
        fields["SEMANTICS"] = stage.semantics
    return fields


def _describe(stage: DesiredStage) -> tuple[str, ...]:
    kind = {"S": ", success", "F": ", failure"}.get(stage.semantics or "", "")
    return (f"«{stage.name}» (sort {stage.sort}, {stage.color}{kind})",)


def _stage_diff(stage: DesiredStage, old: ObservedStage) -> list[str]:
    pairs = (("NAME", old.name, stage.name), ("SORT", old.sort, stage.sort), ("COLOR", old.color, stage.color))
    return [f"{key} {before!r} -> {after!r}" for key, before, after in pairs if before != after]


def _keys(diff: list[str]) -> list[str]:
    return [line.split(" ", 1)[0] for line in diff]


def _fields(spec: DesiredType, current: ObservedType) -> list[Change]:
    prefix = f"UF_CRM_{current.id}_" if current.id is not None else None
    have = {f.field_name.removeprefix(prefix): f for f in current.fields} if prefix else {}
    wanted = {f.code: f for f in spec.fields}
    deletes, updates, creates = [], [], []
    for code in [c for c in have if c not in wanted]:
        deletes.append(_field_change(Action.DELETE, spec, code, (f"not in the workflow ({have[code].user_type_id})",),
                                     {"id": have[code].id}, guarded=True))
    for desired in spec.fields:
        old = have.get(desired.code)
        if old is not None and (old.user_type_id, old.multiple) != (desired.user_type_id, desired.multiple):
            why = f"type {old.user_type_id}/{old.multiple} -> {desired.user_type_id}/{desired.multiple}: re-created, " \
                  "its values are lost"
            deletes.append(_field_change(Action.DELETE, spec, desired.code, (why,), {"id": old.id}, guarded=True))
            old = None
        if old is None:
            creates.append(_field_change(Action.CREATE, spec, desired.code, _field_summary(desired),
                                         _field_create(desired)))
            continue
        diff, data = _field_diff(desired, old)
        if diff:
            updates.append(_field_change(Action.UPDATE, spec, desired.code, tuple(diff), {"id": old.id, "field": data}))
    return deletes + updates + creates


def _field_change(action: Action, spec: DesiredType, code: str, details: tuple[str, ...], data: Mapping[str, Any],
                  guarded: bool = False) -> Change:
    return Change(action, "field", f"{spec.code}/{code}", details, guarded, spec.entity_type_id, code, data)


def _field_summary(desired: DesiredField) -> tuple[str, ...]:
    multiple = ", multiple" if desired.multiple == "Y" else ""
    values = f", {len(desired.enum)} values" if desired.enum else ""
    return (f"{desired.user_type_id}{multiple}{values} «{desired.label_ru}» / {desired.label_en!r}",)


def _field_create(desired: DesiredField) -> dict[str, Any]:
    field_data: dict[str, Any] = {
        "userTypeId": desired.user_type_id, "xmlId": desired.code, "sort": desired.sort,
        "multiple": desired.multiple, "mandatory": desired.mandatory, "showFilter": "Y", "isSearchable": "N",
        "editInList": desired.edit_in_list,  # fixed at creation: userfieldconfig.update cannot change it (§6.4)
        "editFormLabel": {"ru": desired.label_ru, "en": desired.label_en},
    }
    if desired.settings:
        field_data["settings"] = dict(desired.settings)
    if desired.enum:
        field_data["enum"] = [{"value": v, "xmlId": x, "sort": s, "def": "N"} for x, v, s in desired.enum]
    return {"field": field_data}


def _field_diff(desired: DesiredField, old: ObservedField) -> tuple[list[str], dict[str, Any]]:
    diff: list[str] = []
    data: dict[str, Any] = {}
    if (old.label_ru, old.label_en) != (desired.label_ru, desired.label_en):
        diff.append(f"label {old.label_ru!r}/{old.label_en!r} -> {desired.label_ru!r}/{desired.label_en!r}")
        data["editFormLabel"] = {"ru": desired.label_ru, "en": desired.label_en}
    if old.mandatory != desired.mandatory:
        diff.append(f"mandatory {old.mandatory} -> {desired.mandatory}")
        data["mandatory"] = desired.mandatory
    if old.sort != desired.sort:
        diff.append(f"sort {old.sort} -> {desired.sort}")
        data["sort"] = desired.sort
    wrong = {k: v for k, v in desired.settings.items() if str(old.settings.get(k, "")) != v}
    if wrong:
        diff.append("settings " + ", ".join(f"{k}={v}" for k, v in wrong.items()))
        data["settings"] = {**{k: v for k, v in old.settings.items()}, **desired.settings}
    enum_diff, enum = _enum_diff(desired, old)
    if enum_diff:
        diff.extend(enum_diff)
        data["userTypeId"], data["enum"] = "enumeration", enum
    return diff, data


def _enum_diff(desired: DesiredField, old: ObservedField) -> tuple[list[str], list[dict[str, Any]]]:
    have = {e.xml_id: e for e in old.enum}
    diff = [f"list value {x} «{v}»" + (" added" if x not in have else " changed")
            for x, v, s in desired.enum if x not in have or (have[x].value, have[x].sort) != (v, s)]
    wanted = {x for x, _, _ in desired.enum}
    # Values no longer configured are kept (old items keep their value); the list is sent whole.
    enum = [{"id": have[x].id, "value": v, "xmlId": x, "sort": s} if x in have else {"value": v, "xmlId": x, "sort": s}
            for x, v, s in desired.enum]
    enum += [{"id": e.id, "value": e.value, "xmlId": e.xml_id, "sort": e.sort} for e in old.enum if e.xml_id not in wanted]
    return diff, enum
