"""Telegram as the people of a scenario use it, through the fake Bot API and the app's real webhook.

:class:`TelegramPeople` links a person's chat (the deep link comes from the approval tab's «Подключить
Telegram» button, or before the first request from the app's page ``/telegram/link``; the person then
sends ``/start <token>``), presses «Согласовать» / «Отклонить» on the person's last approval message
about the request (a reject then answers the bot's question with the reason), and tells what each person
received since a :meth:`mark` — for ``expect: telegram``. Every person has a fixed chat id
(``CHAT_BASE`` + Bitrix24 user id), linked or not.

Which message a press uses: the person's last message about the request showing that button; else the
person's last one that showed it before the app took its buttons off (a client still showing the old
keyboard — :meth:`remember` notes every keyboard after each step); else the last one sent to anyone
(its button pressed from this person's account, as a crafted callback would be).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests

from b24app.scenario import model as m
from b24app.scenario import widget
from b24app.scenario.actions import Done, ScenarioError
from b24app.scenario.view import PortalView
from b24app.telegram.links import LinkStore
from b24sandbox.actions import widget_form
from b24sandbox.telegram_api import FakeBotApi, SentMessage

CHAT_BASE = 700_000_000
BUTTONS = {"approve": "Согласовать", "reject": "Отклонить"}
NO_REASON = "   "          # what "no reason" is in a chat: a blank message
_DEEP_LINK = re.compile(r"https://t\.me/[A-Za-z0-9_]+\?start=([A-Za-z0-9_-]{1,64})")
TIMEOUT = 60


@dataclass(frozen=True)
class TgMark:
    """How far the person's chats were read: messages sent, and the edits each had, at that moment."""

    sent: int
    edits: dict[tuple[int, int], int]


class TelegramPeople:
    def __init__(self, bot: FakeBotApi, view: PortalView, links: LinkStore, web_url: str,
                 settle: Callable[[], Any]) -> None:
        self.bot = bot
        self.view = view
        self.links = links
        self.web_url = web_url
        self.settle = settle
        self.keyboards: dict[tuple[int, int], list[dict[str, Any]]] = {}

    # --- people and chats ------------------------------------------------------------------------

    def chat(self, login: str) -> int:
        chat_id = CHAT_BASE + self.view.user_id(login)
        self.bot.user(chat_id, first_name=self.view.state.user_by_login(login).full_name)
        return chat_id

    def linked(self, login: str) -> bool:
        link = self.links.for_user(self.view.portal.member_id, self.view.user_id(login))
        return bool(link and link.active and link.chat_id == self.chat(login))

    # --- link_telegram ----------------------------------------------------------------------------

    def link(self, action: m.Action, item_id: int | None) -> Done:
        deep_link, where = self._deep_link(action.login, item_id)
        found = _DEEP_LINK.fullmatch(deep_link)
        if found is None:
            return Done(True, f"no deep link in {where}: {deep_link or 'nothing shown'}")
        chat = self.chat(action.login)
        self.bot.send_text(chat, f"/start {found.group(1)}")
        self.settle()
        answer = self.bot.last_message(chat).text
        if not self.linked(action.login):
            return Done(True, f"/start did not link the chat: «{answer}»")
        return Done(False, f"linked Telegram chat {chat} through {where}: «{answer}»")

    def _deep_link(self, login: str, item_id: int | None) -> tuple[str, str]:
        user = self.view.user_id(login)
        placement = f"CRM_DYNAMIC_{self.view.etid}_DETAIL_TAB"
        if item_id is not None:
            page = widget.open_tab(self.view.portal, user, placement, {"ID": item_id})
            if page.status != 200 or page.telegram is None:
                raise ScenarioError(f"the approval tab of request #{item_id} shows {login} no «Подключить "
                                    f"Telegram» button (HTTP {page.status}): {page.message or page.text[:200]}")
            shown = widget.link_telegram(page)
            return shown.deep_link, f"the approval tab (HTTP {shown.status})"
        state = self.view.state
        with state.lock:
            url, pairs = widget_form(state, placement, user, {}, self.view.portal.base_url.startswith("https:"))
        query = url.split("?", 1)[1] if "?" in url else ""
        response = requests.post(f"{self.web_url}/telegram/link?{query}", data=pairs, timeout=TIMEOUT)
        found = re.search(r'id="deep-link" href="([^"]+)"', response.text)
        return (found.group(1) if found else ""), f"the app's Telegram page (HTTP {response.status_code})"

    # --- approve / reject via telegram -----------------------------------------------------------

    def decide(self, action: m.Action, item_id: int) -> Done:
        button = BUTTONS[action.kind]
        chat = self.chat(action.login)
        message, whose = self._message(chat, item_id, button, action.login)
        buttons = message.buttons() or self.keyboards.get((message.chat_id, message.message_id), [])
        data = next(str(b["callback_data"]) for b in buttons if b.get("text") == button)
        before = self._state(item_id)
        mark = self.mark()
        answers = len(self.bot.answers)
        self.bot.press(message.chat_id, message.message_id, data=data, from_id=chat)
        self.settle()
        if action.kind == "reject":
            prompt = self._prompt(chat, mark)
            if prompt is not None:
                self.bot.send_text(chat, action.reason or NO_REASON, reply_to=prompt.message_id)
                self.settle()
        said = [str(a.get("text") or "") for a in self.bot.answers[answers:]]
        said += [msg.text for msg in self.since(mark, chat) if msg.message_id != message.message_id]
        text = " | ".join(t for t in said if t) or "no answer"
        return Done(self._state(item_id) == before, f"«{button}» in Telegram{whose}: {text}")

    def _message(self, chat: int, item_id: int, button: str, login: str) -> tuple[SentMessage, str]:
        """The message whose button is pressed, and how it is described (see the module's notes)."""
        self.remember()
        about = [msg for msg in list(self.bot.sent) if _about(msg, item_id)]
        mine = [msg for msg in about if msg.chat_id == chat]
        live = [msg for msg in mine if _has_button(msg.buttons(), button)]
        if live:
            return live[-1], ""
        old = [msg for msg in mine if _has_button(self.keyboards.get((chat, msg.message_id), []), button)]
        if old:
            return old[-1], " (an old keyboard: the app had taken those buttons off)"
        anyone = [msg for msg in about if _has_button(msg.buttons(), button)]
        if anyone:
            owner = self.view.login(anyone[-1].chat_id - CHAT_BASE)
            return anyone[-1], f" ({owner}'s button, pressed from {login}'s account)"
        got = "".join(f"\n      {_describe(msg)}" for msg in self.bot.messages(chat)) or "\n      (nothing)"
        linked = "" if self.linked(login) else " (not linked)"
        raise ScenarioError(f"no Telegram message about request #{item_id} has a «{button}» button; "
                            f"{login}{linked} got:{got}")

    def remember(self) -> None:
        """Note every keyboard on show, so a later press can use one the app has taken off since."""
        for msg in list(self.bot.sent):
            if msg.buttons():
                self.keyboards[(msg.chat_id, msg.message_id)] = msg.buttons()

    def _prompt(self, chat: int, mark: TgMark) -> SentMessage | None:
        asked = [msg for msg in self.since(mark, chat) if (msg.reply_markup or {}).get("force_reply")]
        return asked[-1] if asked else None

    def _state(self, item_id: int) -> tuple[str, str]:
        """What a decision changes: the stage and the approval log."""
        values = self.view.values(item_id)
        return self.view.stage_code(item_id), repr(values.get(self.view.uf("DECISIONS")))

    # --- what people received --------------------------------------------------------------------

    def mark(self) -> TgMark:
        self.remember()
        sent = list(self.bot.sent)
        return TgMark(len(sent), {(msg.chat_id, msg.message_id): len(msg.edits) for msg in sent})

    def since(self, mark: TgMark, chat: int) -> list[SentMessage]:
        """Messages to ``chat`` sent or edited after ``mark``."""
        return [msg for i, msg in enumerate(list(self.bot.sent)) if msg.chat_id == chat
                and (i >= mark.sent or len(msg.edits) > mark.edits.get((msg.chat_id, msg.message_id), 0))]


