"""``GET /healthz`` (liveness: 200 when Redis answers, 503 otherwise) and ``GET /healthz/ready``.

Readiness says whether the app can do its work, with the reason when it cannot (503):

* Redis is unreachable (it holds the tokens, the queues and every marker);
* there is no active installation (OAuth mode: nothing to act on; after a Redis loss every event is refused);
* a portal refused the app's tokens for good without having announced an uninstall
  (:func:`b24app.auth.lifecycle.refused_portals`) — cleared by a proved administrator install.
"""

from __future__ import annotations

import redis
from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from b24app.auth.lifecycle import refused_portals
from b24app.errors import SettingsError
from b24app.web.app import get_deps

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    try:
        get_deps().redis.ping()
    except (redis.RedisError, OSError, SettingsError) as exc:
        return jsonify(status="unavailable", redis=type(exc).__name__), 503
    return jsonify(status="ok", redis="ok"), 200


@bp.get("/healthz/ready")
def ready() -> ResponseReturnValue:
    deps = get_deps()
    try:
        deps.redis.ping()
        active = deps.installations.active()
        refused = refused_portals(deps)
    except (redis.RedisError, OSError, SettingsError) as exc:
        return _not_ready(f"Redis is unreachable ({type(exc).__name__})")
    if refused:
        names = ", ".join(f"{member} ({reason})" for member, reason in refused)
        return _not_ready(f"portal(s) refuse the app's tokens for good: {names}; an administrator of each opens "
                          "the app again")
    if not active and deps.settings.webhook_url is None:
        return _not_ready("no active installation: an administrator of the portal opens the app to install it "
                          "(after a Redis loss, to re-install it)")
    return jsonify(status="ready", portals=len(active)), 200


def _not_ready(reason: str) -> ResponseReturnValue:
    return jsonify(status="not_ready", reason=reason), 503
