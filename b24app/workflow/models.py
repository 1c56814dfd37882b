"""The validated shape of a workflow file: frozen values, no I/O.

``b24app.workflow.loader`` builds these from ``workflows/*.yaml``; the engine, the escalation sweep and
provisioning read them. Behaviour is referenced by name (``RuleRef``, ``ActorRule``) and looked up in
``b24app.workflow.rules``; nothing here is evaluated.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


@dataclass(frozen=True)
class Label:
    """A staff-facing text: Russian by default, English alongside."""

    ru: str
    en: str

    def get(self, language: str = "ru") -> str:
        return self.en if language == "en" else self.ru


@dataclass(frozen=True)
class Duration:
    """A span such as "4 working hours" or "2 working days + 1 working hour" (as written in YAML)."""

    days: int = 0
    hours: int = 0
    minutes: int = 0
    working: bool = True
    text: str = ""

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class RuleRef:
    """A named rule from the code registry with its parameters (``{rule: amount_at_least, amount: 1}``)."""

    name: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ActorRule:
    """Who acts: a named actor rule (``initiator_department_head``) or a role (``role:finance_manager``)."""

    name: str
    role: str | None = None

    @classmethod
    def parse(cls, text: str) -> ActorRule:
        if text.startswith("role:"):
            return cls("role", text.removeprefix("role:"))
        return cls(text)

    def __str__(self) -> str:
        return f"role:{self.role}" if self.role is not None else self.name


class FieldType(StrEnum):
    STRING = "string"
    TEXT = "text"
    INTEGER = "integer"
    DOUBLE = "double"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"
    MONEY = "money"
    ENUMERATION = "enumeration"
    FILE = "file"
    EMPLOYEE = "employee"
    CRM = "crm"
    URL = "url"


@dataclass(frozen=True)
class EnumValue:
    """One value of a list field; ``code`` is its stable key (the portal's XML_ID)."""

    code: str
    name: Label


@dataclass(frozen=True)
class Field:
    """A user field of the smart process. ``required`` is enforced by the app before the first step."""

    code: str
    type: FieldType
    label: Label
    required: bool = False
    multiple: bool = False
    app_filled: bool = False
    values: tuple[EnumValue, ...] = ()
    crm_entities: tuple[str, ...] = ()
    currency: str | None = None
    #: at least one field of the group must be filled (``required_one_of: counterparty``)
    one_of: str | None = None


class Semantics(StrEnum):
    PROCESS = "process"
    SUCCESS = "success"
    FAILURE = "failure"


@dataclass(frozen=True)
class Stage:
    code: str
    name: Label
    color: str
    semantics: Semantics = Semantics.PROCESS
    initial: bool = False
    pause: bool = False

    @property
    def final(self) -> bool:
        return self.semantics is not Semantics.PROCESS


@dataclass(frozen=True)
class TimeRule:
    """One reminder or alert of a step; exactly one of ``every``/``after``/``when`` is set."""

    action: str  # "remind" | "alert"
    to: tuple[ActorRule, ...]
    channels: tuple[str, ...] = ("bitrix24",)
    every: Duration | None = None
    after: Duration | None = None
    when: RuleRef | None = None
    while_: RuleRef | None = None
    offer_decision: bool = False


@dataclass(frozen=True)
class TimeRules:
    """The step's allowance (its approval task's deadline) and its reminders and alerts."""

    allowance: Duration | None = None
    rules: tuple[TimeRule, ...] = ()


@dataclass(frozen=True)
class TaskSpec:
    """A Bitrix24 task the step creates; ``responsible`` defaults to the step's actor."""

    title: Label
    deadline: Duration | RuleRef | None = None
    responsible: ActorRule | None = None
    requires_field: str | None = None
    subtasks: tuple[TaskSpec, ...] = ()


@dataclass(frozen=True)
class Step:
    """A step of the route: who acts in which stage, and where each decision leads.

    A decision's target is a step code (lower case) or a stage code (upper case). A step with ``when``
    is skipped — as if approved — when its condition does not hold.
    """

    code: str
    stage: str
    actor: ActorRule
    decisions: Mapping[str, str]
    task: TaskSpec | None = None
    when: RuleRef | None = None
    time_rules: TimeRules = TimeRules()
    #: The step's own name (``name:``); a step that shares its stage with another needs one.
    name: Label | None = None


@dataclass(frozen=True)
class TypeSpec:
    """How the smart process type is created on the portal."""

    entity_type_id: int
    automation: bool = True
    bizproc: bool = False
    recycle_bin: bool = True
    parents: tuple[str, ...] = ()


#: What a flagged check does at the checked step: ``warn`` shows it, ``block`` also refuses the approval.
CHECK_MODES = ("warn", "block")


@dataclass(frozen=True)
class Checks:
    """What the actor of ``step`` is shown before approving (``checks:``): the linked contract (not signed,
    or the payment above its remaining amount) and duplicate invoices; each ``warn`` or ``block``."""

    step: str
    contract: str = "warn"
    duplicates: str = "warn"


@dataclass(frozen=True)
class Versions:
    """``versions:``: each new file in ``field`` is a version of the document; a version uploaded after
    approvals restarts approval at the step ``restart_at`` (the workflow's ``start`` when not given)."""

    field: str
    restart_at: str


@dataclass(frozen=True)
class Workflow:
    code: str
    title: Label
    type: TypeSpec
    fields: tuple[Field, ...]
    stages: tuple[Stage, ...]
    steps: tuple[Step, ...]
    start: str
    source: str = "<memory>"
    checks: Checks | None = None
    versions: Versions | None = None

    def stage(self, code: str) -> Stage:
        return next(s for s in self.stages if s.code == code)

    def step(self, code: str) -> Step:
        return next(s for s in self.steps if s.code == code)

    def step_name(self, code: str) -> Label:
        """The step's own name, or its stage's name when the step has none."""
        step = self.step(code)
        return step.name or self.stage(step.stage).name

    def field(self, code: str) -> Field:
        return next(f for f in self.fields if f.code == code)

    @property
    def initial_stage(self) -> Stage:
        return next(s for s in self.stages if s.initial)

    @property
    def success_stage(self) -> Stage:
        return next(s for s in self.stages if s.semantics is Semantics.SUCCESS)

    @property
    def failure_stages(self) -> tuple[Stage, ...]:
        return tuple(s for s in self.stages if s.semantics is Semantics.FAILURE)


@dataclass(frozen=True)
class Role:
    code: str
    user_id: int
    name: Label


@dataclass(frozen=True)
class Absence:
    user_id: int
    start: str
    end: str
    substitute_id: int


@dataclass(frozen=True)
class OrgConfig:
    """What ``config/`` tells the workflows: roles, absences and list values."""

    roles: Mapping[str, Role] = field(default_factory=dict)
    absences: tuple[Absence, ...] = ()
    lists: Mapping[str, tuple[EnumValue, ...]] = field(default_factory=dict)
