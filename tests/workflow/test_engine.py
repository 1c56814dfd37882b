"""Pure tests of the approval engine: every transition, on the real workflow files and config."""

from __future__ import annotations

from datetime import datetime, timedelta

from b24app.workflow.actions import (
    CompleteTask,
    CreateTask,
    LogTimeline,
    MoveDeadline,
    MoveStage,
    Notify,
    Refuse,
    RenewTask,
    SetFields,
)
from b24app.workflow.actors import effective, first_unknown, head_of
from b24app.workflow.engine import allowed_decisions, outcome, position_of
from b24app.workflow.models import Absence
from b24app.workflow.snapshot import Entry, Marker
from tests.workflow.engine_world import (
    APP,
    CHIEF,
    DIRECTOR,
    FINANCE,
    FULL,
    HEAD,
    INITIATOR,
    JUNIOR,
    MSK,
    NOW,
    OPS,
    OUTSIDER,
    World,
    context,
    of,
)


def started() -> World:
    world = World.new()
    world.run()
    return world


def at_payment(amount: str = "150000|RUB") -> World:
    world = World.new(fields={**FULL, "AMOUNT": amount})
    world.run()
    world.decide(HEAD, "approve")
    world.decide(FINANCE, "approve")
    if world.snap.stage == "FINANCE_REVIEW":
        world.decide(DIRECTOR, "approve")
    return world


# -- start ------------------------------------------------------------------------------------------

def test_missing_fields_keep_the_request_new_and_tell_the_initiator_what_is_missing() -> None:
    world = World.new(fields={"AMOUNT": "100|RUB"})
    actions = world.run()
    assert world.snap.stage == "NEW" and not world.snap.log
    [note] = of(Notify, actions)
    assert note.user == INITIATOR
    assert "«Статья расходов»" in note.message.ru and "«Счёт»" in note.message.ru and "Сумма" not in note.message.ru
    assert of(Notify, world.run())[0].tag == note.tag        # the same tag: told once


def test_filling_in_the_fields_starts_the_route_with_a_task_for_the_head() -> None:
    world = World.new(fields={"AMOUNT": "100|RUB"})
    world.run()
    actions = world.edit(EXPENSE_ITEM=1, INVOICE=[{"id": 3}])             # still no counterparty at all
    assert of(MoveStage, actions) == [] and world.snap.stage == "NEW"
    [note] = of(Notify, actions)
    assert "«Контрагент (компания) или Контрагент (название)»" in note.message.ru
    actions = world.edit(COUNTERPARTY_NAME="ООО «Ромашка»")
    assert of(MoveStage, actions) == [MoveStage("HEAD_APPROVAL")]
    [task] = of(CreateTask, actions)
    assert task.responsible == HEAD and task.step == "head_approval"
    assert task.title.startswith("Согласовать заявку на оплату №7")
    assert task.deadline == datetime(2026, 3, 4, 10, 0, tzinfo=MSK)     # 2 working days
    assert task.marker == "b24app:payment_requests:7:r1:head_approval" and f"[{task.marker}]" in task.description
    assert any(n.user == HEAD for n in of(Notify, actions))
    fields = of(SetFields, actions)[0].fields
    assert fields["CURRENT_APPROVER"] == HEAD and len(fields["DECISIONS"]) == 1


def test_repeated_refresh_after_start_creates_nothing_new() -> None:
    world = started()
    again = world.run()
    assert not of(CreateTask, again) and not of(MoveStage, again) and not of(SetFields, again)
    assert world.decisions == ["start"] and len(world.created) == 1
    assert len([n for n in world.notified if n[0] == HEAD]) == 1


def test_head_as_initiator_may_approve_at_once() -> None:
    world = World.new(initiator=HEAD)
    world.run()
    pos = position_of(world.workflow, world.snap)
    assert pos.approver == HEAD
    assert "approve" in allowed_decisions(world.workflow, world.snap, pos, HEAD, world.ctx, NOW)


def test_department_head_lookup_walks_up_to_the_nearest_head() -> None:
    tree = {1: (None, 2), 2: (1, 3), 7: (1, None), 8: (2, None)}
    assert head_of(tree, [2]) == 3
    assert head_of(tree, [8]) == 3
    assert head_of(tree, [7]) == 2
    assert head_of({5: (None, None)}, [5]) is None


