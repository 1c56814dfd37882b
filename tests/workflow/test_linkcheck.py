"""The payment's contract and duplicate checks (b24app.workflow.linkcheck), pure: standing, flags, the
duplicate rules and their near misses, the block at the checked step, and the one filter that reads them."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from b24app.pipeline.links import duplicate_filter
from b24app.workflow import linkcheck as lc
from b24app.workflow.actions import CreateTask, Notify, PersonDecision, Refresh, Refuse, SetFields
from b24app.workflow.engine import decide, outcome
from b24app.workflow.models import Checks, Label
from b24app.workflow.snapshot import Entry, ItemNames, Snapshot
from tests.workflow.engine_world import FINANCE, FULL, HEAD, INITIATOR, NOW, context, workflows

PAY = workflows()["payment_requests"]
SIGNED = lc.Contract(3, "Договор поставки", "SIGNED", Label("Подписан", "Signed"), True, Decimal(300000))
DRAFT = replace(SIGNED, stage="LEGAL_REVIEW", stage_name=Label("Проверка юристом", "Legal review"), signed=False)
PARTY = "ООО «Ромашка»"


def snap(amount: str = "150000|RUB", **fields: object) -> Snapshot:
    return Snapshot(7, "Заявка №7", "FINANCE_REVIEW", INITIATOR, {**FULL, "AMOUNT": amount, **fields}, created=NOW,
                    parents={1102: 3})


def candidate(item_id: int, amount: int = 1000, number: str = "", digest: str = "", party: str = PARTY,
              days: int = 0) -> lc.Candidate:
    return lc.Candidate(item_id, f"Заявка №{item_id}", "FINANCE_REVIEW", "", party, number, digest, Decimal(amount),
                        NOW - timedelta(days=days))


def test_standing_counts_paid_and_being_paid_but_not_the_request_itself_or_earlier_stages() -> None:
    payments = (lc.Payment(1, "a", "PAID", Decimal(100000)), lc.Payment(2, "b", "PAYMENT", Decimal(50000)),
                lc.Payment(4, "c", "HEAD_APPROVAL", Decimal(999999)), lc.Payment(5, "d", "REJECTED", Decimal(999999)),
                lc.Payment(7, "self", "FINANCE_REVIEW", Decimal(150000)))
    assert PAY.checks is not None
    state = lc.standing(PAY, PAY.checks, lc.Links(SIGNED, payments), 7)
    assert state == lc.Standing(Decimal(100000), Decimal(50000), Decimal(150000))


def test_a_signed_contract_with_room_raises_no_flag_and_one_over_it_is_flagged() -> None:
    paid = (lc.Payment(1, "a", "PAID", Decimal(200000)),)
    assert lc.flags(PAY, snap("100000|RUB"), lc.Links(SIGNED, paid)) == []
    [over] = lc.flags(PAY, snap("100001|RUB"), lc.Links(SIGNED, paid))
    assert over.kind == "over" and not over.blocks and "100 000 RUB" in over.text.ru


def test_an_unsigned_contract_is_flagged_with_its_stage() -> None:
    [flag] = lc.flags(PAY, snap(), lc.Links(DRAFT))
    assert flag.kind == "unsigned" and "Проверка юристом" in flag.text.ru and "Legal review" in flag.text.en


def test_each_duplicate_rule_and_its_near_misses() -> None:
    mine = snap("1000|RUB", INVOICE_NUMBER="77", INVOICE_HASH="ab" * 32)
    found = lc.duplicates(mine, (
        candidate(10, amount=5, number="77"),                    # same party and number
        candidate(11, amount=5, digest="ab" * 32, party="Другой"),  # same file, another party
        candidate(12, days=29),                                  # same party and amount within 30 days
        candidate(13, days=31),                                  # near miss: 31 days apart
        candidate(14, amount=5, number="77", party="ООО «Другая»"),  # near miss: the number, another party
        candidate(7, number="77"),                               # the request itself
    ))
    assert [(d.id, d.rules) for d in found] == [(10, ("invoice_number",)), (11, ("invoice_file",)), (12, ("amount",))]


def test_the_counterparty_matches_by_company_link_before_the_name() -> None:
    mine = snap("1000|RUB", COUNTERPARTY="CO_5", COUNTERPARTY_NAME="")
    other = replace(candidate(10), counterparty="CO_5", counterparty_name="ООО «Иное имя»")
    assert [d.id for d in lc.duplicates(mine, (other,))] == [10]


def test_one_filter_holds_the_three_rules_as_one_or_group() -> None:
    names = ItemNames("payment_requests", 1100, 7, 5, {"REJECTED": "DT1100_5:FAIL"},
                      {c: f"UF_CRM_7_{c}" for c in ("COUNTERPARTY", "COUNTERPARTY_NAME", "INVOICE_NUMBER",
                                                    "INVOICE_HASH", "AMOUNT")})
    found = duplicate_filter(PAY, names, snap("1000|RUB", INVOICE_NUMBER="77", INVOICE_HASH="ff"))
    assert found is not None
    assert found["!=id"] == 7 and found["!@stageId"] == ["DT1100_5:FAIL"]
    group = found["0"]
    assert group["logic"] == "OR" and len(group) == 4
    assert group["0"] == {"UF_CRM_7_COUNTERPARTY_NAME": PARTY, "UF_CRM_7_INVOICE_NUMBER": "77"}
    assert group["1"] == {"UF_CRM_7_INVOICE_HASH": "ff"}
    assert group["2"]["UF_CRM_7_AMOUNT"] == "1000|RUB"
    assert group["2"][">=createdTime"] == (NOW - timedelta(days=30)).isoformat()


def _at_finance() -> Snapshot:
    start = Entry(1, 1, "start", INITIATOR, NOW.isoformat(), "HEAD_APPROVAL", None, "head_approval", HEAD)
    head = Entry(2, 1, "approve", HEAD, NOW.isoformat(), "FINANCE_REVIEW", "head_approval", "finance_review", FINANCE)
    return replace(snap(), log=(start, head))


def test_the_finance_task_and_notice_carry_the_contract_and_the_flags() -> None:
    ctx = replace(context(), links=lc.Links(DRAFT, card_url="https://p/crm/type/1100/details/"))
    actions = decide(PAY, _at_finance(), Refresh(), NOW, ctx)
    [task] = [a for a in actions if isinstance(a, CreateTask)]
    assert "не подписан" in task.description and "Оплачено по договору: 0 RUB из 300 000 RUB" in task.description
    [told] = [a for a in actions if isinstance(a, Notify) and a.user == FINANCE]
    assert "не подписан" in told.message.ru and "not signed" in told.message.en


def test_block_refuses_the_approval_with_the_reason_and_warn_does_not() -> None:
    ctx = replace(context(), links=lc.Links(DRAFT))
    warned = decide(PAY, _at_finance(), PersonDecision(FINANCE, "approve"), NOW, ctx)
    assert not any(isinstance(a, Refuse) for a in warned)
    blocking = replace(PAY, checks=Checks("finance_review", contract="block"))
    [refused] = decide(blocking, _at_finance(), PersonDecision(FINANCE, "approve"), NOW, ctx)
    assert isinstance(refused, Refuse) and "Согласовать нельзя" in refused.message.ru
    rejected = decide(blocking, _at_finance(), PersonDecision(FINANCE, "reject", "нет"), NOW, ctx)
    assert not any(isinstance(a, Refuse) for a in rejected)


def test_the_outcome_of_a_decision_is_read_from_the_log_write_whatever_else_is_written() -> None:
    actions = decide(PAY, _at_finance(), PersonDecision(FINANCE, "approve"), NOW, context())
    result = outcome(PAY, _at_finance(), [SetFields({"INVOICE_HASH": "ab"}), *actions])
    assert result.ok and result.stage == "PAYMENT" and "Согласовано" in result.message.ru
