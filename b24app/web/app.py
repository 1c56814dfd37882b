"""Flask application factory and blueprint registration.

Blueprints live one per module under ``b24app.web``. :data:`BLUEPRINTS` lists them; optional ones
(placements, telegram — added by later work) are registered when their module exists. A module either
defines ``init_app(app, deps)`` (called; it registers what it needs) or a blueprint ``bp``.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging

import redis
from flask import Flask, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from b24app.deps import Deps, set_current
from b24app.phpform import FormTooComplex, check
from b24app.settings import Settings, load_settings

log = logging.getLogger(__name__)

#: (module, required). Add a blueprint module here; it must define ``bp``.
BLUEPRINTS: list[tuple[str, bool]] = [
    ("b24app.web.health", True),
    ("b24app.web.install", True),
    ("b24app.web.events", True),
    ("b24app.web.placements", False),
    ("b24app.web.control", False),
    ("b24app.web.accounting", False),
    ("b24app.web.telegram", False),
]

_DEPS_KEY = "b24app.deps"
#: ``b24app.web.events.ENDPOINT`` (not imported: the blueprint modules import this one).
_EVENTS_ENDPOINT = "events.receive"


def create_app(settings: Settings | None = None, deps: Deps | None = None) -> Flask:
    """Build the web app from ``deps``, else ``settings``, else the environment."""
    if deps is None:
        deps = Deps(settings or load_settings())
    app = Flask("b24app")
    app.config["MAX_CONTENT_LENGTH"] = deps.settings.max_request_bytes
    app.config["MAX_FORM_MEMORY_SIZE"] = deps.settings.max_request_bytes
    app.extensions[_DEPS_KEY] = deps
    _load_secret_key(app)
    app.before_request(lambda: _load_secret_key(app))
    app.before_request(_route_limit)
    app.before_request(_bounded_form)
    set_current(deps)
    register_blueprints(app, deps)
    app.register_error_handler(FormTooComplex, _form_too_complex)
    app.register_error_handler(RequestEntityTooLarge, _too_large)
    app.register_error_handler(Exception, _unexpected)
    return app


def register_blueprints(app: Flask, deps: Deps) -> None:
    for module_name, required in BLUEPRINTS:
        if not required and importlib.util.find_spec(module_name) is None:
            continue
        module = importlib.import_module(module_name)
        init_app = getattr(module, "init_app", None)
        if callable(init_app):
            init_app(app, deps)
        elif hasattr(module, "bp"):
            app.register_blueprint(module.bp)
        elif required:
            raise RuntimeError(f"{module_name} defines neither init_app(app, deps) nor bp")
        else:
            log.debug("%s defines neither init_app(app, deps) nor bp; not registered", module_name)


def _load_secret_key(app: Flask) -> None:
    """``SECRET_KEY`` from the app secret (kept in Redis); while Redis is down the app still starts
    (``/healthz`` answers 503) and the key is loaded by the first request after Redis is back."""
    if app.config.get("SECRET_KEY"):
        return
    try:
        app.config["SECRET_KEY"] = app.extensions[_DEPS_KEY].app_secret
    except redis.RedisError as exc:
        log.warning("app secret key not loaded yet: Redis unavailable (%s)", type(exc).__name__)


#: ``app.config`` key: endpoint -> the largest body it takes, for the few routes that take files larger than
#: ``B24APP_MAX_REQUEST_BYTES`` (a bank statement); set by the blueprint that owns the endpoint.
ROUTE_LIMITS = "B24APP_ROUTE_LIMITS"


def _route_limit() -> None:
    limit = current_app.config.get(ROUTE_LIMITS, {}).get(request.endpoint)
    if limit:
        request.max_content_length = limit


def _bounded_form() -> None:
    """Every route: a form body (events, installs, widgets) past the key or depth limits of
    :mod:`b24app.phpform` is a 400 before any view runs (the body size is capped by MAX_CONTENT_LENGTH)."""
    if request.endpoint == _EVENTS_ENDPOINT:        # the event edge parses and checks its form itself
        return
    if request.method == "POST" and request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        check(request.form.items(multi=True))


def _form_too_complex(error: FormTooComplex) -> ResponseReturnValue:
    log.warning("refused %s %s from %s: %s", request.method, request.path, request.remote_addr, error)
    return jsonify(error="bad_request", description=str(error)), 400


def _too_large(error: RequestEntityTooLarge) -> ResponseReturnValue:
    log.warning("refused %s %s from %s: body over %d bytes", request.method, request.path, request.remote_addr,
                current_app.config["MAX_CONTENT_LENGTH"])
    return jsonify(error="request_too_large",
                   description=f"the body is larger than {current_app.config['MAX_CONTENT_LENGTH']} bytes"), 413


def get_deps() -> Deps:
    """The Deps of the running app (inside a request or app context)."""
    deps: Deps = current_app.extensions[_DEPS_KEY]
    return deps


def _unexpected(error: Exception) -> ResponseReturnValue:
    if isinstance(error, HTTPException):
        return error
    log.exception("unhandled error in %s", type(error).__name__)
    return jsonify(error="internal error"), 500
