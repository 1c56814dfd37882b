"""Strict mode: every call is checked against the official method schema before it runs.

Source of truth is ``spec/methods/<method>.json`` (read at run time through
:func:`b24sandbox.shared.load_spec`), corrected by the explicit :data:`CORRECTIONS` list below
(each entry cites REFERENCE.md or SPEC-GAPS.md), plus :data:`HAND_SCHEMAS` for methods the spec
lacks. Checked: top-level parameter names with their documented letter case, value types, and
required parameters. Values arriving as strings (form or query encodings) pass an integer or boolean
check when they parse as one, as the portal would accept them. ``auth`` is never checked.

A violation is answered with HTTP 400 ``STRICT_SCHEMA_VIOLATION`` — a sandbox-only error code: a
real portal usually ignores unknown parameters silently, which hides bugs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from b24sandbox.shared import load_spec

STRICT_ERROR = "STRICT_SCHEMA_VIOLATION"


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    required: bool = False


@dataclass(frozen=True)
class Schema:
    method: str
    params: dict[str, Param]
    allow_extra: bool = False  # user.get: filter keys may be passed at the top level


@dataclass(frozen=True)
class Correction:
    cite: str
    replace: tuple[Param, ...] | None = None  # the method's whole parameter list
    add: tuple[Param, ...] = ()
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    allow_extra: bool = False


@dataclass(frozen=True)
class Violation:
    method: str
    param: str | None
    problem: str

    def __str__(self) -> str:
        return f"{self.method}: {self.problem}"


NO_PARAMS: tuple[Param, ...] = ()

# The explicit corrections list. Add an entry only with a citation (SPEC-GAPS.md, last paragraph).
CORRECTIONS: dict[str, Correction] = {
    # SPEC-GAPS row 1: the parser listed response keys (result, time, ...) as parameters.
    **{
        name: Correction("SPEC-GAPS.md row 1: takes no parameters; listed names are response keys", replace=NO_PARAMS)
        for name in (
            "crm.enum.ownertype", "crm.status.fields", "crm.status.entity.types", "crm.userfield.types",
            "tasks.task.getfields", "placement.get", "disk.storage.getforapp",
        )
    },
    "event.offline.get": Correction(
        "REFERENCE §3.6: also clear (default 1), process_id, auth_connector, error",
        add=(Param("clear", "integer"), Param("process_id", "string"), Param("auth_connector", "string"),
             Param("error", "integer")),
    ),
    "event.bind": Correction("REFERENCE §3.1, §3.6: handler is omitted for event_type=offline", optional=("handler",)),
    "event.unbind": Correction("REFERENCE §3.1, §3.6: handler is omitted for event_type=offline", optional=("handler",)),
    "tasks.task.get": Correction("REFERENCE §7.1 / SPEC-GAPS: taskId is required", required=("taskId",)),
    "crm.stagehistory.list": Correction("REFERENCE §5.3 / SPEC-GAPS: entityTypeId is required", required=("entityTypeId",)),
    # allow_extra: top-level filter keys; methods/checks_misc.py admits only documented user filter keys
    "user.get": Correction(
        "REFERENCE §8.1 / SPEC-GAPS: FILTER is an object; filter also under lower-case filter and at the top level",
        add=(Param("FILTER", "object"), Param("filter", "object")),
        allow_extra=True,
    ),
    "user.search": Correction(
        "REFERENCE §8.1: user.search = user.get + FILTER object or FIND",
        add=(Param("FILTER", "object"), Param("filter", "object"), Param("FIND", "string")),
        allow_extra=True,
    ),
    "placement.unbind": Correction("REFERENCE §9 / SPEC-GAPS: PLACEMENT is required", required=("PLACEMENT",)),
    "crm.status.list": Correction(
        "REFERENCE §5.3 / SPEC-GAPS: select is accepted and ignored; §1.4: list methods page with start",
        add=(Param("select", "array"), Param("start", "integer"))),
    "crm.category.list": Correction(
        "REFERENCE §1.4: list methods page with start (= the previous answer's next)", add=(Param("start", "integer"),)),
    "department.get": Correction(
        "REFERENCE §1.4: list methods page with start; the schema lists only START (§8.2)",
        add=(Param("start", "integer"),)),
    "disk.folder.uploadfile": Correction(
        "REFERENCE §10 / examples/disk.folder.uploadFile.json request 2: the two-step form sends only id "
        "(the answer is the uploadUrl); data is required only with fileContent",
        optional=("data",)),
    "crm.status.delete": Correction(
        "REFERENCE §5.3: params is an object, {FORCED: \"Y\"} (the schema says string)", add=(Param("params", "object"),)),
}

_REQUISITE_ENTITIES = ("crm.company", "crm.requisite", "crm.requisite.bankdetail")
_LIST_PARAMS = (Param("select", "array"), Param("filter", "object"), Param("order", "object"), Param("start", "integer"))

# Methods the app uses that spec/ lacks (SPEC-GAPS.md last table); parameters from REFERENCE.md.
HAND_SCHEMAS: dict[str, tuple[Param, ...]] = {
    "app.info": NO_PARAMS,  # §2.6 "No params"
    "user.current": NO_PARAMS,  # §8.1 "(no params)"
    "user.admin": NO_PARAMS,  # docs/api-reference_common_users_user-admin.md: "No parameters."
    "scope": (Param("full", "boolean"),),  # scope?full=true lists every portal scope
    "event.get": NO_PARAMS,  # §3.1 "—"
    "events": (Param("SCOPE", "string"), Param("FULL", "boolean")),  # §3.1
    "crm.type.fields": NO_PARAMS,  # examples/crm.type.fields.json: empty body
    "department.fields": NO_PARAMS,  # examples/department.fields.json: empty body
    "batch": (Param("cmd", "object", True), Param("halt", "boolean")),  # §1.6
    # Not in shared/: b24restdocs api-reference/crm/companies/crm-company-{add,get,list}.md and
    # api-reference/crm/requisites/{universal,bank-detail}/*-{add,get,list}.md
    "crm.company.add": (Param("fields", "object", True), Param("params", "object")),
    "crm.requisite.add": (Param("fields", "object", True),),
    "crm.requisite.bankdetail.add": (Param("fields", "object", True),),
    **{f"{entity}.get": (Param("id", "integer", True),) for entity in _REQUISITE_ENTITIES},
    **{f"{entity}.list": _LIST_PARAMS for entity in _REQUISITE_ENTITIES},
    "placement.bind": (  # §9
        Param("PLACEMENT", "string", True), Param("HANDLER", "string", True), Param("TITLE", "string"),
        Param("DESCRIPTION", "string"), Param("GROUP_NAME", "string"), Param("LANG_ALL", "object"),
        Param("OPTIONS", "object"), Param("USER_ID", "integer"),
    ),
}

_INT = re.compile(r"^[+-]?\d+$")
_BOOL_STRINGS = {"y", "n", "true", "false", "1", "0", ""}


@dataclass
class StrictValidator:
    enabled: bool = True
    unschematized: set[str] = field(default_factory=set)
    _cache: dict[str, Schema | None] = field(default_factory=dict)

    def schema(self, method: str) -> Schema | None:
        key = method.lower()
        if key not in self._cache:
            self._cache[key] = build_schema(method)
        return self._cache[key]

    def validate(self, method: str, params: dict[str, Any]) -> list[Violation]:
        if not self.enabled:
            return []
        schema = self.schema(method)
        if schema is None:
            self.unschematized.add(method.lower())
            return []
        return check(schema, params)


def build_schema(method: str) -> Schema | None:
    key = method.lower()
    if key in HAND_SCHEMAS:
        return Schema(method, {p.name: p for p in HAND_SCHEMAS[key]})
    spec = load_spec(method)
    if spec is None:
        return None
    params = {
        p["name"]: Param(p["name"], str(p.get("type") or "any"), p.get("required") is True)
        for p in spec.get("params", [])
    }
    fix = CORRECTIONS.get(key)
    if fix is None:
        return Schema(spec.get("method", method), params)
    if fix.replace is not None:
        params = {p.name: p for p in fix.replace}
    params.update({p.name: p for p in fix.add})
    for name in fix.required:
        params[name] = Param(name, params[name].type if name in params else "any", True)
    for name in fix.optional:
        if name in params:
            params[name] = Param(name, params[name].type, False)
    return Schema(spec.get("method", method), params, fix.allow_extra)


def check(schema: Schema, params: dict[str, Any]) -> list[Violation]:
    problems: list[Violation] = []
    for name, value in params.items():
        if name == "auth":
            continue
        rule = schema.params.get(name)
        if rule is None:
            if not schema.allow_extra:
                problems.append(Violation(schema.method, name, _unknown(schema, name)))
            continue
        if value is not None and not type_ok(rule.type, value):
            problems.append(Violation(
                schema.method, name, f"parameter '{name}' must be {rule.type}, got {_show(value)}"))
    for rule in schema.params.values():
        if rule.required and params.get(rule.name) is None:
            problems.append(Violation(schema.method, rule.name, f"missing required parameter '{rule.name}'"))
    return problems


def _unknown(schema: Schema, name: str) -> str:
    twins = [p for p in schema.params if p.lower() == name.lower()]
    hint = f" (documented as '{twins[0]}')" if twins else ""
    known = ", ".join(schema.params) or "none"
    return f"unknown parameter '{name}'{hint}; documented parameters: {known}"


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def type_ok(kind: str, value: Any) -> bool:
    kind = kind.lower()
    if kind in ("integer", "int"):
        if isinstance(value, bool):
            return False
        if isinstance(value, int):
            return True
        if isinstance(value, float):
            return value.is_integer()
        return isinstance(value, str) and bool(_INT.match(value.strip()))
    if kind == "boolean":
        if isinstance(value, bool | int):
            return value in (0, 1) or isinstance(value, bool)
        return isinstance(value, str) and value.strip().lower() in _BOOL_STRINGS
    if kind == "string":
        return isinstance(value, str | int | float) and not isinstance(value, bool)
    if kind in ("object", "array"):  # PHP arrays: JSON objects and lists are both arrays
        return isinstance(value, dict | list)
    if kind in ("datetime", "date"):
        return isinstance(value, str)
    return True
