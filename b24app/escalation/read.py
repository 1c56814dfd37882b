"""Reading every open request of every workflow in a few ``batch`` requests (for the sweep and the digest).

Items: ``crm.item.list`` of the step and pause stages, one page (50 rows) per batch command: the
first batch holds page 0 of each workflow (its ``result_total`` gives the page count), later batches
hold 50 pages each — about N/2500 HTTP requests for N open requests. Tasks: ``tasks.task.list`` of
the open (not completed) tasks bound to :data:`ITEMS_PER_TASK_COMMAND` items per command, only for
requests whose step has a rule that looks at tasks (not started, overdue); a command that fills its
page is continued in the next batch. The portal's clock comes from the first batch's ``time`` block.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from b24app import keys
from b24app.errors import B24AppError
from b24app.escalation.rules import Notice, OpenRequest, due_notices, task_rules
from b24app.escalation.state import open_request
from b24app.pipeline import echo
from b24app.pipeline.definitions import Definitions, definitions, item_names
from b24app.pipeline.logsign import Scope, records, rolled_back
from b24app.pipeline.read import TASK_SELECT
from b24app.pipeline.trust import verified_item
from b24app.rest.protocol import BatchResult, Bitrix24, Command
from b24app.workflow.actors import Person, people_from
from b24app.workflow.conditions import TASK_CONDITIONS
from b24app.workflow.models import Step, Workflow
from b24app.workflow.snapshot import ItemNames, Snapshot, TaskInfo, parse_item, parse_task

if TYPE_CHECKING:
    from b24app.deps import Deps

PAGE_SIZE = 50
BATCH_SIZE = 50                    # commands per batch request (the client splits larger batches)
ITEMS_PER_TASK_COMMAND = 16        # at most 3 open tasks per request (step task, subtask, documents task)
ITEM_SELECT = ["id", "title", "stageId", "categoryId", "createdBy", "movedTime", "movedBy", "updatedBy"]
ITEM_FIELDS = ("DECISIONS", "RETURN_STEP", "CURRENT_APPROVER", "AMOUNT", "COUNTERPARTY_NAME", "URGENT",
               "EXPENSE_ITEM")


@dataclass(frozen=True)
class Found:
    """One open request: its workflow, the portal's snapshot and the escalation's view."""

    workflow: Workflow
    names: ItemNames
    snap: Snapshot
    request: OpenRequest
    #: The notices due, when the reading already computed them (tasks not read: they change nothing).
    notices: tuple[Notice, ...] | None = None

    @property
    def step(self) -> Step:
        assert self.request.step is not None
        return self.workflow.step(self.request.step)


@dataclass
class Collected:
    now: datetime
    defs: Definitions
    found: list[Found] = field(default_factory=list)
    items: int = 0
    http_requests: int = 0
    #: With ``approvers=True``: each current approver's state (``im.user.list.get``); None when it failed.
    approvers: dict[int, Person] | None = None
    approver_requests: int = 0       # requests of their own the approvers took (0: they rode in a batch)
    #: The answers (result, total) of the ``extra`` commands that rode along in the first batch.
    extra: dict[str, tuple[Any, int]] = field(default_factory=dict)


class Reader:
    """Batches through the portal's client (``halt=0``), counting the requests and keeping the portal's
    clock of the first one."""

    def __init__(self, client: Bitrix24) -> None:
        self.client = client
        self.requests = 0
        self.now: datetime | None = None
        self.totals: dict[str, int] = {}
        self.extra: dict[str, tuple[Any, int]] = {}

    def run(self, commands: Mapping[str, Command], tolerate: Sequence[str] = ()) -> BatchResult:
        """``tolerate``: keys whose failure is the caller's to handle."""
        answer = self.client.batch(commands)
        self.requests += answer.requests
        self.now = self.now or answer.started
        answer.raise_first(skip=tolerate)
        return answer


def marker(member_id: str, delivery: str) -> str:
    """The Redis key remembering one delivery of a notice (``Notice.deliveries``)."""
    return keys.escalation(member_id, delivery)


