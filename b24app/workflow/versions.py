"""Document versions (``versions:`` in the workflow YAML): each new file in the field is a version. Pure.

The pipeline reads the field's current file and its SHA-256 (``Snapshot.version_file``,
:mod:`b24app.pipeline.files`); here that is compared with the approval log. A file id the log has no
version entry for is a new version, recorded as a signed log entry carrying its number, who uploaded it
(the item's ``updatedBy``), when (the portal's clock at the read), the file id, name, hash and browser link:

* ``version`` — the request does not move (the entry is skipped where the position is read:
  ``Snapshot.route_log``); the first version, and any version uploaded before anyone approved an older
  one in this round or while the request is still before the ``restart_at`` step;
* ``restart`` — a version uploaded after approvals of an older one in this round, with the request at or
  past ``restart_at``: approval starts again there, in a new round (the old round's tasks are closed).

Every entry the engine makes carries the ``version`` current then (``transitions.make_entry``), so the
approval sheet says which version each approver approved. Each earlier approver (an ``approve`` of an
older version, in any round) is told once per version (the notice's tag holds the version and the person).
The final approval — the one that moves the request to the success stage — is refused when the previous
approval in its round was of another version: it restarts approval instead (:func:`unseen_final`).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from b24app.texts import approval as msg
from b24app.workflow.actions import LogTimeline, Notify, PersonDecision
from b24app.workflow.effects import Context, Position, route
from b24app.workflow.models import Label, Workflow
from b24app.workflow.snapshot import VERSION, Entry, FileInfo, Snapshot
from b24app.workflow.transitions import Change, make_entry

RESTART = "restart"


def entries(log: tuple[Entry, ...]) -> tuple[Entry, ...]:
    """The log's version records (``version`` and ``restart`` entries), oldest first."""
    return tuple(e for e in log if e.file is not None and e.decision in (VERSION, RESTART))


def current(log: tuple[Entry, ...]) -> Entry | None:
    found = entries(log)
    return found[-1] if found else None


def label(entry: Entry) -> Label:
    return msg.version_name(entry.version or 0, entry.file_name)


def detect(workflow: Workflow, snap: Snapshot, pos: Position, now: datetime, ctx: Context) -> Change | None:
    """The log entry of a new file version, when the field's current file is not the latest recorded."""
    spec, file = workflow.versions, snap.version_file
    if spec is None or file is None:
        return None
    latest = current(snap.log)
    if latest is not None and latest.file == file.id:
        return None
    number = (latest.version or 0) + 1 if latest is not None else 1
    by = snap.updated_by or snap.initiator
    if _restarts(workflow, snap, pos, number):
        return _restart(workflow, snap, pos, file, number, by, now, ctx)
    entry = make_entry(snap, pos, VERSION, by, None, now, pos.stage, None, None, "", "card", step=None)
    return Change(_with_file(entry, file, number))


def _restarts(workflow: Workflow, snap: Snapshot, pos: Position, number: int) -> bool:
    """Approvals of an older version in this round, and the request at or past the restart step."""
    spec = workflow.versions
    if spec is None or not pos.started or pos.step is None or workflow.stage(pos.stage).final:
        return False
    order = [s.code for s in workflow.steps]
    if order.index(pos.step) < order.index(spec.restart_at):
        return False
    return any(e.round == pos.round and e.decision == "approve" and e.version is not None and e.version < number
               for e in snap.log)


def _restart(workflow: Workflow, snap: Snapshot, pos: Position, file: FileInfo, number: int, by: int,
             now: datetime, ctx: Context) -> Change:
    assert workflow.versions is not None
    stage, step = route(workflow, workflow.versions.restart_at, snap)
    pick = ctx.choose(workflow.step(step), snap, now) if step else None
    entry = make_entry(snap, pos, RESTART, by, None, now, stage, step, pick.user if pick else None, "", "card",
                       step=None, round=pos.round + 1)
    if pick is not None:
        entry = replace(entry, instead_of=pick.instead_of, why=pick.why)
    return Change(_with_file(entry, file, number), {"REJECTION_REASON": "", "RETURN_STEP": ""})


def _with_file(entry: Entry, file: FileInfo, number: int) -> Entry:
    return replace(entry, version=number, file=file.id, file_name=file.name, sha256=file.sha256, url=file.url)


def unseen_final(workflow: Workflow, snap: Snapshot, pos: Position, trigger: PersonDecision, now: datetime,
                 ctx: Context) -> tuple[Change, Label] | None:
    """An approval that would finish the request while the previous approval in this round was of another
    version than the current one: the restart to make instead, and the refusal's text."""
    latest = current(snap.log)
    if workflow.versions is None or latest is None or trigger.decision != "approve" or pos.step is None:
        return None
    target = workflow.step(pos.step).decisions.get("approve")
    if target is None or route(workflow, target, snap)[0] != workflow.success_stage.code:
        return None
    seen = next((e for e in reversed(snap.log) if e.round == pos.round and e.decision == "approve"), None)
    if seen is None or seen.version is None or seen.version == latest.version:
        return None
    file = FileInfo(latest.file or 0, latest.file_name, latest.sha256, latest.url)
    change = _restart(workflow, snap, pos, file, latest.version or 0, trigger.user, now, ctx)
    change = replace(change, entry=replace(change.entry, decision=RESTART))
    restart_at = workflow.step_name(workflow.versions.restart_at)
    seen_label = msg.version_name(seen.version, _file_name(snap.log, seen.version), accusative=True)
    return change, msg.unseen_version(label(latest), seen_label, restart_at)


def _file_name(log: tuple[Entry, ...], number: int) -> str:
    return next((e.file_name for e in entries(log) if e.version == number), "")


def effects(workflow: Workflow, snap: Snapshot, ctx: Context) -> list[Notify | LogTimeline]:
    """What the latest version implies: its timeline entry, and each earlier approver told (once each)."""
    latest = current(snap.log)
    if workflow.versions is None or latest is None or latest.version is None:
        return []
    last = snap.route_log[-1] if snap.route_log else None
    if last is not None and workflow.stage(last.stage).final and last.seq > latest.seq:
        return []                                     # decided after this version: nothing left to tell
    base = f"b24app:{workflow.code}:{snap.item_id}"
    by = msg.person(latest.by, ctx.names)
    actions: list[Notify | LogTimeline] = []
    if latest.decision == VERSION:
        title, text = msg.version_timeline(label(latest), by, datetime.fromisoformat(latest.at), latest.sha256)
        actions.append(LogTimeline(f"{base}:e{latest.seq}", title, text))
    restart_at = workflow.step_name(workflow.versions.restart_at) if latest.decision == RESTART else None
    for user, approved in _approved_before(snap.log, latest).items():
        approved_label = msg.version_name(approved, _file_name(snap.log, approved), accusative=True)
        text = msg.version_changed(snap.title, label(latest), approved_label, by, restart_at)
        actions.append(Notify(user, text, f"{base}:v{latest.version}:changed:{user}"))
    return actions


def _approved_before(log: tuple[Entry, ...], latest: Entry) -> dict[int, int]:
    """Each person who approved an older version than ``latest`` (not its uploader) -> the newest such version.
    An approval made in someone's place tells both: the one who saw that version and the one it counted for."""
    found: dict[int, int] = {}
    for entry in log:
        if entry.decision != "approve" or entry.version is None or entry.version >= (latest.version or 0):
            continue
        for who in {entry.by, entry.on_behalf_of} - {None, latest.by}:
            assert who is not None
            found[who] = max(found.get(who, 0), entry.version)
    return found
