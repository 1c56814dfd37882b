"""RQ entry points: plain JSON-able arguments, a few lines each, delegating to ``handlers``."""

from __future__ import annotations

from typing import Any

from b24app import deps
from b24app.log import log_context
from handlers import events


@log_context(member_id="member_id")
def handle_event(member_id: str, name: str, data: dict[str, Any], ts: str, pending_key: str | None = None) -> int:
    """A Bitrix24 event accepted by the web edge. Clearing ``pending_key`` before reading any state lets
    the next event about the same object queue a job of its own (see ``b24app.web.events``)."""
    events.load_handlers()
    current = deps.current()
    marker = current.redis.getdel(pending_key) if pending_key else None
    text = marker.decode() if isinstance(marker, bytes) else str(marker or "")
    deliveries = int(text) if text.isdigit() else 1      # how many deliveries the edge coalesced into this job
    return events.dispatch(current, events.Event(member_id, name, data, ts, deliveries))


@log_context(member_id="member_id")
def after_install(member_id: str) -> int:
    """Hooks that run once an installation is stored (re-bind events and widgets, provision)."""
    events.load_handlers()
    return events.dispatch(deps.current(), events.Event(member_id, events.INSTALLED))


def confirm_uninstall(member_id: str) -> str:
    """After an ``ONAPPUNINSTALL``: believe it only if the portal refuses the app's own tokens."""
    from b24app.auth.lifecycle import confirm_uninstall as confirm

    return confirm(deps.current(), member_id)
