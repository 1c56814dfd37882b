"""``POST /b24/events``: receive a Bitrix24 event, verify, de-duplicate, enqueue, answer fast.

The form is decoded with PHP bracket keys; ``auth[member_id]`` must name a stored installation and
``auth[application_token]`` must equal its token (their SHA-1 digests compared inside the one Lua script
of :mod:`b24app.web.accept`, which also coalesces and enqueues: one Redis round trip) — else 401 and
nothing is stored. Events are *coalesced*, not de-duplicated forever: while a job for the same portal, event
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
from urllib.parse import parse_qsl

from flask import Blueprint, Response, jsonify, request
from flask.typing import ResponseReturnValue
from rq import Queue

from b24app import phpform
from b24app import queue as queues
from b24app.auth.lifecycle import request_uninstall_check, tokens_lost
from b24app.deps import Deps
from b24app.log import register_secret
from b24app.web import accept
from b24app.web.app import get_deps
from b24app.web.install import install_event

log = logging.getLogger(__name__)

bp = Blueprint("events", __name__)

#: How long a "job pending" marker may outlive a job that never started (a lost queue, say).
PENDING_TTL = accept.PENDING_TTL


@bp.post("/b24/events")
def receive() -> ResponseReturnValue:
    payload = _form()
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
    if not name or not member_id or name == "ONAPPUNINSTALL":
        return _checked_apart(deps, name, member_id, token)
    data = _block(payload, "data")
    ts = _text(payload.get("ts")) or ""
    digest = event_digest(member_id, name, data)
    outcome, _ = _event_jobs(deps).accept(deps.installations.key(member_id), token, digest,
                                          (member_id, name, data, ts, pending_key(digest)))
    if outcome == accept.QUEUED or outcome == accept.COALESCED:
        register_secret(token)                      # the installation's token: masked in any log line
        return _answer(_QUEUED if outcome == accept.QUEUED else _COALESCED)
    if outcome == accept.NO_INSTALLATION:
        tokens_lost(deps, member_id)
    return _unauthorized()


def _checked_apart(deps: Deps, name: str, member_id: str,
                   token: str) -> ResponseReturnValue:
    """An event that is not accepted as a job of its own (no name, no member id, ``ONAPPUNINSTALL``):
    the installation is read and the token compared here."""
    stored = _look_up(deps, member_id)
    if not name or not _verified(stored, token):
        if member_id and stored is None:
            tokens_lost(deps, member_id)
        return _unauthorized()
    # The application_token is the only check the event allows (REFERENCE §2.5, §3.3) and every
    # widget user has it: the portal itself is asked, with the app's own tokens, by a job.
    queued = request_uninstall_check(deps, member_id)
    log.info("ONAPPUNINSTALL from %s: %s", member_id, "checking with the portal" if queued else "check queued")
    return jsonify(result="checking")


def _unauthorized() -> ResponseReturnValue:
    return jsonify(error="unauthorized"), 401


#: The endpoint of :func:`receive` (``b24app.web.app`` leaves its form to it).
ENDPOINT = "events.receive"


def _form() -> dict[str, Any]:
    """The event's form, decoded with PHP bracket keys under :func:`phpform.check`'s limits. A urlencoded
    body is parsed here as werkzeug parses a form (UTF-8, undecodable escapes kept as ``%XX``, a body
    that is no UTF-8 is an empty form; the body size capped by ``MAX_CONTENT_LENGTH``) without building
    werkzeug's ``MultiDict``; any other body through ``request.form``."""
    if request.mimetype != "application/x-www-form-urlencoded":
        return phpform.decode(request.form.items(multi=True))
    try:
        text = request.get_data().decode()
    except UnicodeDecodeError:
        return {}
    return phpform.decode(parse_qsl(text, keep_blank_values=True, errors="werkzeug.url_quote"))


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


#: The installation's fields the edge needs (not the whole hash: fewer bytes to parse per event).
_CHECKED = ("member_id", "application_token", "removed")


def _look_up(deps: Deps, member_id: str) -> tuple[str, bool] | None:
    """(application token, removed) of the stored installation; None: none stored."""
    if not member_id:
        return None
    stored_id, app_token, removed = deps.redis.hmget(deps.installations.key(member_id), _CHECKED)
    if stored_id is None:
        return None
    app_token = app_token.decode() if isinstance(app_token, bytes) else str(app_token or "")
    register_secret(app_token)                      # masked in any log line, as a full read does
    return app_token, removed in (b"1", "1")


def _verified(stored: tuple[str, bool] | None, token: str) -> bool:
    if stored is None or stored[1] or not token or not stored[0]:
        return False
    return hmac.compare_digest(stored[0].encode(), token.encode())


#: The two answers of an accepted event, encoded once (what ``jsonify(result=...)`` sends).
_QUEUED, _COALESCED = b'{"result":"queued"}\n', b'{"result":"coalesced"}\n'


def _answer(body: bytes) -> Response:
    return Response(body, mimetype="application/json")


pending_key = accept.pending_key

_queues: dict[int, Queue] = {}


def _event_jobs(deps: Deps) -> accept.EventJobs:
    """The events queue's job builder for ``deps``' Redis, built once per process (RQ resolves its
    serializer per ``Queue`` build; the template job and the script are made once)."""
    found = _queues.get(id(deps.redis))
    if found is None or found.connection is not deps.redis:
        found = _queues[id(deps.redis)] = deps.queue(queues.EVENTS)
    return accept.event_jobs(deps.redis, found)
