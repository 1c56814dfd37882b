"""The approval tab driven over HTTP the way a browser does: open it, read it, press a button.

The tab is opened with the frame-open POST the portal sends when a person opens it
(``b24sandbox.actions.widget_form``, with that person's fresh ``AUTH_ID``). A decision is the
tab's own form posted back — the single-use ticket, the decision and the typed reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin

import requests

from b24sandbox.actions import widget_form
from b24sandbox.portal import SandboxPortal

TIMEOUT = 60


@dataclass
class WidgetPage:
    status: int
    url: str
    buttons: dict[str, dict[str, str]] = field(default_factory=dict)  # decision -> form inputs
    action: str = ""
    ticket: str = ""
    outcome: str = ""          # "ok" / "refused" / ""
    message: str = ""          # the notice shown at the top, or the reason field's error
    stage: str = ""
    approver: str = ""
    text: str = ""             # every visible text, for `contains` checks
    telegram: dict[str, str] | None = None   # the «Подключить Telegram» form's inputs, when shown
    telegram_action: str = ""
    deep_link: str = ""        # the Telegram deep link the tab shows after that button

    def submit_url(self) -> str:
        return urljoin(self.url, self.action or "/b24/placement/decide")


class _Reader(HTMLParser):
    def __init__(self, page: WidgetPage) -> None:
        super().__init__()
        self.page = page
        self._form: dict[str, str] | None = None
        self._capture: str | None = None
        self._skip = 0
        self._texts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag in ("script", "style"):
            self._skip += 1
        elif tag == "form" and "data-decision" in a:
            self._form = {}
            self.page.buttons[a["data-decision"]] = self._form
            self.page.action = a.get("action", "")
        elif tag == "form" and a.get("id") == "telegram-form":
            self._form = self.page.telegram = {}
            self.page.telegram_action = a.get("action", "")
        elif tag == "a" and a.get("id") == "deep-link":
            self.page.deep_link = a.get("href", "")
        elif tag == "input" and self._form is not None and a.get("name"):
            self._form[a["name"]] = a.get("value", "")
        elif tag == "input" and a.get("id") == "ticket":
            self.page.ticket = a.get("value", "")
        elif a.get("id") == "outcome":
            self.page.outcome = a.get("data-outcome", "")
            self._capture = "message"
        elif "data-outcome" in a:
            self.page.outcome = a["data-outcome"]
            self._capture = "message"
        elif "field-error" in a.get("class", ""):
            self._capture = "field_error"
        elif a.get("id") == "stage":
            self.page.stage = a.get("data-stage", "")
        elif a.get("id") == "approver":
            self._capture = "approver"

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)
        elif tag == "form":
            self._form = None
        elif tag in ("p", "div", "dd"):
            self._capture = None

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        text = data.strip()
        if not text:
            return
        self._texts.append(text)
        if self._capture in ("message", "field_error") and not self.page.message:
            self.page.message = text
        elif self._capture == "approver":
            self.page.approver = text

    def close(self) -> None:
        super().close()
        self.page.text = " ".join(self._texts)


def parse(status: int, url: str, html: str) -> WidgetPage:
    page = WidgetPage(status, url)
    reader = _Reader(page)
    reader.feed(html)
    reader.close()
    if not page.ticket and page.buttons:
        page.ticket = next(iter(page.buttons.values())).get("ticket", "")
    return page


def open_tab(portal: SandboxPortal, user_id: int, placement: str, options: dict[str, Any]) -> WidgetPage:
    """Open the tab as ``user_id`` — the frame-open POST of the portal — and read it."""
    with portal.state.lock:
        url, pairs = widget_form(portal.state, placement, user_id, options, portal.base_url.startswith("https:"))
    response = requests.post(url, data=pairs, timeout=TIMEOUT)
    return parse(response.status_code, url, response.text)


def link_telegram(page: WidgetPage) -> WidgetPage:
    """Press «Подключить Telegram»: the tab answers with a one-time deep link (``deep_link``)."""
    if page.telegram is None:
        raise LookupError("the approval tab shows no «Подключить Telegram» button (is Telegram configured?)")
    url = urljoin(page.url, page.telegram_action or "/b24/placement/telegram-link")
    response = requests.post(url, data=page.telegram, timeout=TIMEOUT)
    return parse(response.status_code, url, response.text)


def press(page: WidgetPage, decision: str, reason: str | None) -> WidgetPage:
    """Submit the decision's form (or, with no such button, the same POST a crafted request would send)."""
    inputs = dict(page.buttons.get(decision) or {"ticket": page.ticket, "decision": decision, "lang": "ru"})
    if reason is not None:
        inputs["reason"] = reason
    response = requests.post(page.submit_url(), data=inputs, timeout=TIMEOUT)
    return parse(response.status_code, page.submit_url(), response.text)
