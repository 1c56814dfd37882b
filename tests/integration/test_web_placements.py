"""The approval tab over real HTTP: a sandbox portal opens it with a person's AUTH_ID, the app asks
that portal who the person is, and decisions go through single-use signed tickets.

The decisions engine is a stub here (installed in ``app.extensions``); the scenario tests cover the
real engine end to end.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
import requests

from b24app.scenario import widget
from b24app.scenario.stack import Stack
from b24app.web.placement_auth import Ticket, Tickets
from b24app.web.placements import ENGINE_KEY
from b24app.workflow.models import Label
from b24sandbox import registry
from b24sandbox.actions import widget_form
from b24sandbox.registry import Call, RestError

ETID = 1100
TAB = f"CRM_DYNAMIC_{ETID}_DETAIL_TAB"
HEAD = 3  # m.orlova in the default organisation


@dataclass(frozen=True)
class Entry:
    step: str
    step_name: Label | None
    decision: str
    decision_name: Label
    by: int
    by_name: str
    on_behalf_of: int | None
    on_behalf_of_name: str | None
    at: str
    reason: str
    via: str


@dataclass
class StubEngine:
    allowed: tuple[str, ...] = ("approve", "reject", "request_documents", "freeze")
    sheets: list[tuple[str, str, int, int]] = field(default_factory=list)
    decisions: list[tuple[Any, ...]] = field(default_factory=list)

    def workflow_for_entity_type(self, deps: Any, member_id: str, entity_type_id: int) -> str | None:
        return "payment_requests" if entity_type_id == ETID else None

    def approval_sheet(self, deps: Any, member_id: str, workflow: str, item_id: int, user_id: int) -> Any:
        self.sheets.append((member_id, workflow, item_id, user_id))
        entry = Entry("", None, "submit", Label("Подана", "Submitted"), 4, "Анна Иванова", None, None,
                      "2026-03-02T10:00:00+03:00", "", "card")
        return _Sheet(item_id, "Реклама <b>VK</b>", Label("Согласование руководителем", "Head approval"),
                      "Марина Орлова", (entry,), self.allowed if user_id == HEAD else ())

    def decide(self, deps: Any, member_id: str, workflow: str, item_id: int, user_id: int, decision: str,
               reason: str | None = None, via: str = "card") -> Any:
        self.decisions.append((member_id, workflow, item_id, user_id, decision, reason, via))
        return _Outcome(True, Label("Заявка согласована.", "The request is approved."))


@dataclass(frozen=True)
class _Sheet:
    item_id: int
    title: str
    stage_name: Label
    approver_name: str
    entries: tuple[Entry, ...]
    allowed: tuple[str, ...]
    stage: str = "HEAD_APPROVAL"
    step_name: Label | None = None
    summary: tuple[tuple[Label, str], ...] = ((Label("Сумма", "Amount"), "150 000 RUB"),)


@dataclass(frozen=True)
class _Outcome:
    ok: bool
    message: Label


@pytest.fixture
def engine(stack: Stack) -> StubEngine:
    stub = StubEngine()
    stack.app.extensions[ENGINE_KEY] = stub
    return stub


@pytest.fixture
def item(stack: Stack) -> int:
    """An item of the smart process, created by a.ivanova (the tab is checked against the portal)."""
    added = registry.invoke(stack.portal.state, "crm.item.add", {"entityTypeId": ETID, "fields": {"title": "x"}}, 4)
    return int(added["item"]["id"])


def frame(stack: Stack, user_id: int, options: dict[str, Any], code: str = TAB,
          lang: str = "ru") -> tuple[str, dict[str, str]]:
    with stack.portal.state.lock:
        url, pairs = widget_form(stack.portal.state, code, user_id, options)
    return url.replace("LANG=ru", f"LANG={lang}"), dict(pairs)


def open_tab(stack: Stack, item: int, changes: dict[str, str]) -> requests.Response:
    url, form = frame(stack, HEAD, {"ID": str(item)})
    form.update(changes)
    return requests.post(url, data=form, timeout=30)


def test_the_tab_identifies_the_person_by_the_posted_token(stack: Stack, engine: StubEngine, item: int) -> None:
    url, form = frame(stack, HEAD, {"ID": str(item)})
    response = requests.post(url, data=form, timeout=30)
    assert response.status_code == 200
    assert engine.sheets == [(stack.member_id, "payment_requests", item, HEAD)]
    page = widget.parse(response.status_code, url, response.text)
    assert set(page.buttons) == {"approve", "reject", "request_documents", "freeze"}
    assert "Реклама &lt;b&gt;VK&lt;/b&gt;" in response.text  # escaped
    assert "Сумма" in page.text and "150 000 RUB" in page.text
    assert form["AUTH_ID"] not in response.text and form["REFRESH_ID"] not in response.text
    user_current = [c for c in stack.portal.calls if c.method == "user.current"]
    assert [c.user_id for c in user_current] == [HEAD]
    item_reads = [c for c in stack.portal.calls if c.method == "crm.item.get" and c.user_id == HEAD]
    assert [(c.auth_kind, c.params.get("id")) for c in item_reads] == [("oauth", item)]  # the person's token


def test_someone_else_sees_no_buttons(stack: Stack, engine: StubEngine, item: int) -> None:
    url, form = frame(stack, 12, {"ID": str(item)})
    page = widget.parse(200, url, requests.post(url, data=form, timeout=30).text)
    assert page.buttons == {} and "Сейчас решение за другим сотрудником" in page.text


@pytest.mark.parametrize("change", [
    {"AUTH_ID": "forged-token-0000000000000000"},
    {"member_id": "0" * 32},
    {"APPLICATION_TOKEN": "not-the-app-token"},
    {"AUTH_ID": ""},
])
def test_untrusted_posts_are_refused(stack: Stack, engine: StubEngine, item: int, change: dict[str, str]) -> None:
    response = open_tab(stack, item, change)
    assert response.status_code == 403
    assert "Не удалось подтвердить пользователя" in response.text
    assert engine.sheets == []


def test_a_domain_other_than_the_installations_is_refused(stack: Stack, engine: StubEngine, item: int) -> None:
    url, form = frame(stack, HEAD, {"ID": str(item)})
    evil = re.sub(r"DOMAIN=[^&]+", "DOMAIN=evil.bitrix24.ru", url)
    assert evil != url
    response = requests.post(evil, data=form, timeout=30)
    assert response.status_code == 403 and engine.sheets == []


def test_a_decision_is_made_once_per_ticket(stack: Stack, engine: StubEngine, item: int) -> None:
    page = widget.open_tab(stack.portal, HEAD, TAB, {"ID": str(item)})
    result = widget.press(page, "approve", None)
    assert (result.status, result.outcome, result.message) == (200, "ok", "Заявка согласована.")
    assert engine.decisions == [(stack.member_id, "payment_requests", item, HEAD, "approve", None, "card")]
    replay = widget.press(page, "approve", None)
    assert replay.status == 403 and "Форма устарела" in replay.message
    assert len(engine.decisions) == 1


def test_reject_needs_a_reason_on_the_server_too(stack: Stack, engine: StubEngine, item: int) -> None:
    page = widget.open_tab(stack.portal, HEAD, TAB, {"ID": str(item)})
    refused = widget.press(page, "reject", "   ")
    assert refused.status == 400 and refused.message == "Укажите причину отклонения."
    assert engine.decisions == []
    done = widget.press(page, "reject", "Счёт выставлен на другое юрлицо")
    assert done.status == 200
    assert engine.decisions[0][4:6] == ("reject", "Счёт выставлен на другое юрлицо")


def test_tampered_or_expired_tickets_are_refused(stack: Stack, engine: StubEngine, item: int) -> None:
    page = widget.open_tab(stack.portal, HEAD, TAB, {"ID": str(item)})
    nonce, expires, signature = page.ticket.split(".")
    forged = widget.press(_with_ticket(page, f"{nonce}.{expires}.{'0' * len(signature)}"), "approve", None)
    assert forged.status == 403
    key = f"b24app:widget:ticket:{nonce}"
    record = json.loads(stack.deps.redis.get(key) or "{}")
    stack.deps.redis.set(key, json.dumps({**record, "user_id": 1}))  # someone rewrites the record
    assert widget.press(page, "approve", None).status == 403
    assert engine.decisions == []
    tickets = Tickets(stack.deps.redis, "secret", ttl=60)
    token = tickets.issue(Ticket("m", 1, "payment_requests", 7, "ru"), now=1000.0)
    assert tickets.check(token, now=1059.0) is not None
    assert tickets.check(token, now=1061.0) is None


def test_the_task_tab_finds_the_item_through_the_task_binding(stack: Stack, engine: StubEngine) -> None:
    state = stack.portal.state
    item = registry.invoke(state, "crm.item.add", {"entityTypeId": ETID, "fields": {"title": "x"}}, 4)["item"]
    task = registry.invoke(state, "tasks.task.add", {"fields": {
        "TITLE": "Согласовать", "RESPONSIBLE_ID": HEAD, "UF_CRM_TASK": [f"T{ETID:x}_{item['id']}"]}}, 1)["task"]
    page = widget.open_tab(stack.portal, HEAD, "TASK_VIEW_TAB", {"taskId": task["id"]})
    assert page.status == 200
    assert engine.sheets == [(stack.member_id, "payment_requests", int(item["id"]), HEAD)]


NOT_VISIBLE = "Заявка или задача не найдена, либо у вас нет к ней доступа в Битрикс24."


def assert_not_shown(response: requests.Response, engine: StubEngine) -> None:
    assert response.status_code == 404
    assert NOT_VISIBLE in response.text
    assert engine.sheets == []                       # the sheet was never read with the app's token
    assert "Реклама" not in response.text and 'name="ticket"' not in response.text


def test_an_item_that_does_not_exist_is_a_404(stack: Stack, engine: StubEngine, item: int) -> None:
    url, form = frame(stack, HEAD, {"ID": str(item + 1000)})
    assert_not_shown(requests.post(url, data=form, timeout=30), engine)


def test_a_smart_process_the_person_cannot_see_is_a_404(stack: Stack, engine: StubEngine, item: int) -> None:
    url, form = frame(stack, HEAD, {"ID": str(item)})
    form["PLACEMENT"] = "CRM_DYNAMIC_1234_DETAIL_TAB"          # a crafted post: another (unknown) type
    assert_not_shown(requests.post(url, data=form, timeout=30), engine)


def test_the_portals_access_denied_is_a_404(stack: Stack, engine: StubEngine, item: int,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """The portal's own permission model decides: here its CRM refuses p.fedorov (12) the item."""
    spec = registry.find("crm.item.get")
    assert spec is not None

    def permissions(call: Call) -> Any:
        if call.user_id == 12:
            raise RestError("ACCESS_DENIED", "Access denied", 400)
        return spec.func(call)

    monkeypatch.setitem(registry.METHODS, "crm.item.get", replace(spec, func=permissions))
    url, form = frame(stack, 12, {"ID": str(item)})
    assert_not_shown(requests.post(url, data=form, timeout=30), engine)
    url, form = frame(stack, HEAD, {"ID": str(item)})
    assert requests.post(url, data=form, timeout=30).status_code == 200   # the head may see it


