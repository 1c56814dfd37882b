"""Where the control room is in the portal, for links (the daily digest).

A local app's own page opens at ``https://{portal}/marketplace/app/{ID}/`` (the app's ``ID`` from
``app.info``; the path is UNVERIFIED — the docs name no URL of an app's page, it is what the portal's
left menu opens). ``app.info`` is asked once a day per portal; without an app context (webhook mode) or
when the portal does not answer, there is no link.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from b24app import keys
from b24app.errors import B24AppError

if TYPE_CHECKING:
    from b24app.deps import Deps

log = logging.getLogger(__name__)
APP_ID_TTL = 24 * 3600


def control_room_url(deps: Deps, member_id: str, domain: str) -> tuple[str, int]:
    """(URL of the control room in the portal or "", REST requests it took)."""
    if not member_id or not domain:
        return "", 0
    key = keys.control_app_id(member_id)
    cached = deps.redis.get(key)
    requests = 0
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
