"""Forged widget POSTs cost the portal nothing, or next to nothing: over real HTTP, the sandbox over HTTPS.

A POST without the installation's own ``APPLICATION_TOKEN`` and ``DOMAIN`` is refused before any portal
request; an insider's POSTs with the right token but invented ``AUTH_ID`` values get at most the identity
budget (10 requests) however many they send, and a repeated one is answered from the cache.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import requests

from b24app.scenario.stack import Stack
from b24app.web.identity import BURST
from b24app.web.placements import ENGINE_KEY
from b24sandbox import registry
from b24sandbox.actions import widget_form
from b24sandbox.clock import SandboxClock
from b24sandbox.tls import SandboxCA
from tests.integration.test_web_placements import ETID, HEAD, TAB, StubEngine


@pytest.fixture
def stack(redis_url: str, sandbox_ca: SandboxCA) -> Iterator[Stack]:
    clock = SandboxClock(datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("Europe/Moscow")))
    clock.freeze()
    with Stack(redis_url, clock, ca=sandbox_ca) as running:
        running.app.extensions[ENGINE_KEY] = StubEngine()
        yield running


def _form(stack: Stack, item: int) -> tuple[str, dict[str, str]]:
    with stack.portal.state.lock:
        url, pairs = widget_form(stack.portal.state, TAB, HEAD, {"ID": str(item)})
    return url, dict(pairs)


def _item(stack: Stack) -> int:
    return int(registry.invoke(stack.portal.state, "crm.item.add", {"entityTypeId": ETID, "fields": {"title": "x"}},
                               4)["item"]["id"])


def _flood(url: str, forms: list[dict[str, str]]) -> list[int]:
    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(lambda form: requests.post(url, data=form, timeout=30).status_code, forms))


@pytest.mark.parametrize("drop", ["APPLICATION_TOKEN", "DOMAIN", "wrong APPLICATION_TOKEN", "wrong DOMAIN"])
def test_forged_posts_without_the_installations_token_or_domain_ask_the_portal_nothing(
        stack: Stack, drop: str) -> None:
    url, form = _form(stack, _item(stack))
    if drop == "DOMAIN":
        url = re.sub(r"DOMAIN=[^&]+", "DOMAIN=", url)
    elif drop == "wrong DOMAIN":
        url = re.sub(r"DOMAIN=[^&]+", "DOMAIN=evil.bitrix24.ru", url)
    elif drop == "APPLICATION_TOKEN":
        form.pop("APPLICATION_TOKEN")
    else:
        form["APPLICATION_TOKEN"] = "0" * 32
    before = stack.portal.request_count
    forged = [dict(form, AUTH_ID=secrets.token_hex(16)) for _ in range(50)]
    assert set(_flood(url, forged)) == {403}
    assert stack.portal.request_count == before


def test_an_insiders_flood_gets_the_identity_budget_and_repeats_hit_the_cache(stack: Stack) -> None:
    url, form = _form(stack, _item(stack))
    before = len(stack.portal.calls)
    statuses = _flood(url, [dict(form, AUTH_ID=secrets.token_hex(16)) for _ in range(50)])
    asked = [c for c in stack.portal.calls[before:]]
    assert set(statuses) <= {403, 503} and statuses.count(403) <= BURST
    assert 1 <= len(asked) <= BURST and {c.method for c in asked} == {"user.current"}
    repeated = dict(form, AUTH_ID="forged-but-always-the-same")
    first = len(stack.portal.calls)
    for _ in range(20):
        assert requests.post(url, data=repeated, timeout=30).status_code in (403, 503)
    assert len(stack.portal.calls) - first <= 1  # the refusal is cached


def test_a_genuine_tab_reopened_asks_who_once(stack: Stack) -> None:
    item = _item(stack)
    url, form = _form(stack, item)
    before = len(stack.portal.calls)
    for _ in range(3):
        assert requests.post(url, data=form, timeout=30).status_code == 200
    methods = [c.method for c in stack.portal.calls[before:]]
    assert methods.count("user.current") == 1 and methods.count("crm.item.get") == 3
