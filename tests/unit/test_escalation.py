"""Which reminders and alerts are due: the client's time rules from workflows/payment_requests.yaml, pure."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from b24app.checks import load_definitions
from b24app.escalation.rules import Notice, due_notices, past_allowance, used_time
from b24app.escalation.state import open_request
from b24app.workflow.models import Absence, Workflow
from b24app.workflow.snapshot import Entry, Marker, Snapshot, TaskInfo
from b24app.worktime import WorkCalendar

ROOT = Path(__file__).resolve().parents[2]
TZ = ZoneInfo("Europe/Moscow")
ETID, ITEM = 1100, 7
HEAD, INITIATOR, FINANCE, OPS, CHIEF, JUNIOR = 3, 4, 8, 9, 10, 11
CAL = WorkCalendar.default()


@pytest.fixture(scope="module")
def defs() -> tuple[dict[str, int], Workflow]:
    org, workflows = load_definitions(ROOT / "config", ROOT / "workflows")
    roles = {code: role.user_id for code, role in org.roles.items()}
    return roles, next(w for w in workflows if w.code == "payment_requests")


def at(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=TZ)


def entry(seq: int, decision: str, when: datetime, stage: str, next_step: str | None, approver: int | None,
          step: str | None = None, by: int = INITIATOR) -> Entry:
    return Entry(seq=seq, round=1, decision=decision, by=by, at=when.isoformat(), stage=stage, step=step,
                 next_step=next_step, approver=approver)


def task(part: str, status: int = 2, task_id: int = 50, responsible: int = HEAD,
         deadline: datetime | None = None) -> TaskInfo:
    return TaskInfo(id=task_id, title=part, status=status, responsible=responsible,
                    marker=Marker("payment_requests", ITEM, 1, part),
                    deadline=deadline.isoformat() if deadline else None)


def head_snapshot(start: datetime, *more: Entry, task_status: int = 2) -> Snapshot:
    log = (entry(1, "start", start, "HEAD_APPROVAL", "head_approval", HEAD), *more)
    return Snapshot(item_id=ITEM, title="Оплата упаковки", stage=log[-1].stage, initiator=INITIATOR, log=log,
                    tasks=(task("head_approval", task_status),))


class Sweeper:
    """Runs the pure decision as the sweep does, remembering what was sent."""

    def __init__(self, defs: tuple[dict[str, int], Workflow], absences: tuple[Absence, ...] = ()) -> None:
        self.roles, self.workflow = defs
        self.sent: set[str] = set()
        self.absences = absences

    def run(self, snap: Snapshot, now: datetime) -> list[Notice]:
        request = open_request(self.workflow, ETID, snap, snap.tasks)
        assert request is not None and request.step is not None
        step = self.workflow.step(request.step)
        found = due_notices(step, request, now, CAL, self.sent, roles=self.roles, absences=self.absences)
        for notice in found:
            self.sent.update(key for key, _ in notice.deliveries())
        return found


def brief(notices: list[Notice]) -> list[tuple[str, str, tuple[int, ...]]]:
    return [(n.action, n.occurrence, n.recipients) for n in notices]


def test_head_approval_reminds_every_four_hours_then_once_more_then_alerts(defs: tuple[dict[str, int],
                                                                                  Workflow]) -> None:
    sweep = Sweeper(defs)
    snap = head_snapshot(at(2, 10))
    assert sweep.run(snap, at(2, 13, 59)) == []
    assert brief(sweep.run(snap, at(2, 14))) == [("remind", "every1", (HEAD,))]
    assert sweep.run(snap, at(2, 17, 55)) == []                          # nothing twice
    assert brief(sweep.run(snap, at(2, 18))) == [("remind", "every2", (HEAD,))]
    assert sweep.run(snap, at(3, 9, 30)) == []                           # the night does not count
    assert brief(sweep.run(snap, at(3, 13))) == [("remind", "every3", (HEAD,))]
    assert brief(sweep.run(snap, at(3, 17))) == [("remind", "every4", (HEAD,))]
    assert sweep.run(snap, at(4, 9, 59)) == []
    assert brief(sweep.run(snap, at(4, 10))) == [("remind", "after", (HEAD,))]     # 2 working days
    assert sweep.run(snap, at(4, 10, 59)) == []
    [alert] = sweep.run(snap, at(4, 11))                                 # 2 working days + 1 working hour
    assert (alert.action, alert.recipients, alert.offer_decision) == ("alert", (OPS,), True)
    assert alert.key == f"{ETID}:{ITEM}:head_approval:r1:2:after"
    assert sweep.run(snap, at(4, 17)) == [] and sweep.run(snap, at(10, 12)) == []


def test_started_task_stops_the_periodic_reminder_but_not_the_escalation(defs: tuple[dict[str, int],
                                                                                   Workflow]) -> None:
    sweep = Sweeper(defs)
    snap = head_snapshot(at(2, 10), task_status=3)                      # taken into work
    assert sweep.run(snap, at(3, 17)) == []
    assert brief(sweep.run(snap, at(4, 10))) == [("remind", "after", (HEAD,))]
    assert brief(sweep.run(snap, at(4, 11))) == [("alert", "after", (OPS,))]


def test_a_missed_sweep_sends_only_the_latest_occurrence(defs: tuple[dict[str, int], Workflow]) -> None:
    sweep = Sweeper(defs)
    snap = head_snapshot(at(2, 10))
    assert brief(sweep.run(snap, at(3, 13, 30))) == [("remind", "every3", (HEAD,))]
    both = brief(sweep.run(snap, at(4, 12)))       # past the allowance: no late "every"; reminder and alert
    assert both == [("remind", "after", (HEAD,)), ("alert", "after", (OPS,))]


def test_request_created_on_friday_afternoon_before_a_holiday(defs: tuple[dict[str, int], Workflow]) -> None:
    """2026-05-08 (Fri) ends at 17:00 before Victory Day; 09-11 May are days off."""
    sweep = Sweeper(defs)
    snap = head_snapshot(at(8, 15, month=5))
    assert sweep.run(snap, at(8, 17, month=5)) == []                    # 2 h used, the day is over
    assert sweep.run(snap, at(11, 15, month=5)) == []                   # the holidays do not count
    assert sweep.run(snap, at(12, 10, 59, month=5)) == []
    assert brief(sweep.run(snap, at(12, 11, month=5))) == [("remind", "every1", (HEAD,))]
    assert brief(sweep.run(snap, at(12, 15, month=5))) == [("remind", "every2", (HEAD,))]
    assert brief(sweep.run(snap, at(13, 15, month=5))) == [("remind", "after", (HEAD,))]
    assert brief(sweep.run(snap, at(13, 16, month=5))) == [("alert", "after", (OPS,))]


def test_freeze_stops_the_clock_and_unfreeze_keeps_the_time_used(defs: tuple[dict[str, int], Workflow]) -> None:
    sweep = Sweeper(defs)
    start = at(2, 10)
    assert brief(sweep.run(head_snapshot(start), at(2, 14))) == [("remind", "every1", (HEAD,))]
    freeze = entry(2, "freeze", at(2, 14, 30), "FROZEN", "head_approval", HEAD, step="head_approval", by=HEAD)
    frozen = head_snapshot(start, freeze)
    assert sweep.run(frozen, at(4, 17)) == []                           # paused: nothing is due
    request = open_request(sweep.workflow, ETID, frozen, frozen.tasks)
    assert request is not None and request.paused
    assert used_time(request, at(4, 17), CAL).total_seconds() == 4.5 * 3600
    unfreeze = entry(3, "unfreeze", at(4, 10), "HEAD_APPROVAL", "head_approval", HEAD, by=HEAD)
    resumed = head_snapshot(start, freeze, unfreeze)
    assert brief(sweep.run(resumed, at(4, 14))) == [("remind", "every2", (HEAD,))]   # 4.5 h + 4 h
    assert all(n.occurrence != "after" for n in sweep.run(resumed, at(5, 14, 29)))
    assert brief(sweep.run(resumed, at(5, 14, 30))) == [("remind", "after", (HEAD,))]  # 18 h used
    assert brief(sweep.run(resumed, at(5, 15, 30))) == [("alert", "after", (OPS,))]


def test_finance_review_alerts_the_operations_manager_after_two_working_days(defs: tuple[dict[str, int],
                                                                                       Workflow]) -> None:
    sweep = Sweeper(defs)
    snap = Snapshot(item_id=ITEM, title="Оплата", stage="FINANCE_REVIEW", initiator=INITIATOR, log=(
        entry(1, "start", at(2, 9), "HEAD_APPROVAL", "head_approval", HEAD),
        entry(2, "approve", at(2, 10), "FINANCE_REVIEW", "finance_review", FINANCE, step="head_approval", by=HEAD),
    ), tasks=(task("finance_review", responsible=FINANCE),))
    assert sweep.run(snap, at(4, 9, 59)) == []
    [alert] = sweep.run(snap, at(4, 10))
    assert (alert.action, alert.recipients, alert.offer_decision) == ("alert", (OPS,), True)
    assert sweep.run(snap, at(5, 10)) == []


def test_overdue_accounting_tasks_alert_the_chief_accountant_and_the_operations_manager(
        defs: tuple[dict[str, int], Workflow]) -> None:
    sweep = Sweeper(defs)
    main_deadline, sub_deadline = at(3, 18), at(4, 13)
    snap = Snapshot(item_id=ITEM, title="Оплата", stage="PAYMENT", initiator=INITIATOR, log=(
        entry(1, "start", at(2, 9), "HEAD_APPROVAL", "head_approval", HEAD),
        entry(2, "approve", at(2, 10), "FINANCE_REVIEW", "finance_review", FINANCE, step="head_approval", by=HEAD),
        entry(3, "approve", at(2, 11), "PAYMENT", "payment", CHIEF, step="finance_review", by=FINANCE),
    ), tasks=(task("payment", task_id=60, responsible=CHIEF, deadline=main_deadline),
              task("payment:sub0", task_id=61, responsible=JUNIOR, deadline=sub_deadline),
              task("head_approval", status=5, task_id=40)))
    assert sweep.run(snap, at(3, 17, 59)) == []
    [main] = sweep.run(snap, at(3, 18, 1))
    assert main.recipients == (CHIEF, OPS) and main.task is not None and main.task.id == 60
    assert sweep.run(snap, at(4, 12)) == []
    [sub] = sweep.run(snap, at(4, 13, 5))
    assert sub.task is not None and sub.task.id == 61 and sub.recipients == (CHIEF, OPS)
    assert sweep.run(snap, at(5, 13)) == []


def test_reminders_go_to_the_substitute_during_an_absence(defs: tuple[dict[str, int], Workflow]) -> None:
    sweep = Sweeper(defs, absences=(Absence(HEAD, "2026-03-02", "2026-03-03", INITIATOR + 100),))
    snap = head_snapshot(at(2, 10))
    assert brief(sweep.run(snap, at(2, 14))) == [("remind", "every1", (INITIATOR + 100,))]
    assert brief(sweep.run(snap, at(4, 10))) == [("remind", "after", (HEAD,))]     # back from the absence


def test_sent_markers_of_every_recipient_make_a_notice_not_due(defs: tuple[dict[str, int], Workflow]) -> None:
    roles, workflow = defs
    snap = head_snapshot(at(2, 10))
    request = open_request(workflow, ETID, snap, snap.tasks)
    assert request is not None
    step = workflow.step("head_approval")
    [notice] = due_notices(step, request, at(4, 11, 30), CAL, roles=roles)[-1:]
    assert notice.deliveries() == [(f"{notice.key}:u{OPS}", OPS)]
    assert notice not in due_notices(step, request, at(4, 11, 30), CAL, {f"{notice.key}:u{OPS}"}, roles=roles)
    assert notice in due_notices(step, request, at(4, 11, 30), CAL, {f"{notice.key}:u{HEAD}"}, roles=roles)


def test_waiting_past_the_allowance(defs: tuple[dict[str, int], Workflow]) -> None:
    _, workflow = defs
    snap = head_snapshot(at(2, 10))
    request = open_request(workflow, ETID, snap, snap.tasks)
    assert request is not None
    step = workflow.step("head_approval")
    assert not past_allowance(step, request, at(4, 10), CAL)
    assert past_allowance(step, request, at(4, 10, 1), CAL)


def test_resubmission_starts_a_new_clock(defs: tuple[dict[str, int], Workflow]) -> None:
    _, workflow = defs
    log = (entry(1, "start", at(2, 10), "HEAD_APPROVAL", "head_approval", HEAD),
           entry(2, "reject", at(2, 11), "REJECTED", None, None, step="head_approval", by=HEAD),
           Entry(seq=3, round=2, decision="resubmit", by=INITIATOR, at=at(4, 12).isoformat(), stage="HEAD_APPROVAL",
                 next_step="head_approval", approver=HEAD))
    snap = Snapshot(item_id=ITEM, title="x", stage="HEAD_APPROVAL", initiator=INITIATOR, log=log)
    request = open_request(workflow, ETID, snap)
    assert request is not None and (request.round, request.started_at) == (2, at(4, 12))
    rejected = Snapshot(item_id=ITEM, title="x", stage="REJECTED", initiator=INITIATOR, log=log[:2])
    assert open_request(workflow, ETID, rejected) is None


def test_documents_requested_pause_the_clock_until_they_are_provided(defs: tuple[dict[str, int],
                                                                                Workflow]) -> None:
    sweep = Sweeper(defs)
    start = at(2, 10)
    ask = entry(2, "request_documents", at(2, 12), "DOCS_REQUESTED", "head_approval", HEAD, step="head_approval",
                by=HEAD)
    waiting = head_snapshot(start, ask)
    assert sweep.run(waiting, at(5, 12)) == []
    provided = entry(3, "docs_provided", at(5, 12), "HEAD_APPROVAL", "head_approval", HEAD)
    back = head_snapshot(start, ask, provided)
    assert sweep.run(back, at(5, 13, 59)) == []                         # 2 h + 1 h 59 min
    assert brief(sweep.run(back, at(5, 14))) == [("remind", "every1", (HEAD,))]
