"""The registry of behaviour that workflow YAML may name: actor rules, deadline rules, decisions and
notification channels (conditions, with their implementations: ``b24app.workflow.conditions``).

YAML never holds expressions; it names an entry of this registry and gives its parameters. This
module *declares* the names and their parameters so the loader can check them; the engine implements
them by the same name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from b24app.texts.decisions import DECISION_LABELS


@dataclass(frozen=True)
class Param:
    name: str
    type: type
    required: bool = True
    description: str = ""


@dataclass(frozen=True)
class RuleSpec:
    name: str
    description: str
    params: tuple[Param, ...] = ()


@dataclass(frozen=True)
class DecisionSpec:
    name: str
    label_ru: str
    label_en: str
    reason_required: bool = False


def _table(*specs: RuleSpec) -> dict[str, RuleSpec]:
    return {spec.name: spec for spec in specs}


# Who acts at a step (``actor:``) or is notified (``to:``). ``role:<name>`` is resolved through
# config/roles.yaml; ``actor`` (only in ``to:``) means "whoever acts at this step".
ACTOR_RULES = _table(
    RuleSpec("initiator_department_head",
             "head of the initiator's department (department.get UF_HEAD); without one, the nearest parent's head"),
    RuleSpec("initiator", "the employee who created the item"),
    RuleSpec("role", "the user that config/roles.yaml assigns to the role (written role:<name>)"),
)
RECIPIENT_ONLY_RULES = _table(RuleSpec("actor", "whoever acts at this step (or their substitute)"))

# Conditions (a step's ``when:``, a time rule's ``when:`` / ``while:``) are declared with their
# implementations in ``b24app.workflow.conditions``.

# Deadline rules for tasks whose deadline is not a plain duration (config/deadlines.yaml).
DEADLINE_RULES = _table(
    RuleSpec("accounting_deadline", "the accounting deadline rules of config/deadlines.yaml"),
    RuleSpec("accounting_subtask_deadline", "the parent task's deadline plus the configured extra time"),
)

DECISIONS: dict[str, DecisionSpec] = {
    spec.name: spec
    for spec in (
        DecisionSpec("approve", *DECISION_LABELS["approve"]),
        DecisionSpec("reject", *DECISION_LABELS["reject"], reason_required=True),
        DecisionSpec("request_documents", *DECISION_LABELS["request_documents"], reason_required=True),
        DecisionSpec("freeze", *DECISION_LABELS["freeze"], reason_required=True),
        DecisionSpec("complete", *DECISION_LABELS["complete"]),
    )
}

CHANNELS = ("bitrix24", "telegram")
_TYPE_NAMES = {float: "number", int: "whole number", str: "text", bool: "true/false"}
TIME_RULE_ACTIONS = ("remind", "alert")


def check_params(spec: RuleSpec, params: Mapping[str, Any]) -> list[str]:
    """Messages for parameters that are missing, unknown or of the wrong type."""
    messages: list[str] = []
    known = {p.name: p for p in spec.params}
    for name in params:
        if name not in known:
            allowed = ", ".join(known) or "none"
            messages.append(f"rule {spec.name!r} has no parameter {name!r}; its parameters: {allowed}")
    for param in spec.params:
        if param.name not in params:
            if param.required:
                messages.append(f"rule {spec.name!r} needs the parameter {param.name!r}")
            continue
        value = params[param.name]
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) if param.type is float \
            else isinstance(value, param.type)
        if not ok:
            messages.append(
                f"parameter {param.name!r} of rule {spec.name!r} must be a {_TYPE_NAMES.get(param.type, 'value')}, "
                f"not {value!r}"
            )
    return messages


def unknown_name(kind: str, name: str, table: Mapping[str, object]) -> str:
    """The message for a name that is not in the registry, listing the names that are."""
    return f"unknown {kind} {name!r}; known {kind}s: {', '.join(sorted(table))}"
