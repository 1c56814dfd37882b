"""The portal state the workflows ask for: types, stages, user fields, event bindings and widgets.

Pure: built from :class:`~b24app.workflow.models.Workflow` values and the app's public URL. Values are
already in the portal's vocabulary ("Y"/"N", UPPER_CASE stage keys, userTypeId) so the plan compares
like with like.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from b24app.texts.decisions import WIDGET_TITLE
from b24app.workflow.models import Field, FieldType, Semantics, Stage, Workflow

EVENTS = ("ONCRMDYNAMICITEMADD", "ONCRMDYNAMICITEMUPDATE", "ONCRMDYNAMICITEMDELETE",
          "ONTASKADD", "ONTASKUPDATE", "ONTASKDELETE")
EVENTS_PATH = "/b24/events"
#: App lifecycle events bound online only.
APP_EVENTS = ("ONAPPUNINSTALL",)
PLACEMENT_PATH = "/b24/placement"
TASK_BINDING = "TASKS_TASK|UF_CRM_TASK"
# What a new smart-process funnel starts with (REFERENCE §5.2): suffix -> (system, semantics).
DEFAULT_STAGES = (("NEW", True, None), ("PREPARATION", False, None), ("CLIENT", False, None),
                  ("SUCCESS", True, "S"), ("FAIL", True, "F"))


@dataclass(frozen=True)
class DesiredStage:
    code: str          # the YAML stage code
    suffix: str        # the part after "DT{etid}_{cat}:" on the portal
    name: str
    sort: int
    color: str
    semantics: str | None  # None (in progress), "S" or "F"


@dataclass(frozen=True)
class DesiredField:
    code: str                    # YAML code = suffix of UF_CRM_{typeId}_{CODE}
    user_type_id: str
    multiple: str
    mandatory: str
    label_ru: str
    label_en: str
    sort: int
    settings: Mapping[str, str] = field(default_factory=dict)
    enum: tuple[tuple[str, str, int], ...] = ()  # (xmlId, value, sort)
    #: "N" for the fields the app fills (the approval log, the current approver...): not editable in the
    #: list view. Cosmetic only — the card and the REST API still write them; the app verifies what it reads.
    edit_in_list: str = "Y"


@dataclass(frozen=True)
class DesiredType:
    code: str
    entity_type_id: int
    title: str
    flags: Mapping[str, str]
    parents: tuple[int, ...]
    stages: tuple[DesiredStage, ...]
    fields: tuple[DesiredField, ...]


@dataclass(frozen=True)
class DesiredBinding:
    event: str
    handler: str   # "" for an offline binding
    offline: bool

    @property
    def key(self) -> str:
        return f"{self.event} (offline)" if self.offline else f"{self.event} -> {self.handler}"


@dataclass(frozen=True)
class DesiredPlacement:
    placement: str
    handler: str
    title: str
    title_en: str


@dataclass(frozen=True)
class DesiredState:
    types: tuple[DesiredType, ...]
    bindings: tuple[DesiredBinding, ...]
    placements: tuple[DesiredPlacement, ...]


def desired_state(workflows: list[Workflow], public_url: str) -> DesiredState:
    by_code = {w.code: w for w in workflows}
    ordered = _parents_first(workflows)
    types = tuple(_type(w, by_code) for w in ordered)
    return DesiredState(types, desired_bindings(public_url), desired_placements(workflows, public_url))


def desired_bindings(public_url: str) -> tuple[DesiredBinding, ...]:
    """Online and offline bindings of :data:`EVENTS`, plus ``ONAPPUNINSTALL`` online (the portal sends it only
    to handlers bound to it; re-bound on every install with the rest)."""
    handler = public_url.rstrip("/") + EVENTS_PATH
    online = (*EVENTS, *APP_EVENTS)
    return tuple(DesiredBinding(event, handler, False) for event in online) + tuple(
        DesiredBinding(event, "", True) for event in EVENTS
    )


def desired_placements(workflows: list[Workflow], public_url: str) -> tuple[DesiredPlacement, ...]:
    handler = public_url.rstrip("/") + PLACEMENT_PATH
    codes = [f"CRM_DYNAMIC_{w.type.entity_type_id}_DETAIL_TAB" for w in _parents_first(workflows)]
    return tuple(DesiredPlacement(code, handler, *WIDGET_TITLE)
                 for code in [*codes, "TASK_VIEW_TAB"])


def stage_suffixes(workflow: Workflow) -> dict[str, str]:
    """YAML stage code -> portal suffix: the portal's system stages carry the initial, success and
    first failure stage (they cannot be deleted, so they are reused and renamed)."""
    failures = workflow.failure_stages
    suffixes = {}
    for stage in workflow.stages:
        if stage.initial:
            suffixes[stage.code] = "NEW"
        elif stage.semantics is Semantics.SUCCESS:
            suffixes[stage.code] = "SUCCESS"
        elif failures and stage == failures[0]:
            suffixes[stage.code] = "FAIL"
        else:
            suffixes[stage.code] = stage.code
    return suffixes


def field_name(type_id: int, code: str) -> str:
    return f"UF_CRM_{type_id}_{code}"


def _parents_first(workflows: list[Workflow]) -> list[Workflow]:
    by_code = {w.code: w for w in workflows}
    ordered: list[Workflow] = []

    def visit(workflow: Workflow, path: tuple[str, ...]) -> None:
        if workflow in ordered or workflow.code in path:
            return
        for parent in workflow.type.parents:
            if parent in by_code:
                visit(by_code[parent], (*path, workflow.code))
        ordered.append(workflow)

    for workflow in workflows:
        visit(workflow, ())
    return ordered


def _type(workflow: Workflow, by_code: Mapping[str, Workflow]) -> DesiredType:
    spec = workflow.type
    flags = {
        "title": workflow.title.ru,
        "isStagesEnabled": "Y",
        "isUseInUserfieldEnabled": "Y",
        "isObserversEnabled": "Y",
        "isSetOpenPermissions": "N",
        "isAutomationEnabled": _yn(spec.automation),
        "isBizProcEnabled": _yn(spec.bizproc),
        "isRecyclebinEnabled": _yn(spec.recycle_bin),
        f"linkedUserFields[{TASK_BINDING}]": "Y",
    }
    parents = tuple(by_code[p].type.entity_type_id for p in spec.parents if p in by_code)
    return DesiredType(workflow.code, spec.entity_type_id, workflow.title.ru, flags, parents,
                       _stages(workflow), tuple(_field(f, index) for index, f in enumerate(workflow.fields, 1)))


def _stages(workflow: Workflow) -> tuple[DesiredStage, ...]:
    suffixes = stage_suffixes(workflow)
    ordered = [s for s in workflow.stages if not s.final] + [workflow.success_stage, *workflow.failure_stages]
    return tuple(_stage(stage, suffixes[stage.code], index * 100) for index, stage in enumerate(ordered, 1))


def _stage(stage: Stage, suffix: str, sort: int) -> DesiredStage:
    semantics = {Semantics.SUCCESS: "S", Semantics.FAILURE: "F"}.get(stage.semantics)
    return DesiredStage(stage.code, suffix, stage.name.ru, sort, stage.color.upper(), semantics)


def _field(spec: Field, index: int) -> DesiredField:
    user_type = "string" if spec.type is FieldType.TEXT else spec.type.value
    settings: dict[str, str] = {}
    if spec.type is FieldType.TEXT:
        settings["ROWS"] = "4"
    if spec.type is FieldType.CRM:
        settings.update({entity: "Y" for entity in spec.crm_entities})
    if spec.type is FieldType.ENUMERATION:
        settings["DISPLAY"] = "LIST"
    enum = tuple((value.code, value.name.ru, position * 10) for position, value in enumerate(spec.values, 1))
    # "required" is enforced by the app before the first step (the item must be savable as a draft),
    # so the portal field itself is never mandatory.
    return DesiredField(spec.code, user_type, _yn(spec.multiple), "N", spec.label.ru, spec.label.en,
                        index * 100, settings, enum, edit_in_list=_yn(not spec.app_filled))


def _yn(flag: bool) -> str:
    return "Y" if flag else "N"
