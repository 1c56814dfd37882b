"""Link store on a real Redis: deep-link tokens, single use, expiry on the injected clock, unlinking."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from redis import Redis

from b24app.telegram.links import LinkStore, unlink_inactive
from tests.telegram.conftest import MEMBER, TestClock


def test_token_is_a_valid_deep_link_payload(redis: Redis, clock: TestClock) -> None:
    store = LinkStore(redis, clock)
    token = store.issue_token(MEMBER, 7)
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,64}", token)
    assert store.deep_link("@b24app_test_bot", token) == f"https://t.me/b24app_test_bot?start={token}"
    assert token != store.issue_token(MEMBER, 7)


def test_token_binds_once(redis: Redis, clock: TestClock) -> None:
    store = LinkStore(redis, clock)
    token = store.issue_token(MEMBER, 7)
    link = store.consume_token(token, chat_id=1001, lang="ru")
    assert link is not None and (link.member_id, link.user_id, link.chat_id, link.active) == (MEMBER, 7, 1001, True)
    assert store.consume_token(token, chat_id=2002) is None
    assert store.by_chat(2002) is None
    assert store.for_user(MEMBER, 7) == link


def test_token_expires_after_ten_minutes(redis: Redis, clock: TestClock) -> None:
    store = LinkStore(redis, clock)
    fresh, stale = store.issue_token(MEMBER, 7), store.issue_token(MEMBER, 8)
    clock.advance(minutes=9, seconds=59)
    assert store.consume_token(fresh, chat_id=1001) is not None
    clock.advance(seconds=1)
    assert store.consume_token(stale, chat_id=1002) is None
    assert store.for_user(MEMBER, 8) is None


def test_payloads_longer_than_64_or_with_other_characters_are_refused(redis: Redis, clock: TestClock) -> None:
    store = LinkStore(redis, clock)
    long_token = "A" * 65
    redis.set(f"b24app:tg:token:{long_token}",
              json.dumps({"member_id": MEMBER, "user_id": 7, "issued": clock().isoformat()}))
    assert store.consume_token(long_token, chat_id=1001) is None
    assert store.consume_token("abc.def", chat_id=1001) is None
    assert store.for_user(MEMBER, 7) is None


def test_relinking_moves_the_chat_and_stop_unlinks(redis: Redis, clock: TestClock) -> None:
    store = LinkStore(redis, clock)
    store.consume_token(store.issue_token(MEMBER, 7), chat_id=1001)
    store.consume_token(store.issue_token(MEMBER, 7), chat_id=1002)  # same person, new phone
    assert store.by_chat(1001) is None
    assert store.for_user(MEMBER, 7).chat_id == 1002  # type: ignore[union-attr]
    store.consume_token(store.issue_token(MEMBER, 9), chat_id=1002)  # that chat now belongs to user 9
    assert store.for_user(MEMBER, 7) is None and store.by_chat(1002).user_id == 9  # type: ignore[union-attr]
    assert store.unlink_chat(1002) is not None
    assert store.by_chat(1002) is None and store.linked_users(MEMBER) == []


class UsersPortal:
    """A stand-in for the Bitrix24 client answering ``user.get`` with ACTIVE flags."""

    def __init__(self, active: Mapping[int, bool]) -> None:
        self.active = dict(active)
        self.calls: list[tuple[str, Mapping[str, Any]]] = []

    def call(self, method: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        assert method == "user.get" and params is not None
        self.calls.append((method, params))
        ids = params["FILTER"]["ID"]
        return [{"ID": str(i), "ACTIVE": self.active[i]} for i in ids if i in self.active]


def test_unlink_inactive_unlinks_deactivated_and_deleted_people(redis: Redis, clock: TestClock) -> None:
    store = LinkStore(redis, clock)
    for user_id, chat in ((7, 1001), (8, 1002), (9, 1003)):
        store.consume_token(store.issue_token(MEMBER, user_id), chat_id=chat)
    portal = UsersPortal({7: True, 8: False})  # 9 no longer exists
    removed = unlink_inactive(portal, store, MEMBER)  # type: ignore[arg-type]
    assert removed == [8, 9] and len(portal.calls) == 1
    assert store.linked_users(MEMBER) == [7]
    assert store.by_chat(1002) is None and store.by_chat(1001) is not None
