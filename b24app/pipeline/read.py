"""Reading one item's current state for the engine — one ``batch`` request (:func:`plan`, :func:`interpret`).

Item, bound tasks, initiator and department tree in one batch; its ``time`` block gives the portal's
clock. Only what the app wrote counts: approval log entries are verified and tasks not created by the
app are left out (:mod:`b24app.pipeline.trust`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from b24app import keys
from b24app.errors import RestError
from b24app.pipeline import files, links, logsign, trust
from b24app.pipeline.definitions import Definitions, definitions, item_names
from b24app.rest.protocol import BatchResult, Bitrix24, Command
from b24app.workflow import actors
from b24app.workflow.engine import Context
from b24app.workflow.models import Workflow
from b24app.workflow.snapshot import FileInfo, ItemNames, Snapshot, parse_item

if TYPE_CHECKING:
    from b24app.deps import Deps

log = logging.getLogger(__name__)

TASK_SELECT = ["ID", "TITLE", "STATUS", "RESPONSIBLE_ID", "DESCRIPTION", "PARENT_ID", "CLOSED_BY", "DEADLINE",
               "CLOSED_DATE", "CREATED_BY", "UF_CRM_TASK", "UF_TASK_WEBDAV_FILES"]
MAX_DEPTH = 20


@dataclass(frozen=True)
class Loaded:
    workflow: Workflow
    names: ItemNames
    snap: Snapshot
    ctx: Context
    now: datetime
    #: ``DECISIONS`` values that failed the signature check (ignored; reported once in the timeline).
    rejected: tuple[str, ...] = ()
    #: The verified log found on the portal when it was rolled back (the snapshot holds the app's copy).
    rolled_back: tuple[str, ...] | None = None
    #: The portal's clock when the read started (what changed before it, the read saw).
    read_at: datetime | None = None
    #: The finance review's links commands the read carried, planned ahead, and their answers.
    ahead: links.Ahead | None = None


@dataclass(frozen=True)
class Plan:
    """What one item's read asks (:func:`plan`) and what interpreting the answer needs (:func:`interpret`)."""

    workflow_code: str
    item_id: int
    names: ItemNames
    app_user: int | None
    known: dict[int, str]
    commands: dict[str, Command]


def load(deps: Deps, member_id: str, workflow_code: str, item_id: int, *, digest_files: bool = True) -> Loaded | None:
    """The item's snapshot and the engine's context, or None when the item does not exist.

    With ``digest_files`` the ``versions`` field's current file is hashed when the log does not know it
    yet (one download per file id, :func:`version_file`); without (the approval tab) only the log's
    knowledge is used.

    Only what the app wrote counts: approval log entries are verified and tasks not created by the app
    are left out (:mod:`b24app.pipeline.trust`). Any read error but "item not found" raises (the job retries).
    One ``batch``: :func:`plan`'s commands, the answer read by :func:`interpret` (:mod:`b24app.pipeline.many`
    packs several items' commands into shared batches)."""
    wanted = plan(deps, member_id, workflow_code, item_id)
    answer = deps.bitrix(member_id).batch(wanted.commands)
    return interpret(deps, member_id, wanted, answer, digest_files=digest_files)


def plan(deps: Deps, member_id: str, workflow_code: str, item_id: int) -> Plan:
    """The batch commands that read one item (``$result[...]`` references by these keys)."""
    defs = definitions(deps, member_id)
    names = item_names(deps, member_id, workflow_code)
    app_user = trust.cached_app_user(deps, member_id)
    commands: dict[str, Command] = {
        "item": ("crm.item.get", {"entityTypeId": names.entity_type_id, "id": item_id, "useOriginalUfNames": "Y"}),
        "tasks": ("tasks.task.list", {"filter": {"UF_CRM_TASK": names.binding_for(item_id)},
                                      "select": TASK_SELECT, "order": {"ID": "asc"}}),
        **actors.fetch_commands("item"),
        **_people_commands(deps, member_id, names, defs),
    }
    if app_user is None:
        commands[trust.ME] = ("user.current", {})
    known = _known_names(deps, member_id)
    commands.update(_name_commands(known, defs))
    if defs.workflows[workflow_code].checks is not None:
        commands.update(links.ahead_commands(deps, member_id, names, item_id))
    return Plan(workflow_code, item_id, names, app_user, known, commands)


