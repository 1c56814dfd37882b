"""Escalation: the time rules of each step (reminders, alerts), the sweep that sends them once, the daily digest.

``rules`` (pure: which notices are due now), ``state`` (the engine's snapshot -> an open request),
``read`` (every open request in a few ``batch`` requests), ``texts`` (messages), ``sweep`` (plan and send,
each once), ``digest`` (the operations manager's daily digest), ``jobs`` (RQ / ``rq cron`` entry points),
``cli`` (``b24app sweep``, ``b24app digest``).
"""
