"""One control-room view of a portal, read in the sweep's batches and kept a minute in Redis.

Everything rides in :func:`b24app.escalation.read.collect` without tasks: its first ``batch`` holds the
open requests' pages (as many as the last sweep's totals predict) and, after them, the view's own
commands (:func:`extra_commands`):

* per workflow and week of :data:`WEEKS`: ``crm.item.list`` of the items created that week, and of
  those moved to the success stage («Оплачено» / «Подписан») that week — ``select: [id]``; only each
  answer's ``total`` is used;
* per workflow, :data:`HISTORY_PAGES` pages of the items that reached a final stage in the last
  :data:`HISTORY_DAYS` days (newest first) with their approval log: with the open requests' logs, the
  steps done in that window;
* when not kept from the last hour: the people (``user.get``: names, departments) and the departments
  (``department.get``); when not kept from the day: the list values of «Статья расходов»
  (``crm.item.fields``).

So a view costs the open requests' reads (about N/2500 requests) and rarely one more: at most
⌈N/2500⌉ + 1 requests, plus the sign-in check of the person (``user.current``, cached 5 minutes).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from b24app import keys
from b24app.control.history import StepTime, figures, step_times
from b24app.escalation.read import Collected, collect
from b24app.escalation.rules import past_allowance, used_time
from b24app.notify.deliver import portal_domain
from b24app.notify.itemnotes import item_url
from b24app.pipeline.definitions import definitions, item_names
from b24app.pipeline.trust import verified_item
from b24app.rest.protocol import Command
from b24app.workflow.listoptions import option_names
from b24app.workflow.models import Workflow
from b24app.workflow.snapshot import ItemNames, money, parse_item

if TYPE_CHECKING:
    from b24app.deps import Deps

log = logging.getLogger(__name__)

WEEKS = 8
HISTORY_DAYS = 30
HISTORY_PAGES = 4
PEOPLE_PAGES = 4
PAGE = 50
#: The windows (weeks, 30 days) are planned on our clock plus the portal's last known skew; when the
#: portal's own clock (the batch's ``time`` block) is further off than this, they are asked again.
CLOCK_SLACK = 600
EXPENSE = "EXPENSE_ITEM"


def view(deps: Deps, member_id: str, now: datetime | None = None, fresh: bool = False) -> dict[str, Any]:
    """The portal's view (all rows, unfiltered): from Redis when read in the last minute."""
    key = keys.control_view(member_id)
    if not fresh and now is None:
        cached = deps.redis.get(key)
        if cached:
            data: dict[str, Any] = json.loads(cached)
            data["cached"] = True
            return data
    data = build(deps, member_id, now)
    deps.redis.set(key, json.dumps(data, ensure_ascii=False), ex=keys.CONTROL_TTL)
    data["cached"] = False
    return data


def build(deps: Deps, member_id: str, now: datetime | None = None) -> dict[str, Any]:
    defs = definitions(deps, member_id)
    names = {code: item_names(deps, member_id, code) for code in defs.workflows}
    offset = float(deps.redis.get(keys.control_clock(member_id)) or 0)
    guess = (now or deps.now() + timedelta(seconds=offset)).astimezone(defs.calendar.tz)
    people = _cached(deps, keys.control_people(member_id))
    enums = _enum_names(deps, member_id, names)
    extra = extra_commands(defs.workflows, names, guess, people is None, not enums)
    collected = collect(deps, member_id, now, read_tasks=False, extra=extra)
    moment = collected.now
    if now is None:
        skew = (moment - deps.now()).total_seconds()        # the offset access.portal_now adds
        deps.redis.set(keys.control_clock(member_id), str(round(skew)), ex=keys.CONTROL_PEOPLE_TTL * 24)
    if abs((moment - guess).total_seconds()) > CLOCK_SLACK:
        _reread(deps, member_id, collected, extra_commands(defs.workflows, names, moment, people is None, not enums))
    if people is None:
        people = _people(collected)
        deps.redis.set(keys.control_people(member_id), json.dumps(people, ensure_ascii=False),
                       ex=keys.CONTROL_PEOPLE_TTL)
    if not enums:
        enums = _store_enums(deps, member_id, defs.workflows, names, collected)
    times = _times(deps, member_id, collected, names)
    since = moment - timedelta(days=HISTORY_DAYS)
    domain = _domain(deps, member_id)
    return {
        "now": moment.isoformat(),
        "rows": _rows(collected, people, enums, domain),
        "steps": [_figure(f.key, f) for f in figures(times, since)],
        "approvers": [{**_figure(f.key, f), "name": people["names"].get(f.key[0], f"#{f.key[0]}")}
                      for f in figures(times, since, by_approver=True)],
        "weeks": _weeks(collected, defs.workflows, moment),
        "closed_read": sum(len(_rows_of(collected, k)) for k in collected.extra if k.startswith("h|")),
        "closed_capped": any(len(_rows_of(collected, k)) >= PAGE for k in collected.extra
                             if k.startswith("h|") and k.endswith(f"|{HISTORY_PAGES - 1}")),
        "requests": collected.http_requests,
    }


