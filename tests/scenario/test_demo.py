"""``b24app demo`` end to end: two requests reach «Оплачено», one is rejected, a contract is signed, a
payment under it shows the contract's standing, a duplicate invoice is caught and rejected; narrated in Russian; ``--keep`` leaves live work in the portal and says where to click."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
import redis
import requests

from b24app.demo import run_demo
from b24app.demo_live import Live
from b24app.scenario.services import RedisUnavailable, redis_for_tools
from b24app.scenario.stack import Stack
from b24app.scenario.view import PortalView
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
    assert f"№{CRM_ITEM} «Договор поставки флаконов» — Подписан" in text    # contracts number their own items
    assert "→ задача «Подписать договор №" in text
    advance, again = CRM_ITEM + 3, CRM_ITEM + 4
    assert f"№{advance} «Аванс по договору поставки флаконов» — Оплачено" in text   # linked; paid by the bank statement
    assert f"Согласовать заявку на оплату №{advance} — ООО «Стеклотара»" in text       # its counterparty from it
    assert "Договор «Договор поставки флаконов»: Подписан." in text
    assert "Оплачено по договору: 0 RUB из 480 000 RUB (в оплате: 0 RUB); остаток: 480 000 RUB." in text
    assert f"⚠ Возможный дубль: заявка №{first} «Продвижение в VK, март» — тот же файл счёта" in text
    assert f"№{again} «Продвижение в VK, март (повторно)» — Отклонено" in text
    bank = text.split("выгружает файл платёжных поручений для банка (поручений: 1)", 1)[1]   # #18
    assert "загружает выписку банка\n      → этап «Оплачено»" in bank
    summary = text.split("Итог:", 1)[1]
    assert "Согласование заявок на оплату: Оплачено — 3, Отклонено — 2" in summary
    assert "Согласование договоров: Подписан — 1, Отклонён — 0" in summary


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


LIVE = {"live-head": ("HEAD_APPROVAL", "m.orlova"), "live-finance": ("FINANCE_REVIEW", "finance.manager"),
        "live-payment": ("PAYMENT", "junior.accountant"), "live-frozen": ("FROZEN", "m.orlova"),
        "live-contract": ("LEGAL_REVIEW", "lawyer")}


@pytest.mark.timeout(300)
def test_the_keep_mode_leaves_live_work_and_says_where_to_click(redis_url: str,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("B24APP_REDIS_URL", redis_url)
    lines: list[str] = []
    seen: list[str] = []

    def look(stack: Stack, echo: Any, live: Live) -> None:      # instead of serving until Ctrl+C
        _check_live(stack, live)
        seen.append("checked")

    assert run_demo(lines.append, keep=True, serve=look)
    assert seen == ["checked"]
    assert "Итог:" in "\n".join(lines)                          # the play ran first, then the live work


def _check_live(stack: Stack, live: Live) -> None:
    session = requests.Session()
    session.verify = str(stack.portal.ca_bundle)
    hook = stack.portal.webhook_url("admin")
    views = {w.code: PortalView(stack.portal, w) for w in stack.workflows}
    assert {i.wanted.ref for i in live.items} == set(LIVE)
    guide = "\n".join(live.guide())
    for item in live.items:
        stage, login = LIVE[item.wanted.ref]
        view = views[item.wanted.workflow]
        got = session.post(f"{hook}crm.item.get", json={"entityTypeId": view.etid, "id": item.item_id}).json()
        assert got["result"]["item"]["stageId"] == view.stage_id(item.item_id, stage)      # over HTTPS
        assert any(t.responsible == login and t.status != "completed" for t in view.tasks(item.item_id)) \
            or stage == "FROZEN"
        assert f"№{item.item_id} «{item.title}»" in guide and f"({login})" in guide and item.url in guide
        page = session.get(item.url)                          # the link chooses the person and opens the place
        assert page.status_code == 200
        assert session.cookies.get("sandbox_as") == login
        if item.wanted.place == "tab":
            assert f'action="{stack.web_url}/b24/placement' in page.text and f"ID={item.item_id} " in page.text
        else:
            assert "Прикрепить платежное поручение" in page.text
    assert live.control_url in guide                          # the control room, as the operations manager
    page = session.get(live.control_url)
    assert page.status_code == 200 and f'action="{stack.web_url}/b24/app?' in page.text
    assert live.accounting_url in guide                       # the accounting view, as the chief accountant
    page = session.get(live.accounting_url)
    assert page.status_code == 200 and session.cookies.get("sandbox_as") == "chief.accountant"
    assert f'action="{stack.web_url}/b24/app?' in page.text
    frozen = next(i for i in live.items if i.wanted.ref == "live-frozen")
    assert "Ждём решения по бюджету выставки" in " ".join(views["payment_requests"].timeline(frozen.item_id))

    head = next(i for i in live.items if i.wanted.ref == "live-head")
    assert live.telegram_linked and live.telegram_url in guide and "(m.orlova)" in guide
    chat = session.get(live.telegram_url)
    assert chat.status_code == 200
    section = chat.text.split(f'id="chat-{live.telegram_chat}"', 1)[1].split("</section>", 1)[0]
    assert f"Согласовать заявку на оплату №{head.item_id}" in section
    assert 'class="tg-button">Согласовать</button>' in section and 'class="tg-button">Отклонить</button>' in section

    # Pressing «Согласовать» on that page goes to the app's webhook as the head's Telegram press would.
    assert stack.bot is not None
    message = next(msg for msg in stack.bot.messages(live.telegram_chat) if msg.buttons())
    data = next(b["callback_data"] for b in message.buttons() if b.get("text") == "Согласовать")
    pressed = session.post(f"{stack.portal.ui_url}telegram/{live.telegram_chat}/{message.message_id}/press",
                           data={"data": data}, allow_redirects=False)
    assert pressed.status_code == 302 and "error" not in pressed.headers["Location"]
    stack.settle()
    assert views["payment_requests"].stage_code(head.item_id) == "FINANCE_REVIEW"