def collect(deps: Deps, member_id: str, now: datetime | None = None, skip_sent_tasks: bool = False,
            approvers: bool = False, read_tasks: bool = True,
            extra: Mapping[str, Command] | None = None) -> Collected:
    """Every open request of every workflow with the open tasks its time rules need.

    With ``skip_sent_tasks`` (the sweep) tasks are read for a request only when a rule about them could
    send something new: always for overdue tasks (their deadlines matter), and for "while the task is
    not started" only when such a reminder is due now and not yet sent — so a sweep with nothing new
    to send reads no tasks at all. Without ``read_tasks`` (the control room) no task is read;
    ``extra`` commands go in the first batch after its item pages (their answers: ``Collected.extra``).

    With ``approvers`` (the sweep) the current approvers' states are read too (``im.user.list.get``,
    for :func:`b24app.escalation.people.dismissed_targets`) without a request of their own where one is
    going anyway: the last sweep's approvers ride in the first item batch when it has a free slot, the
    others (or all, without a slot) in the first task batch; only when neither can take them, one call.
    """
    defs = definitions(deps, member_id)
    batcher = Reader(deps.bitrix(member_id))
    names = {code: item_names(deps, member_id, code) for code in defs.workflows}
    totals = _known_totals(deps, member_id, defs.workflows)
    previous = _known_approvers(deps, member_id) if approvers else []
    riders: dict[str, Command] = {APPROVERS: _approvers_command(previous)} if previous else {}
    by_etid = {n.entity_type_id: n for n in names.values()}
    predicted = _task_groups(_known_task_items(deps, member_id, by_etid) if skip_sent_tasks and read_tasks
                             else [], "p")
    riders.update({f"{key}|0": _task_command(bindings, 0) for key, bindings in predicted.items()})
    rows, first, rode = _items(batcher, defs.workflows, names, totals, extra, riders)
    states = _approver_states(first) if APPROVERS in rode else {}
    early: dict[tuple[int, int], list[TaskInfo]] = defaultdict(list)
    covered: set[tuple[int, int]] = set()
    etids = {n.binding: n.entity_type_id for n in names.values()}
    for command_key in rode:
        group = command_key.split("|", 1)[0]
        if group in predicted and first.ok(command_key) and not first.nexts.get(command_key):   # read whole
            _parse_tasks(first.results.get(command_key), etids, early)
            covered |= {_binding_key(b, etids) for b in predicted[group]}
    moment = (now or batcher.now or deps.now()).astimezone(defs.calendar.tz)
    collected = Collected(moment, defs, items=len(rows), extra=batcher.extra)
    bare: list[Found] = []
    for (code, _), verified in zip(rows, _verified_items(deps, member_id, names, rows), strict=True):
        workflow, item_names_ = defs.workflows[code], names[code]
        snap = parse_item(verified, item_names_)
        request = open_request(workflow, item_names_.entity_type_id, snap)
        if request is not None and request.step is not None:
            bare.append(Found(workflow, item_names_, snap, request))
    wanted, known = _wanting_tasks(deps, member_id, collected, bare, skip_sent_tasks) if read_tasks else ([], {})
    current = sorted({f.request.approver for f in bare if f.request.approver})
    missing = [u for u in current if states is not None and u not in states] if approvers else []
    uncovered = [f for f in wanted if (f.names.entity_type_id, f.snap.item_id) not in covered]
    tasks, asked = _tasks(batcher, [(f.names, f.snap.item_id) for f in uncovered],
                          {APPROVERS: _approvers_command(missing)} if missing else {})
    for found in wanted:                         # read in the first batch, as the last sweep predicted
        item_key = (found.names.entity_type_id, found.snap.item_id)
        if item_key in covered and item_key in early:
            tasks[item_key] = early[item_key]
    if missing and asked is None and uncovered:
        states = None                                  # the lookup failed in the task batch
    elif missing and not uncovered:
        before = batcher.requests
        asked = _ask_approvers(batcher, missing)
        collected.approver_requests = batcher.requests - before
        batcher.requests = before
    if states is not None and missing:
        states = None if asked is None else {**states, **asked}
    if approvers:
        collected.approvers = states
    for found in bare:
        key = (found.names.entity_type_id, found.snap.item_id)
        request = found.request
        if key in tasks:
            request = open_request(found.workflow, key[0], found.snap, tasks[key]) or request
        notices = known.get(key) if key not in tasks else None
        collected.found.append(Found(found.workflow, found.names, found.snap, request, notices))
    collected.http_requests = batcher.requests
    if batcher.totals:
        deps.redis.hset(keys.sweep_totals(member_id), mapping={c: str(n) for c, n in batcher.totals.items()})
        if approvers:
            deps.redis.hset(keys.sweep_totals(member_id), APPROVERS, ",".join(str(u) for u in current))
        if skip_sent_tasks:
            deps.redis.hset(keys.sweep_totals(member_id), TASK_ITEMS,
                            ",".join(f"{f.names.entity_type_id}:{f.snap.item_id}" for f in wanted))
        deps.redis.expire(keys.sweep_totals(member_id), keys.ESCALATION_SENT_TTL)
    return collected


