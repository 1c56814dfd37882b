"""Staff-facing texts, Russian first (English available): pure functions, no I/O.

The engine fills a ``RequestCard`` and calls ``new_approval``/``reminder``/``ops_alert``/``decision``/
``daily_digest``; each returns a ``b24app.notify.base.Message`` ready for every notifier. Bot replies
(linking, presses) are in ``BOT``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from b24app.notify.base import Button, DecisionRef, Message

_SYMBOLS = {"RUB": "₽", "USD": "$", "EUR": "€"}


@dataclass(frozen=True)
class RequestCard:
    """What every message shows about one request."""

    entity_type_id: int
    item_id: int
    title: str
    counterparty: str
    amount: Decimal
    currency: str
    step: str  # the step's code (HEAD_APPROVAL, ...): decision buttons refer to it
    step_name_ru: str
    step_name_en: str
    waiting: timedelta  # how long the request has waited at this step
    url: str  # the item in Bitrix24


def format_amount(amount: Decimal, currency: str, lang: str = "ru") -> str:
    value = Decimal(amount).quantize(Decimal("0.01"))
    whole = f"{value:,.2f}" if value != value.to_integral() else f"{value:,.0f}"
    if lang == "ru":
        whole = whole.replace(",", " ").replace(".", ",")
        return f"{whole} {_SYMBOLS.get(currency, currency)}"
    return f"{currency} {whole}"


def format_waiting(waiting: timedelta, lang: str = "ru") -> str:
    minutes = max(int(waiting.total_seconds() // 60), 0)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    units = ("дн.", "ч", "мин") if lang == "ru" else ("d", "h", "min")
    parts = [f"{n} {u}" for n, u in zip((days, hours, mins), units, strict=True) if n]
    return " ".join(parts) if parts else ("меньше минуты" if lang == "ru" else "less than a minute")


def details(card: RequestCard, lang: str = "ru") -> str:
    """Title, counterparty, amount, step, waiting time and the link: the body of every message."""
    if lang == "ru":
        return (f"«{card.title}» (№{card.item_id})\nКонтрагент: {card.counterparty}\n"
                f"Сумма: {format_amount(card.amount, card.currency)}\nЭтап: {card.step_name_ru}\n"
                f"Ожидает: {format_waiting(card.waiting)}\n{card.url}")
    return (f"“{card.title}” (#{card.item_id})\nCounterparty: {card.counterparty}\n"
            f"Amount: {format_amount(card.amount, card.currency, 'en')}\nStep: {card.step_name_en}\n"
            f"Waiting: {format_waiting(card.waiting, 'en')}\n{card.url}")


_details = details  # the escalation sweep's templates use the former private name

APPROVE = Button("Согласовать", action="approve", text_en="Approve")
REJECT = Button("Отклонить", action="reject", text_en="Reject")


def _decision_message(card: RequestCard, head_ru: str, head_en: str, kind: str) -> Message:
    return Message(
        text_ru=f"{head_ru}\n\n{details(card, 'ru')}",
        text_en=f"{head_en}\n\n{details(card, 'en')}",
        buttons=(APPROVE, REJECT),
        item_url=card.url,
        decision=DecisionRef(card.entity_type_id, card.item_id, card.step),
        tag=f"b24app-{card.entity_type_id}-{card.item_id}-{card.step}-{kind}",
    )


def engine_notice(card: RequestCard, head_ru: str, head_en: str, tag: str,
                  decisions: tuple[str, ...] = ()) -> Message:
    """One of the engine's notifications (assigned, returned, rejected, finished...) with the request's details;
    ``decisions`` offered at ``card.step`` become «Согласовать»/«Отклонить» buttons."""
    buttons = tuple(b for b in (APPROVE, REJECT) if b.action in decisions)
    return Message(
        text_ru=f"{head_ru}\n\n{details(card, 'ru')}",
        text_en=f"{head_en}\n\n{details(card, 'en')}",
        buttons=buttons,
        item_url=card.url,
        decision=DecisionRef(card.entity_type_id, card.item_id, card.step) if buttons else None,
        tag=tag,
    )


def new_approval(card: RequestCard) -> Message:
    return _decision_message(card, "Новая заявка на согласование.", "A new request needs your approval.", "assigned")


def reminder(card: RequestCard) -> Message:
    return _decision_message(card, "Напоминание: заявка ждёт вашего решения.",
                             "Reminder: a request is waiting for your decision.", "reminder")


def ops_alert(card: RequestCard, approver_name: str) -> Message:
    return _decision_message(
        card,
        f"Заявка зависла: {approver_name} не принял(а) решение. Вы можете решить за него (от его имени).",
        f"A request is stuck: {approver_name} has not decided. You may decide on their behalf.",
        "alert",
    )


def decision(card: RequestCard, approved: bool, by_name: str, reason: str | None = None) -> Message:
    if approved:
        ru, en = f"Заявка согласована ({by_name}).", f"Your request was approved ({by_name})."
    else:
        ru = f"Заявка отклонена ({by_name}). Причина: {reason or '—'}"
        en = f"Your request was rejected ({by_name}). Reason: {reason or '—'}"
    verdict = "approved" if approved else "rejected"
    return Message(text_ru=f"{ru}\n\n{details(card, 'ru')}", text_en=f"{en}\n\n{details(card, 'en')}",
                   item_url=card.url, tag=f"b24app-{card.entity_type_id}-{card.item_id}-{card.step}-{verdict}")


def daily_digest(day: date, overdue: Sequence[RequestCard], overdue_tasks: Sequence[RequestCard],
                 frozen: Sequence[RequestCard]) -> Message:
    sections = (("Ждут дольше срока", "Waiting past their allowance", overdue),
                ("Просрочены задачи бухгалтерии", "Overdue accounting tasks", overdue_tasks),
                ("Заморожены", "Frozen", frozen))
    ru = [f"Сводка на {day:%d.%m.%Y}"]
    en = [f"Digest for {day:%Y-%m-%d}"]
    for title_ru, title_en, cards in sections:
        ru.append(f"\n{title_ru}: {len(cards)}")
        en.append(f"\n{title_en}: {len(cards)}")
        ru.extend(f"• {_line(c, 'ru')}" for c in cards)
        en.extend(f"• {_line(c, 'en')}" for c in cards)
    return Message(text_ru="\n".join(ru), text_en="\n".join(en), tag=f"b24app-digest-{day.isoformat()}")


def _line(card: RequestCard, lang: str) -> str:
    step = card.step_name_ru if lang == "ru" else card.step_name_en
    number = f"№{card.item_id}" if lang == "ru" else f"#{card.item_id}"
    return (f"{number} «{card.title}» — {card.counterparty}, {format_amount(card.amount, card.currency, lang)}, "
            f"{step}, {format_waiting(card.waiting, lang)} — {card.url}")


BOT: dict[str, tuple[str, str]] = {
    "linked": ("Готово: этот чат подключён к вашему аккаунту Битрикс24. Отключить — /stop.",
               "Done: this chat is linked to your Bitrix24 account. To unlink, send /stop."),
    "bad_token": ("Ссылка недействительна или устарела. Получите новую в Битрикс24.",
                  "The link is invalid or expired. Get a new one in Bitrix24."),
    "start_help": ("Чтобы получать уведомления, откройте ссылку подключения из Битрикс24.",
                   "To get notifications, open the linking link from Bitrix24."),
    "reactivated": ("Уведомления снова включены.", "Notifications are on again."),
    "stopped": ("Чат отключён от Битрикс24. Уведомления больше не придут.",
                "This chat is unlinked from Bitrix24. No more notifications."),
    "not_linked": ("Этот Telegram не подключён к Битрикс24: действие не выполнено. Подключите его по ссылке из Битрикс24.",
                   "This Telegram account is not linked to Bitrix24: nothing was done."),
    "unknown_button": ("Кнопка устарела. Откройте заявку в Битрикс24.", "This button is outdated. Open the request in Bitrix24."),
    "decided": ("Решение по этому этапу уже принято: {name}, {when}.", "This step was already decided: {name}, {when}."),
    "unavailable": ("Это действие сейчас недоступно.", "This action is not available now."),
    "busy": ("Решение по этому этапу уже обрабатывается.", "A decision on this step is already being processed."),
    "failed": ("Не удалось выполнить действие. Попробуйте позже или откройте заявку в Битрикс24.",
               "The action failed. Try again later or open the request in Bitrix24."),
    "ask_reason": ("Напишите причину отклонения ответным сообщением. Без причины заявка не будет отклонена. Отмена — /cancel.",
                   "Reply with the reason for rejecting. Without a reason nothing is rejected. To cancel, send /cancel."),
    "ask_reason_short": ("Напишите причину отклонения.", "Write the reason for rejecting."),
    "reason_required": ("Причина обязательна: напишите её текстом или отправьте /cancel.",
                        "A reason is required: write it as text or send /cancel."),
    "cancelled": ("Отклонение отменено, заявка не изменилась.", "Rejecting cancelled; the request is unchanged."),
    "help": ("Я присылаю уведомления о заявках из Битрикс24. Отключить — /stop.",
             "I send request notifications from Bitrix24. To unlink, send /stop."),
}


def bot_text(key: str, lang: str = "ru", **values: str) -> str:
    ru, en = BOT[key]
    return (en if lang == "en" else ru).format(**values)


def decided_text(by_name: str, at: datetime, tz: str, lang: str = "ru") -> str:
    """What a stale button answers: who decided the step and when (in the portal's time zone)."""
    return bot_text("decided", lang, name=by_name, when=at.astimezone(ZoneInfo(tz)).strftime("%d.%m.%Y %H:%M"))


# -- the link page (``POST /telegram/link``, opened inside Bitrix24) -------------------------------------
LINK_PAGE_UNKNOWN_USER = "Не удалось определить пользователя Битрикс24. Откройте страницу из Битрикс24 ещё раз."


def link_page_invite(link_html: str, minutes: int) -> str:
    """``link_html``: the deep link as an escaped ``<a>`` element."""
    return (f'Чтобы получать уведомления и согласовывать заявки в Telegram, откройте ссылку {link_html} '
            f'и нажмите «Start». Ссылка одноразовая и действует {minutes} минут. Отключить — команда /stop.')


def link_page(body: str) -> str:
    return ('<!doctype html><html lang="ru"><head><meta charset="utf-8"><title>Telegram</title></head>'
            f"<body><h1>Уведомления в Telegram</h1><p>{body}</p></body></html>")
