"""``b24app demo`` end to end: two requests reach «Оплачено», one is rejected, narrated in Russian."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
import redis

from b24app.demo import run_demo
from b24app.scenario.services import RedisUnavailable, redis_for_tools
from b24sandbox import SandboxPortal
from b24sandbox.ids import CRM_ITEM
from b24sandbox.tls import SandboxCA


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


@pytest.mark.timeout(300)
def test_the_demo_leaves_no_temporary_ca_folder(redis_url: str, monkeypatch: pytest.MonkeyPatch,
                                               tmp_path: Path) -> None:
    monkeypatch.setenv("B24APP_REDIS_URL", redis_url)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    made: list[Path] = []
    real_mkdtemp = tempfile.mkdtemp

    def mkdtemp(*args: Any, **kwargs: Any) -> str:
        made.append(Path(real_mkdtemp(*args, **kwargs)))
        return str(made[-1])

    monkeypatch.setattr(tempfile, "mkdtemp", mkdtemp)
    assert run_demo(lambda line: None)
    assert [p for p in made if p.name.startswith("b24sandbox-ca-")]   # the demo did make one ...
    assert list(tmp_path.glob("b24sandbox-ca-*")) == []              # ... and removed it


def test_a_portal_removes_the_ca_folder_it_made_but_not_one_it_was_given(tmp_path: Path) -> None:
    given = SandboxCA(tmp_path / "given")
    with SandboxPortal(ca=given) as portal:
        assert portal.ca_bundle == given.ca_bundle
    assert Path(given.ca_bundle).exists()
    with SandboxPortal() as portal:
        made = Path(str(portal.ca_bundle)).parent
        assert made.exists() and made.name.startswith("b24sandbox-ca-")
    assert not made.exists()
