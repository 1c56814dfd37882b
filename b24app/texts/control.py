"""Staff-facing texts of the control room (the app's own page in the portal): Russian first, English available."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from b24app.notify.base import Message

_RU: dict[str, str] = {
    "title": "Контрольная панель согласований",
    "as_of": "Данные на",
    "cached": "из кэша (обновляются раз в минуту)",
    "filters": "Фильтры",
    "process": "Процесс",
    "department": "Отдел",
    "expense": "Статья расходов",
    "all": "Все",
    "apply": "Показать",
    "reset": "Сбросить",
    "csv": "Скачать CSV",
    "open_title": "Открытые заявки",
    "open_none": "Открытых заявок нет.",
    "by_step_title": "По шагам и согласующим",
    "col_number": "№",
    "col_request": "Заявка",
    "col_process": "Процесс",
    "col_step": "Шаг",
    "col_approver": "Согласующий",
    "col_department": "Отдел",
    "col_expense": "Статья расходов",
    "col_amount": "Сумма",
    "col_counterparty": "Контрагент",
    "col_waiting": "Ждёт, раб. ч",
    "col_state": "Состояние",
    "col_count": "Заявок",
    "col_overdue_count": "Просрочено",
    "col_max_waiting": "Дольше всех, раб. ч",
    "col_median": "Медиана, раб. ч",
    "col_p90": "90-й процентиль, раб. ч",
    "col_done": "Решений",
    "col_link": "Ссылка",
    "overdue": "просрочено",
    "paused": "на паузе",
    "on_time": "в срок",
    "steps_title": "Время шагов за 30 дней",
    "steps_none": "За 30 дней нет завершённых шагов.",
    "approvers_title": "Самые медленные согласующие (30 дней)",
    "chart_title": "Заявки по неделям: созданы и оплачены / подписаны",
    "created": "Созданы",
    "completed": "Оплачены / подписаны",
    "capped": "Учтены последние {count} закрытых заявок за 30 дней.",
    "refused_title": "Доступ ограничен",
    "refused": "Эта страница доступна операционному менеджеру, генеральному директору и администраторам "
               "портала. Если вам нужен доступ, обратитесь к операционному менеджеру.",
    "not_authenticated": "Не удалось подтвердить, кто открыл страницу. Откройте приложение из меню портала ещё раз.",
    "unavailable": "Портал сейчас не отвечает. Попробуйте через минуту.",
    "stale": "Ссылка устарела. Откройте приложение из меню портала ещё раз.",
    "digest_link": "Контрольная панель",
    "accounting_link": "Бухгалтерия: платёжные поручения и выписки",
}

_EN: dict[str, str] = {
    "title": "Approvals control room",
    "as_of": "As of",
    "cached": "cached (refreshed every minute)",
    "filters": "Filters",
    "process": "Process",
    "department": "Department",
    "expense": "Expense item",
    "all": "All",
    "apply": "Show",
    "reset": "Reset",
    "csv": "Download CSV",
    "open_title": "Open requests",
    "open_none": "No open requests.",
    "by_step_title": "By step and approver",
    "col_number": "#",
    "col_request": "Request",
    "col_process": "Process",
    "col_step": "Step",
    "col_approver": "Approver",
    "col_department": "Department",
    "col_expense": "Expense item",
    "col_amount": "Amount",
    "col_counterparty": "Counterparty",
    "col_waiting": "Waiting, work h",
    "col_state": "State",
    "col_count": "Requests",
    "col_overdue_count": "Overdue",
    "col_max_waiting": "Longest wait, work h",
    "col_median": "Median, work h",
    "col_p90": "90th percentile, work h",
    "col_done": "Decisions",
    "col_link": "Link",
    "overdue": "overdue",
    "paused": "paused",
    "on_time": "on time",
    "steps_title": "Step times over 30 days",
    "steps_none": "No step was completed in the last 30 days.",
    "approvers_title": "Slowest approvers (30 days)",
    "chart_title": "Requests per week: created and paid / signed",
    "created": "Created",
    "completed": "Paid / signed",
    "capped": "Based on the latest {count} requests closed in the last 30 days.",
    "refused_title": "Access restricted",
    "refused": "This page is for the operations manager, the director and portal administrators. "
               "If you need access, please ask the operations manager.",
    "not_authenticated": "Could not confirm who opened the page. Open the app from the portal menu again.",
    "unavailable": "The portal is not answering right now. Please try again in a minute.",
    "stale": "The link has expired. Open the app from the portal menu again.",
    "digest_link": "Control room",
    "accounting_link": "Accounting: payment orders and bank statements",
}


def texts(lang: str) -> Mapping[str, str]:
    return _EN if lang == "en" else _RU


def with_control_room(message: Message, url: str) -> Message:
    """The daily digest with a last line linking to the control room (unchanged without a URL)."""
    if not url:
        return message
    ru, en = _RU["digest_link"], _EN["digest_link"]
    return replace(message, text_ru=f"{message.text_ru}\n\n{ru}: {url}",
                   text_en=f"{message.text_en}\n\n{en}: {url}" if message.text_en else None)
