"""Where the control room is in the portal, for links (the daily digest, the chief accountant's task).

A local app's own page opens at ``https://{portal}/marketplace/app/{ID}/`` (the app's ``ID`` from
``app.info``; the path is UNVERIFIED — the docs name no URL of an app's page, it is what the portal's
left menu opens). ``app.info`` is asked once a day per portal; without an app context (webhook mode) or
when the portal does not answer, there is no link.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from b24app import keys
from b24app.bank.portal import PAYMENT_STAGE
from b24app.bank.portal import WORKFLOW as BANK_WORKFLOW
from b24app.errors import B24AppError
from b24app.notify.deliver import portal_domain
from b24app.texts.accounting import TASK_LINK

if TYPE_CHECKING:
    from b24app.deps import Deps
    from b24app.workflow.models import Workflow

log = logging.getLogger(__name__)
APP_ID_TTL = 24 * 3600


def control_room_url(deps: Deps, member_id: str, domain: str, *, ask: bool = True) -> tuple[str, int]:
    """(URL of the control room in the portal or "", REST requests it took); with ``ask=False`` only what
    is kept (no request: the approval path must not pay for a link)."""
    if not member_id or not domain:
        return "", 0
    key = keys.control_app_id(member_id)
    cached = deps.redis.get(key)
    requests = 0
    if cached is None and not ask:
        return "", 0
    if cached is None:
        requests = 1
        try:
            answer = deps.bitrix(member_id).call("app.info")
        except B24AppError as exc:
            log.warning("control room link: app.info failed on %s: %s", member_id, exc)
            return "", requests
        cached = str(answer.get("ID") or "") if isinstance(answer, dict) else ""
        deps.redis.set(key, cached, ex=APP_ID_TTL)
    app_id = cached.decode() if isinstance(cached, bytes) else str(cached)
    return (f"https://{domain}/marketplace/app/{app_id}/" if app_id.isdigit() else ""), requests


def with_accounting_link(deps: Deps, member_id: str, workflow: Workflow, step_code: str, description: str) -> str:
    """The description of a step's task, with a line naming the accounting view (the app's page, which
    opens it for an accountant) when the step is the bank's accounting step; unchanged otherwise or while
    the app's page is not known yet (the daily digest asks ``app.info`` once a day; the approval path never
    asks, so a route costs no extra request). The line goes before the task's marker, which stays last."""
    step = next((s for s in workflow.steps if s.code == step_code), None)
    if workflow.code != BANK_WORKFLOW or step is None or step.stage != PAYMENT_STAGE:
        return description
    url, _ = control_room_url(deps, member_id, portal_domain(deps, member_id), ask=False)
    if not url:
        return description
    line = TASK_LINK.ru.format(url=url)
    head, sep, marker = description.rpartition("\n\n[")
    return f"{head}\n\n{line}{sep}{marker}" if sep else f"{description}\n\n{line}"
