"""The catalogue of short staff texts the handlers, the pipeline and the escalation use — Russian first,
English alongside (``Label``). Longer templates live beside the messages they build: the engine's in
``b24app.workflow.messages``, the bot's and the request cards in ``b24app.telegram.texts``, the sweep's in
``b24app.escalation.texts``; none is written inline in a handler.
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
