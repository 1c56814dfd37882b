"""The boundary's trust checks: signed approval log entries, tasks the app created, writes never repeated."""

from __future__ import annotations

import json
from dataclasses import replace

from b24app.errors import RestError
from b24app.pipeline.logsign import Scope, rollback_report, rolled_back, sign, sign_chain, verify
from b24app.pipeline.trust import forged_report, trusted_rows
from b24app.rest import wire
from b24app.workflow.snapshot import Entry, parse_log

SECRET = b"k" * 32
SCOPE = Scope("member1", 1100, 21)
ENTRY = Entry(seq=1, round=1, decision="start", by=4, at="2026-03-02T10:00:00+03:00", stage="HEAD_APPROVAL",
              next_step="head_approval", approver=3, via="auto")


def test_signed_entries_verify_and_parse_to_the_same_entry() -> None:
    signed = sign(SECRET, SCOPE, ENTRY.to_text())
    checked = verify(SECRET, SCOPE, [signed])
    assert checked.rejected == () and parse_log(list(checked.entries)) == (ENTRY,)


def test_unsigned_edited_copied_or_foreign_key_entries_are_rejected() -> None:
    signed = sign(SECRET, SCOPE, ENTRY.to_text())
    edited = json.dumps({**json.loads(signed), "stage": "PAYMENT"}, ensure_ascii=False)
    values = [ENTRY.to_text(), edited, "not json", signed]
    checked = verify(SECRET, SCOPE, values)
    assert checked.entries == (ENTRY.to_text(),) and len(checked.rejected) == 3
    assert verify(SECRET, Scope("member1", 1100, 22), [signed]).entries == ()     # copied to another item
    assert verify(SECRET, Scope("member2", 1100, 21), [signed]).entries == ()     # another portal
    assert verify(b"x" * 32, SCOPE, [signed]).entries == ()                       # not our key


def test_the_log_is_a_chain_a_removed_or_moved_entry_breaks_what_follows_it() -> None:
    texts = [replace(ENTRY, seq=n, decision=d).to_text() for n, d in ((1, "start"), (2, "approve"), (3, "reject"))]
    signed = sign_chain(SECRET, SCOPE, texts)
    checked = verify(SECRET, SCOPE, list(reversed(signed)))            # the field's order does not matter
    assert checked.entries == tuple(texts) and checked.rejected == ()
    assert checked.head == json.loads(signed[-1])["sig"]
    gap = verify(SECRET, SCOPE, [signed[0], signed[2]])                # the middle entry removed
    assert gap.entries == (texts[0],) and gap.rejected == (signed[2],)
    twice = verify(SECRET, SCOPE, [signed[0], signed[1], signed[1], signed[2]])
    assert twice.entries == tuple(texts) and twice.rejected == (signed[1],)
    unchained = [sign(SECRET, SCOPE, t) for t in texts]               # each signed on its own, no chain
    assert verify(SECRET, SCOPE, unchained).entries == (texts[0],)


def test_a_log_shorter_than_or_diverging_from_the_kept_copy_is_a_rollback() -> None:
    a, b, c, d = ("a", "b", "c", "d")
    assert rolled_back((a, b, c), (a, b, c)) is None
    assert rolled_back((a, b, c, d), (a, b, c)) is None               # newer than the copy: only the app signs
    assert rolled_back((a, b), (a, b, c)) == (a, b, c)                # the newest entry deleted
    assert rolled_back((), (a,)) == (a,)
    assert rolled_back((a, b, d), (a, b, c)) == (a, b, c)             # an older signed set put back
    assert rolled_back((a,), None) is None                            # no copy (Redis lost it): as found
    report = rollback_report("pr", 21, (a, b))
    assert report.title.ru == "Лист согласования был изменён вручную и восстановлен"
    assert report.key == rollback_report("pr", 21, (a, b)).key != rollback_report("pr", 21, (a,)).key


def test_rejected_values_are_reported_once_per_set() -> None:
    checked = verify(SECRET, SCOPE, [ENTRY.to_text()])
    first, again = forged_report("pr", 21, checked), forged_report("pr", 21, verify(SECRET, SCOPE, [ENTRY.to_text()]))
    assert first is not None and again is not None and first.key == again.key
    assert "не создавало" in first.text.ru
    assert forged_report("pr", 21, verify(SECRET, SCOPE, [])) is None


def test_only_tasks_recorded_or_created_by_the_app_user_are_trusted() -> None:
    rows = [
        {"id": "5", "createdBy": "4", "description": "[b24app:pr:21:r1:head_approval]"},   # the initiator's forgery
        {"id": "6", "createdBy": "1", "description": "[b24app:pr:21:r1:head_approval]"},   # the app's user made it
        {"id": "7", "createdBy": "4", "description": "[b24app:pr:21:r1:payment]"},         # recorded at creation
    ]
    kept = trusted_rows(rows, created={7}, app_user=1, item_id=21)
    assert [r["id"] for r in kept] == ["6", "7"]
    assert [r["id"] for r in trusted_rows(rows, created=set(), app_user=None, item_id=21)] == []


def test_gateway_errors_are_repeated_for_reads_only_and_limit_refusals_for_writes_too() -> None:
    read_batch = {"cmd": {"item": "crm.item.get?id=1", "tasks": "tasks.task.list?filter[ID]=1"}}
    write_batch = {"cmd": {"item": "crm.item.update?id=1", "n": "im.notify.system.add?USER_ID=1"}}
    assert not wire.writes("batch", read_batch) and wire.writes("batch", write_batch)
    assert wire.writes("tasks.task.add") and not wire.writes("user.current") and wire.writes("event.offline.get")
    gateway = RestError("batch", 502, "invalid_response", "non-JSON answer")
    limit = RestError("batch", 503, "QUERY_LIMIT_EXCEEDED", "Too many requests")
    assert wire.safe_to_repeat(gateway, writing=False) and not wire.safe_to_repeat(gateway, writing=True)
    assert wire.safe_to_repeat(limit, writing=True)


def test_app_filled_fields_are_provisioned_not_editable_in_the_list() -> None:
    from pathlib import Path

    from b24app.checks import load_definitions
    from b24app.provisioning.desired import desired_state

    root = Path(__file__).resolve().parents[2]
    _, workflows = load_definitions(root / "config", root / "workflows")
    fields = {f.code: f for t in desired_state(workflows, "https://app").types for f in t.fields}
    assert fields["DECISIONS"].edit_in_list == "N" and fields["CURRENT_APPROVER"].edit_in_list == "N"
    assert fields["AMOUNT"].edit_in_list == "Y"
