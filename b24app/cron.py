"""Periodic jobs for ``rq cron b24app.cron`` (the Procfile's ``cron`` process; run exactly one).

``rq cron`` has no cross-process lock, so every job registered here is idempotent:

* the escalation sweep every 5 minutes (it also sends the daily digest at 09:30 portal time);
* once a day, people deactivated in Bitrix24 lose their Telegram link.
"""

from __future__ import annotations

from rq.cron import register

from b24app import queue as queues
from b24app.escalation.jobs import register_cron
from b24app.telegram.maintenance import unlink_inactive_everywhere_job

TELEGRAM_MAINTENANCE_INTERVAL = 24 * 3600

register_cron(register)
register(unlink_inactive_everywhere_job, queue_name=queues.DEFAULT, interval=TELEGRAM_MAINTENANCE_INTERVAL,
         name="telegram-unlink-inactive")
