"""Turn what Bitrix24 posts on installation into an :class:`Installation`.

Two shapes arrive (REFERENCE §2.3–2.5):

* the frame-open POST of the install page: ``AUTH_ID``, ``REFRESH_ID``, ``AUTH_EXPIRES``, ``member_id``,
  ``APPLICATION_TOKEN``, ``APPLICATION_SCOPE``, ``SERVER_ENDPOINT`` in the body and ``DOMAIN``,
  ``PROTOCOL`` in the query string;
* the ``ONAPPINSTALL`` event: ``event``, ``data[...]``, ``auth[access_token]``, ``auth[member_id]``, …
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Any

from b24app.auth.store import Installation


class InstallPayloadError(ValueError):
    """The install POST lacks required fields; the message lists them (never their values)."""


def from_frame_post(form: Mapping[str, Any], query: Mapping[str, Any], now: float) -> Installation:
    """The install page's POST (body ``form``, query string ``query``)."""
    domain = str(query.get("DOMAIN") or form.get("DOMAIN") or "")
    protocol = "http" if str(query.get("PROTOCOL", "1")) == "0" else "https"
    values = {
        "member_id": form.get("member_id"),
        "DOMAIN": domain,
        "AUTH_ID": form.get("AUTH_ID"),
        "REFRESH_ID": form.get("REFRESH_ID"),
        "APPLICATION_TOKEN": form.get("APPLICATION_TOKEN"),
    }
    _require(values)
    return Installation(
        member_id=str(values["member_id"]),
        domain=domain,
        client_endpoint=f"{protocol}://{domain}/rest/",
        access_token=str(values["AUTH_ID"]),
        refresh_token=str(values["REFRESH_ID"]),
        expires_at=now + _seconds(form.get("AUTH_EXPIRES")),
        application_token=str(values["APPLICATION_TOKEN"]),
        scopes=_scopes(form.get("APPLICATION_SCOPE")),
        installed_at=now,
        server_endpoint=str(form.get("SERVER_ENDPOINT") or ""),
    )


def from_install_event(payload: Mapping[str, Any], now: float) -> Installation:
    """The decoded ``ONAPPINSTALL`` event form."""
    auth = payload.get("auth")
    auth = auth if isinstance(auth, Mapping) else {}
    _require({f"auth[{k}]": auth.get(k) for k in _EVENT_REQUIRED})
    domain = str(auth["domain"])
    return Installation(
        member_id=str(auth["member_id"]),
        domain=domain,
        client_endpoint=str(auth.get("client_endpoint") or f"https://{domain}/rest/"),
        access_token=str(auth["access_token"]),
        refresh_token=str(auth["refresh_token"]),
        expires_at=now + _seconds(auth.get("expires_in")),
        application_token=str(auth["application_token"]),
        scopes=_scopes(auth.get("scope")),
        installed_at=now,
        server_endpoint=str(auth.get("server_endpoint") or ""),
        user_id=str(auth.get("user_id") or ""),
    )


def may_replace(existing: Installation | None, new: Installation) -> bool:
    """An active installation may only be replaced by a POST carrying its ``application_token``.

    Otherwise anyone who knows a member_id could overwrite the tokens and the secret events are checked
    with. A removed installation (after ``ONAPPUNINSTALL``) can be replaced freely.
    """
    if existing is None or existing.removed:
        return True
    return hmac.compare_digest(existing.application_token.encode(), new.application_token.encode())


_EVENT_REQUIRED = ("member_id", "domain", "access_token", "refresh_token", "application_token")


def _require(values: Mapping[str, Any]) -> None:
    missing = [name for name, value in values.items() if not value]
    if missing:
        raise InstallPayloadError("missing install fields: " + ", ".join(missing))


def _seconds(value: Any) -> float:
    try:
        return float(value) if value not in (None, "") else 3600.0
    except (TypeError, ValueError):
        return 3600.0


def _scopes(value: Any) -> tuple[str, ...]:
    text = str(value or "").replace(" ", ",")
    return tuple(s for s in (p.strip() for p in text.split(",")) if s)