# -- the commands -------------------------------------------------------------------------------------

def mondays(now: datetime) -> list[datetime]:
    """The Mondays (00:00, portal time) of the last :data:`WEEKS` weeks, oldest first, and the next one."""
    this = (now - timedelta(days=now.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    return [this - timedelta(weeks=WEEKS - 1 - i) for i in range(WEEKS + 1)]


def extra_commands(workflows: Mapping[str, Workflow], names: Mapping[str, ItemNames], now: datetime,
                   with_people: bool, with_enums: bool) -> dict[str, Command]:
    commands: dict[str, Command] = {}
    weeks = mondays(now)
    for code, workflow in workflows.items():
        n = names[code]
        base = {"entityTypeId": n.entity_type_id, "select": ["id"]}
        success = n.stage_ids.get(workflow.success_stage.code, "")
        for i in range(WEEKS):
            start, end = weeks[i].isoformat(), weeks[i + 1].isoformat()
            commands[f"c|{code}|{i}"] = ("crm.item.list", {**base, "filter": {
                "categoryId": n.category_id, ">=createdTime": start, "<createdTime": end}})
            commands[f"d|{code}|{i}"] = ("crm.item.list", {**base, "filter": {
                "categoryId": n.category_id, "stageId": success, ">=movedTime": start, "<movedTime": end}})
        finals = sorted(n.stage_ids[s.code] for s in workflow.stages if s.final and n.stage_ids.get(s.code))
        since = (now - timedelta(days=HISTORY_DAYS)).isoformat()
        for page in range(HISTORY_PAGES):
            commands[f"h|{code}|{page}"] = ("crm.item.list", {
                "entityTypeId": n.entity_type_id, "select": ["id", "stageId", "createdBy", n.field("DECISIONS")],
                "filter": {"categoryId": n.category_id, "@stageId": finals, ">=movedTime": since},
                "order": {"movedTime": "DESC"}, "start": page * PAGE, "useOriginalUfNames": "Y"})
        if with_enums and EXPENSE in n.field_names:
            commands[f"e|{code}"] = ("crm.item.fields", {"entityTypeId": n.entity_type_id,
                                                         "useOriginalUfNames": "Y"})
    if with_people:
        for page in range(PEOPLE_PAGES):
            commands[f"u|{page}"] = ("user.get", {"start": page * PAGE})
        commands["dep"] = ("department.get", {})
    return commands


def _reread(deps: Deps, member_id: str, collected: Collected, commands: dict[str, Command]) -> None:
    """The view's own commands again, planned on the portal's clock (the first view of a skewed portal)."""
    log.info("control room %s: the portal's clock is off ours; the windows are read again", member_id)
    answer = deps.bitrix(member_id).batch(commands)
    answer.raise_first()
    collected.http_requests += answer.requests
    collected.extra = {key: (answer.results.get(key), int(answer.totals.get(key) or 0)) for key in commands}


# -- the answers --------------------------------------------------------------------------------------

def _rows_of(collected: Collected, key: str) -> list[Any]:
    result = collected.extra.get(key, (None, 0))[0]
    if isinstance(result, Mapping):
        result = result.get("items")
    return list(result) if isinstance(result, list) else []


def _total(collected: Collected, key: str) -> int:
    return collected.extra.get(key, (None, 0))[1] or len(_rows_of(collected, key))


def _people(collected: Collected) -> dict[str, Any]:
    names: dict[str, str] = {}
    departments: dict[str, list[int]] = {}
    for key in collected.extra:
        if key.startswith("u|"):
            for row in _rows_of(collected, key):
                uid = str(row.get("ID"))
                names[uid] = " ".join(p for p in (row.get("NAME"), row.get("LAST_NAME")) if p) or f"#{uid}"
                raw = row.get("UF_DEPARTMENT")
                departments[uid] = [int(d) for d in raw] if isinstance(raw, list) else []
    units = {str(row.get("ID")): str(row.get("NAME") or "") for row in _rows_of(collected, "dep")}
    return {"names": names, "departments": departments, "units": units}


def _enum_names(deps: Deps, member_id: str, names: Mapping[str, ItemNames]) -> dict[str, str]:
    found: dict[str, str] = {}
    for n in names.values():
        if EXPENSE in n.field_names:
            raw = deps.redis.hgetall(keys.enums(member_id, n.entity_type_id))
            found.update({(k.decode() if isinstance(k, bytes) else str(k)): (v.decode() if isinstance(v, bytes)
                                                                             else str(v)) for k, v in raw.items()})
    return found


def _store_enums(deps: Deps, member_id: str, workflows: Mapping[str, Workflow], names: Mapping[str, ItemNames],
                 collected: Collected) -> dict[str, str]:
    found: dict[str, str] = {}
    for code, workflow in workflows.items():
        key = f"e|{code}"
        if key not in collected.extra or EXPENSE not in names[code].field_names:
            continue
        by_code = {v.code: v.name.ru for v in workflow.field(EXPENSE).values}
        options = option_names(collected.extra[key][0], by_code)
        if options:
            found.update(options)
            store = keys.enums(member_id, names[code].entity_type_id)
            entries: dict[Any, Any] = dict(options)
            deps.redis.hset(store, mapping=entries)
            deps.redis.expire(store, keys.NAMES_TTL)
    return found


def _times(deps: Deps, member_id: str, collected: Collected, names: Mapping[str, ItemNames]) -> list[StepTime]:
    calendar = collected.defs.calendar
    times: list[StepTime] = []
    for found in collected.found:
        times += step_times(found.workflow.code, found.snap.log, calendar)
    for key in collected.extra:
        if not key.startswith("h|"):
            continue
        code = key.split("|")[1]
        for raw in _rows_of(collected, key):
            item, _ = verified_item(deps, member_id, names[code], raw)
            times += step_times(code, parse_item(item, names[code]).log, calendar)
    return times


def _rows(collected: Collected, people: Mapping[str, Any], enums: Mapping[str, str], domain: str) -> list[dict[str, Any]]:
    now, calendar = collected.now, collected.defs.calendar
    rows: list[dict[str, Any]] = []
    for found in collected.found:
        request, step, workflow = found.request, found.step, found.workflow
        stage = workflow.step_name(step.code)
        shared = sum(1 for s in workflow.steps if s.stage == step.stage) > 1
        departments = people["departments"].get(str(request.initiator)) or []
        department = departments[0] if departments else 0
        expense = request.fields.get(EXPENSE) or found.snap.fields.get(EXPENSE)
        expense_key = f"{found.names.field(EXPENSE)}:{expense}" if expense not in (None, "", 0) else ""
        amount, currency = money(request.fields.get("AMOUNT"))
        rows.append({
            "workflow": workflow.code, "workflow_ru": workflow.title.ru, "workflow_en": workflow.title.en,
            "entity_type_id": request.entity_type_id, "item_id": request.item_id, "title": request.title,
            "step": step.code, "step_ru": stage.ru, "step_en": stage.en, "step_shared": shared,
            "approver": request.approver or 0,
            "approver_name": people["names"].get(str(request.approver), f"#{request.approver}")
            if request.approver else "",
            "department": department, "department_name": people["units"].get(str(department), ""),
            "expense": str(expense or ""), "expense_name": enums.get(expense_key, "") if expense_key else "",
            "amount": str(amount), "currency": currency,
            "counterparty": str(request.fields.get("COUNTERPARTY_NAME") or ""),
            "waiting_hours": round(used_time(request, now, calendar).total_seconds() / 3600, 2),
            "overdue": (not request.paused) and past_allowance(step, request, now, calendar),
            "paused": request.paused,
            "url": item_url(domain, request.entity_type_id, request.item_id),
        })
    rows.sort(key=lambda r: (not r["overdue"], -r["waiting_hours"], r["item_id"]))
    return rows


def _figure(key: tuple[str, ...], figure: Any) -> dict[str, Any]:
    return {"key": list(key), "count": figure.count, "median": round(figure.median_hours, 1),
            "p90": round(figure.p90_hours, 1)}


def _weeks(collected: Collected, workflows: Mapping[str, Workflow], now: datetime) -> dict[str, list[list[Any]]]:
    weeks = mondays(now)
    return {code: [[weeks[i].date().isoformat(), _total(collected, f"c|{code}|{i}"),
                    _total(collected, f"d|{code}|{i}")] for i in range(WEEKS)] for code in workflows}


def _cached(deps: Deps, key: str) -> dict[str, Any] | None:
    raw = deps.redis.get(key)
    return json.loads(raw) if raw else None


def _domain(deps: Deps, member_id: str) -> str:
    return portal_domain(deps, member_id, strict=False)