def test_no_head_anywhere_goes_to_the_operations_manager() -> None:
    world = World.new(ctx=context(head=None))
    actions = world.run()
    assert of(CreateTask, actions)[0].responsible == OPS


# -- decisions --------------------------------------------------------------------------------------

def test_head_approval_moves_to_finance_and_closes_the_heads_task() -> None:
    world = started()
    head_task = world.task("head_approval")
    actions = world.decide(HEAD, "approve")
    assert world.snap.stage == "FINANCE_REVIEW"
    assert CompleteTask(head_task.id) in actions
    assert of(CreateTask, actions)[0].responsible == FINANCE
    assert outcome(world.workflow, world.snap, actions).ok


def test_outsider_is_refused_and_nothing_changes() -> None:
    world = started()
    before = world.snap
    actions = world.decide(OUTSIDER, "approve")
    assert [type(a) for a in actions] == [Refuse]
    assert "Решение сейчас принимает" in of(Refuse, actions)[0].message.ru
    assert world.snap == before
    assert not outcome(world.workflow, world.snap, actions).ok


def test_operations_manager_decides_on_the_approvers_behalf() -> None:
    world = started()
    world.decide(OPS, "approve")
    entry = world.snap.log[-1]
    assert entry.by == OPS and entry.on_behalf_of == HEAD and world.snap.stage == "FINANCE_REVIEW"


def test_substitute_gets_the_task_and_decides_on_behalf_during_an_absence() -> None:
    absence = Absence(HEAD, "2026-03-01", "2026-03-10", 6)
    world = World.new(ctx=context(absences=(absence,)))
    actions = world.run()
    assert of(CreateTask, actions)[0].responsible == 6
    world.decide(6, "approve")
    assert world.snap.log[-1].on_behalf_of == HEAD
    assert effective(HEAD, (absence,), NOW + timedelta(days=30)) == HEAD


def test_reject_needs_a_reason() -> None:
    world = started()
    actions = world.decide(HEAD, "reject", "  ")
    assert [type(a) for a in actions] == [Refuse] and "причину" in of(Refuse, actions)[0].message.ru
    assert world.snap.stage == "HEAD_APPROVAL"


def test_finance_rejection_tells_initiator_and_head_with_the_reason() -> None:
    world = started()
    world.decide(HEAD, "approve")
    actions = world.decide(FINANCE, "reject", "Нет бюджета")
    assert world.snap.stage == "REJECTED" and world.snap.fields["REJECTION_REASON"] == "Нет бюджета"
    told = {n.user: n.message.ru for n in of(Notify, actions)}
    assert set(told) == {INITIATOR, HEAD} and all("Нет бюджета" in t for t in told.values())
    assert any(isinstance(a, CompleteTask) for a in actions)        # the finance task is closed


def test_small_amount_skips_the_director_and_payment_gets_task_and_subtask() -> None:
    world = at_payment()
    assert world.snap.stage == "PAYMENT"
    main, sub = world.task("payment"), world.task("payment:sub0")
    assert main.responsible == CHIEF and sub.responsible == JUNIOR and sub.parent_id == main.id
    assert "Прикрепить платежное поручение" in sub.title
    created = {c.marker.rsplit(":", 1)[-1]: c for c in world.created}
    assert created["payment"].deadline == datetime(2026, 3, 3, 18, 0, tzinfo=MSK)     # approved 10:00 -> next day
    assert created["sub0"].deadline == datetime(2026, 3, 4, 13, 0, tzinfo=MSK)        # + 4 working hours
    assert "director_approval" not in [e.step for e in world.snap.log]


def test_large_amount_adds_the_director_step() -> None:
    world = World.new(fields={**FULL, "AMOUNT": "1500000|RUB"})
    world.run()
    world.decide(HEAD, "approve")
    actions = world.decide(FINANCE, "approve")
    assert world.snap.stage == "FINANCE_REVIEW" and not of(MoveStage, actions)
    assert of(CreateTask, actions)[0].responsible == DIRECTOR
    assert [type(a) for a in world.decide(FINANCE, "approve")] == [Refuse]
    world.decide(DIRECTOR, "approve")
    assert world.snap.stage == "PAYMENT"


