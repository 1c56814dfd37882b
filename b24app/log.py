"""Logging setup: secret redaction, plain text or one JSON object per line, and per-job context.

Every handler configured by :func:`setup_logging` carries a :class:`RedactingFilter` that replaces
known secret values (registered with :func:`register_secret`: access/refresh tokens, client secret,
webhook code, bot token) and secret-looking patterns (webhook paths, ``auth=``/``*_token=`` params)
with ``***`` before a record is written. Code should still never log secrets; this is the safety net.

``B24APP_LOG_FORMAT=json`` writes each record as one JSON object per line (:class:`JsonFormatter`):
``time``, ``level``, ``logger``, ``message`` and, where known, ``member_id``, ``job_id``,
``item_id``, ``workflow`` and ``exc``. The context comes from :func:`log_context` (a decorator the job
entry points and the item pipeline carry), the running RQ job, or a record's ``extra``.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import json
import logging
import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

MASK = "***"
_MIN_SECRET = 6
CONTEXT_FIELDS = ("member_id", "job_id", "workflow", "item_id")
_OURS = "b24app_handler"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

_PATTERNS = [
    re.compile(r"(/rest/\d+/)[^/\s?#]+"),
    re.compile(
        r"((?:auth|access_token|refresh_token|client_secret|AUTH_ID|REFRESH_ID|application_token)"
        r"(?:%5D|\])?(?:=|\"\s*:\s*\"|'\s*:\s*'))[^&\s\"']+",
        re.IGNORECASE,
    ),
    re.compile(r"(/bot)\d+:[A-Za-z0-9_-]+"),
]

_secrets: set[str] = set()
_lock = threading.Lock()
_context: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar("b24app_log_context")
F = TypeVar("F", bound=Callable[..., Any])


def register_secret(*values: str | None) -> None:
    """Remember secret values so any log line containing them is masked."""
    with _lock:
        for value in values:
            if value and len(value) >= _MIN_SECRET:
                _secrets.add(value)


def redact(text: str) -> str:
    """Mask registered secrets and secret-looking patterns in ``text``."""
    with _lock:
        known = sorted(_secrets, key=len, reverse=True)
    for secret in known:
        if secret in text:
            text = text.replace(secret, MASK)
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + MASK, text)
    return text


def log_context(**fields: str) -> Callable[[F], F]:
    """Decorate an entry point so that log lines written during the call carry its arguments:
    ``@log_context(member_id="member_id", workflow="workflow_code", item_id="item_id")`` maps a log
    field to the name of a parameter. Inner calls add to (and override) the outer context; the
    context is restored when the call returns."""

    def decorate(func: F) -> F:
        signature = inspect.signature(func)

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            bound = signature.bind_partial(*args, **kwargs).arguments
            found = {name: bound[param] for name, param in fields.items() if bound.get(param) not in (None, "")}
            token = _context.set({**_context.get({}), **found})
            try:
                return func(*args, **kwargs)
            finally:
                _context.reset(token)

        return wrapper  # type: ignore[return-value]

    return decorate


def current_context() -> dict[str, Any]:
    """The context fields known right now: the decorated entry points' and the running RQ job's id."""
    known = dict(_context.get({}))
    if "job_id" not in known:
        from rq import get_current_job

        job = get_current_job()
        if job is not None:
            known["job_id"] = job.id
    return known


class RedactingFilter(logging.Filter):
    """Render the record's message once, redact it, and freeze it (args cleared)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line; every text in it redacted (again: safe without the filter too)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        context = current_context()
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, None)
            value = context.get(name) if value is None else value
            if value is not None:
                line[name] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exc"] = redact(record.exc_text)
        if record.stack_info:
            line["stack"] = redact(self.formatStack(record.stack_info))
        return json.dumps(line, ensure_ascii=False, default=str)


def setup_logging(level: str = "INFO", fmt: Literal["text", "json"] = "text") -> None:
    """Configure the root logger: one stderr handler of ours (text or JSON lines, set again on each
    call); every root handler redacts."""
    root = logging.getLogger()
    root.setLevel(level)
    ours = next((h for h in root.handlers if getattr(h, _OURS, False)), None)
    if ours is None:
        ours = logging.StreamHandler()
        setattr(ours, _OURS, True)
        root.addHandler(ours)
    ours.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    for existing in root.handlers:
        if not any(isinstance(f, RedactingFilter) for f in existing.filters):
            existing.addFilter(RedactingFilter())
