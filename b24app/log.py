"""Logging setup with secret redaction.

Every handler configured by :func:`setup_logging` carries a :class:`RedactingFilter` that replaces
known secret values (registered with :func:`register_secret`: access/refresh tokens, client secret,
webhook code, bot token) and secret-looking patterns (webhook paths, ``auth=``/``*_token=`` params)
with ``***`` before a record is written. Code should still never log secrets; this is the safety net.
"""

from __future__ import annotations

import logging
import re
import threading

MASK = "***"
_MIN_SECRET = 6

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


def setup_logging(level: str = "INFO") -> None:
    """Configure the root logger once: one stderr handler with redaction."""
    root = logging.getLogger()
    root.setLevel(level)
    if not any(isinstance(f, RedactingFilter) for h in root.handlers for f in h.filters):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
    for existing in root.handlers:
        if not any(isinstance(f, RedactingFilter) for f in existing.filters):
            existing.addFilter(RedactingFilter())
