"""``POST /b24/events``: receive a Bitrix24 event, verify, de-duplicate, enqueue, answer fast.

The form is decoded with PHP bracket keys; ``auth[member_id]`` must name a stored installation and
``auth[application_token]`` must equal its token (constant-time compare) — else 401 and nothing is
enqueued. A repeat of the same event (same portal, name, data and ``ts``) within a day is dropped.
``ONAPPUNINSTALL`` marks the installation removed; ``ONAPPINSTALL`` stores it.
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

from b24app import jobs, phpform
from b24app import queue as queues
from b24app.auth.install import InstallPayloadError, from_install_event
from b24app.deps import Deps
from b24app.web.app import get_deps
from b24app.web.install import store_installation

log = logging.getLogger(__name__)

bp = Blueprint("events", __name__)

DEDUP_TTL = 24 * 3600


@bp.post("/b24/events")
def receive() -> ResponseReturnValue:
    payload = phpform.decode(request.form.items(multi=True))
    name = str(payload.get("event", "")).upper()
    auth = _block(payload, "auth")
    member_id = str(auth.get("member_id") or "")
    deps = get_deps()
    if name == "ONAPPINSTALL":
        return _install(deps, payload)
    if not name or not _verified(deps, member_id, str(auth.get("application_token") or "")):
        return jsonify(error="unauthorized"), 401
    if name == "ONAPPUNINSTALL":
        deps.installations.mark_removed(member_id)
        log.info("uninstalled from %s", member_id)
        return jsonify(result="uninstalled")
    data = _block(payload, "data")
    ts = str(payload.get("ts") or "")
    return _accept(deps, member_id, name, data, ts)


def _block(payload: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = payload.get(key)
    return value if isinstance(value, dict) else {}


def event_digest(member_id: str, name: str, data: Mapping[str, Any], ts: str) -> str:
    """The identity of one delivered event: a hash of portal, name, data and timestamp."""
    body = json.dumps([member_id, name, data, ts], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(body.encode()).hexdigest()


def _verified(deps: Deps, member_id: str, token: str) -> bool:
    installation = deps.installations.find(member_id) if member_id else None
    if installation is None or installation.removed or not token:
        return False
    return hmac.compare_digest(installation.application_token.encode(), token.encode())


def _accept(deps: Deps, member_id: str, name: str, data: dict[str, Any], ts: str) -> ResponseReturnValue:
    digest = event_digest(member_id, name, data, ts)
    if not deps.redis.set(f"b24app:event:{digest}", str(time.time()), nx=True, ex=DEDUP_TTL):
        return jsonify(result="duplicate")
    queues.enqueue_once(
        deps.queue(queues.EVENTS),
        jobs.handle_event,
        member_id,
        name,
        data,
        ts,
        id=queues.job_id("event", digest),
        retry=queues.remote_retry(),
        job_timeout=queues.EVENT_JOB_TIMEOUT,
    )
    return jsonify(result="queued")


def _install(deps: Deps, payload: Mapping[str, Any]) -> ResponseReturnValue:
    try:
        installation = from_install_event(payload, time.time())
    except InstallPayloadError as exc:
        return jsonify(error="bad_install_request", description=str(exc)), 400
    if not store_installation(deps, installation):
        return jsonify(error="unauthorized"), 401
    return jsonify(result="installed")