def test_completing_the_approval_task_approves() -> None:
    world = started()
    world.complete("head_approval", HEAD)
    assert world.snap.stage == "FINANCE_REVIEW" and world.snap.log[-1].via == "task"


def test_approval_task_completed_by_someone_not_entitled_is_reopened() -> None:
    world = started()
    actions = world.complete("head_approval", OUTSIDER)
    assert world.snap.stage == "HEAD_APPROVAL"
    assert of(RenewTask, actions) and of(Refuse, actions)[0].user == OUTSIDER
    assert world.task("head_approval").status == 2


def test_subtask_without_payment_order_is_reopened_with_the_reason() -> None:
    world = at_payment()
    actions = world.complete("payment:sub0", JUNIOR)
    [renew] = of(RenewTask, actions)
    assert renew.task_id == world.task("payment:sub0").id and "платёжное поручение" in renew.reason.ru
    assert world.snap.stage == "PAYMENT"


def test_both_accounting_tasks_complete_make_it_paid_and_tell_the_initiator() -> None:
    world = at_payment()
    world.complete("payment:sub0", JUNIOR, files=(41,))
    assert world.snap.stage == "PAYMENT"
    actions = world.complete("payment", CHIEF)
    assert world.snap.stage == "PAID"
    assert [n.user for n in of(Notify, actions)] == [INITIATOR]
    assert world.run() and world.decisions.count("complete") == 1


def test_payment_order_in_the_item_field_is_enough() -> None:
    world = at_payment()
    world.edit(PAYMENT_ORDER={"id": 9})
    world.complete("payment", CHIEF)
    actions = world.complete("payment:sub0", JUNIOR)
    assert not of(RenewTask, actions) and world.snap.stage == "PAID"


# -- kanban drags -----------------------------------------------------------------------------------

def test_drag_by_an_outsider_is_put_back_and_explained() -> None:
    world = started()
    actions = world.drag("FINANCE_REVIEW", OUTSIDER)
    assert of(MoveStage, actions) == [MoveStage("HEAD_APPROVAL")]
    assert of(Refuse, actions)[0].user == OUTSIDER and "возвращена" in of(Refuse, actions)[0].message.ru
    assert world.decisions == ["start"]
    assert not of(MoveStage, world.run())                  # the put-back's own event changes nothing


def test_drag_by_the_approver_to_the_next_stage_approves() -> None:
    world = started()
    world.drag("FINANCE_REVIEW", HEAD)
    assert world.decisions == ["start", "approve"] and world.snap.log[-1].via == "kanban"
    assert world.task("finance_review").responsible == FINANCE


def test_drag_skipping_a_step_is_put_back() -> None:
    world = started()
    actions = world.drag("PAYMENT", HEAD)
    assert world.snap.stage == "HEAD_APPROVAL" and "пропускает" in of(Refuse, actions)[0].message.ru


def test_drag_to_rejected_without_a_reason_is_put_back_with_a_reason_it_is_accepted() -> None:
    world = started()
    actions = world.drag("REJECTED", HEAD)
    assert world.snap.stage == "HEAD_APPROVAL" and "причина" in of(Refuse, actions)[0].message.ru
    world.drag("REJECTED", HEAD, REJECTION_REASON="Дубль")
    assert world.snap.stage == "REJECTED" and world.snap.log[-1].reason == "Дубль"


def test_drag_of_a_request_that_cannot_start_is_put_back() -> None:
    world = World.new(fields={})
    actions = world.drag("HEAD_APPROVAL", INITIATOR)
    assert world.snap.stage == "NEW" and "«Сумма»" in of(Refuse, actions)[0].message.ru


# -- pauses, rework ---------------------------------------------------------------------------------

def test_freeze_and_unfreeze_return_to_the_step_without_a_second_task() -> None:
    world = started()
    assert [type(a) for a in world.decide(HEAD, "freeze")] == [Refuse]      # reason required
    world.decide(HEAD, "freeze", "Ждём бюджет")
    assert world.snap.stage == "FROZEN" and world.snap.fields["RETURN_STEP"] == "head_approval"
    assert [type(a) for a in world.decide(INITIATOR, "unfreeze")] == [Refuse]
    world.decide(HEAD, "unfreeze")
    assert world.snap.stage == "HEAD_APPROVAL" and len(world.created) == 1
    assert world.snap.fields["RETURN_STEP"] == ""


