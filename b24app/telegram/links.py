"""Linking a Bitrix24 user (member_id, user_id) to a private Telegram chat.

A person asks the app (widget or page inside Bitrix24) for a one-time deep link
``https://t.me/<bot>?start=<token>``; the bot's ``/start <token>`` binds the chat. Tokens are 32
characters of ``[A-Za-z0-9_-]``, single use (GETDEL) and valid ``TOKEN_TTL`` on the injected clock.

Redis keys (prefix ``b24app:tg:``):
  token:{token}               JSON {member_id, user_id, issued}        (Redis TTL as a backstop)
  link:{member_id}:{user_id}  hash {chat_id, active, linked_at, lang}
  chat:{chat_id}              "{member_id}:{user_id}"
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

from b24app.rest.protocol import Bitrix24

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
TOKEN_TTL = timedelta(minutes=10)
TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
PREFIX = "b24app:tg:"


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
        self._r.set(f"{PREFIX}token:{token}", json.dumps(value), ex=ttl)
        return token

    @staticmethod
    def deep_link(bot_username: str, token: str) -> str:
        return f"https://t.me/{bot_username.lstrip('@')}?start={token}"

    def consume_token(self, token: str, chat_id: int, lang: str | None = None) -> Link | None:
        """Bind ``chat_id`` to the token's user; None when the token is malformed, used or expired."""
        if not TOKEN_RE.fullmatch(token):
            return None
        raw = self._r.getdel(f"{PREFIX}token:{token}")
        if raw is None:
            return None
        data = json.loads(raw)
        if self._clock() - datetime.fromisoformat(data["issued"]) >= TOKEN_TTL:
            return None
        return self._bind(str(data["member_id"]), int(data["user_id"]), chat_id, _lang(lang))

    # -- links --------------------------------------------------------------------------------
    def _bind(self, member_id: str, user_id: int, chat_id: int, lang: str) -> Link:
        old_chat = self.for_user(member_id, user_id)
        old_owner = self.by_chat(chat_id)
        link = Link(member_id, user_id, chat_id, True, self._clock(), lang)
        with self._r.pipeline(transaction=True) as pipe:
            if old_chat and old_chat.chat_id != chat_id:
                pipe.delete(f"{PREFIX}chat:{old_chat.chat_id}")
            if old_owner and (old_owner.member_id, old_owner.user_id) != (member_id, user_id):
                pipe.delete(_link_key(old_owner.member_id, old_owner.user_id))
                pipe.srem(f"{PREFIX}members:{old_owner.member_id}", old_owner.user_id)
            pipe.hset(_link_key(member_id, user_id), mapping=_to_hash(link))
            pipe.set(f"{PREFIX}chat:{chat_id}", f"{member_id}:{user_id}")
            pipe.sadd(f"{PREFIX}members:{member_id}", user_id)
            pipe.execute()
        log.info("telegram chat linked member=%s user=%s", member_id, user_id)
        return link

    def for_user(self, member_id: str, user_id: int) -> Link | None:
        data = self._r.hgetall(_link_key(member_id, user_id))
        return _from_hash(member_id, int(user_id), data) if data else None

    def by_chat(self, chat_id: int) -> Link | None:
        owner = self._r.get(f"{PREFIX}chat:{chat_id}")
        if owner is None:
            return None
        member_id, _, user_id = _text(owner).rpartition(":")
        link = self.for_user(member_id, int(user_id))
        return link if link and link.chat_id == chat_id else None

    def linked_users(self, member_id: str) -> list[int]:
        return sorted(int(_text(u)) for u in self._r.smembers(f"{PREFIX}members:{member_id}"))

    def unlink_chat(self, chat_id: int) -> Link | None:
        link = self.by_chat(chat_id)
        if link:
            self.unlink_user(link.member_id, link.user_id)
        return link

    def unlink_user(self, member_id: str, user_id: int) -> bool:
        link = self.for_user(member_id, user_id)
        if link is None:
            return False
        with self._r.pipeline(transaction=True) as pipe:
            pipe.delete(_link_key(member_id, user_id))
            pipe.delete(f"{PREFIX}chat:{link.chat_id}")
            pipe.srem(f"{PREFIX}members:{member_id}", user_id)
            pipe.execute()
        log.info("telegram chat unlinked member=%s user=%s", member_id, user_id)
        return True

    def set_active(self, chat_id: int, active: bool) -> bool:
        """Mark a chat's link (in)active, e.g. after ``Forbidden``; False when the chat is not linked."""
        link = self.by_chat(chat_id)
        if link is None:
            return False
        self._r.hset(_link_key(link.member_id, link.user_id), "active", "1" if active else "0")
        return True


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
    return f"{PREFIX}link:{member_id}:{int(user_id)}"


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
