"""``POST /b24/install``: the local app's install callback.

Accepts the install page's frame-open POST (answers the page that calls ``BX24.installFinish()``) and
the ``ONAPPINSTALL`` event form (answers JSON). The posted tokens are proved with the OAuth server
before anything is stored (:mod:`b24app.auth.accept`); then the ``after_install`` job that re-binds
events and widgets is enqueued. A refused install answers 401 (400 in webhook mode) and stores nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, jsonify, render_template, request
from flask.typing import ResponseReturnValue

from b24app import phpform
from b24app.auth.accept import accept_install
from b24app.auth.install import InstallPayloadError, InstallRefused, from_frame_post, from_install_event
from b24app.deps import Deps
from b24app.web.app import get_deps

log = logging.getLogger(__name__)

bp = Blueprint("install", __name__, template_folder="templates")


@bp.post("/b24/install")
def install() -> ResponseReturnValue:
    payload = phpform.decode(request.form.items(multi=True))
    event = payload.get("event")
    if isinstance(event, str) and event.upper() == "ONAPPINSTALL":
        return install_event(get_deps(), payload)
    try:
        claim = from_frame_post(payload, request.args, time.time())
        accept_install(get_deps(), claim)
    except InstallPayloadError as exc:
        return jsonify(error="bad_install_request", description=str(exc)), 400
    except InstallRefused as exc:
        return jsonify(error=exc.error, description=exc.reason), exc.status
    return render_template("install_finish.html")


def install_event(deps: Deps, payload: Mapping[str, Any]) -> ResponseReturnValue:
    """An ``ONAPPINSTALL`` form (posted here or to ``/b24/events``): prove, store, answer JSON."""
    try:
        stored = accept_install(deps, from_install_event(payload, time.time()))
    except InstallPayloadError as exc:
        return jsonify(error="bad_install_request", description=str(exc)), 400
    except InstallRefused as exc:
        return jsonify(error=exc.error, description=exc.reason), exc.status
    if stored is None:
        return jsonify(result="pending", description="held until B24APP_CLIENT_ID/B24APP_CLIENT_SECRET are set"), 202
    return jsonify(result="installed")
