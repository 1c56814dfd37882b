"""The timeline reports of the approval log's trust checks (``b24app.pipeline.trust`` and ``logsign``)."""

from __future__ import annotations

from b24app.workflow.models import Label

ROLLBACK_TITLE = Label("Лист согласования был изменён вручную и восстановлен", "Approval log edited by hand and restored")
ROLLBACK_TEXT = Label(
    "Записи приложения в поле «Лист согласования» были удалены или заменены более старыми. "
    "Приложение восстановило лист согласования по своей последней записи и продолжает по нему.",
    "The app's entries in the approval log were deleted or replaced by older ones. The app restored "
    "the log from its last write and follows it.")
FORGED_TITLE = Label("Записи листа согласования не приняты", "Approval log entries ignored")


def forged_text(count: int) -> Label:
    return Label(
        f"В поле «Лист согласования» найдены записи, которые приложение не создавало ({count}). "
        "Они не учитываются: согласование идёт по подписанным записям приложения.",
        f"The approval log holds entries the app did not write ({count}). They are ignored: "
        "the approval follows the app's signed entries.")
