"""``b24app demo`` end to end: two requests reach «Оплачено», one is rejected, narrated in Russian."""

from __future__ import annotations

import pytest
import redis

from b24app.demo import run_demo
from b24app.scenario.services import RedisUnavailable, redis_for_tools
from b24sandbox.ids import CRM_ITEM


@pytest.mark.timeout(300)
def test_the_demo_pays_two_requests_and_rejects_one(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("B24APP_REDIS_URL", redis_url)
    lines: list[str] = []
    assert run_demo(lines.append)
    text = "\n".join(lines)
    first, second, third = CRM_ITEM, CRM_ITEM + 1, CRM_ITEM + 2  # a fresh sandbox numbers items from CRM_ITEM
    assert f"№{first} «Продвижение в VK, март» — Оплачено" in text
    assert f"№{second} «Запчасти для линии розлива» — Отклонено" in text
    assert f"№{third} «Эфирные масла на квартал» — Оплачено" in text
    assert f"→ задача «Согласовать крупную оплату №{third}" in text
    assert "Причина: Сначала запросите ещё два предложения поставщиков" in text


def test_a_configured_redis_with_data_is_not_flushed(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    conn = redis.Redis.from_url(redis_url)
    conn.set("someone:else", "1")
    monkeypatch.setenv("B24APP_REDIS_URL", redis_url)
    with pytest.raises(RedisUnavailable, match="holds 1 keys"), redis_for_tools():
        pass
    assert conn.get("someone:else") == b"1"