def interpret(deps: Deps, member_id: str, wanted: Plan, answer: BatchResult, *,
              digest_files: bool = True) -> Loaded | None:
    """The item's :class:`Loaded` from the answer to :func:`plan`'s commands (keyed as there); the
    follow-up reads it may need (a type check, departments beyond the first page, heads and names not
    seen before, a file digest) are made here, one item at a time."""
    defs = definitions(deps, member_id)
    names, item_id, known, app_user = wanted.names, wanted.item_id, wanted.known, wanted.app_user
    client = deps.bitrix(member_id)
    results = answer.results
    if _not_found(answer.errors.get("item")) and _type_exists(client, names.entity_type_id):
        return None
    planned = [k for k in wanted.commands if k.startswith(links.AHEAD_PREFIX)]   # their failure: the separate batch
    answer.raise_first(skip=[trust.ME, APPROVER, *NAME_COMMANDS, *planned])   # a failed read must not look like "no tasks": the job retries
    item = (results.get("item") or {}).get("item") if isinstance(results.get("item"), dict) else None
    if not item:
        return None
    if app_user is None:
        app_user = trust.app_user_from(deps, member_id, results.get(trust.ME))
    tasks = results.get("tasks")
    rows = tasks.get("tasks") if isinstance(tasks, dict) else []
    rows = trust.trusted_rows(rows if isinstance(rows, list) else [],
                              trust.created_ids(deps, member_id, names.entity_type_id, item_id), app_user, item_id)
    item, checked = trust.verified_item(deps, member_id, names, item)
    found = checked.entries
    [record] = logsign.records(deps.redis, [logsign.Scope(member_id, names.entity_type_id, item_id)])
    kept = logsign.rolled_back(found, record)
    if kept is not None:
        item[names.field("DECISIONS")] = list(kept)          # the app's copy of the log it wrote last
    snap = parse_item(item, names, rows)
    workflow = defs.workflows[wanted.workflow_code]
    snap = replace(snap, version_file=version_file(deps, member_id, workflow, snap, digest_files))
    table = actors.departments_from(results.get("departments"))
    start = actors.user_departments(results.get("initiator"))
    head = _head(client, table, start)
    chain = actors.heads_up(table, start)
    states = _states(deps, member_id, client, chain, results)
    people = _names(deps, member_id, client, snap, head, known, [results.get(k) for k in USER_ROWS], defs)
    ctx = Context(roles=defs.roles, calendar=defs.calendar, deadlines=defs.deadlines,
                  absences=defs.org.absences, head=head, names=people, heads=tuple(chain), people=states,
                  role_names={c: r.name for c, r in defs.org.roles.items()})
    now = answer.finished or deps.now()          # the portal's time; the app's clock when it gave none
    return Loaded(workflow, names, snap, ctx, now.astimezone(defs.calendar.tz),
                  checked.rejected, found if kept is not None else None, answer.started or now,
                  links.ahead_answer(wanted.commands, results, answer.errors))


def version_file(deps: Deps, member_id: str, workflow: Workflow, snap: Snapshot, digest_files: bool) -> FileInfo | None:
    """The ``versions`` field's current file with its SHA-256: from the log when it already recorded this
    file id, else (``digest_files``) downloaded once and hashed (:mod:`b24app.pipeline.files`). A download the
    portal may still answer (no answer, 5xx) raises: the job retries; one refused for good (4xx) is logged and
    skipped, so a file the app cannot read never stops the approval."""
    if workflow.versions is None:
        return None
    ref = files.latest(snap.fields.get(workflow.versions.field))
    if ref is None:
        return None
    known = next((e for e in reversed(snap.log) if e.file == ref.id and e.sha256), None)
    if known is not None:
        return FileInfo(ref.id, known.file_name, known.sha256, known.url)
    if not digest_files:
        return None
    try:
        found = files.digest(deps.bitrix(member_id), deps.redis, member_id, ref)
    except RestError as exc:
        if not 400 <= exc.status < 500:
            raise                                     # the portal may answer later: the job retries
        # refused for good (the file is gone, or the app may not read it): approval goes on without a new
        # version; the next read tries again (nothing was cached)
        log.warning("file %s of item %s could not be downloaded (%s); no version recorded", ref.id,
                    snap.item_id, exc)
        return None
    return FileInfo(ref.id, found.name, found.sha256, files.browser_url(ref))


APPROVER, STATES = "approver", "states"
#: error codes of ``crm.type.getByEntityTypeId`` for a type that does not exist (the docs list none:
#: ``0`` as the crm.type.* methods answer, ``NOT_FOUND`` as crm.item.* do) — never the localised text
TYPE_MISSING = ("NOT_FOUND", "0", "")


def _people_commands(deps: Deps, member_id: str, names: ItemNames, defs: Definitions) -> dict[str, Command]:
    """Who is dismissed or away, in the same batch: the roles and the heads seen before
    (``im.user.list.get``), and the current approver by reference to the item (``im.user.get``)."""
    known = {int(v) for v in deps.redis.smembers(keys.heads(member_id)) if v.isdigit()}
    ids = sorted({*defs.roles.values(), *known, *(a.substitute_id for a in defs.org.absences)})
    commands: dict[str, Command] = {
        APPROVER: ("im.user.get", {"ID": f"$result[item][item][{names.field('CURRENT_APPROVER')}]"}),
    }
    if ids:
        commands[STATES] = ("im.user.list.get", {"ID": ids})
    return commands


