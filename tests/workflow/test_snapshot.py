"""Parsing the portal's item and task dicts into the engine's snapshot (pure)."""

from __future__ import annotations

from decimal import Decimal

from b24app.workflow.snapshot import Entry, ItemNames, Marker, has_value, money, parse_item, parse_task

NAMES = ItemNames("payment_requests", 1100, 7, 2,
                  {"NEW": "DT1100_2:NEW", "HEAD_APPROVAL": "DT1100_2:HEAD_APPROVAL", "PAID": "DT1100_2:SUCCESS"},
                  {"AMOUNT": "UF_CRM_7_AMOUNT", "DECISIONS": "UF_CRM_7_DECISIONS", "INVOICE": "UF_CRM_7_INVOICE"})


def test_an_item_reads_with_yaml_codes_and_its_log() -> None:
    entry = Entry(1, 1, "start", 4, "2026-03-02T10:00:00+03:00", "HEAD_APPROVAL", next_step="head_approval",
                  approver=3)
    raw = {"id": 5, "title": "Заявка", "stageId": "DT1100_2:SUCCESS", "createdBy": "4", "movedBy": 3,
           "movedTime": "2026-03-02T10:00:00+03:00", "UF_CRM_7_AMOUNT": "1500000|RUB",
           "UF_CRM_7_DECISIONS": ["not json", entry.to_text()], "UF_CRM_7_INVOICE": {"id": 9, "url": "x"}}
    task = {"id": "31", "title": "T", "status": "5", "responsibleId": "3", "parentId": "0", "closedBy": "3",
            "description": "Заявка\n\n[b24app:payment_requests:5:r1:head_approval]", "ufTaskWebdavFiles": False}
    snap = parse_item(raw, NAMES, [task])
    assert (snap.stage, snap.initiator, snap.moved_by) == ("PAID", 4, 3)
    assert snap.log == (entry,) and snap.has_value("INVOICE")
    [info] = snap.tasks
    assert info.done and info.parent_id is None and info.files == ()
    assert snap.task(Marker("payment_requests", 5, 1, "head_approval")) == info
    assert NAMES.binding_for(5) == "T44c_5" and NAMES.stage_code("DT1100_9:NEW") == "DT1100_9:NEW"


def test_values() -> None:
    assert money("1500000|RUB") == (Decimal(1500000), "RUB") and money(None) == (Decimal(0), "RUB")
    assert not has_value([]) and not has_value(False) and not has_value("|RUB") and has_value(0)
    assert parse_task({"id": "2", "status": "2", "ufTaskWebdavFiles": [1065, "1077"]}).files == (1065, 1077)