def _describe(message: SentMessage) -> str:
    buttons = ", ".join(str(b.get("text")) for b in message.buttons())
    text = message.text.replace("\n", " ⏎ ")
    return f"«{text}»" + (f" [{buttons}]" if buttons else " [no buttons]")


def _about(message: SentMessage, item_id: int) -> bool:
    marker = f"/details/{item_id}/"
    return marker in message.text or any(marker in str(b.get("url") or "") for b in message.buttons())


def _has_button(buttons: list[dict[str, Any]], text: str) -> bool:
    return any(b.get("text") == text and "callback_data" in b for b in buttons)


def check(wanted: tuple[m.TelegramExpectation, ...], people: TelegramPeople | None, mark: TgMark | None,
          ) -> list[str]:
    """``expect: telegram`` / ``not_telegram``: the problems found (empty = met)."""
    if not wanted:
        return []
    if people is None or mark is None:
        return ["telegram: Telegram is not running in this stack"]
    problems: list[str] = []
    for expectation in wanted:
        problems += _check_one(expectation, people, mark)
    return problems


def _check_one(wanted: m.TelegramExpectation, people: TelegramPeople, mark: TgMark) -> list[str]:
    got = people.since(mark, people.chat(wanted.login))
    matching = [msg for msg in got if _has_words(msg.text, wanted.words)
                and (wanted.buttons is None or [str(b.get("text")) for b in msg.buttons()] == list(wanted.buttons))]
    about = f" containing «{' … '.join(wanted.words)}»" if wanted.words else ""
    if wanted.buttons is not None:
        about += f" with the buttons [{', '.join(wanted.buttons)}]"
    linked = "" if people.linked(wanted.login) else " (not linked)"
    listing = "".join(f"\n      {_describe(msg)}" for msg in got) or "\n      (nothing)"
    who = f"{wanted.login}{linked}"
    if wanted.absent:
        return [f"not_telegram: {who} got {len(matching)} Telegram message(s){about}; since the last expect "
                f"{wanted.login} got:{listing}"] if matching else []
    if wanted.count is None and not matching:
        return [f"telegram: {who} got no Telegram message{about}; since the last expect {wanted.login} got:{listing}"]
    if wanted.count is not None and len(matching) != wanted.count:
        return [f"telegram: expected {wanted.count} Telegram message(s) to {who}{about}, got {len(matching)}:"
                f"{listing}"]
    return []


def _has_words(text: str, words: tuple[str, ...]) -> bool:
    folded = text.casefold().replace("ё", "е")
    return all(w.casefold().replace("ё", "е") in folded for w in words)
