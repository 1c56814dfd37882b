"""The engine's ``BankPayment`` trigger (issue #18): a bank statement completes the accounting step."""

from __future__ import annotations

from b24app.workflow.actions import BankPayment, CompleteTask, LogTimeline, Notify
from tests.workflow.engine_world import CHIEF, INITIATOR, of
from tests.workflow.test_engine import at_payment, started

UPLOADER = 11      # the junior accountant uploads the statement



def test_a_bank_payment_makes_the_request_paid_with_the_bank_document_in_the_log() -> None:
    world = at_payment()
    main, sub = world.task("payment"), world.task("payment:sub0")
    actions = world.run(BankPayment(UPLOADER, "501", "2026-03-03", "150000.00", "k1"))
    assert world.snap.stage == "PAID"
    entry = world.snap.log[-1]
    assert (entry.decision, entry.via, entry.step) == ("complete", "bank", "payment")
    assert (entry.bank_doc, entry.bank_date) == ("501", "2026-03-03")
    assert (entry.by, entry.on_behalf_of) == (UPLOADER, CHIEF)
    closed = {a.task_id for a in of(CompleteTask, actions)}
    assert closed == {main.id, sub.id}                     # both accounting tasks, on the accountants' behalf
    [timeline] = [a for a in of(LogTimeline, actions) if a.key.endswith(f":e{entry.seq}")]
    assert "по банковской выписке" in timeline.text.ru and "№ 501 от 03.03.2026" in timeline.text.ru
    assert INITIATOR in [n.user for n in of(Notify, actions)]


def test_the_log_entry_keeps_the_bank_document_through_its_text() -> None:
    world = at_payment()
    world.run(BankPayment(UPLOADER, "77", "2026-03-04", "150000.00", "k"))
    text = world.snap.fields["DECISIONS"][-1]
    assert '"bank_doc":"77"' in text and '"bank_date":"2026-03-04"' in text


def test_a_second_bank_payment_changes_nothing() -> None:
    world = at_payment()
    world.run(BankPayment(UPLOADER, "501", "2026-03-03", "150000.00", "k1"))
    world.run(BankPayment(UPLOADER, "502", "2026-03-04", "150000.00", "k2"))
    assert world.decisions.count("complete") == 1 and world.snap.log[-1].bank_doc == "501"


def test_a_bank_payment_before_the_accounting_step_changes_nothing() -> None:
    world = started()
    world.run(BankPayment(UPLOADER, "501", "2026-03-03", "150000.00", "k1"))
    assert world.snap.stage == "HEAD_APPROVAL" and "complete" not in world.decisions


def test_the_chief_accountant_uploading_is_recorded_in_their_own_name() -> None:
    world = at_payment()
    world.run(BankPayment(CHIEF, "501", "2026-03-03", "150000.00", "k1"))
    assert (world.snap.log[-1].by, world.snap.log[-1].on_behalf_of) == (CHIEF, None)