# -- approvers ----------------------------------------------------------------------------------------

#: The batch key of the approvers' lookup and the totals hash field keeping the last sweep's approvers.
APPROVERS = "~approvers"


#: The totals hash field keeping the items whose tasks the last sweep read: their task reads ride in the
#: first batch's free slots next time (an item still wanting them is not read again).
TASK_ITEMS = "~tasks"


def _known_task_items(deps: Deps, member_id: str, by_etid: Mapping[int, ItemNames]) -> list[tuple[ItemNames, int]]:
    raw = deps.redis.hget(keys.sweep_totals(member_id), TASK_ITEMS)
    text = raw.decode() if isinstance(raw, bytes) else str(raw or "")
    found: list[tuple[ItemNames, int]] = []
    for part in text.split(","):
        etid, _, item = part.partition(":")
        if etid.isdigit() and item.isdigit() and int(etid) in by_etid:
            found.append((by_etid[int(etid)], int(item)))
    return found


def _approvers_command(users: Sequence[int]) -> Command:
    return ("im.user.list.get", {"ID": list(users)})


def _known_approvers(deps: Deps, member_id: str) -> list[int]:
    raw = deps.redis.hget(keys.sweep_totals(member_id), APPROVERS)
    text = raw.decode() if isinstance(raw, bytes) else str(raw or "")
    return [int(u) for u in text.split(",") if u.isdigit()]


def _approver_states(answer: BatchResult) -> dict[int, Person] | None:
    """The lookup's answer in a batch (None when it failed)."""
    return people_from(answer.results.get(APPROVERS)) if answer.ok(APPROVERS) else None


def _ask_approvers(batcher: Reader, users: Sequence[int]) -> dict[int, Person] | None:
    try:
        return _approver_states(batcher.run({APPROVERS: _approvers_command(users)}, tolerate=[APPROVERS]))
    except B24AppError:
        return None


def _verified_items(deps: Deps, member_id: str, names: Mapping[str, ItemNames],
                    rows: Sequence[tuple[str, Mapping[str, Any]]]) -> list[dict[str, Any]]:
    """The items with only the app's signed log; a rolled-back log replaced by the app's copy of it (the
    item's own processing writes it back and reports it; the sweep only reads)."""
    checked = [verified_item(deps, member_id, names[code], raw) for code, raw in rows]
    scopes = [Scope(member_id, names[code].entity_type_id, int(raw["id"])) for code, raw in rows]
    items: list[dict[str, Any]] = []
    for (code, _), (item, verified), record in zip(rows, checked, records(deps.redis, scopes), strict=True):
        kept = rolled_back(verified.entries, record)
        if kept is not None:
            item[names[code].field("DECISIONS")] = list(kept)
        items.append(item)
    return items


def _wanting_tasks(deps: Deps, member_id: str, collected: Collected, bare: list[Found],
                   skip_sent: bool) -> tuple[list[Found], dict[tuple[int, int], tuple[Notice, ...]]]:
    """The requests whose tasks must be read, and the notices of the others where they were computed
    (the rules that look at no task give the same notices whatever the tasks: computed once)."""
    defs, now = collected.defs, collected.now
    wanted: list[Found] = []
    known: dict[tuple[int, int], tuple[Notice, ...]] = {}
    maybe: list[tuple[Found, list[str]]] = []
    deadlines = _recorded_deadlines(deps, member_id, bare) if skip_sent else {}
    for found in bare:
        rules = task_rules(found.step)
        if not rules:
            continue
        if not skip_sent or any(found.step.time_rules.rules[i].when is not None for i in rules):
            if _no_task_overdue(found, rules, deadlines, now):
                known[(found.names.entity_type_id, found.snap.item_id)] = tuple(due_notices(
                    found.step, found.request, now, defs.calendar, roles=defs.roles, absences=defs.org.absences))
            else:
                wanted.append(found)
            continue
        notices = due_notices(found.step, found.request, now, defs.calendar, roles=defs.roles,
                              absences=defs.org.absences, assume=TASK_CONDITIONS)
        known[(found.names.entity_type_id, found.snap.item_id)] = tuple(
            n for n in notices if n.rule_index not in rules)
        keys = [marker(member_id, d) for n in notices if n.rule_index in rules for d, _ in n.deliveries()]
        if keys:
            maybe.append((found, keys))
    if maybe:
        pipe = deps.redis.pipeline(transaction=False)
        for _, keys in maybe:
            pipe.exists(*keys)
        wanted += [found for (found, keys), count in zip(maybe, pipe.execute(), strict=True) if count < len(keys)]
    return wanted, known


