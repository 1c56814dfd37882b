"""The names of the decisions, as buttons and in the approval log (``b24app.workflow.rules.DECISIONS``)."""

from __future__ import annotations

#: decision -> (Russian, English)
DECISION_LABELS: dict[str, tuple[str, str]] = {
    "approve": ("Согласовать", "Approve"),
    "reject": ("Отклонить", "Reject"),
    "request_documents": ("Запросить документы", "Request documents"),
    "freeze": ("Заморозить", "Freeze"),
    "complete": ("Все задачи шага выполнены", "All tasks of the step complete"),
}
#: The approval widget's title on the portal (provisioned placements).
WIDGET_TITLE = ("Согласование", "Approval")
#: A list field's value the portal's list no longer has (shown in notices instead of a raw id).
UNKNOWN_OPTION = "значение не найдено в списке портала"
