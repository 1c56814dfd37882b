"""The plan is a pure diff: desired state (from the real workflows) against hand-built observed states."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from b24app.checks import load_definitions
from b24app.provisioning.desired import DesiredState, desired_state
from b24app.provisioning.observed import (
    ObservedBinding,
    ObservedEnum,
    ObservedField,
    ObservedPlacement,
    ObservedStage,
    ObservedState,
    ObservedType,
)
from b24app.provisioning.plan import Action, Change, Plan, make_plan
from b24app.workflow.models import Workflow

ROOT = Path(__file__).resolve().parents[2]
URL = "https://app.example.com"
PR, CT = 1100, 1102  # entityTypeIds of payment_requests and contracts in workflows/
TYPE_IDS = {PR: 7, CT: 8}


@pytest.fixture(scope="module")
def workflows() -> list[Workflow]:
    return load_definitions(ROOT / "config", ROOT / "workflows")[1]


@pytest.fixture(scope="module")
def desired(workflows: list[Workflow]) -> DesiredState:
    return desired_state(workflows, URL)


def converged(desired: DesiredState) -> ObservedState:
    """What the portal holds after a successful apply."""
    types = {}
    for spec in desired.types:
        type_id = TYPE_IDS[spec.entity_type_id]
        stages = tuple(
            ObservedStage(100 + i, f"DT{spec.entity_type_id}_5:{s.suffix}", s.suffix, s.name, s.sort, s.color,
                          s.semantics, s.suffix in ("NEW", "SUCCESS", "FAIL"))
            for i, s in enumerate(spec.stages))
        fields = tuple(
            ObservedField(500 + i, f"UF_CRM_{type_id}_{f.code}", f.user_type_id, f.multiple, f.mandatory, f.label_ru,
                          f.label_en, f.sort, {**f.settings, "SIZE": "20"},
                          tuple(ObservedEnum(900 + j, x, v, s) for j, (x, v, s) in enumerate(f.enum)))
            for i, f in enumerate(spec.fields))
        flags = dict(spec.flags) | {"isClientEnabled": "N"}
        types[spec.entity_type_id] = ObservedType(type_id, spec.entity_type_id, flags, (*spec.parents, 3), 5,
                                                  stages, fields)
    bindings = tuple(ObservedBinding(b.event, b.handler, b.offline) for b in desired.bindings)
    placements = tuple(ObservedPlacement(p.placement, p.handler, p.title) for p in desired.placements)
    return ObservedState(types, bindings, placements)


def with_type(observed: ObservedState, etid: int, **changes: object) -> ObservedState:
    types = dict(observed.types)
    types[etid] = replace(types[etid], **changes)  # type: ignore[arg-type]
    return replace(observed, types=types)


def only(plan: Plan) -> Change:
    assert len(plan.changes) == 1, plan.render()
    return plan.changes[0]


def test_fresh_portal_creates_everything_parents_first(desired: DesiredState) -> None:
    plan = make_plan(desired, ObservedState({}, (), ()))
    types = [c for c in plan.changes if c.kind == "type"]
    assert [(c.action, c.target) for c in types] == [(Action.CREATE, "contracts"), (Action.CREATE, "payment_requests")]
    created = types[1].data
    assert created["entityTypeId"] == PR and created["title"] == "Согласование заявок на оплату"
    assert created["linkedUserFields"] == {"TASKS_TASK|UF_CRM_TASK": "true"}
    assert (created["isUseInUserfieldEnabled"], created["isObserversEnabled"], created["isSetOpenPermissions"],
            created["isStagesEnabled"]) == ("Y", "Y", "N", "Y")
    assert created["relations"] == {"parent": [{"entityTypeId": CT, "isChildrenListEnabled": "true"}]}
    stages = [(c.action, c.key) for c in plan.changes if c.kind == "stage" and c.entity_type_id == PR]
    # System stages are reused and renamed; the two other default stages are removed without the flag.
    assert (Action.UPDATE, "NEW") in stages and (Action.UPDATE, "SUCCESS") in stages and (Action.UPDATE, "FAIL") in stages
    assert {k for a, k in stages if a is Action.DELETE} == {"PREPARATION", "CLIENT"}
    assert not any(c.guarded for c in plan.changes)
    assert {k for a, k in stages if a is Action.CREATE} == {
        "HEAD_APPROVAL", "FINANCE_REVIEW", "PAYMENT", "FROZEN", "DOCS_REQUESTED"}
    assert len([c for c in plan.changes if c.kind == "event"]) == 13  # 6 online + ONAPPUNINSTALL + 6 offline
    assert sorted(c.key for c in plan.changes if c.kind == "placement") == [
        "CRM_DYNAMIC_1100_DETAIL_TAB", "CRM_DYNAMIC_1102_DETAIL_TAB", "TASK_VIEW_TAB"]


def test_stage_order_keeps_success_and_failure_last(desired: DesiredState) -> None:
    spec = next(t for t in desired.types if t.entity_type_id == PR)
    assert [s.code for s in spec.stages][-2:] == ["PAID", "REJECTED"]
    assert [s.suffix for s in spec.stages][-2:] == ["SUCCESS", "FAIL"]
    assert [s.sort for s in spec.stages] == sorted(s.sort for s in spec.stages)
    plan = make_plan(desired, ObservedState({}, (), ()))
    ops = [c for c in plan.changes if c.kind == "stage" and c.entity_type_id == PR]
    kinds = [c.action for c in ops]
    assert kinds == sorted(kinds, key=[Action.DELETE, Action.UPDATE, Action.CREATE].index)
    updates = [c.data["SORT"] for c in ops if c.action is Action.UPDATE]
    assert updates == sorted(updates, reverse=True)  # FAIL moves back first, then SUCCESS, then NEW


def test_converged_portal_gives_an_empty_plan(desired: DesiredState) -> None:
    plan = make_plan(desired, converged(desired))
    assert plan.empty, plan.render()
    assert plan.render() == "No changes: the portal matches the workflows."


def test_renamed_stage_is_exactly_one_update(desired: DesiredState) -> None:
    observed = converged(desired)
    stages = tuple(replace(s, name="Руководитель") if s.suffix == "HEAD_APPROVAL" else s
                   for s in observed.types[PR].stages)
    change = only(make_plan(desired, with_type(observed, PR, stages=stages)))
    assert (change.action, change.kind, change.key) == (Action.UPDATE, "stage", "HEAD_APPROVAL")
    assert change.data == {"NAME": "Согласование руководителем"}
    assert "'Руководитель' -> 'Согласование руководителем'" in str(change)


def test_deleted_field_is_exactly_one_create(desired: DesiredState) -> None:
    observed = converged(desired)
    fields = tuple(f for f in observed.types[CT].fields if not f.field_name.endswith("_SUBJECT"))
    change = only(make_plan(desired, with_type(observed, CT, fields=fields)))
    assert (change.action, change.kind, change.key) == (Action.CREATE, "field", "SUBJECT")
    assert change.data["field"]["editFormLabel"] == {"ru": "Предмет договора", "en": "Subject"}
    assert change.data["field"]["userTypeId"] == "string" and change.data["field"]["settings"] == {"ROWS": "4"}


def test_extra_stage_is_a_guarded_delete(desired: DesiredState) -> None:
    observed = converged(desired)
    extra = ObservedStage(999, "DT1100_5:EXTRA", "EXTRA", "Лишняя", 150, "#000000", None, False)
    change = only(make_plan(desired, with_type(observed, PR, stages=(*observed.types[PR].stages, extra))))
    assert (change.action, change.key, change.guarded) == (Action.DELETE, "EXTRA", True)
    assert "needs --allow-delete" in str(change)


def test_type_is_matched_by_entity_type_id_not_title(desired: DesiredState) -> None:
    observed = converged(desired)
    flags = dict(observed.types[PR].flags) | {"title": "Заявки"}
    change = only(make_plan(desired, with_type(observed, PR, flags=flags)))
    assert (change.action, change.kind, change.data) == (Action.UPDATE, "type", {"title": "Согласование заявок на оплату"})


def test_task_binding_flag_and_missing_parent_link_are_updated(desired: DesiredState) -> None:
    observed = converged(desired)
    flags = dict(observed.types[PR].flags) | {"linkedUserFields[TASKS_TASK|UF_CRM_TASK]": "N"}
    change = only(make_plan(desired, with_type(observed, PR, flags=flags, parents=(3,))))
    assert change.data["linkedUserFields"] == {"TASKS_TASK|UF_CRM_TASK": "true"}
    assert change.data["isUseInUserfieldEnabled"] == "Y"
    # Relations are replaced wholesale on update: the existing link (3) is kept.
    assert change.data["relations"]["parent"] == [{"entityTypeId": 3, "isChildrenListEnabled": "true"},
                                                  {"entityTypeId": CT, "isChildrenListEnabled": "true"}]


def test_field_of_another_type_is_recreated_only_with_the_flag(desired: DesiredState) -> None:
    observed = converged(desired)
    fields = tuple(replace(f, user_type_id="string") if f.field_name.endswith("_INVOICE_DATE") else f
                   for f in observed.types[PR].fields)
    plan = make_plan(desired, with_type(observed, PR, fields=fields))
    assert [(c.action, c.key, c.guarded) for c in plan.changes] == [
        (Action.DELETE, "INVOICE_DATE", True), (Action.CREATE, "INVOICE_DATE", False)]


def test_new_list_value_keeps_existing_ids(desired: DesiredState) -> None:
    observed = converged(desired)
    fields = tuple(replace(f, enum=f.enum[1:]) if f.field_name.endswith("_EXPENSE_ITEM") else f
                   for f in observed.types[PR].fields)
    change = only(make_plan(desired, with_type(observed, PR, fields=fields)))
    enum = change.data["field"]["enum"]
    assert change.data["field"]["userTypeId"] == "enumeration"
    assert enum[0] == {"value": "Сырьё и материалы", "xmlId": "RAW_MATERIALS", "sort": 10}
    assert all("id" in e for e in enum[1:])


def test_label_drift_is_an_update_of_the_label_only(desired: DesiredState) -> None:
    observed = converged(desired)
    fields = tuple(replace(f, label_en="Sum") if f.field_name.endswith("_AMOUNT") else f
                   for f in observed.types[CT].fields)
    change = only(make_plan(desired, with_type(observed, CT, fields=fields)))
    assert change.data == {"id": change.data["id"], "field": {"editFormLabel": {"ru": "Сумма договора",
                                                                                "en": "Contract amount"}}}


def test_moved_public_url_rebinds_and_guards_the_old_bindings(workflows: list[Workflow],
                                                              desired: DesiredState) -> None:
    moved = desired_state(workflows, "https://new.example.com/")
    plan = make_plan(moved, converged(desired))
    events = [c for c in plan.changes if c.kind == "event"]
    assert len([c for c in events if c.action is Action.CREATE]) == 7  # offline bindings have no URL
    assert all(c.guarded for c in events if c.action is Action.DELETE)
    assert {c.data["handler"] for c in events if c.action is Action.CREATE} == {"https://new.example.com/b24/events"}
    assert len([c for c in plan.changes if c.kind == "placement" and c.action is Action.CREATE]) == 3


def test_render_lists_every_change_with_its_sign(desired: DesiredState) -> None:
    text = make_plan(desired, ObservedState({}, (), ())).render()
    assert text.startswith("Plan: ")
    assert "+ type payment_requests: entityTypeId 1100; title «Согласование заявок на оплату»" in text
    assert "~ stage payment_requests/PAID (SUCCESS): NAME 'Success' -> 'Оплачено'" in text
    assert "- stage payment_requests/PREPARATION: default stage of the new type" in text


def test_adopting_a_foreign_type_is_flagged(desired: DesiredState) -> None:
    observed = converged(desired)
    flags = dict(observed.types[CT].flags) | {"title": "Склад"}
    plan = make_plan(desired, with_type(observed, CT, flags=flags, fields=()))
    change = next(c for c in plan.changes if c.kind == "type")
    assert "WARNING: type 1102 has none of this workflow's fields" in str(change)
    renamed = make_plan(desired, with_type(observed, CT, flags=flags))  # its fields are there: no warning
    assert "WARNING" not in renamed.render()
