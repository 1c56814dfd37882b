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
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from b24app import phpform
from b24app import queue as queues
from b24app.auth.lifecycle import request_uninstall_check, tokens_lost
from b24app.auth.store import Installation
from b24app.deps import Deps
from b24app.web import accept
from b24app.web.app import get_deps
from b24app.web.install import install_event

log = logging.getLogger(__name__)

bp = Blueprint("events", __name__)

#: How long a "job pending" marker may outlive a job that never started (a lost queue, say).
PENDING_TTL = accept.PENDING_TTL


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
    data = _block(payload, "data")
    digest = event_digest(member_id, name, data)
    installation, generation = _look_up(deps, member_id, digest)
    if not name or not _verified(installation, token):
        if member_id and installation is None:
            tokens_lost(deps, member_id)
        return jsonify(error="unauthorized"), 401
    if name == "ONAPPUNINSTALL":
        # The application_token is the only check the event allows (REFERENCE §2.5, §3.3) and every
        # widget user has it: the portal itself is asked, with the app's own tokens, by a job.
        queued = request_uninstall_check(deps, member_id)
        log.info("ONAPPUNINSTALL from %s: %s", member_id, "checking with the portal" if queued else "check queued")
        return jsonify(result="checking")
    ts = _text(payload.get("ts")) or ""
    return _accept(deps, member_id, name, data, ts, generation)


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


def _look_up(deps: Deps, member_id: str, digest: str) -> tuple[Installation | None, int]:
    """The installation and the event's current generation, in one round trip."""
    if not member_id:
        return None, 0
    pipe = deps.redis.pipeline(transaction=False)
    pipe.hgetall(deps.installations.key(member_id))
    pipe.get(accept.generation_key(digest))
    raw, generation = pipe.execute()
    return deps.installations.from_raw(raw), int(generation or 0)


def _verified(installation: Installation | None, token: str) -> bool:
    if installation is None or installation.removed or not token:
        return False
    return hmac.compare_digest(installation.application_token.encode(), token.encode())


def _accept(deps: Deps, member_id: str, name: str, data: dict[str, Any], ts: str,
            generation: int = 0) -> ResponseReturnValue:
    """Coalesce or enqueue, in one round trip (:mod:`b24app.web.accept`). The pending marker counts the
    deliveries the queued job stands for (``handlers.events.Event.count``): an echo of the app's own write
    coalesced with a person's change is two, so the job reads the item."""
    digest = event_digest(member_id, name, data)
    queued = accept.accept(deps.redis, deps.queue(queues.EVENTS), digest, generation + 1,
                           (member_id, name, data, ts, pending_key(digest)))
    return jsonify(result="queued" if queued else "coalesced")


pending_key = accept.pending_key
