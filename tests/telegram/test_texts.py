"""Message templates: pure functions, Russian first with English available."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from b24app.texts.telegram import (
    RequestCard,
    daily_digest,
    decided_text,
    decision,
    engine_notice,
    format_amount,
    format_waiting,
    new_approval,
    ops_alert,
    reminder,
)

CARD = RequestCard(entity_type_id=1040, item_id=22, title="Оплата аренды офиса", counterparty="ООО «Ромашка»",
                   amount=Decimal("1250000.5"), currency="RUB", step="HEAD_APPROVAL",
                   step_name_ru="Согласование руководителя", step_name_en="Head approval",
                   waiting=timedelta(days=1, hours=3, minutes=15), url="https://portal.example/crm/type/1040/details/22/")


def test_amounts_and_waiting_are_formatted_for_people() -> None:
    assert format_amount(Decimal("1250000"), "RUB") == "1 250 000 ₽"
    assert format_amount(Decimal("1250000.5"), "RUB") == "1 250 000,50 ₽"
    assert format_amount(Decimal("1250000.5"), "RUB", "en") == "RUB 1,250,000.50"
    assert format_waiting(timedelta(days=1, hours=3, minutes=15)) == "1 дн. 3 ч 15 мин"
    assert format_waiting(timedelta(hours=4), "en") == "4 h"
    assert format_waiting(timedelta(seconds=20)) == "меньше минуты"


def test_every_decision_message_shows_the_request_and_offers_buttons() -> None:
    for message in (new_approval(CARD), reminder(CARD), ops_alert(CARD, "Иван Петров")):
        for fragment in ("Оплата аренды офиса", "ООО «Ромашка»", "1 250 000,50 ₽", "Согласование руководителя",
                         "1 дн. 3 ч 15 мин", CARD.url):
            assert fragment in message.text_ru
        assert message.text_en and "Head approval" in message.text_en
        assert [(b.text_ru, b.action) for b in message.buttons] == [("Согласовать", "approve"), ("Отклонить", "reject")]
        assert message.decision is not None and message.decision.step == "HEAD_APPROVAL"
        assert message.item_url == CARD.url
    assert "Иван Петров" in ops_alert(CARD, "Иван Петров").text_ru
    assert reminder(CARD).tag != new_approval(CARD).tag


def test_decision_and_digest() -> None:
    rejected = decision(CARD, approved=False, by_name="Иван Петров", reason="Нет счёта")
    assert "отклонена" in rejected.text_ru and "Нет счёта" in rejected.text_ru and not rejected.buttons
    assert "согласована" in decision(CARD, approved=True, by_name="Иван Петров").text_ru
    digest = daily_digest(date(2026, 3, 2), [CARD], [], [CARD])
    assert digest.text_ru.startswith("Сводка на 02.03.2026")
    assert "Ждут дольше срока: 1" in digest.text_ru and "Заморожены: 1" in digest.text_ru
    assert "Просрочены задачи бухгалтерии: 0" in digest.text_ru
    assert digest.text_ru.count(CARD.url) == 2


def test_stale_answer_is_in_the_portal_time_zone() -> None:
    at = datetime(2026, 3, 2, 6, 5, tzinfo=UTC)
    assert decided_text("Ольга", at, "Europe/Moscow") == "Решение по этому этапу уже принято: Ольга, 02.03.2026 09:05."


def test_engine_notice_offers_only_approve_and_reject_as_buttons() -> None:
    offered = engine_notice(CARD, "Вам поставлена задача.", "You have a new task.", "tag-1",
                            ("approve", "reject", "request_documents", "freeze"))
    assert [b.action for b in offered.buttons] == ["approve", "reject"]
    assert offered.decision is not None and offered.decision.step == "HEAD_APPROVAL"
    assert offered.text_ru.startswith("Вам поставлена задача.\n\n«Оплата аренды офиса» (№22)")
    assert "Ожидает: 1 дн. 3 ч 15 мин" in offered.text_ru and offered.item_url == CARD.url and offered.tag == "tag-1"
    news = engine_notice(CARD, "Заявка отклонена.", "Rejected.", "tag-2")
    assert news.buttons == () and news.decision is None and news.item_url == CARD.url
