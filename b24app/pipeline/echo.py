"""Echoes of the app's own writes: events that need no read, and offline rows that need no refresh.

Bitrix24 answers the app's ``crm.item.update`` with ``ONCRMDYNAMICITEMUPDATE`` and its
``tasks.task.update``/``renew`` with ``ONTASKUPDATE``; the event carries ids only. After a successful write
the app pushes one *expectation* per written object (its deadline: the write's last portal second + a
moment). An event whose every delivery is explained by a fresh expectation is the app's echo and is not
read. The edge counts the deliveries it coalesced into one job (``Event.count``), so a person's change
coalesced with the echo is two deliveries for one expectation: the item is read. An expectation whose
echo was lost expires (its deadline, then :data:`keys.ECHO_TTL`); a person's event that consumed one
(it arrived before the echo) leaves the echo itself unexplained, so it is read — after the person's change.
If that echo was lost too, the offline queue still holds the person's row (``EVENT_ADDITIONAL.user_id``
is the person), which :func:`redundant` keeps: it is refreshed by the next sweep.

Offline rows (one per object, the time of its *last* change) are redundant when the change is already
reflected: the row is older than the second in which the app's last read of the item started, or it is
the app's own write (its user, not after the second of the app's last write).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from b24app import keys

if TYPE_CHECKING:
    from redis import Redis
    from redis.client import Pipeline

#: Seconds after the write's last second in which its echo may carry ``ts`` (delivery through the portal's queue).
ECHO_WINDOW = 5


def item_ref(entity_type_id: int, item_id: int) -> str:
    return f"item:{entity_type_id}:{item_id}"


def expect(pipe: Pipeline, member_id: str, refs: Iterable[str], write_second: int) -> None:
    """One expected echo per object written (``item:..``/``task:..`` refs), on the caller's pipeline."""
    for ref in refs:
        kind, _, object_id = ref.partition(":")
        key = keys.echo(member_id, kind, object_id)
        pipe.rpush(key, str(write_second + ECHO_WINDOW))
        pipe.expire(key, keys.ECHO_TTL)


def explained(redis: Redis, member_id: str, ref: str, count: int, ts: str) -> bool:
    """True when all ``count`` deliveries of an event are echoes of the app's own writes (consumed)."""
    kind, _, object_id = ref.partition(":")
    taken = redis.lpop(keys.echo(member_id, kind, object_id), max(count, 1))
    if not taken or not ts.isdigit():
        return False
    fresh = [t for t in taken if int(t) >= int(ts)]         # an older expectation's echo was lost
    return len(fresh) >= max(count, 1)


def seen_field(entity_type_id: int, item_id: int) -> str:
    return f"{entity_type_id}:{item_id}"


def record(pipe: Pipeline, member_id: str, entity_type_id: int, item_id: int, read_second: int,
           write_second: int | None, earliest_deadline: int) -> None:
    """The app's last processing of an item: when its read started, (if it wrote) its last write second,
    and the earliest deadline of its open tasks as the app left them (0: none has a deadline)."""
    pipe.hset(keys.seen(member_id), seen_field(entity_type_id, item_id),
              f"{read_second}|{write_second if write_second is not None else ''}|{earliest_deadline}")
    pipe.expire(keys.seen(member_id), keys.SEEN_TTL)


def seen_records(redis: Redis, member_id: str, fields: list[str]) -> dict[str, list[str]]:
    if not fields:
        return {}
    values = redis.hmget(keys.seen(member_id), fields)
    return {name: (value.decode() if isinstance(value, bytes) else str(value)).split("|")
            for name, value in zip(fields, values, strict=True) if value is not None}


def seen_moments(redis: Redis, member_id: str, fields: list[str]) -> dict[str, tuple[int, int | None]]:
    return {name: (int(parts[0]), int(parts[1]) if len(parts) > 1 and parts[1] else None)
            for name, parts in seen_records(redis, member_id, fields).items()}


def earliest_deadlines(redis: Redis, member_id: str, fields: list[str]) -> dict[str, int]:
    """The earliest open-task deadline (epoch; 0: none) the app recorded per item; absent when unknown."""
    return {name: int(parts[2]) for name, parts in seen_records(redis, member_id, fields).items()
            if len(parts) > 2 and parts[2].isdigit()}


def redundant(row: Mapping[str, Any], moments: tuple[int, int | None] | None, app_user: int | None,
              row_second: int | None) -> bool:
    """An offline row whose change the app has already seen (see the module docstring)."""
    if moments is None or row_second is None:
        return False
    read, write = moments
    if row_second < read:
        return True
    extra = row.get("EVENT_ADDITIONAL")
    user = str(extra.get("user_id") or "") if isinstance(extra, dict) else ""
    return write is not None and app_user is not None and user == str(app_user) and row_second <= write
