"""``POST /b24/install``: the local app's install callback.

Accepts the install page's frame-open POST (answers the page that calls ``BX24.installFinish()``) and
the ``ONAPPINSTALL`` event form (answers JSON). Stores the installation, then enqueues the
``after_install`` job that re-binds events and widgets.
"""

from __future__ import annotations

import logging
import time

from flask import Blueprint, jsonify, render_template, request
from flask.typing import ResponseReturnValue

from b24app import jobs, phpform
from b24app import queue as queues
from b24app.auth.install import InstallPayloadError, from_frame_post, from_install_event, may_replace
from b24app.auth.store import Installation
from b24app.deps import Deps
from b24app.web.app import get_deps

log = logging.getLogger(__name__)

bp = Blueprint("install", __name__, template_folder="templates")


@bp.post("/b24/install")
def install() -> ResponseReturnValue:
    payload = phpform.decode(request.form.items(multi=True))
    is_event = str(payload.get("event", "")).upper() == "ONAPPINSTALL"
    try:
        if is_event:
            installation = from_install_event(payload, time.time())
        else:
            installation = from_frame_post(payload, request.args, time.time())
    except InstallPayloadError as exc:
        return jsonify(error="bad_install_request", description=str(exc)), 400
    if not store_installation(get_deps(), installation):
        return jsonify(error="forbidden", description="application_token does not match this portal"), 401
    if is_event:
        return jsonify(result="installed")
    return render_template("install_finish.html")


def store_installation(deps: Deps, installation: Installation) -> bool:
    """Store (unless it would hijack an active installation) and enqueue the install hooks."""
    store = deps.installations
    if not may_replace(store.find(installation.member_id), installation):
        log.warning("refused install for %s: application_token mismatch", installation.member_id)
        return False
    store.save(installation)
    job = queues.job_id("install", installation.member_id, installation.application_token)
    queues.enqueue_once(
        deps.queue(queues.DEFAULT),
        jobs.after_install,
        installation.member_id,
        id=job,
        retry=queues.remote_retry(),
    )
    log.info("installed on %s (%s)", installation.domain, installation.member_id)
    return True
