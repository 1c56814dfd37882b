"""Read scenario files into :mod:`b24app.scenario.model`, reporting every problem as ``file:line``.

``load_scenario(path, known)`` returns a :class:`Scenario` or raises :class:`b24app.yamlio.ConfigError`
listing everything wrong with the file. ``known`` (people, stages, fields of the workflow) lets the
loader catch a misspelt login or stage before anything runs; without it only the shape is checked.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from b24app.scenario import model as m
from b24app.scenario.overrides import parse_checks, parse_config
from b24app.scenario.values import Known, Values, parse_moment
from b24app.workflow.models import Duration
from b24app.workflow.schema import DURATION_HINT, Reader, parse_duration
from b24app.yamlio import ConfigError, LocatedDict, load

__all__ = ["Known", "load_scenario", "parse_moment", "parse_scenario"]

STEP_KINDS = (*m.ACTIONS, "advance", "faults", "expect", "deactivate", "reactivate", "absence", *m.BANK_STEPS)
_BANK_KEYS = {
    "bank_orders": (("as",), ("included", "missing")),
    "bank_statement": (("paid_on",), ("amounts", "encoding", "unknown_keys")),
    "bank_import": (("as",), ("corrupt", "refused", "paid", "ambiguous", "unmatched", "unchanged", "resolve")),
}
_COMMON = ("as", "via", "request", "refused", "note")
_ACTION_KEYS: dict[str, tuple[str, ...]] = {
    "create": ("as", "ref", "title", "fields", "workflow", "contract", "refused", "note"),
    "edit": ("as", "request", "fields", "contract", "refused", "note"),
    "approve": _COMMON,
    "reject": (*_COMMON, "reason"),
    "request_documents": (*_COMMON, "reason"),
    "freeze": (*_COMMON, "reason"),
    "unfreeze": _COMMON,
    "resubmit": _COMMON,
    "move": (*_COMMON, "to"),
    "start_task": (*_COMMON, "task"),
    "complete_task": (*_COMMON, "task"),
    "attach": ("as", "request", "to", "field", "task", "file", "note"),
    "link_telegram": ("as", "request", "refused", "note"),
}
_EXPECT_KEYS = ("request", "stage", "assignee", "approver", "tasks", "task_count", "notified", "not_notified",
                "fields", "timeline", "widget", "telegram", "not_telegram")


def load_scenario(path: str | Path, known: Known | None = None) -> m.Scenario:
    """The scenario in ``path``, or a ConfigError naming every problem by file and line."""
    data = load(path)
    return parse_scenario(data, str(path), known or Known())


def parse_scenario(data: Any, file: str, known: Known) -> m.Scenario:
    reader = Reader(file)
    if not isinstance(data, LocatedDict):
        reader.add(None, "a scenario file must be a mapping with 'name' and 'steps'")
        raise ConfigError(reader.problems)
    parser = _Parser(reader, known)
    parser.default_workflow = str(data.get("workflow") or "payment_requests")
    reader.keys(data, "the scenario", ("name", "steps"), ("description", "workflow", "start", "org", "config"))
    org = _org(reader, data, file)
    name = reader.string(data, "name", "the scenario") or ""
    start = parser.moment(data, "start", "the scenario") if "start" in data else None
    absences = parse_config(parser, data)
    checks = parse_checks(parser, data)
    steps = [parser.step(item, data, i) for i, item in enumerate(reader.items(data, "steps", "the scenario"), 1)]
    if "steps" in data and not steps and isinstance(data["steps"], list):
        reader.add(data, "the scenario has no steps", "steps")
    if reader.problems:
        raise ConfigError(reader.problems)
    return m.Scenario(
        name=name,
        file=file,
        steps=tuple(s for s in steps if s is not None),
        workflow=reader.string(data, "workflow", "the scenario", default="payment_requests") or "payment_requests",
        start=start,
        description=str(data.get("description") or ""),
        org=org,
        absences=absences,
        checks=checks,
    )


def _org(reader: Reader, data: LocatedDict, file: str) -> str | None:
    """The organisation file, relative to the scenario file; it must exist."""
    name = reader.string(data, "org", "the scenario")
    if name is None:
        return None
    path = Path(file).parent / name
    if not path.is_file():
        reader.add(data, f"the scenario: no organisation file {str(path)!r} (org is relative to the scenario file)",
                   "org")
        return None
    return str(path)


class _Parser(Values):
    default_workflow = "payment_requests"
    ref_workflows: dict[str, str]
    last_workflow: str | None = None

    # --- steps ----------------------------------------------------------------------------------

    def step(self, item: Any, parent: LocatedDict, number: int) -> m.Step | None:
        """One step, its names checked against the workflow of the request it acts on."""
        if not hasattr(self, "ref_workflows"):
            self.ref_workflows, self.base = {}, self.known
        code = self._step_workflow(item)
        self.known = self.base.workflows.get(code, self.base) if code else self.base
        try:
            return self._step(item, parent, number)
        finally:
            self.known = self.base

    def _step_workflow(self, item: Any) -> str | None:
        if not isinstance(item, LocatedDict) or len(item) != 1:
            return None
        kind, body = next(iter(item.items()))
        if not isinstance(body, dict):
            return self.last_workflow
        if kind == "create":
            code = str(body.get("workflow") or self.default_workflow)
            if isinstance(body.get("ref"), str):
                self.ref_workflows[body["ref"]] = code
            self.last_workflow = code
            return code
        request = body.get("request")
        return self.ref_workflows.get(request, self.last_workflow) if isinstance(request, str) else self.last_workflow

    def _step(self, item: Any, parent: LocatedDict, number: int) -> m.Step | None:
        what = f"step {number}"
        if not isinstance(item, LocatedDict) or len(item) != 1:
            self.r.add(parent, f"{what} must be one 'kind: ...' line, e.g. '- approve: {{as: m.orlova}}'", "steps")
            return None
        kind = next(iter(item))
        where = m.Where(item.file, item.line_of(kind))
        if kind not in STEP_KINDS:
            self.r.add(item, f"{what}: unknown step {kind!r}; steps are: {', '.join(STEP_KINDS)}", kind)
            return None
        if kind == "advance":
            return self.advance(item, where, what)
        if kind in ("deactivate", "reactivate"):
            return self.person_change(kind, item, where, what)
        body = self.r.mapping(item[kind], item, kind, f"{what} ({kind})")
        if body is None:
            return None
        if kind == "faults":
            return self.faults(body, where, f"{what} (faults)")
        if kind == "expect":
            return self.expect(body, where, f"{what} (expect)")
        if kind == "absence":
            return self.absence(body, where, f"{what} (absence)")
        if kind in m.BANK_STEPS:
            return self.bank(kind, body, where, f"{what} ({kind})")
        return self.action(kind, body, where, f"{what} ({kind})")

    def person_change(self, kind: str, item: LocatedDict, where: m.Where, what: str) -> m.PersonChange | None:
        login = item[kind]
        if not isinstance(login, str) or not login.strip():
            self.r.add(item, f"{what}: write the person's login, e.g. '- {kind}: m.orlova'", kind)
            return None
        return m.PersonChange(where, kind, login) if self.check_login(item, kind, login, what) else None

    def absence(self, body: LocatedDict, where: m.Where, what: str) -> m.Absence | None:
        self.r.keys(body, what, ("person", "from", "to"), ("reason",))
        login = self.login(body, "person", what)
        start = self.moment(body, "from", what) if "from" in body else None
        end = self.moment(body, "to", what) if "to" in body else None
        if start and end and end <= start:
            self.r.add(body, f"{what}: 'to' must be after 'from'", "to")
            return None
        reason = self.r.string(body, "reason", what, default="Отпуск") or "Отпуск"
        return m.Absence(where, login, start, end, reason) if login and start and end else None

    def action(self, kind: str, body: LocatedDict, where: m.Where, what: str) -> m.Action | None:
        self.r.keys(body, what, ("as",), tuple(k for k in _ACTION_KEYS[kind] if k != "as"))
        login = self.login(body, "as", what)
        via = self.via(kind, body, what)
        request = self.request_ref(body, what)
        action = m.Action(
            kind=kind, login=login or "", via=via, where=where, request=request,
            refused=self.refused(body, what), note=self.r.string(body, "note", what),
        )
        details = getattr(self, f"_{kind}", None)
        return details(action, body, what) if details else action

    def _create(self, action: m.Action, body: LocatedDict, what: str) -> m.Action:
        ref = self.r.string(body, "ref", what, r"[A-Za-z][A-Za-z0-9_-]{0,39}", "a ref is a short name like r1")
        if ref:
            if ref in self.refs:
                self.r.add(body, f"{what}: the ref {ref!r} is already used by an earlier create", "ref")
            self.refs.add(ref)
        fields = self.r.mapping(body["fields"], body, "fields", f"{what}: 'fields'") if "fields" in body else None
        if fields is not None:
            for code in fields:
                self.field_code(fields, str(code), what)
        workflow = self.r.string(body, "workflow", what)
        if workflow and self.base.workflows and workflow not in self.base.workflows:
            self.r.add(body, f"{what}: unknown workflow {workflow!r}; workflows: {', '.join(self.base.workflows)}",
                       "workflow")
        return _replace(action, ref=ref, title=self.r.string(body, "title", what), fields=dict(fields or {}),
                        workflow=workflow, contract=self._contract(body, what))

    def _contract(self, body: LocatedDict, what: str) -> str | None:
        ref = self.r.string(body, "contract", what)
        if ref and ref not in self.refs:
            self.r.add(body, f"{what}: 'contract' names no earlier 'create' ref ({ref!r})", "contract")
        return ref

    def _edit(self, action: m.Action, body: LocatedDict, what: str) -> m.Action:
        if "fields" not in body and "contract" not in body:
            self.r.add(body, f"{what} needs 'fields': field code -> the new value")
        fields = self.r.mapping(body["fields"], body, "fields", f"{what}: 'fields'") if "fields" in body else None
        if fields is not None:
            for code in fields:
                self.field_code(fields, str(code), what)
        return _replace(action, fields=dict(fields or {}), contract=self._contract(body, what))

    def _reason(self, action: m.Action, body: LocatedDict, what: str) -> m.Action:
        value = body.get("reason")
        if value is not None and not isinstance(value, str):
            self.r.add(body, f"{what}: 'reason' must be a text (leave it out for a decision without a reason)",
                       "reason")
        return _replace(action, reason=value if isinstance(value, str) else None)

    _reject = _request_documents = _freeze = _reason

    def _move(self, action: m.Action, body: LocatedDict, what: str) -> m.Action:
        if "to" not in body:
            self.r.add(body, f"{what} needs 'to': the stage code the card is dragged to")
        return _replace(action, stage=self.stage(body, "to", what))

    def _task_words(self, action: m.Action, body: LocatedDict, what: str) -> m.Action:
        return _replace(action, task=self.r.string(body, "task", what))

    _start_task = _complete_task = _task_words

    def _attach(self, action: m.Action, body: LocatedDict, what: str) -> m.Action:
        target = self.r.string(body, "to", what, r"item|task", "attach 'to' is 'item' or 'task'", default="item")
        if "file" not in body:
            self.r.add(body, f"{what} needs 'file': the name of the file attached, e.g. payment_order.pdf")
        code = None
        if target == "item":
            if "field" not in body:
                self.r.add(body, f"{what}: attaching to the item needs 'field' (a file field code, e.g. PAYMENT_ORDER)")
            code = self.r.string(body, "field", what)
            if code:
                self.field_code(body, code, what, key="field")
        elif "field" in body:
            self.r.add(body, f"{what}: 'field' applies to 'to: item' only", "field")
        return _replace(action, target=target, field=code, task=self.r.string(body, "task", what),
                        file=self.r.string(body, "file", what))

    def advance(self, item: LocatedDict, where: m.Where, what: str) -> m.Advance | None:
        value = item["advance"]
        if isinstance(value, str):
            parts = _durations(value)
            if parts is None:
                self.r.add(item, f"{what}: cannot read the duration {value!r}; {DURATION_HINT} "
                                 "(working and plain units may be mixed: '1 working hour + 58 minutes')", "advance")
                return None
            return m.Advance(where, by=parts)
        body = self.r.mapping(value, item, "advance", f"{what} (advance)")
        if body is None:
            return None
        self.r.keys(body, f"{what} (advance)", ("to",), ())
        moment = self.moment(body, "to", f"{what} (advance)")
        return m.Advance(where, to=moment) if moment else None

    def bank(self, kind: str, body: LocatedDict, where: m.Where, what: str) -> m.Bank:
        required, optional = _BANK_KEYS[kind]
        self.r.keys(body, what, required, optional)
        paid_on = self.moment(body, "paid_on", what) if "paid_on" in body else None
        amounts = self.r.mapping(body["amounts"], body, "amounts", f"{what}: 'amounts'") if "amounts" in body else None
        missing = self.r.mapping(body["missing"], body, "missing", f"{what}: 'missing'") if "missing" in body else None
        refs = [*(amounts or {}), *(missing or {}), *self.words(body, "included", what), *self.words(body, "paid", what),
                *([body["resolve"]] if isinstance(body.get("resolve"), str) else [])]
        for ref in refs:
            if ref not in self.refs:
                self.r.add(body, f"{what}: no earlier 'create' has ref {ref!r}")
        return m.Bank(
            where=where, kind=kind, login=self.login(body, "as", what) if "as" in body else None,
            paid_on=paid_on.date() if paid_on else None,
            amounts={str(k): str(v) for k, v in (amounts or {}).items()},
            encoding=self.r.string(body, "encoding", what, r"Windows|DOS", "the encoding is Windows or DOS",
                                   default="Windows") or "Windows",
            unknown_keys=self.r.boolean(body, "unknown_keys", what),
            corrupt=self.r.boolean(body, "corrupt", what), refused=self.refused(body, what),
            included=self.words(body, "included", what) if "included" in body else None,
            missing={str(k): self.words(missing, str(k), what) for k in missing} if missing is not None else {},
            paid=self.words(body, "paid", what) if "paid" in body else None,
            ambiguous=self.count(body, "ambiguous", what), unmatched=self.count(body, "unmatched", what),
            unchanged=self.count(body, "unchanged", what), resolve=self.r.string(body, "resolve", what),
        )

    def faults(self, body: LocatedDict, where: m.Where, what: str) -> m.Faults:
        names = ("drop", "duplicate", "delay", "reorder")
        self.r.keys(body, what, (), names)
        shares = {name: self.share(body, name, what) for name in names}
        return m.Faults(where, **shares)

    def expect(self, body: LocatedDict, where: m.Where, what: str) -> m.Expect:
        self.r.keys(body, what, (), _EXPECT_KEYS)
        if not any(k in body for k in _EXPECT_KEYS if k != "request"):
            self.r.add(body, f"{what} checks nothing; add e.g. 'stage:' or 'tasks:'")
        approver = body.get("approver")
        return m.Expect(
            where=where,
            request=self.request_ref(body, what),
            stage=self.stage(body, "stage", what),
            assignee=self.login(body, "assignee", what),
            approver="" if "approver" in body and approver in (None, "") else self.login(body, "approver", what),
            tasks=tuple(t for t in (self.task(x, body, what) for x in self.r.items(body, "tasks", what)) if t),
            task_count=self.count(body, "task_count", what),
            notified=self.notices(body, what),
            fields=self.expected_fields(body, what),
            timeline=self.words(body, "timeline", what),
            widget=self.widget(body, what),
            telegram=self.telegram(body, what),
        )

    # --- parts ----------------------------------------------------------------------------------

    def task(self, item: Any, parent: LocatedDict, what: str) -> m.TaskExpectation | None:
        body = self.r.mapping(item, parent, "tasks", f"{what}: each of 'tasks'")
        if body is None:
            return None
        where = f"{what}: task"
        self.r.keys(body, where, (), ("title", "responsible", "status", "deadline", "count", "files"))
        status = self.r.string(body, "status", where)
        if status and status not in m.TASK_STATUSES:
            self.r.add(body, f"{where}: unknown status {status!r}; one of {', '.join(m.TASK_STATUSES)}", "status")
        return m.TaskExpectation(
            where=m.Where(body.file, body.line), title=self.r.string(body, "title", where),
            responsible=self.login(body, "responsible", where), status=status,
            deadline=self.moment(body, "deadline", where) if "deadline" in body else None,
            count=self.count(body, "count", where), files=self.count(body, "files", where),
        )

    def notices(self, body: LocatedDict, what: str,
                keys: tuple[tuple[str, bool], ...] = (("notified", False), ("not_notified", True)),
                ) -> tuple[m.NoticeExpectation, ...]:
        found: list[m.NoticeExpectation] = []
        for key, absent in keys:
            for item in self.r.items(body, key, what):
                notice = self.notice(item, body, key, absent, f"{what}: {key}")
                if notice:
                    found.append(notice)
        return tuple(found)

    def notice(self, item: Any, parent: LocatedDict, key: str, absent: bool, what: str) -> m.NoticeExpectation | None:
        line = m.Where(parent.file, parent.line_of(key))
        if isinstance(item, str):
            login = item if self.check_login(parent, key, item, what) else ""
            return m.NoticeExpectation(line, login, absent=absent)
        body = self.r.mapping(item, parent, key, f"{what}: each entry (a login or {{to: login, contains: ...}})")
        if body is None:
            return None
        self.r.keys(body, what, ("to",), ("contains", "count"))
        return m.NoticeExpectation(m.Where(body.file, body.line), self.login(body, "to", what) or "",
                                   self.words(body, "contains", what), self.count(body, "count", what), absent)

    def widget(self, body: LocatedDict, what: str) -> m.WidgetExpectation | None:
        if "widget" not in body:
            return None
        widget = self.r.mapping(body["widget"], body, "widget", f"{what}: 'widget'")
        if widget is None:
            return None
        where = f"{what}: widget"
        self.r.keys(widget, where, ("as",), ("buttons", "contains"))
        buttons = None
        if "buttons" in widget:
            buttons = tuple(self.r.strings(widget, "buttons", where))
            for name in buttons:
                if name not in m.DECISIONS:
                    self.r.add(widget, f"{where}: unknown button {name!r}; buttons are {', '.join(m.DECISIONS)}",
                               "buttons")
        return m.WidgetExpectation(m.Where(widget.file, widget.line), self.login(widget, "as", where) or "",
                                   buttons, self.words(widget, "contains", where))

    def telegram(self, body: LocatedDict, what: str) -> tuple[m.TelegramExpectation, ...]:
        """``telegram: {login: {contains, buttons, count}}`` and ``not_telegram: [login | {to, contains}]``."""
        found: list[m.TelegramExpectation] = []
        people = self.r.mapping(body["telegram"], body, "telegram", f"{what}: 'telegram'") \
            if "telegram" in body else None
        if people is not None:
            found += [t for t in (self.telegram_of(people, str(login), what) for login in people) if t]
        for notice in self.notices(body, what, keys=(("not_telegram", True),)):
            found.append(m.TelegramExpectation(notice.where, notice.to, notice.words, absent=True))
        return tuple(found)

    def telegram_of(self, people: LocatedDict, login: str, what: str) -> m.TelegramExpectation | None:
        where = f"{what}: telegram of {login}"
        if not self.check_login(people, login, login, where):
            return None
        spec = self.r.mapping(people[login], people, login, where)
        if spec is None:
            return None
        self.r.keys(spec, where, (), ("contains", "buttons", "count"))
        buttons = tuple(self.r.strings(spec, "buttons", where)) if "buttons" in spec else None
        return m.TelegramExpectation(m.Where(spec.file, spec.line), login, self.words(spec, "contains", where),
                                     buttons, self.count(spec, "count", where))

    def expected_fields(self, body: LocatedDict, what: str) -> dict[str, Any]:
        if "fields" not in body:
            return {}
        fields = self.r.mapping(body["fields"], body, "fields", f"{what}: 'fields'")
        if fields is None:
            return {}
        for code in fields:
            self.field_code(fields, str(code), what)
        return dict(fields)


def _durations(text: str) -> tuple[Duration, ...] | None:
    """``"2 working days + 1 working hour"`` as one duration; mixed units (``"1 working hour + 58 minutes"``)
    as consecutive runs of one kind, applied in the order written."""
    whole = parse_duration(text)
    if whole is not None:
        return (whole,)
    runs: list[list[str]] = []
    kinds: list[bool] = []
    for part in text.split("+"):
        single = parse_duration(part)
        if single is None:
            return None
        if kinds and kinds[-1] == single.working:
            runs[-1].append(part.strip())
        else:
            runs.append([part.strip()])
            kinds.append(single.working)
    found = [parse_duration(" + ".join(run)) for run in runs]
    return tuple(d for d in found if d is not None) if all(found) else None


def _replace(action: m.Action, **changes: Any) -> m.Action:
    return replace(action, **changes)
