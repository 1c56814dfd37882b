"""What Bitrix24 posts on installation, as a *claim*, and the installation the OAuth server proves.

Two shapes arrive (REFERENCE §2.3–2.5):

* the frame-open POST of the install page: ``AUTH_ID``, ``REFRESH_ID``, ``AUTH_EXPIRES``, ``member_id``,
  ``APPLICATION_TOKEN``, ``APPLICATION_SCOPE``, ``SERVER_ENDPOINT`` in the body and ``DOMAIN``,
  ``PROTOCOL`` in the query string;
* the ``ONAPPINSTALL`` event: ``event``, ``data[...]``, ``auth[access_token]``, ``auth[member_id]``, …

Nothing in either is trusted: :func:`from_frame_post` / :func:`from_install_event` only read the claim
(an :class:`Installation` never stored as such), and :func:`verified` builds the installation to store
from the OAuth server's answer to refreshing the posted refresh token (``b24app.auth.accept``).
"""

from __future__ import annotations

import hmac
import math
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from b24app.auth.store import Installation

#: Bounds for an ``expires_in`` we believe (seconds); anything else counts as one hour.
_MAX_EXPIRES_IN = 86400.0


class InstallPayloadError(ValueError):
    """The install POST lacks required fields; the message lists them (never their values)."""


class InstallRefused(Exception):
    """The install is not accepted; ``reason`` is safe to show (it never holds a token)."""

    def __init__(self, reason: str, status: int = 401, error: str = "install_refused") -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.error = error


def from_frame_post(form: Mapping[str, Any], query: Mapping[str, Any], now: float) -> Installation:
    """The claim of the install page's POST (body ``form``, query string ``query``)."""
    domain = _text(query.get("DOMAIN")) or _text(form.get("DOMAIN"))
    protocol = "http" if _text(query.get("PROTOCOL")) == "0" else "https"
    values = {name: _text(form.get(name)) for name in ("member_id", "AUTH_ID", "REFRESH_ID", "APPLICATION_TOKEN")}
    _require(values)
    return Installation(
        member_id=values["member_id"],
        domain=domain,
        client_endpoint=f"{protocol}://{domain}/rest/" if domain else "",
        access_token=values["AUTH_ID"],
        refresh_token=values["REFRESH_ID"],
        expires_at=now + _seconds(form.get("AUTH_EXPIRES")),
        application_token=values["APPLICATION_TOKEN"],
        scopes=_scopes(form.get("APPLICATION_SCOPE")),
        installed_at=now,
        server_endpoint=_text(form.get("SERVER_ENDPOINT")),
    )


def from_install_event(payload: Mapping[str, Any], now: float) -> Installation:
    """The claim of a decoded ``ONAPPINSTALL`` event form."""
    auth = payload.get("auth")
    auth = auth if isinstance(auth, Mapping) else {}
    values = {k: _text(auth.get(k)) for k in _EVENT_REQUIRED}
    _require({f"auth[{k}]": v for k, v in values.items()})
    return Installation(
        member_id=values["member_id"],
        domain=values["domain"],
        client_endpoint=_text(auth.get("client_endpoint")),
        access_token=values["access_token"],
        refresh_token=values["refresh_token"],
        expires_at=now + _seconds(auth.get("expires_in")),
        application_token=values["application_token"],
        scopes=_scopes(auth.get("scope")),
        installed_at=now,
        server_endpoint=_text(auth.get("server_endpoint")),
        user_id=_text(auth.get("user_id")),
    )


def verified(claim: Installation, answer: Mapping[str, Any], now: float) -> Installation:
    """The installation to store: portal, endpoint, scopes and the fresh token pair from the OAuth
    server's ``answer`` to refreshing the claim's refresh token; only ``application_token`` (which the
    OAuth server does not return) comes from the claim. InstallRefused when the answer is for another
    portal or lacks what we need."""
    member_id = _text(answer.get("member_id"))
    if not member_id or not hmac.compare_digest(member_id.encode(), claim.member_id.encode()):
        raise InstallRefused("the tokens belong to another portal than the posted member_id")
    endpoint = _text(answer.get("client_endpoint"))
    parts = urlsplit(endpoint)
    access, refresh = _text(answer.get("access_token")), _text(answer.get("refresh_token"))
    if parts.scheme not in ("http", "https") or not parts.netloc or not access or not refresh:
        raise InstallRefused("the OAuth server's answer lacks client_endpoint or tokens", status=502,
                             error="oauth_server_answer")
    return Installation(
        member_id=member_id,
        domain=parts.netloc,
        client_endpoint=endpoint,
        access_token=access,
        refresh_token=refresh,
        expires_at=now + _seconds(answer.get("expires_in")),
        application_token=claim.application_token,
        scopes=_scopes(answer.get("scope")),
        installed_at=now,
        server_endpoint=_text(answer.get("server_endpoint")),
        user_id=_text(answer.get("user_id")),
    )


_EVENT_REQUIRED = ("member_id", "domain", "access_token", "refresh_token", "application_token")


def _text(value: Any) -> str:
    """A form value as text; anything but a string or a number (a nested ``a[b]`` block) is empty."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return ""
    return str(value).strip()


def _require(values: Mapping[str, str]) -> None:
    missing = [name for name, value in values.items() if not value]
    if missing:
        raise InstallPayloadError("missing or malformed install fields: " + ", ".join(missing))


def _seconds(value: Any) -> float:
    try:
        seconds = float(_text(value))
    except ValueError:
        return 3600.0
    return seconds if math.isfinite(seconds) and 0 < seconds <= _MAX_EXPIRES_IN else 3600.0


def _scopes(value: Any) -> tuple[str, ...]:
    text = _text(value).replace(" ", ",")
    return tuple(s for s in (p.strip() for p in text.split(",")) if s)
