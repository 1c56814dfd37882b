"""Installations of the local app, one per portal, stored in Redis keyed by ``member_id``.

A Redis hash ``b24app:installation:{member_id}`` holds the portal domain, client endpoint, the current
token pair and its expiry, the ``application_token`` events are verified with, scopes, install time and
the removed flag. ``b24app:installations`` is the set of known member ids.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import redis

from b24app import keys
from b24app.errors import InstallationNotFound
from b24app.log import register_secret


@dataclass(frozen=True)
class Installation:
    """One portal where the app is (or was) installed."""

    member_id: str
    domain: str
    client_endpoint: str
    access_token: str
    refresh_token: str
    expires_at: float
    application_token: str
    scopes: tuple[str, ...] = ()
    installed_at: float = 0.0
    removed: bool = False
    server_endpoint: str = ""
    user_id: str = ""
    client_id: str = ""             # the local app's client id the installation was proved with

    def __repr__(self) -> str:
        return f"Installation(member_id={self.member_id!r}, domain={self.domain!r}, removed={self.removed})"

    @property
    def rest_host(self) -> str:
        """``host[:port]`` of the portal's REST endpoint (what the SDK calls ``domain``)."""
        return urlsplit(self.client_endpoint).netloc or self.domain

    def with_tokens(self, access_token: str, refresh_token: str, expires_at: float) -> Installation:
        return dataclasses.replace(
            self, access_token=access_token, refresh_token=refresh_token, expires_at=expires_at
        )

    def with_endpoint(self, client_endpoint: str) -> Installation:
        """The portal at its new address: the endpoint and the domain it names."""
        domain = urlsplit(client_endpoint).netloc or self.domain
        return dataclasses.replace(self, client_endpoint=client_endpoint, domain=domain)

    def to_hash(self) -> dict[str, str]:
        return {
            "member_id": self.member_id,
            "domain": self.domain,
            "client_endpoint": self.client_endpoint,
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_at": repr(self.expires_at),
            "application_token": self.application_token,
            "scopes": ",".join(self.scopes),
            "installed_at": repr(self.installed_at),
            "removed": "1" if self.removed else "0",
            "server_endpoint": self.server_endpoint,
            "user_id": self.user_id,
            "client_id": self.client_id,
        }

    @classmethod
    def from_hash(cls, data: Mapping[str, str]) -> Installation:
        return cls(
            member_id=data["member_id"],
            domain=data.get("domain", ""),
            client_endpoint=data.get("client_endpoint", ""),
            access_token=data.get("access_token", ""),
            refresh_token=data.get("refresh_token", ""),
            expires_at=float(data.get("expires_at") or 0),
            application_token=data.get("application_token", ""),
            scopes=tuple(s for s in data.get("scopes", "").split(",") if s),
            installed_at=float(data.get("installed_at") or 0),
            removed=data.get("removed") == "1",
            server_endpoint=data.get("server_endpoint", ""),
            user_id=data.get("user_id", ""),
            client_id=data.get("client_id", ""),
        )


class InstallationStore:
    """Read and write installations; safe to share between threads and processes."""

    def __init__(self, conn: redis.Redis) -> None:
        self._redis = conn

    def save(self, installation: Installation) -> None:
        key = keys.installation(installation.member_id)
        pipe = self._redis.pipeline()
        pipe.delete(key)
        pipe.hset(key, mapping=dict(installation.to_hash()))  # type: ignore[arg-type]
        pipe.sadd(keys.INSTALLATIONS, installation.member_id)
        pipe.execute()
        register_secret(installation.access_token, installation.refresh_token, installation.application_token)

    def find(self, member_id: str) -> Installation | None:
        """The stored installation (removed ones too), or None."""
        return self.from_raw(self._redis.hgetall(keys.installation(member_id)))

    @staticmethod
    def key(member_id: str) -> str:
        """The installation's hash (for callers reading it in their own pipeline: :meth:`from_raw`)."""
        return keys.installation(member_id)

    @staticmethod
    def from_raw(raw: Any) -> Installation | None:
        """The installation from its hash as Redis returned it, or None when empty."""
        if not raw:
            return None
        data = {_text(k): _text(v) for k, v in raw.items()}
        installation = Installation.from_hash(data)
        register_secret(installation.access_token, installation.refresh_token, installation.application_token)
        return installation

    def get(self, member_id: str) -> Installation:
        """The active installation; InstallationNotFound when missing or removed."""
        installation = self.find(member_id)
        if installation is None or installation.removed:
            raise InstallationNotFound(member_id)
        return installation

    def member_ids(self) -> list[str]:
        return sorted(_text(m) for m in self._redis.smembers(keys.INSTALLATIONS))

    def active(self) -> list[Installation]:
        found = (self.find(m) for m in self.member_ids())
        return [i for i in found if i is not None and not i.removed]

    def update_tokens(self, member_id: str, access_token: str, refresh_token: str, expires_at: float,
                      client_endpoint: str = "") -> None:
        """Store a rotated token pair (called under the refresh lock), and the portal's endpoint when the
        OAuth server's answer names one; no-op for an unknown portal."""
        key = keys.installation(member_id)
        if not self._redis.exists(key):
            return
        mapping = {"access_token": access_token, "refresh_token": refresh_token, "expires_at": repr(expires_at)}
        if client_endpoint:
            current = Installation.from_hash({"member_id": member_id, **{
                _text(k): _text(v) for k, v in self._redis.hgetall(key).items()}})
            if client_endpoint != current.client_endpoint:
                moved = current.with_endpoint(client_endpoint)
                mapping |= {"client_endpoint": moved.client_endpoint, "domain": moved.domain}
        self._redis.hset(key, mapping=mapping)  # type: ignore[arg-type]
        register_secret(access_token, refresh_token)

    def mark_removed(self, member_id: str) -> bool:
        """Flag the installation removed (its tokens are kept: a proved re-install replaces them);
        False when the member id is unknown."""
        key = keys.installation(member_id)
        if not self._redis.exists(key):
            return False
        self._redis.hset(key, mapping={"removed": "1", "removed_at": repr(time.time())})
        return True


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
