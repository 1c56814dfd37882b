"""One exception hierarchy for the app.

Every error carries the context needed to act on it (method, HTTP status, Bitrix24 error code and
description, member_id) and never a token, refresh token, client secret or webhook code: messages are
built only from those fields.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


class B24AppError(Exception):
    """Base of every error this app raises on purpose."""


class SettingsError(B24AppError):
    """Configuration is wrong; ``problems`` lists every one, each naming its variable."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = list(problems)
        super().__init__("invalid settings:\n" + "\n".join(f"  {p}" for p in self.problems))


TLS_HINT = ("the server's certificate is not trusted: set REQUESTS_CA_BUNDLE to the CA bundle that signed it "
            "(a PEM file; the sandbox prints its path as «CA bundle»)")


def with_tls_hint(message: str) -> str:
    """``message``, followed by which CA variable to set when it is a TLS verification failure."""
    if any(mark in message for mark in ("SSLError", "CERTIFICATE_VERIFY_FAILED", "certificate verify failed")):
        return f"{message} — {TLS_HINT}"
    return message


class PortalNotConfigured(B24AppError):
    """No way to reach a portal: neither a webhook URL nor an installed local app."""


class InstallationNotFound(B24AppError):
    """No stored installation for this ``member_id`` (or it was uninstalled)."""

    def __init__(self, member_id: str) -> None:
        self.member_id = member_id
        super().__init__(f"no active installation for member_id {member_id!r}")


class RestError(B24AppError):
    """A Bitrix24 REST call failed.

    ``status`` is the HTTP status (0 when no response arrived), ``code`` the ``error`` field (may be
    empty or numeric-as-string on a real portal), ``description`` the ``error_description``.
    """

    def __init__(self, method: str, status: int, code: str = "", description: str = "") -> None:
        self.method = method
        self.status = status
        self.code = code
        self.description = description
        super().__init__(f"{method}: HTTP {status} {code or '-'}: {description}".rstrip(": "))


class TransportError(RestError):
    """No usable HTTP answer: connection refused, TLS failure, timeout, non-JSON body."""


class RateLimited(RestError):
    """HTTP 503 ``QUERY_LIMIT_EXCEEDED`` (or another 503) still failing after the backoff retries."""


class OperationTimeLimit(RestError):
    """HTTP 429 ``OPERATION_TIME_LIMIT``: the method is blocked until ``reset_at`` (unix time)."""

    def __init__(self, method: str, status: int, code: str, description: str, reset_at: float) -> None:
        super().__init__(method, status, code, description)
        self.reset_at = reset_at


class AuthError(RestError):
    """401/403 the client cannot fix by itself: wrong auth, insufficient scope, revoked app."""


class TokenExpired(AuthError):
    """401 ``expired_token`` that could not be cured by one refresh."""


class InsufficientScope(AuthError):
    """403 ``insufficient_scope``: the app or webhook lacks a permission."""


class OAuthError(B24AppError):
    """The OAuth server refused to refresh tokens (``invalid_grant`` means re-install the app)."""

    def __init__(self, status: int, code: str, description: str = "") -> None:
        self.status = status
        self.code = code
        self.description = description
        super().__init__(f"token refresh failed: HTTP {status} {code}: {description}".rstrip(": "))


#: The HTTP status a batch command's error code stands for (a batch answers 200 as a whole, so its commands'
#: errors carry no status of their own); any other code is a 400.
_COMMAND_STATUS = {"EXPIRED_TOKEN": 401, "INVALID_TOKEN": 401, "NO_AUTH_FOUND": 401, "WRONG_AUTH_TYPE": 401,
                   "INSUFFICIENT_SCOPE": 403, "ACCESS_DENIED": 403, "QUERY_LIMIT_EXCEEDED": 503}


def batch_command_error(method: str, raw: Mapping[str, Any]) -> RestError:
    """One failed batch command (``result_error[key]``) as the error its code calls for."""
    code, description = str(raw.get("error", "")), str(raw.get("error_description", ""))
    status = _COMMAND_STATUS.get(code.upper(), 400)
    return rest_error_class(status, code)(method, status, code, description)


def rest_error_class(status: int, code: str) -> type[RestError]:
    """Pick the most specific RestError subclass for an HTTP status and ``error`` code."""
    upper = code.upper()
    if upper == "EXPIRED_TOKEN":
        return TokenExpired
    if upper == "INSUFFICIENT_SCOPE":
        return InsufficientScope
    if status == 503:
        return RateLimited
    if status in (401, 403) or upper in ("NO_AUTH_FOUND", "INVALID_TOKEN", "WRONG_AUTH_TYPE"):
        return AuthError
    return RestError
