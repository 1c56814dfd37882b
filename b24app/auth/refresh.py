"""OAuth token refresh under a Redis lock, so two processes never spend the same refresh token.

Bitrix24 rotates the refresh token on every refresh: if two workers refreshed the same pair at once,
the loser would hold a dead refresh token. :meth:`TokenRefresher.refresh` takes a per-portal Redis lock,
re-reads the stored pair, and only talks to the OAuth server when the stored access token is still the
one that expired; otherwise another process already refreshed and the stored pair is returned.

Each portal is refreshed with the client id and secret (and OAuth server) it was proved with
(:mod:`b24app.auth.credentials`). An answer of ``invalid_grant`` or ``invalid_client`` means the portal
refuses the app's tokens for good (the app was uninstalled, or its tokens were lost or rolled back):
``on_refused(member_id, code)`` is told (``b24app.auth.lifecycle.portal_refused``) before the error is raised.

The refresh answer is also the proof of where the portal lives: it carries ``client_endpoint``
(REFERENCE §2.2), which is stored with the new pair. When a portal redirects to a new domain
(``refresh(..., moved_to=host)``), a refresh is made unless the stored endpoint is already there, and
the caller follows the redirect only if the proved endpoint names that host.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import redis
import requests

from b24app import keys
from b24app.auth.credentials import AppPair, PortalCredentials
from b24app.auth.store import Installation, InstallationStore
from b24app.errors import OAuthError
from b24app.log import register_secret

log = logging.getLogger(__name__)

#: OAuth answers that no retry will change: the portal no longer accepts this app's refresh token.
REFUSED_FOR_GOOD = frozenset({"invalid_grant", "invalid_client"})


class TokenRefresher:
    """Refreshes one app's tokens on any of its portals."""

    def __init__(
        self,
        conn: redis.Redis,
        store: InstallationStore,
        credentials: PortalCredentials,
        *,
        timeout: float = 30.0,
        on_refused: Callable[[str, str], None] | None = None,
    ) -> None:
        self._redis = conn
        self._store = store
        self._credentials = credentials
        self._timeout = timeout
        self._on_refused = on_refused

    def refresh(self, member_id: str, stale_access_token: str, moved_to: str = "") -> Installation:
        """Return an installation whose access token is newer than ``stale_access_token``.

        With ``moved_to`` (a redirect's ``host[:port]``), the stored endpoint is re-proved by a refresh
        unless it already points there (another process proved the move first).
        """
        lock = self._redis.lock(
            keys.refresh_lock(member_id), timeout=self._timeout + 5, blocking_timeout=self._timeout + 10
        )
        if not lock.acquire():
            raise OAuthError(0, "lock_timeout", f"refresh lock for {member_id} not acquired")
        try:
            current = self._store.get(member_id)
            if moved_to and current.rest_host.lower() == moved_to.lower():
                return current
            if current.access_token != stale_access_token and not moved_to:
                log.info("tokens for %s already refreshed by another process", member_id)
                return current
            return self._refresh(current)
        finally:
            lock.release()

    def refresh_count(self, member_id: str) -> int:
        """How many times tokens of this portal were refreshed (across processes)."""
        return int(self._redis.get(keys.refresh_count(member_id)) or 0)

    def exchange(self, refresh_token: str, pair: AppPair) -> dict[str, Any]:
        """Spend ``refresh_token`` once at ``pair``'s OAuth server; its answer (REFERENCE §2.2) or OAuthError.

        Only a genuine refresh token issued to *this* app (that client id and secret) succeeds, which is
        how an install POST is proved (``b24app.auth.accept``). The caller must store the new pair.
        """
        answer = self._request(refresh_token, pair)
        register_secret(str(answer["access_token"]), str(answer["refresh_token"]))
        return answer

    def _refresh(self, current: Installation) -> Installation:
        pair = self._credentials.for_installation(current)
        if pair is None:
            raise OAuthError(0, "no_credentials", f"no client id and secret for {current.domain}: set "
                             "B24APP_CLIENT_ID/SECRET or run `b24app portal add`")
        try:
            answer = self._request(current.refresh_token, pair)
        except OAuthError as exc:
            if exc.code in REFUSED_FOR_GOOD and self._on_refused is not None:
                self._on_refused(current.member_id, exc.code)
            raise
        access, refresh = str(answer["access_token"]), str(answer["refresh_token"])
        register_secret(access, refresh)
        expires_at = time.time() + float(answer.get("expires_in") or 3600)
        endpoint = _endpoint(answer.get("client_endpoint")) or current.client_endpoint
        self._store.update_tokens(current.member_id, access, refresh, expires_at, client_endpoint=endpoint)
        self._redis.incr(keys.refresh_count(current.member_id))
        log.info("refreshed OAuth tokens for %s", current.member_id)
        updated = current.with_tokens(access, refresh, expires_at)
        if endpoint != current.client_endpoint:
            log.warning("portal %s moved: REST endpoint %s -> %s", current.member_id, current.rest_host,
                        urlsplit(endpoint).netloc)
            updated = updated.with_endpoint(endpoint)
        return updated

    def _request(self, refresh_token: str, pair: AppPair) -> dict[str, Any]:
        params = {
            "grant_type": "refresh_token",
            "client_id": pair.client_id,
            "client_secret": pair.client_secret,
            "refresh_token": refresh_token,
        }
        try:
            response = requests.get(pair.token_url, params=params, timeout=self._timeout)
        except requests.RequestException as exc:
            raise OAuthError(0, "transport", type(exc).__name__) from None
        try:
            body = response.json()
        except ValueError:
            raise OAuthError(response.status_code, "invalid_response", "not JSON") from None
        if response.status_code != 200 or "error" in body or "access_token" not in body:
            code = str(body.get("error") or "invalid_response")
            raise OAuthError(response.status_code, code, str(body.get("error_description") or ""))
        return dict(body)


def _endpoint(value: Any) -> str:
    """An HTTPS ``client_endpoint`` from an OAuth answer, else ""."""
    text = str(value or "")
    parts = urlsplit(text)
    return text if parts.scheme == "https" and parts.netloc else ""
