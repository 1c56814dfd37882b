"""The sweep's messages: the TELEGRAM helper's templates (``b24app.texts.telegram``) plus the two it lacks
(an alert without decision buttons, an overdue accounting task). Pure; Russian first, English alongside.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from b24app.escalation.rules import Notice, OpenTask
from b24app.notify.base import Message
from b24app.notify.itemnotes import item_url
from b24app.texts import telegram as texts
from b24app.texts.telegram import RequestCard
from b24app.workflow.models import Label
from b24app.workflow.snapshot import money

if TYPE_CHECKING:
    from b24app.escalation.read import Found


def waiting_alert(card: RequestCard, approver_name: str) -> Message:
    """An alert for the operations manager that offers no decision (the step's rule has no offer_decision)."""
    return Message(
        text_ru=f"Заявка ждёт решения дольше срока: {approver_name} не принял(а) решение.\n\n"
                f"{texts._details(card, 'ru')}",
        text_en=f"A request is waiting past its allowance: {approver_name} has not decided.\n\n"
                f"{texts._details(card, 'en')}",
        item_url=card.url,
    )


def overdue_task(card: RequestCard, task_title: str, deadline: datetime | None, responsible_name: str) -> Message:
    when = f"{deadline:%d.%m.%Y %H:%M}" if deadline else "—"
    return Message(
        text_ru=f"Просрочена задача бухгалтерии «{task_title}» (срок {when}, исполнитель {responsible_name}).\n\n"
                f"{texts._details(card, 'ru')}",
        text_en=f"An accounting task is overdue: “{task_title}” (due {when}, assignee {responsible_name}).\n\n"
                f"{texts._details(card, 'en')}",
        item_url=card.url,
    )


def notice_message(notice: Notice, card: RequestCard, names: dict[int, str], approver: int | None) -> Message:
    """The message of a notice; its tag is the notice's key (Bitrix24 replaces a repeat with the same tag)."""
    approver_name = names.get(approver or 0) or (f"#{approver}" if approver else "согласующий")
    if notice.task is not None:
        task = notice.task
        message = overdue_task(card, task.title, task.deadline, names.get(task.responsible) or f"#{task.responsible}")
    elif notice.action == "remind":
        message = texts.reminder(card)
    elif notice.offer_decision:
        message = texts.ops_alert(card, approver_name)
    else:
        message = waiting_alert(card, approver_name)
    return replace(message, tag=f"b24app:esc:{notice.key}")      # a Bitrix24 TAG, not a Redis key


def request_card(found: Found, domain: str, waiting: timedelta, task: OpenTask | None = None) -> RequestCard:
    """The card of an open request (a notice's or a digest line's); with ``task``, its title is added."""
    request, workflow = found.request, found.workflow
    name = workflow.step_name(found.step.code)
    amount, currency = money(request.fields.get("AMOUNT"))
    title = f"{request.title} — {task.title}" if task is not None else request.title
    return RequestCard(
        entity_type_id=request.entity_type_id, item_id=request.item_id, title=title,
        counterparty=str(request.fields.get("COUNTERPARTY_NAME") or "—"), amount=amount, currency=currency,
        step=found.step.code, step_name_ru=name.ru, step_name_en=name.en, waiting=waiting,
        url=item_url(domain, request.entity_type_id, request.item_id),
    )


DIGEST_LINES = 20      # per section; the rest is counted


def digest_message(day: date, sections: list[tuple[Label, list[RequestCard]]]) -> Message:
    """The daily digest: each section's count, its first lines, and how many more there are."""
    ru, en = [f"Сводка на {day:%d.%m.%Y}"], [f"Digest for {day:%Y-%m-%d}"]
    for title, cards in sections:
        ru.append(f"\n{title.ru}: {len(cards)}")
        en.append(f"\n{title.en}: {len(cards)}")
        ru.extend(f"• {texts._line(c, 'ru')}" for c in cards[:DIGEST_LINES])
        en.extend(f"• {texts._line(c, 'en')}" for c in cards[:DIGEST_LINES])
        if len(cards) > DIGEST_LINES:
            ru.append(f"… и ещё {len(cards) - DIGEST_LINES}")
            en.append(f"… and {len(cards) - DIGEST_LINES} more")
    return Message(text_ru="\n".join(ru), text_en="\n".join(en), tag=f"b24app:digest:{day.isoformat()}")