def _recorded_deadlines(deps: Deps, member_id: str, bare: list[Found]) -> dict[tuple[int, int], int]:
    """The earliest open-task deadline the app recorded when it last processed each item (one round trip)."""
    keys_ = [(f.names.entity_type_id, f.snap.item_id) for f in bare if task_rules(f.step)]
    found = echo.earliest_deadlines(deps.redis, member_id, [echo.seen_field(*k) for k in keys_])
    return {k: found[echo.seen_field(*k)] for k in keys_ if echo.seen_field(*k) in found}


def _no_task_overdue(found: Found, rules: list[int], deadlines: Mapping[tuple[int, int], int],
                     now: datetime) -> bool:
    """Only ``when: tasks_overdue`` looks at the tasks, and the app knows no open task is past its deadline
    (the deadlines it set itself; a person's change of one is an event the pipeline reads)."""
    whens = [found.step.time_rules.rules[i].when for i in rules]
    if any(when is None or when.name != "tasks_overdue" for when in whens):
        return False
    earliest = deadlines.get((found.names.entity_type_id, found.snap.item_id))
    return earliest is not None and (earliest == 0 or earliest > now.timestamp())


# -- items --------------------------------------------------------------------------------------------

def _open_stages(workflow: Workflow, names: ItemNames) -> list[str]:
    codes = {s.stage for s in workflow.steps} | {s.code for s in workflow.stages if s.pause}
    return sorted(names.stage_ids[c] for c in codes if names.stage_ids.get(c))


def _list_command(workflow: Workflow, names: ItemNames, start: int) -> Command:
    select = ITEM_SELECT + [names.field(code) for code in ITEM_FIELDS if code in names.field_names]
    return ("crm.item.list", {
        "entityTypeId": names.entity_type_id, "select": select, "order": {"id": "ASC"}, "start": start,
        "filter": {"categoryId": names.category_id, "@stageId": _open_stages(workflow, names)},
        "useOriginalUfNames": "Y",
    })


def _known_totals(deps: Deps, member_id: str, workflows: Mapping[str, Workflow]) -> dict[str, int]:
    """Each workflow's open-item count at the last sweep (kept in Redis), so the pages can be asked for
    in the first batch; the sweep still reads whatever the portal's totals say on top of them."""
    codes = sorted(workflows)
    values = deps.redis.hmget(keys.sweep_totals(member_id), codes) if codes else []
    return {code: int(v) for code, v in zip(codes, values, strict=True) if v is not None and int(v) >= 0}


