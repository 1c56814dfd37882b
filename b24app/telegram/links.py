"""Linking a Bitrix24 user (member_id, user_id) to a private Telegram chat.

A person asks the app (widget or page inside Bitrix24) for a one-time deep link
``https://t.me/<bot>?start=<token>``; the bot's ``/start <token>`` binds the chat. Tokens are 32
characters of ``[A-Za-z0-9_-]``, single use (GETDEL) and valid ``TOKEN_TTL`` on the injected clock.

A chat may be linked on several portals (a person who works for two hosted customers), one user per
portal: linking it on a second portal keeps the first link. A press is decided only with the chat's link on
the button's own portal (:mod:`b24app.telegram.updates`).

Redis keys (:func:`b24app.keys.tg`, prefix ``b24app:tg:``):
  token:{token}               JSON {member_id, user_id, issued}        (Redis TTL as a backstop)
  link:{member_id}:{user_id}  hash {chat_id, active, linked_at, lang}
  chatlinks:{chat_id}         hash member_id -> user_id (the chat's link on each portal)
  chat:{chat_id}              "{member_id}:{user_id}" (the single link of earlier releases; read, then migrated)
  members:{member_id}         set of linked user ids
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from redis import Redis

from b24app import keys
from b24app.rest.protocol import Bitrix24

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
TOKEN_TTL = timedelta(minutes=10)
TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Link:
    member_id: str
    user_id: int
    chat_id: int
    active: bool
    linked_at: datetime
    lang: str = "ru"


class LinkStore:
    """Deep-link tokens and chat links of every portal, in Redis."""

    def __init__(self, redis: Redis, clock: Clock = utcnow) -> None:
        self._r = redis
        self._clock = clock

    # -- tokens -------------------------------------------------------------------------------
    def issue_token(self, member_id: str, user_id: int) -> str:
        token = secrets.token_urlsafe(24)  # 32 chars of [A-Za-z0-9_-]
        value = {"member_id": member_id, "user_id": int(user_id), "issued": self._clock().isoformat()}
        ttl = int(TOKEN_TTL.total_seconds()) + 60
        self._r.set(keys.tg("token", token), json.dumps(value), ex=ttl)
        return token

    @staticmethod
    def deep_link(bot_username: str, token: str) -> str:
        return f"https://t.me/{bot_username.lstrip('@')}?start={token}"

    def consume_token(self, token: str, chat_id: int, lang: str | None = None) -> Link | None:
        """Bind ``chat_id`` to the token's user; None when the token is malformed, used or expired."""
        if not TOKEN_RE.fullmatch(token):
            return None
        raw = self._r.getdel(keys.tg("token", token))
        if raw is None:
            return None
        data = json.loads(raw)
        if self._clock() - datetime.fromisoformat(data["issued"]) >= TOKEN_TTL:
            return None
        return self._bind(str(data["member_id"]), int(data["user_id"]), chat_id, _lang(lang))

    # -- links --------------------------------------------------------------------------------
    def _bind(self, member_id: str, user_id: int, chat_id: int, lang: str) -> Link:
        """Link the chat on this portal; its links on other portals stay. The user's earlier chat on this
        portal, and another user of this portal earlier linked to this chat, are unlinked."""
        old_chat = self.for_user(member_id, user_id)
        owners = self._owners(chat_id)
        old_user = owners.get(member_id)
        link = Link(member_id, user_id, chat_id, True, self._clock(), lang)
        with self._r.pipeline(transaction=True) as pipe:
            if old_chat and old_chat.chat_id != chat_id:
                pipe.hdel(keys.tg("chatlinks", old_chat.chat_id), member_id)
                pipe.delete(keys.tg("chat", old_chat.chat_id))
            if old_user is not None and old_user != int(user_id):
                pipe.delete(_link_key(member_id, old_user))
                pipe.srem(keys.tg("members", member_id), old_user)
            owners[member_id] = int(user_id)
            pipe.hset(_link_key(member_id, user_id), mapping=_to_hash(link))
            pipe.hset(keys.tg("chatlinks", chat_id), mapping={m: str(u) for m, u in owners.items()})
            pipe.delete(keys.tg("chat", chat_id))  # migrated into chatlinks above
            pipe.sadd(keys.tg("members", member_id), user_id)
            pipe.execute()
        log.info("telegram chat linked member=%s user=%s", member_id, user_id)
        return link

    def for_user(self, member_id: str, user_id: int) -> Link | None:
        data = self._r.hgetall(_link_key(member_id, user_id))
        return _from_hash(member_id, int(user_id), data) if data else None

    def by_chat(self, chat_id: int, member_id: str | None = None) -> Link | None:
        """The chat's link on ``member_id``'s portal; without it, the chat's latest link (its language)."""
        found = self.links_of_chat(chat_id)
        if member_id is not None:
            return next((link for link in found if link.member_id == member_id), None)
        return max(found, key=lambda link: link.linked_at, default=None)

    def links_of_chat(self, chat_id: int) -> list[Link]:
        """The chat's link on every portal it is linked on."""
        found = [self.for_user(member_id, user_id) for member_id, user_id in sorted(self._owners(chat_id).items())]
        return [link for link in found if link is not None and link.chat_id == chat_id]

    def _owners(self, chat_id: int) -> dict[str, int]:
        owners = {_text(m): int(_text(u)) for m, u in self._r.hgetall(keys.tg("chatlinks", chat_id)).items()}
        legacy = self._r.get(keys.tg("chat", chat_id))
        if legacy is not None:
            member_id, _, user_id = _text(legacy).rpartition(":")
            owners.setdefault(member_id, int(user_id))
        return owners

    def portals(self) -> list[str]:
        """Every portal with a linked person (their member ids)."""
        prefix = keys.tg("members", "")
        return sorted(_text(k)[len(prefix):] for k in self._r.scan_iter(match=keys.tg("members", "*"), count=500))

    def linked_users(self, member_id: str) -> list[int]:
        return sorted(int(_text(u)) for u in self._r.smembers(keys.tg("members", member_id)))

    def unlink_chat(self, chat_id: int) -> list[Link]:
        """Unlink the chat on every portal (``/stop``)."""
        found = self.links_of_chat(chat_id)
        for link in found:
            self.unlink_user(link.member_id, link.user_id)
        return found

    def unlink_user(self, member_id: str, user_id: int) -> bool:
        link = self.for_user(member_id, user_id)
        if link is None:
            return False
        legacy = self._r.get(keys.tg("chat", link.chat_id))
        with self._r.pipeline(transaction=True) as pipe:
            pipe.delete(_link_key(member_id, user_id))
            pipe.hdel(keys.tg("chatlinks", link.chat_id), member_id)
            if legacy is not None and _text(legacy) == f"{member_id}:{int(user_id)}":
                pipe.delete(keys.tg("chat", link.chat_id))
            pipe.srem(keys.tg("members", member_id), user_id)
            pipe.execute()
        log.info("telegram chat unlinked member=%s user=%s", member_id, user_id)
        return True

    def set_active(self, chat_id: int, active: bool) -> bool:
        """Mark the chat's links (in)active on every portal, e.g. after ``Forbidden``; False when not linked."""
        found = self.links_of_chat(chat_id)
        for link in found:
            self._r.hset(_link_key(link.member_id, link.user_id), "active", "1" if active else "0")
        return bool(found)