def test_a_task_the_person_cannot_see_is_a_404(stack: Stack, engine: StubEngine, item: int) -> None:
    task = registry.invoke(stack.portal.state, "tasks.task.add", {"fields": {
        "TITLE": "Согласовать", "RESPONSIBLE_ID": HEAD, "UF_CRM_TASK": [f"T{ETID:x}_{item}"]}}, 1)["task"]
    url, form = frame(stack, 12, {"taskId": task["id"]}, code="TASK_VIEW_TAB")   # p.fedorov: not a member
    assert_not_shown(requests.post(url, data=form, timeout=30), engine)
    url, form = frame(stack, HEAD, {"taskId": str(int(task["id"]) + 1000)}, code="TASK_VIEW_TAB")
    assert_not_shown(requests.post(url, data=form, timeout=30), engine)


def test_english_on_request(stack: Stack, engine: StubEngine, item: int) -> None:
    url, form = frame(stack, HEAD, {"ID": str(item)}, lang="en")
    page = widget.parse(200, url, requests.post(url, data=form, timeout=30).text)
    assert "Approval sheet" in page.text and "Approve" in page.text and "Head approval" in page.text


def _with_ticket(page: widget.WidgetPage, ticket: str) -> widget.WidgetPage:
    page.buttons = {k: {**v, "ticket": ticket} for k, v in page.buttons.items()}
    return page