def _items(batcher: Reader, workflows: Mapping[str, Workflow], names: Mapping[str, ItemNames],
           known: Mapping[str, int] | None = None, extra: Mapping[str, Command] | None = None,
           riders: Mapping[str, Command] | None = None,
           ) -> tuple[list[tuple[str, Mapping[str, Any]]], BatchResult, list[str]]:
    """The open items; the pages the last sweep's totals predict go with each page 0, and the ``extra``
    commands after them (their answers: ``batcher.extra``); then, while the last request of that batch
    has free slots (50 commands a request), the commands of ``riders`` in their order (their failures
    tolerated) and one more page per workflow (room for growth) — slots that cost no request of their
    own. Returns the rows, the first batch's answer and the riders' keys that rode in it."""
    known, extra = known or {}, extra or {}
    first = {f"{code}|{start}": _list_command(workflows[code], names[code], start)
             for code in workflows for start in range(0, max(known.get(code, 0), 1), PAGE_SIZE)}
    first.update(extra)
    free = -len(first) % BATCH_SIZE
    riding: list[str] = []
    for key, command in (riders or {}).items():
        if free <= 0:
            break
        first[key] = command
        riding.append(key)
        free -= 1
    for code in workflows:
        if free > 0 and known.get(code, 0) > 0:
            start = known[code] + PAGE_SIZE - 1
            start -= start % PAGE_SIZE
            first[f"{code}|{start}"] = _list_command(workflows[code], names[code], start)
            free -= 1
    answer = batcher.run(first, tolerate=riding)
    batcher.extra = {key: (answer.results.get(key), int(answer.totals.get(key) or 0)) for key in extra}
    results = {k: v for k, v in answer.results.items() if k not in riding and k not in extra}
    totals = answer.totals
    rest: dict[str, Command] = {}
    for code in workflows:
        total = int(totals.get(f"{code}|0") or 0)
        for start in range(PAGE_SIZE, total, PAGE_SIZE):
            if f"{code}|{start}" not in first:
                rest[f"{code}|{start}"] = _list_command(workflows[code], names[code], start)
    if rest:
        results.update(batcher.run(rest).results)
    batcher.totals = {code: int(totals.get(f"{code}|0") or 0) for code in workflows}
    seen: set[tuple[str, int]] = set()
    rows: list[tuple[str, Mapping[str, Any]]] = []
    for key, page in results.items():
        code = key.split("|", 1)[0]
        for raw in (page or {}).get("items") or [] if isinstance(page, dict) else []:
            if (code, int(raw["id"])) not in seen:       # an item moved between pages is read twice
                seen.add((code, int(raw["id"])))
                rows.append((code, raw))
    return rows, answer, riding


# -- tasks --------------------------------------------------------------------------------------------

def _task_command(bindings: Sequence[str], start: int) -> Command:
    return ("tasks.task.list", {"filter": {"UF_CRM_TASK": list(bindings), "!REAL_STATUS": [4, 5]},
                                "select": TASK_SELECT, "order": {"ID": "asc"}, "start": start})


def _tasks(batcher: Reader, wanted: Sequence[tuple[ItemNames, int]], extra: Mapping[str, Command] | None = None,
           ) -> tuple[dict[tuple[int, int], list[TaskInfo]], dict[int, Person] | None]:
    """The open tasks of ``wanted``; ``extra`` (the approvers' lookup) rides in the first batch when there
    is one (its answer returned: None when it failed or there was no batch)."""
    by_item: dict[tuple[int, int], list[TaskInfo]] = defaultdict(list)
    states: dict[int, Person] | None = None
    groups = _task_groups(wanted, "t")
    etids = {n.binding: n.entity_type_id for n, _ in wanted}
    pending = {f"{key}|0": _task_command(bindings, 0) for key, bindings in groups.items()}
    riding = dict(extra or {}) if pending else {}
    pending.update(riding)
    while pending:
        answer = batcher.run(pending, tolerate=list(riding))
        if riding:
            states, riding = _approver_states(answer), {}
        results, nexts = answer.results, answer.nexts
        following: dict[str, Command] = {}
        for key, page in results.items():
            if key == APPROVERS:
                continue
            _parse_tasks(page, etids, by_item)
            if nexts.get(key):
                group = key.split("|", 1)[0]
                following[f"{group}|{nexts[key]}"] = _task_command(groups[group], int(nexts[key]))
        pending = following
    return by_item, states


def _task_groups(wanted: Sequence[tuple[ItemNames, int]], prefix: str) -> dict[str, list[str]]:
    """The bindings of ``wanted``, :data:`ITEMS_PER_TASK_COMMAND` to a command."""
    return {f"{prefix}{index}": [n.binding_for(item_id) for n, item_id in wanted[index:index + ITEMS_PER_TASK_COMMAND]]
            for index in range(0, len(wanted), ITEMS_PER_TASK_COMMAND)}


def _binding_key(binding: str, etids: Mapping[str, int]) -> tuple[int, int]:
    prefix, _, item = binding.rpartition("_")
    return etids.get(f"{prefix}_", 0), int(item) if item.isdigit() else 0


def _parse_tasks(page: Any, etids: Mapping[str, int], by_item: dict[tuple[int, int], list[TaskInfo]]) -> None:
    for raw in (page or {}).get("tasks") or [] if isinstance(page, dict) else []:
        task = parse_task(raw)
        for binding in raw.get("ufCrmTask") or []:
            prefix, _, item = str(binding).rpartition("_")
            if f"{prefix}_" in etids and item.isdigit():
                by_item[(etids[f"{prefix}_"], int(item))].append(task)
