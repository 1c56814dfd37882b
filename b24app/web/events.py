"""``POST /b24/events``: receive a Bitrix24 event, verify, de-duplicate, enqueue, answer fast.

The form is decoded with PHP bracket keys; ``auth[member_id]`` must name a stored installation and
``auth[application_token]`` must equal its token (constant-time compare) — else 401 and nothing is
enqueued. Events are *coalesced*, not de-duplicated forever: while a job for the same portal, event
name and data is queued and not yet started, a repeat (a duplicate delivery, or a new change of the
same object) is dropped, because that job reads the object's current state when it starts. Once it has
started, the next such event gets a job of its own, so a change made right after the app's own write
(even within the same second of ``ts``) is never lost.
``ONAPPUNINSTALL`` is not believed as such (its ``application_token`` is in every widget's frame POST): it
queues one check with the app's own tokens, and only a portal that refuses them marks the installation
removed (:mod:`b24app.auth.lifecycle`); ``ONAPPINSTALL`` is accepted only once the OAuth server and the
portal prove it (:mod:`b24app.auth.accept`). An event for a portal the app has no installation of while
no installation is stored at all (Redis lost its data) is said once, loudly. ``event``, ``auth[member_id]`` and
``auth[application_token]`` must be plain strings (400 otherwise).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from b24app import jobs, keys, phpform
from b24app import queue as queues
from b24app.auth.lifecycle import alert_once, request_uninstall_check
from b24app.deps import Deps
from b24app.web.app import get_deps
from b24app.web.install import install_event

log = logging.getLogger(__name__)

bp = Blueprint("events", __name__)

#: How long a "job pending" marker may outlive a job that never started (a lost queue, say).
PENDING_TTL = 3600


@bp.post("/b24/events")
def receive() -> ResponseReturnValue:
    payload = phpform.decode(request.form.items(multi=True))
    auth = _block(payload, "auth")
    name = _text(payload.get("event"))
    member_id, token = _text(auth.get("member_id")), _text(auth.get("application_token"))
    if name is None or member_id is None or token is None:
        return jsonify(error="bad_request", description="event, auth[member_id] and auth[application_token] "
                                                        "must be plain strings"), 400
    name = name.upper()
    deps = get_deps()
    if name == "ONAPPINSTALL":
        return install_event(deps, payload)
    if not name or not _verified(deps, member_id, token):
        _maybe_lost(deps, member_id)
        return jsonify(error="unauthorized"), 401
    if name == "ONAPPUNINSTALL":
        # The application_token is the only check the event allows (REFERENCE §2.5, §3.3) and every
        # widget user has it: the portal itself is asked, with the app's own tokens, by a job.
        queued = request_uninstall_check(deps, member_id)
        log.info("ONAPPUNINSTALL from %s: %s", member_id, "checking with the portal" if queued else "check queued")
        return jsonify(result="checking")
    data = _block(payload, "data")
    ts = _text(payload.get("ts")) or ""
    return _accept(deps, member_id, name, data, ts)


def _maybe_lost(deps: Deps, member_id: str) -> None:
    """Refused events while no installation is stored at all: the tokens were lost (say it once)."""
    if member_id and not deps.installations.member_ids():
        alert_once(deps, "no-installations", None,
                   "events arrive but no installation is stored (Redis lost its data?): every event is refused. "
                   "Fix: run Redis with appendonly yes (docs/operations.md), then an administrator of each portal "
                   "opens the app again so it re-installs",
                   "Приложение согласований потеряло ключи доступа к Битрикс24: события отклоняются. "
                   "Администратор портала должен открыть приложение ещё раз.")


def _text(value: Any) -> str | None:
    """A scalar form value as text ("" when absent); None for a nested block (``auth[member_id][a]=x``)."""
    if value is None:
        return ""
    return value if isinstance(value, str) else None


def _block(payload: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = payload.get(key)
    return value if isinstance(value, dict) else {}


def event_digest(member_id: str, name: str, data: Mapping[str, Any]) -> str:
    """The identity of the work an event asks for: a hash of portal, event name and data (the ids)."""
    body = json.dumps([member_id, name, data], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(body.encode()).hexdigest()


def _verified(deps: Deps, member_id: str, token: str) -> bool:
    installation = deps.installations.find(member_id) if member_id else None
    if installation is None or installation.removed or not token:
        return False
    return hmac.compare_digest(installation.application_token.encode(), token.encode())


def _accept(deps: Deps, member_id: str, name: str, data: dict[str, Any], ts: str) -> ResponseReturnValue:
    digest = event_digest(member_id, name, data)
    pending = pending_key(digest)
    if not deps.redis.set(pending, str(time.time()), nx=True, ex=PENDING_TTL):
        return jsonify(result="coalesced")
    generation = deps.redis.incr(keys.event_generation(digest))
    deps.redis.expire(keys.event_generation(digest), PENDING_TTL * 24)
    queues.enqueue_once(
        deps.queue(queues.EVENTS),
        jobs.handle_event,
        member_id,
        name,
        data,
        ts,
        pending,
        id=queues.job_id("event", digest, generation),
        retry=queues.remote_retry(),
        job_timeout=queues.EVENT_JOB_TIMEOUT,
    )
    return jsonify(result="queued")


def pending_key(digest: str) -> str:
    """Set while a job for this event is queued; the job deletes it as it starts."""
    return keys.event_pending(digest)
