"""Staff-facing texts of the approval tab: Russian first, English available."""

from __future__ import annotations

from collections.abc import Mapping

#: Decisions that need a typed reason (the form refuses without one, and so does the server).
REASON_REQUIRED = ("reject", "request_documents", "freeze")

_RU: dict[str, str] = {
    "title": "Согласование",
    "stage": "Стадия",
    "request": "Заявка №",
    "start_step": "Подача заявки",
    "approver": "Согласующий",
    "nobody": "—",
    "sheet": "Лист согласования",
    "no_decisions": "Решений пока нет.",
    "col_step": "Шаг",
    "col_decision": "Решение",
    "col_by": "Кто",
    "col_at": "Когда",
    "col_reason": "Причина / комментарий",
    "on_behalf_of": "за",
    "actions": "Ваше решение",
    "no_actions": "Сейчас решение за другим сотрудником.",
    "no_actions_now": "Сейчас по заявке не нужно решений.",
    "button_approve": "Согласовать",
    "button_reject": "Отклонить",
    "button_request_documents": "Запросить документы",
    "button_freeze": "Заморозить",
    "button_unfreeze": "Разморозить",
    "button_resubmit": "Отправить повторно",
    "reason_label_reject": "Причина отклонения (обязательно)",
    "reason_label_request_documents": "Какие документы нужны (обязательно)",
    "reason_label_freeze": "Причина заморозки (обязательно)",
    "reason_required_reject": "Укажите причину отклонения.",
    "reason_required_request_documents": "Укажите, какие документы нужны.",
    "reason_required_freeze": "Укажите причину заморозки.",
    "unknown_decision": "Неизвестное решение.",
    "not_authenticated": "Не удалось подтвердить пользователя Битрикс24. Закройте вкладку и откройте её снова.",
    "not_an_approval": "Эта карточка не участвует в согласовании.",
    "stale_form": "Форма устарела или уже отправлена. Откройте вкладку заново.",
    "unavailable": "Битрикс24 сейчас не отвечает. Попробуйте открыть вкладку через минуту.",
    "viewer": "Вы вошли как",
}

_EN: dict[str, str] = {
    "title": "Approval",
    "stage": "Stage",
    "request": "Request #",
    "start_step": "Submission",
    "approver": "Approver",
    "nobody": "—",
    "sheet": "Approval sheet",
    "no_decisions": "No decisions yet.",
    "col_step": "Step",
    "col_decision": "Decision",
    "col_by": "By",
    "col_at": "When",
    "col_reason": "Reason / comment",
    "on_behalf_of": "on behalf of",
    "actions": "Your decision",
    "no_actions": "The decision is someone else's now.",
    "no_actions_now": "No decision is needed on this request now.",
    "button_approve": "Approve",
    "button_reject": "Reject",
    "button_request_documents": "Request documents",
    "button_freeze": "Freeze",
    "button_unfreeze": "Unfreeze",
    "button_resubmit": "Resubmit",
    "reason_label_reject": "Reason for rejection (required)",
    "reason_label_request_documents": "Which documents are needed (required)",
    "reason_label_freeze": "Reason for freezing (required)",
    "reason_required_reject": "Give the reason for the rejection.",
    "reason_required_request_documents": "Say which documents are needed.",
    "reason_required_freeze": "Give the reason for freezing.",
    "unknown_decision": "Unknown decision.",
    "not_authenticated": "Could not confirm your Bitrix24 user. Close the tab and open it again.",
    "not_an_approval": "This card takes no part in an approval.",
    "stale_form": "The form is out of date or was sent already. Open the tab again.",
    "unavailable": "Bitrix24 is not answering. Try opening the tab again in a minute.",
    "viewer": "Signed in as",
}


def texts(lang: str) -> Mapping[str, str]:
    return _EN if lang == "en" else _RU