def unlink_inactive(client: Bitrix24, store: LinkStore, member_id: str) -> list[int]:
    """Unlink every linked user of this portal whom ``user.get`` reports as deactivated (or gone)."""
    linked = store.linked_users(member_id)
    if not linked:
        return []
    active: set[int] = set()
    for start in range(0, len(linked), 50):  # 50 ids -> at most one page of user.get
        rows = client.call("user.get", {"FILTER": {"ID": linked[start:start + 50]}, "ADMIN_MODE": True}) or []
        active.update(int(row["ID"]) for row in rows if _is_true(row.get("ACTIVE")))
    removed = [user_id for user_id in linked if user_id not in active]
    for user_id in removed:
        store.unlink_user(member_id, user_id)
    return removed


def _is_true(value: Any) -> bool:
    return value is True or str(value).upper() in {"Y", "TRUE", "1"}


def _lang(code: str | None) -> str:
    return "en" if code and code.lower().startswith("en") else "ru"


def _link_key(member_id: str, user_id: int) -> str:
    return keys.tg("link", member_id, int(user_id))


def _to_hash(link: Link) -> dict[Any, Any]:
    return {
        "chat_id": str(link.chat_id),
        "active": "1" if link.active else "0",
        "linked_at": link.linked_at.isoformat(),
        "lang": link.lang,
    }


def _from_hash(member_id: str, user_id: int, data: dict[Any, Any]) -> Link:
    d = {_text(k): _text(v) for k, v in data.items()}
    return Link(
        member_id=member_id,
        user_id=user_id,
        chat_id=int(d["chat_id"]),
        active=d.get("active") == "1",
        linked_at=datetime.fromisoformat(d["linked_at"]),
        lang=d.get("lang", "ru"),
    )


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
