"""One small notification protocol and its Bitrix24 implementation.

The engine builds a ``Message`` (Russian text first, English optional, optional decision buttons and a
link to the item) and hands it to every ``Notifier``: Bitrix24 always, Telegram when the person linked
a chat (``b24app.notify.telegram.TelegramNotifier``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from b24app.rest.protocol import Bitrix24, Command
from b24app.texts import common as texts


@dataclass(frozen=True)
class DecisionRef:
    """Which step of which item the action buttons of a message decide."""

    entity_type_id: int
    item_id: int
    step: str


@dataclass(frozen=True)
class Button:
    """An action button (``action`` names a registered handler, e.g. "approve") or a link button (``url``)."""

    text_ru: str
    action: str | None = None
    url: str | None = None
    text_en: str | None = None

    def __post_init__(self) -> None:
        if (self.action is None) == (self.url is None):
            raise ValueError("a button has exactly one of action or url")

    def text(self, lang: str) -> str:
        return self.text_en if lang == "en" and self.text_en else self.text_ru


@dataclass(frozen=True)
class Message:
    """What a person is told. ``tag`` de-duplicates in Bitrix24 (a new message with the same tag replaces it)."""

    text_ru: str
    text_en: str | None = None
    buttons: tuple[Button, ...] = ()
    item_url: str | None = None
    decision: DecisionRef | None = None
    tag: str | None = None

    def __post_init__(self) -> None:
        if any(b.action for b in self.buttons) and self.decision is None:
            raise ValueError("action buttons need a decision reference")

    def text(self, lang: str) -> str:
        return self.text_en if lang == "en" and self.text_en else self.text_ru


class Notifier(Protocol):
    """Tells one person of one portal something. Returns True when the message was handed on."""

    def notify(self, user_id: int, message: Message) -> bool: ...


class Bitrix24Notifier:
    """Sends ``im.notify.system.add`` through the portal client (buttons are for Telegram only): one
    notification with :meth:`notify`, many in ``batch`` requests with :meth:`notify_all`. Every Bitrix24
    notice of the app is built by :func:`bitrix24_command`."""

    def __init__(self, client: Bitrix24, client_id: str | None = None, link_text: str = texts.OPEN_IN_BITRIX24.ru,
                 per_user_tag: bool = False) -> None:
        self._client = client
        self._client_id = client_id  # required by Bitrix24 with TAG when calling through a webhook
        self._link = link_text
        self._per_user = per_user_tag  # the app's own notices: TAG ``{tag}:u{user}``, one per recipient
        self.requests = 0            # ``batch`` requests sent by :meth:`notify_all`

    def command(self, user_id: int, message: Message) -> Command:
        if self._per_user and message.tag:
            message = replace(message, tag=f"{message.tag}:u{user_id}")
        return bitrix24_command(user_id, message, self._link, self._client_id)

    def notify(self, user_id: int, message: Message) -> bool:
        method, params = self.command(user_id, message)
        return self._client.call(method, params) is not False

    def notify_all(self, notes: Sequence[tuple[int, Message]]) -> list[bool]:
        """Many notifications, 50 to a ``batch``; whether the portal accepted each (a failed one is not
        retried here: the caller decides)."""
        if not notes:
            return []
        commands = {f"n{i}": self.command(user, message) for i, (user, message) in enumerate(notes)}
        answer = self._client.batch(commands)
        self.requests += answer.requests
        return [answer.ok(f"n{i}") for i in range(len(notes))]


def bitrix24_command(user_id: int, message: Message, link_text: str = texts.OPEN_IN_BITRIX24.ru,
                     client_id: str | None = None) -> Command:
    """The ``im.notify.system.add`` command of a message: its Russian text, the item's link, a bounded TAG."""
    text = message.text_ru
    if message.item_url:
        text += f"\n[URL={message.item_url}]{link_text}[/URL]"
    params: dict[str, object] = {"USER_ID": user_id, "MESSAGE": text}
    if message.tag:
        params["TAG"] = bounded_tag(message.tag)
        if client_id:
            params["CLIENT_ID"] = client_id
    return "im.notify.system.add", params


class AllNotifiers:
    """Fans one message out to several notifiers; True when at least one handed it on."""

    def __init__(self, notifiers: Sequence[Notifier]) -> None:
        self._notifiers = tuple(notifiers)

    def notify(self, user_id: int, message: Message) -> bool:
        results = [n.notify(user_id, message) for n in self._notifiers]
        return any(results)


def bounded_tag(tag: str) -> str:
    """An im.notify ``TAG``: readable, but bounded (a long tag keeps its start and a hash of the whole)."""
    if len(tag) <= 120:
        return tag
    return tag[:80] + ":" + hashlib.sha256(tag.encode()).hexdigest()[:32]