def test_task_completed_while_frozen_is_reopened() -> None:
    world = started()
    world.decide(HEAD, "freeze", "Пауза")
    actions = world.complete("head_approval", HEAD)
    assert of(RenewTask, actions) and world.snap.stage == "FROZEN"


def test_requested_documents_give_the_initiator_a_task_and_completing_it_returns() -> None:
    world = started()
    world.decide(HEAD, "approve")
    actions = world.decide(FINANCE, "request_documents", "Нужен акт сверки")
    assert world.snap.stage == "DOCS_REQUESTED"
    [task] = of(CreateTask, actions)
    assert task.responsible == INITIATOR and task.title.startswith("Предоставить документы")
    assert "Нужен акт сверки" in task.description
    part = f"docs:{world.snap.log[-1].seq}"
    bare = world.complete(part, INITIATOR)                 # nothing attached: reopened, told what to do
    assert world.snap.stage == "DOCS_REQUESTED" and of(RenewTask, bare)
    assert "Приложите запрошенные документы" in of(Refuse, bare)[0].message.ru
    back = world.complete(part, INITIATOR, files=(77,))
    assert world.snap.stage == "FINANCE_REVIEW" and world.decisions[-1] == "docs_provided"
    assert not of(CreateTask, back)                       # the finance task is still the same


def test_resubmission_after_rejection_runs_the_route_again_and_keeps_history() -> None:
    world = started()
    world.decide(HEAD, "reject", "Не тот счёт")
    assert [type(a) for a in world.decide(OUTSIDER, "resubmit")] == [Refuse]
    actions = world.decide(INITIATOR, "resubmit")
    assert world.snap.stage == "HEAD_APPROVAL" and world.decisions == ["start", "reject", "resubmit"]
    assert world.snap.fields["REJECTION_REASON"] == ""
    assert of(CreateTask, actions)[0].marker.endswith(":r2:head_approval")
    world.complete("head_approval", HEAD)
    assert world.snap.stage == "FINANCE_REVIEW"


def test_a_stale_task_completion_after_the_route_moved_on_changes_nothing() -> None:
    world = started()
    world.decide(HEAD, "approve")
    log = world.snap.log
    world.complete("head_approval", OUTSIDER)
    assert world.snap.log == log and world.snap.stage == "FINANCE_REVIEW"


def test_every_decision_gets_one_timeline_entry_key() -> None:
    world = started()
    keys = {a.key for a in of(LogTimeline, world.decide(HEAD, "approve"))}
    assert keys == {"b24app:payment_requests:7:e2"}


def test_contracts_follow_the_same_engine_to_signed() -> None:
    world = World.new("contracts", fields={"SUBJECT": "Поставка", "AMOUNT": "10|RUB", "CONTRACT_FILE": [{"id": 1}]})
    world.run()
    for user in (HEAD, 13, FINANCE, DIRECTOR):
        world.decide(user, "approve")
    assert world.snap.stage == "SIGNED" and world.decisions[-1] == "approve"


def test_log_entries_round_trip_and_markers_parse() -> None:
    entry = Entry(3, 1, "reject", 8, "2026-03-02T10:00:00+03:00", "REJECTED", step="finance_review",
                  reason="Нет «бюджета»", on_behalf_of=3)
    assert Entry.parse(entry.to_text()) == entry
    assert Entry.parse("garbage") is None
    marker = Marker("payment_requests", 7, 2, "payment:sub0")
    assert Marker.parse(f"text\n[{marker}]") == marker and marker.step == "payment"
    assert APP == 1


def test_unfreezing_gives_the_step_task_back_the_working_time_the_pause_took() -> None:
    world = started()                                                   # task due Wed 04.03 10:00
    world.decide(HEAD, "freeze", "Ждём бюджет")
    actions = world.decide(HEAD, "unfreeze", now=NOW + timedelta(days=1))  # paused Mon 10:00 -> Tue 10:00: 9 h
    [moved] = of(MoveDeadline, actions)
    assert moved.task_id == world.task("head_approval").id
    assert moved.deadline == datetime(2026, 3, 5, 10, 0, tzinfo=MSK)


