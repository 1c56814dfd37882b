"""Run the Flask app under gunicorn from ``b24app serve`` (threads, so REST waits do not block).

gunicorn's own error and access logs go through the root logger (:class:`RootLogger`), so they are
redacted and written in the ``B24APP_LOG_FORMAT`` of every other line."""

from __future__ import annotations

from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger


class RootLogger(Logger):  # type: ignore[misc]  # gunicorn ships no type hints
    """gunicorn's logger without handlers of its own: records propagate to the app's root handler."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in list(log.handlers):
                log.removeHandler(handler)
            log.propagate = True


class _Application(BaseApplication):  # type: ignore[misc]  # gunicorn ships no type information
    def __init__(self, app: Flask, options: dict[str, Any]) -> None:
        self._app = app
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return self._app


def run_gunicorn(app: Flask, *, bind: str, workers: int, threads: int = 8) -> None:
    options = {
        "bind": bind,
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread",
        "accesslog": "-",
        "logger_class": RootLogger,
        "timeout": 60,
    }
    _Application(app, options).run()
