"""The notifiers of one portal, built from ``Deps``: Bitrix24 always, Telegram when a bot token is set.

Every Bitrix24 notice of the app goes through :class:`b24app.notify.base.Bitrix24Notifier` (the item
pipeline builds its commands into its own ``batch``), every Telegram notice through
:class:`b24app.notify.telegram.TelegramNotifier`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from b24app.notify.base import Bitrix24Notifier
from b24app.rest.protocol import Bitrix24
from b24app.texts import common as texts

if TYPE_CHECKING:
    from b24app.deps import Deps
    from b24app.notify.telegram import TelegramNotifier


def bitrix24_notifier(client: Bitrix24) -> Bitrix24Notifier:
    """The notifier of reminders, alerts and the digest (its link opens the request)."""
    return Bitrix24Notifier(client, link_text=texts.OPEN_REQUEST.ru, per_user_tag=True)


def telegram_notifier(deps: Deps, member_id: str) -> TelegramNotifier | None:
    """Telegram copies for people who linked a chat; None without a bot token."""
    from b24app.notify.telegram import TelegramNotifier
    from b24app.telegram.config import TelegramConfig

    config = TelegramConfig.from_settings(deps.settings)
    return TelegramNotifier(member_id, deps.redis, config) if config.enabled else None


def portal_domain(deps: Deps, member_id: str, strict: bool = False) -> str:
    """The portal's domain (for links to items): the installation's, else the webhook's. ``strict`` (the
    sweep, which has just read the portal): an unknown installation raises, and without any "portal";
    otherwise "" (the link is left out)."""
    if member_id and strict:
        return deps.installations.get(member_id).domain
    found = deps.installations.find(member_id) if member_id else None
    if found is not None:
        return found.domain
    from b24app.settings import webhook_parts

    url = deps.settings.webhook_url
    return webhook_parts(url.get_secret_value())[0] if url is not None else ("portal" if strict else "")
