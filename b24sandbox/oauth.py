"""Who may call the sandbox portal: the local app, its OAuth tokens, and incoming webhooks.

The sandbox plays both the portal and the OAuth server (``oauth.bitrix.info`` on a real portal):
``/oauth/token/`` on the same host answers ``grant_type=refresh_token`` (REFERENCE §2.2). Access tokens
live one hour of *sandbox* time, refresh tokens 180 days, and each refresh rotates the refresh token.
All data lives in the ``oauth`` area of :class:`PortalState`, so other sandbox modules reach it
through :func:`installed_app` and :func:`issue_user_tokens`.
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass, field
from typing import Any

from b24sandbox.registry import RestError
from b24sandbox.state import PortalState

ACCESS_TTL = 3600
REFRESH_TTL = 180 * 24 * 3600
APP_STATUS = "L"  # local app (REFERENCE §2.4: L/F/D/T/P)
DEFAULT_SCOPES = ("crm", "task", "user", "department", "im", "placement", "disk", "userfieldconfig")
ALL_SCOPES = frozenset({*DEFAULT_SCOPES, "basic", "entity", "bizproc", "user_basic", "user_brief", "tasks"})

_ALNUM = string.ascii_lowercase + string.digits


def random_token(length: int = 32) -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(length))


@dataclass
class InstalledApp:
    client_id: str
    client_secret: str
    application_token: str
    scopes: list[str]
    installed: bool
    handler_url: str
    install_url: str | None
    mode: str = "ui"
    app_id: int = 1
    version: int = 1


@dataclass
class Token:
    access_token: str
    client_id: str
    user_id: int
    expires: float
    scopes: tuple[str, ...]


@dataclass
class RefreshGrant:
    client_id: str
    user_id: int
    expires: float
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class Webhook:
    user_id: int
    code: str
    scopes: frozenset[str] | None  # None: every scope


@dataclass(frozen=True)
class Principal:
    """The authenticated caller of one request."""

    user_id: int
    kind: str  # "webhook" | "oauth"
    client_id: str | None
    scopes: frozenset[str]
    token: str | None = None  # the OAuth access token of the request (file links embed it, §6.5)


@dataclass
class Endpoints:
    client_endpoint: str = "https://127.0.0.1/rest/"
    server_endpoint: str = "https://127.0.0.1/oauth/rest/"
    oauth_domain: str = "127.0.0.1"


@dataclass
class OAuthStore:
    app: InstalledApp | None = None
    tokens: dict[str, Token] = field(default_factory=dict)
    refresh: dict[str, RefreshGrant] = field(default_factory=dict)
    webhooks: dict[tuple[int, str], Webhook] = field(default_factory=dict)
    endpoints: Endpoints = field(default_factory=Endpoints)
    refresh_count: int = 0
    apps_created: int = 0
    profile: str = "standard"  # the portal's plan, for app.info LICENSE_* values


def store(state: PortalState) -> OAuthStore:
    return state.area("oauth", OAuthStore)


def installed_app(state: PortalState) -> InstalledApp | None:
    """The local app registered on this portal (installed or still in its install wizard)."""
    return store(state).app


# --- apps and tokens ---------------------------------------------------------------------------


def register_app(state: PortalState, handler_url: str, install_url: str | None, scopes: list[str], mode: str) -> InstalledApp:
    """Create the local app record (a re-install replaces the previous app, as an update would)."""
    oauth = store(state)
    oauth.apps_created += 1
    revoke_all(state)
    oauth.app = InstalledApp(
        client_id=f"local.{secrets.token_hex(7)}.{secrets.randbelow(10**8):08d}",
        client_secret=secrets.token_urlsafe(37)[:50],
        application_token=secrets.token_hex(16),
        scopes=list(scopes),
        installed=False,
        handler_url=handler_url,
        install_url=install_url,
        mode=mode,
        app_id=oauth.apps_created,
    )
    return oauth.app


def issue_user_tokens(state: PortalState, user_id: int) -> dict[str, Any]:
    """Fresh, valid tokens of the installed app for ``user_id`` (the shape of a refresh answer)."""
    oauth = store(state)
    app = oauth.app
    if app is None:
        raise RuntimeError("no app is installed on the sandbox portal")
    if user_id not in state.users:
        raise KeyError(f"no user {user_id} in the sandbox organisation")
    now = state.clock.timestamp()
    _purge(oauth, now)
    scopes = tuple(app.scopes)
    token = Token(random_token(), app.client_id, user_id, now + ACCESS_TTL, scopes)
    refresh = random_token()
    oauth.tokens[token.access_token] = token
    oauth.refresh[refresh] = RefreshGrant(app.client_id, user_id, now + REFRESH_TTL, scopes)
    return _token_answer(state, token, refresh)


def _purge(oauth: OAuthStore, now: float, limit: int = 5000) -> None:
    """Forget long-expired tokens (every event carries fresh ones, so a long demo makes many)."""
    if len(oauth.tokens) > limit:
        oauth.tokens = {k: t for k, t in oauth.tokens.items() if t.expires > now}
    if len(oauth.refresh) > limit:
        oauth.refresh = {k: g for k, g in oauth.refresh.items() if g.expires > now}


def _token_answer(state: PortalState, token: Token, refresh: str) -> dict[str, Any]:
    oauth = store(state)
    app = oauth.app
    return {
        "access_token": token.access_token,
        "client_endpoint": oauth.endpoints.client_endpoint,
        "domain": oauth.endpoints.oauth_domain,
        "expires": int(token.expires),
        "expires_in": ACCESS_TTL,
        "member_id": state.portal.member_id,
        "refresh_token": refresh,
        "scope": ",".join(token.scopes),
        "server_endpoint": oauth.endpoints.server_endpoint,
        "status": APP_STATUS,
        "user_id": token.user_id,
        "application_token": app.application_token if app else "",
    }


def refresh_tokens(state: PortalState, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
    """The token endpoint: ``grant_type=refresh_token`` (REFERENCE §2.2). Returns (HTTP status, body).

    HTTP statuses of OAuth errors are UNVERIFIED; b24phpsdk maps 400 to invalid_grant and 401 to
    invalid_client, which is what the sandbox answers.
    """
    oauth = store(state)
    app = oauth.app
    if params.get("grant_type") != "refresh_token":
        return 400, _oauth_error("invalid_request", "An incorrectly formatted authorization request was provided")
    if app is None or params.get("client_id") != app.client_id or params.get("client_secret") != app.client_secret:
        return 401, _oauth_error("invalid_client", "Invalid client data was provided")
    grant = oauth.refresh.pop(params.get("refresh_token", ""), None)
    now = state.clock.timestamp()
    if grant is None or grant.client_id != app.client_id or grant.expires <= now:
        return 400, _oauth_error("invalid_grant", "Invalid authorization data was provided for obtaining access_token")
    oauth.refresh_count += 1
    token = Token(random_token(), app.client_id, grant.user_id, now + ACCESS_TTL, grant.scopes)
    refresh = random_token()
    oauth.tokens[token.access_token] = token
    oauth.refresh[refresh] = RefreshGrant(app.client_id, grant.user_id, now + REFRESH_TTL, grant.scopes)
    answer = _token_answer(state, token, refresh)
    answer.pop("application_token")
    return 200, answer


def _oauth_error(error: str, description: str) -> dict[str, Any]:
    return {"error": error, "error_description": description}


def revoke_all(state: PortalState) -> None:
    oauth = store(state)
    oauth.tokens.clear()
    oauth.refresh.clear()


def expire_tokens(state: PortalState) -> None:
    """Make every access token of the app expired now (refresh tokens stay valid)."""
    now = state.clock.timestamp()
    for token in store(state).tokens.values():
        token.expires = min(token.expires, now)


# --- webhooks ------------------------------------------------------------------------------------


def create_webhook(state: PortalState, user_id: int, scopes: list[str] | None) -> Webhook:
    hook = Webhook(user_id, random_token(16), frozenset(scopes) if scopes is not None else None)
    store(state).webhooks[(user_id, hook.code)] = hook
    return hook


# --- authentication ------------------------------------------------------------------------------

def authenticate_webhook(state: PortalState, user_id: int, code: str) -> Principal:
    hook = store(state).webhooks.get((user_id, code))
    user = state.users.get(user_id)
    if hook is None or user is None or not user.active:
        raise RestError("NO_AUTH_FOUND", "Wrong authorization data", 401)
    scopes = hook.scopes if hook.scopes is not None else ALL_SCOPES
    return Principal(user_id, "webhook", None, frozenset({*scopes, "basic"}))


def authenticate_token(state: PortalState, access_token: str | None, unknown_error: str = "NO_AUTH_FOUND") -> Principal:
    """Resolve an OAuth access token. Unknown token: 401 NO_AUTH_FOUND (UNVERIFIED, switchable)."""
    token = store(state).tokens.get(access_token or "")
    if token is None:
        if unknown_error == "invalid_token" and access_token:
            raise RestError("invalid_token", "Token expired or invalid", 401)
        raise RestError("NO_AUTH_FOUND", "Wrong authorization data", 401)
    if token.expires <= state.clock.timestamp():
        raise RestError("expired_token", "The access token provided has expired", 401)
    return Principal(token.user_id, "oauth", token.client_id, frozenset({*token.scopes, "basic"}), access_token)


def scope_allows(principal: Principal, scope: str | None) -> bool:
    if scope is None or scope == "basic":
        return True
    if scope in principal.scopes:
        return True
    return scope == "user" and bool({"user_basic", "user_brief"} & principal.scopes)