def test_departments_missing_from_the_first_page_are_named_for_a_lookup() -> None:
    tree = {8: (2, None)}
    assert first_unknown(tree, [8]) == 2
    assert first_unknown({**tree, 2: (1, 3)}, [8]) is None
    assert first_unknown({}, []) is None


def test_drag_back_from_frozen_by_whoever_froze_it_unfreezes() -> None:
    world = started()
    world.decide(HEAD, "freeze", "Пауза")
    actions = world.drag("HEAD_APPROVAL", INITIATOR)
    assert world.snap.stage == "FROZEN" and of(Refuse, actions)[0].user == INITIATOR
    world.drag("HEAD_APPROVAL", HEAD)
    assert world.snap.stage == "HEAD_APPROVAL" and world.decisions[-1] == "unfreeze"


def test_operations_manager_may_unfreeze_and_resubmit_on_behalf() -> None:
    world = started()
    world.decide(HEAD, "freeze", "Пауза")
    world.decide(OPS, "unfreeze")
    assert world.snap.log[-1].on_behalf_of == HEAD
    world.decide(HEAD, "reject", "Нет")
    world.decide(OPS, "resubmit")
    assert world.snap.stage == "HEAD_APPROVAL" and world.snap.log[-1].on_behalf_of == INITIATOR


def test_initiator_drag_from_rejected_to_new_resubmits_and_paid_is_final() -> None:
    world = started()
    world.decide(HEAD, "reject", "Нет")
    world.drag("NEW", INITIATOR)
    assert world.snap.stage == "HEAD_APPROVAL" and world.decisions[-1] == "resubmit"
    paid = at_payment()
    paid.complete("payment:sub0", JUNIOR, files=(1,))
    paid.complete("payment", CHIEF)
    actions = paid.drag("PAYMENT", CHIEF)
    assert paid.snap.stage == "PAID" and of(Refuse, actions)
    assert allowed_decisions(paid.workflow, paid.snap, position_of(paid.workflow, paid.snap), OPS, paid.ctx, NOW) == {}


def test_documents_task_completed_by_someone_else_is_reopened() -> None:
    world = started()
    world.decide(HEAD, "request_documents", "Нужен акт")
    actions = world.complete(f"docs:{world.snap.log[-1].seq}", OUTSIDER)
    assert of(RenewTask, actions) and world.snap.stage == "DOCS_REQUESTED"


def test_resubmission_with_fields_removed_is_refused_with_what_is_missing() -> None:
    world = started()
    world.decide(HEAD, "reject", "Нет счёта")
    world.edit(INVOICE=[])
    actions = world.decide(INITIATOR, "resubmit")
    assert [type(a) for a in actions] == [Refuse] and "«Счёт»" in of(Refuse, actions)[0].message.ru


def test_rejected_by_the_head_tells_only_the_initiator() -> None:
    world = started()
    actions = world.decide(HEAD, "reject", "Дубль")
    assert [n.user for n in of(Notify, actions)] == [INITIATOR]


def test_the_approver_is_told_when_the_request_comes_back() -> None:
    world = started()
    world.decide(HEAD, "request_documents", "Нужен акт")
    actions = world.complete(f"docs:{world.snap.log[-1].seq}", INITIATOR, files=(5,))
    [back] = [n for n in of(Notify, actions) if n.tag.endswith(":returned")]
    assert back.user == HEAD and "снова ждёт вашего решения" in back.message.ru


def test_a_new_file_in_the_card_counts_as_the_documents_for_resubmitting_from_the_tab() -> None:
    world = started()
    world.decide(HEAD, "request_documents", "Нужен акт")
    assert world.snap.log[-1].files == (5,)                # the invoice already there
    assert [type(a) for a in world.decide(INITIATOR, "resubmit")] == [Refuse]
    world.edit(INVOICE=[{"id": 5}, {"id": 6}])
    world.decide(INITIATOR, "resubmit")
    assert world.snap.stage == "HEAD_APPROVAL" and world.decisions[-1] == "docs_provided"
