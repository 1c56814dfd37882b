"""Periodic jobs for ``rq cron b24app.cron`` (the Procfile's ``cron`` process; run exactly one).

``rq cron`` has no cross-process lock, so every job registered here must be idempotent. Later work
registers its periodic jobs here (e.g. the escalation sweep every 5 minutes).
"""

from __future__ import annotations
