"""Which client id and secret (and OAuth server) the app uses on which portal.

A *local* app gets its own client id and secret on every portal, so a deployment that serves several
customers' portals needs one pair per portal; a marketplace-style app has one pair everywhere. Both work:

* ``B24APP_CLIENT_ID`` / ``B24APP_CLIENT_SECRET`` (with ``B24APP_OAUTH_SERVER``) — the deployment's
  default pair, used for every portal the registry does not name;
* the registry — ``b24app portal add --domain D --client-id I --client-secret S [--oauth-server U]`` — one
  pair per portal domain, kept in the Redis hash ``b24app:portal-credentials`` (field = domain), each
  value Fernet-encrypted with a key derived from ``B24APP_SECRET_KEY`` (required for the registry), so a
  copy of the Redis data alone does not hand out the secrets.

An install is proved with the pair of the domain it claims (:mod:`b24app.auth.accept`) and the OAuth
server's answer must name that same domain; the proved installation records the client id, and refreshes
use the pair recorded for it.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import redis
from b24pysdk.credentials.bitrix_token import AbstractBitrixToken
from cryptography.fernet import Fernet, InvalidToken

from b24app import keys
from b24app.errors import SettingsError
from b24app.log import register_secret
from b24app.rest import sdk

if TYPE_CHECKING:
    from b24app.auth.store import Installation
    from b24app.settings import Settings


@dataclass(frozen=True)
class AppPair:
    """One local app's OAuth client: its id, secret, the OAuth server, and the portal it is for
    ("" for the deployment's default pair)."""

    client_id: str
    client_secret: str = field(repr=False)
    oauth_server: str = "https://oauth.bitrix.info"
    domain: str = ""

    @property
    def token_url(self) -> str:
        return self.oauth_server.rstrip("/") + "/oauth/token/"


class PostedToken:
    """REST auth with a token the portal posted (a widget's ``AUTH_ID``, an installer's proved token) and
    the portal's own app pair; never renewed."""

    def __init__(self, host: str, access_token: str, pair: AppPair) -> None:
        self.host = host
        self._access = access_token
        self._pair = pair

    def token(self) -> tuple[AbstractBitrixToken, str]:
        return sdk.oauth_token(self.host, self._access, self._pair.client_id, self._pair.client_secret), self._access

    def renew(self, stale_access_token: str) -> bool:
        return False

    def moved(self, stale_access_token: str, new_host: str) -> bool:
        return False  # a posted token makes one request; the app's own calls prove a move


def normal_domain(value: str) -> str:
    """``https://Portal.bitrix24.ru/`` -> ``portal.bitrix24.ru`` (host and port, lower case)."""
    text = value.strip()
    if "//" not in text:
        text = "//" + text
    return urlsplit(text).netloc.lower()


class PortalCredentials:
    """The default pair from settings plus the encrypted per-portal registry in Redis."""

    def __init__(self, conn: redis.Redis, settings: Settings | Callable[[], Settings]) -> None:
        self._redis = conn
        self._get_settings = settings if callable(settings) else (lambda: settings)

    @property
    def _settings(self) -> Settings:
        """Read at each use: a process may learn its client credentials after it started (the demo stack)."""
        return self._get_settings()

    # -- lookups --------------------------------------------------------------------------------
    def default(self) -> AppPair | None:
        s = self._settings
        if not s.client_id or s.client_secret is None:
            return None
        return AppPair(s.client_id, s.client_secret.get_secret_value(), s.oauth_server)

    def for_domain(self, domain: str) -> AppPair | None:
        """The registered pair of this portal, else the default pair (None when neither exists)."""
        return self.registered(domain) or self.default()

    def registered(self, domain: str) -> AppPair | None:
        name = normal_domain(domain) if domain else ""
        if not name or not self._settings.secret_key:
            return None
        raw = self._redis.hget(keys.PORTAL_CREDENTIALS, name)
        return self._decrypt(name, raw) if raw else None

    def for_installation(self, installation: Installation) -> AppPair | None:
        """The pair the installation was proved with (by its recorded client id), else by its domain."""
        for domain in (installation.domain, installation.rest_host):
            pair = self.registered(domain)
            if pair is not None and (not installation.client_id or pair.client_id == installation.client_id):
                return pair
        default = self.default()
        if default is not None and (not installation.client_id or default.client_id == installation.client_id):
            return default
        return None

    def domains(self) -> list[str]:
        return sorted(_text(k) for k in self._redis.hkeys(keys.PORTAL_CREDENTIALS))

    # -- the registry ---------------------------------------------------------------------------
    def add(self, domain: str, client_id: str, client_secret: str, oauth_server: str | None = None) -> AppPair:
        name = normal_domain(domain)
        if not name or not client_id or not client_secret:
            raise SettingsError(["portal add: --domain, --client-id and --client-secret are required"])
        pair = AppPair(client_id, client_secret, (oauth_server or self._settings.oauth_server).rstrip("/"), name)
        body = json.dumps({"client_id": client_id, "client_secret": client_secret, "oauth_server": pair.oauth_server})
        self._redis.hset(keys.PORTAL_CREDENTIALS, name, self._fernet().encrypt(body.encode()))
        register_secret(client_secret)
        return pair

    def remove(self, domain: str) -> bool:
        return bool(self._redis.hdel(keys.PORTAL_CREDENTIALS, normal_domain(domain)))

    def _fernet(self) -> Fernet:
        secret = self._settings.secret_key
        if secret is None or not secret.get_secret_value():
            raise SettingsError(["B24APP_SECRET_KEY: required to keep per-portal app credentials (they are "
                                 "stored encrypted with it); set it to a long random value and keep it"])
        digest = hashlib.sha256(b"b24app portal credentials\x00" + secret.get_secret_value().encode()).digest()
        return Fernet(base64.urlsafe_b64encode(digest))

    def _decrypt(self, domain: str, raw: bytes | str) -> AppPair:
        token = raw if isinstance(raw, bytes) else raw.encode()
        try:
            data = json.loads(self._fernet().decrypt(token))
        except (InvalidToken, ValueError):
            raise SettingsError([f"portal credentials of {domain}: cannot be decrypted with B24APP_SECRET_KEY "
                                 f"(was the key changed?); run `b24app portal add --domain {domain} ...` again"]) from None
        register_secret(str(data["client_secret"]))
        return AppPair(str(data["client_id"]), str(data["client_secret"]), str(data["oauth_server"]), domain)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
