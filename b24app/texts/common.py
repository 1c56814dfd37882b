"""The catalogue of short staff texts the handlers, the pipeline and the escalation use — Russian first,
English alongside (``Label``). Longer templates live beside the messages they build: the engine's in
``b24app.texts.approval``, the bot's and the request cards in ``b24app.texts.telegram``, the sweep's in
``b24app.texts.escalation``; none is written inline in a handler.
"""

from __future__ import annotations

from b24app.workflow.models import Label

# -- links in Bitrix24 notifications -------------------------------------------------------------------
OPEN_IN_BITRIX24 = Label("Открыть в Битрикс24", "Open in Bitrix24")
OPEN_REQUEST = Label("Открыть заявку в Битрикс24", "Open the request in Bitrix24")

# -- the daily digest's sections -----------------------------------------------------------------------
DIGEST_WAITING = Label("Ждут дольше срока", "Waiting past their allowance")
DIGEST_OVERDUE_TASKS = Label("Просрочены задачи бухгалтерии", "Overdue accounting tasks")
DIGEST_FROZEN = Label("Заморожены", "Frozen")

# -- decisions from the approval tab and the bot -------------------------------------------------------
NOT_FOUND = Label("Заявка не найдена.", "The request was not found.")
BUSY = Label("Заявка сейчас обрабатывается. Повторите через минуту.", "The request is being processed; retry in a minute.")
UNREACHABLE = Label("Битрикс24 не ответил, решение могло не сохраниться. Обновите вкладку и проверьте лист согласования.",
                    "Bitrix24 did not answer; the decision may not be saved. Reload the tab and check the approval sheet.")
#: ``{message}``: the engine's answer; ``{by}``: who decided (with :data:`ON_BEHALF_OF`).
DECIDED_BY = Label("{message} Решение: {by}.", "{message} Decided by {by}.")
ON_BEHALF_OF = Label(" от имени {name}", " on behalf of {name}")

# -- the approval tab's summary ------------------------------------------------------------------------
INITIATOR = Label("Инициатор", "Initiator")
YES = Label("Да", "Yes")
NO = Label("Нет", "No")

# -- the approval tab's route ---------------------------------------------------------------------------
SUBMISSION = Label("Подача заявки", "Submission")
