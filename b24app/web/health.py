"""``GET /healthz``: 200 when Redis answers, 503 otherwise."""

from __future__ import annotations

import redis
from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

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