def _states(deps: Deps, member_id: str, client: Bitrix24, chain: list[int],
            results: dict[str, Any]) -> dict[int, actors.Person]:
    """The portal's view of the people on the route; heads not seen before cost one read, once."""
    states = actors.people_from(results.get(STATES))
    states.update(actors.people_from(results.get(APPROVER)))
    missing = [h for h in chain if h not in states]
    if missing:
        states.update(actors.people_from(client.call("im.user.list.get", {"ID": missing})))
        deps.redis.sadd(keys.heads(member_id), *[str(h) for h in missing])
    return states


def seed_heads(deps: Deps, member_id: str) -> int:
    """Remember every department head (at install: one ``department.get``), so that the items' read
    batches ask about them from the first trigger on; returns how many."""
    table = actors.departments_from(deps.bitrix(member_id).call("department.get", {}))
    heads = sorted({h for _, h in table.values() if h})
    if heads:
        deps.redis.sadd(keys.heads(member_id), *[str(h) for h in heads])
    return len(heads)


def _not_found(error: Any) -> bool:
    """``NOT_FOUND`` — by the error code only: the portal localises ``error_description``."""
    return isinstance(error, dict) and str(error.get("error", "")).upper() == "NOT_FOUND"


def _type_exists(client: Bitrix24, entity_type_id: int) -> bool:
    """Whether the smart process exists: ``crm.item.get`` answers ``NOT_FOUND`` for a missing item and a
    missing type alike, so this one read (only on that rare answer) tells them apart by code."""
    try:
        client.call("crm.type.getByEntityTypeId", {"entityTypeId": entity_type_id})
    except RestError as exc:
        if exc.status == 400 and str(exc.code).upper() in TYPE_MISSING:
            return False
        raise
    return True


def _head(client: Bitrix24, table: dict[int, tuple[int | None, int | None]], start: list[int]) -> int | None:
    """The initiator's head; departments beyond the first page are read one by one, only if needed."""
    for _ in range(MAX_DEPTH):
        missing = actors.first_unknown(table, start)
        if missing is None:
            break
        rows = client.call("department.get", {"ID": missing})
        table[missing] = (None, None)
        table.update(actors.departments_from(rows))
    return actors.head_of(table, start)


#: Read with the item while a role's display name is not cached: the roles and the initiator's head.
NAME_COMMANDS = ("people", "dept", "head")
#: The answers that hold users (``dept`` holds a department: its ID and NAME are not a person's).
USER_ROWS = ("initiator", "people", "head")


def _known_names(deps: Deps, member_id: str) -> dict[int, str]:
    raw = deps.redis.hgetall(keys.names(member_id))
    return {int(k): v.decode() if isinstance(v, bytes) else str(v) for k, v in raw.items()}


def _name_commands(known: dict[int, str], defs: Definitions) -> dict[str, Command]:
    """The display-name lookup folded into the first read: roles, and the head of the initiator's department."""
    roles = sorted({u for u in defs.roles.values() if u and u not in known})
    if not roles:
        return {}
    return {"people": ("user.get", {"FILTER": {"ID": roles}}),
            "dept": ("department.get", {"ID": "$result[initiator][0][UF_DEPARTMENT][0]"}),
            "head": ("user.get", {"ID": "$result[dept][0][UF_HEAD]"})}


def _names(deps: Deps, member_id: str, client: Bitrix24, snap: Snapshot, head: int | None, known: dict[int, str],
           read: list[Any], defs: Definitions) -> dict[int, str]:
    """Display names of the people the texts mention, cached in Redis (read with the item, else one user.get)."""
    key = keys.names(member_id)
    fresh: dict[int, str] = {}
    for rows in read:
        fresh.update(actors.user_names(rows))
    known = {**known, **fresh}
    wanted = {snap.initiator, head, *defs.roles.values(), *(a.substitute_id for a in defs.org.absences)}
    for entry in snap.log:
        wanted |= {entry.by, entry.on_behalf_of, entry.approver}
    if snap.version_file is not None and not any(e.file == snap.version_file.id for e in snap.log):
        wanted.add(snap.updated_by)                   # a new version: its uploader is named in the notices
    missing = sorted(u for u in wanted if u and u not in known)
    fetched = actors.user_names(client.call("user.get", {"FILTER": {"ID": missing}})) if missing else {}
    known.update(fetched)
    fetched |= {u: n for u, n in fresh.items() if u in wanted or u in defs.roles.values()}
    if fetched:
        pipe = deps.redis.pipeline()
        for user_id, name in fetched.items():
            pipe.hset(key, str(user_id), name)
        pipe.expire(key, keys.NAMES_TTL)
        pipe.execute()
    return known
