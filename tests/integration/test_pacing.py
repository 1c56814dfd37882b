"""The shared leaky bucket and method pauses in a real Redis."""

from __future__ import annotations

import time

import redis

from b24app.rest.pacing import Pacer


def test_bucket_admits_the_burst_then_makes_callers_wait(redis_conn: redis.Redis) -> None:
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(seconds)

    pacer = Pacer(redis_conn, "portal.example", drain=20.0, burst=4, margin=1.0, sleep=sleep)
    assert pacer.burst == 3, "small buckets keep one request of head-room"
    assert [pacer.acquire() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert waits == []
    assert pacer.acquire() > 0
    assert waits and all(0 < w <= 5.0 for w in waits)
    assert 0 < pacer.level() <= 3


def test_processes_share_one_bucket_per_portal(redis_conn: redis.Redis) -> None:
    first = Pacer(redis_conn, "portal.example", drain=0.001, burst=60)
    second = Pacer(redis_conn, "portal.example", drain=0.001, burst=60)
    other = Pacer(redis_conn, "other.example", drain=0.001, burst=60)
    assert first.burst == 54, "large buckets run 10% under the portal's"
    for _ in range(27):
        assert first.acquire() == 0.0
        assert second.acquire() == 0.0
    assert 53.9 < second.level() <= 54
    waits: list[float] = []

    def time_passes(seconds: float) -> None:
        waits.append(seconds)
        redis_conn.hset("b24app:bucket:portal.example", "level", "0")

    third = Pacer(redis_conn, "portal.example", drain=0.001, burst=60, sleep=time_passes)
    assert third.acquire() > 0, "the bucket is full for every process"
    assert len(waits) == 1
    assert other.level() == 0


def test_method_pause_is_shared_and_expires(redis_conn: redis.Redis) -> None:
    pacer = Pacer(redis_conn, "portal.example", drain=2.0, burst=50)
    until = time.time() + 60
    pacer.pause("crm.item.list", until)
    assert Pacer(redis_conn, "portal.example", drain=2.0, burst=50).paused_until("CRM.ITEM.LIST") == until
    assert pacer.paused_until("crm.item.add") == 0.0
    pacer.pause("crm.item.get", time.time() - 1)
    time.sleep(0.01)
    assert pacer.paused_until("crm.item.get") == 0.0
