"""What the webhook, the poller and the jobs share: the bot's config, Redis, clock and the action registry.

``Deps.telegram`` (``b24app/deps.py``) builds the one :class:`TelegramRuntime` of a process; nothing else
constructs it (tests may attach a double of it with ``b24app.web.telegram.init_telegram``). This module
never imports ``b24app.deps``, so the composition root can import it.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

from redis import Redis
from rq import Queue

from b24app.notify.telegram import Outbox
from b24app.telegram.callbacks import ActionRegistry, CallbackStore, actions
from b24app.telegram.config import TelegramConfig
from b24app.telegram.links import Clock, LinkStore, utcnow


@dataclass(frozen=True)
class TelegramRuntime:
    config: TelegramConfig
    redis: Redis
    clock: Clock = utcnow
    registry: ActionRegistry = field(default=actions)

    @property
    def links(self) -> LinkStore:
        return LinkStore(self.redis, self.clock)

    @property
    def callbacks(self) -> CallbackStore:
        return CallbackStore(self.redis, self.clock)

    @property
    def outbox(self) -> Outbox:
        return Outbox(self.redis, self.config)

    def enqueue(self, func: Any, *args: Any) -> None:
        Queue(self.config.queue_name, connection=self.redis).enqueue(func, *args)


def load_action_modules(config: TelegramConfig) -> None:
    """Import the modules that register action handlers (``B24APP_TELEGRAM_ACTION_MODULES``) and call their
    ``register_actions()`` when they have one."""
    for name in config.action_modules:
        module = importlib.import_module(name)
        hook = getattr(module, "register_actions", None)
        if callable(hook):  # registers again what a cleared registry lost (a module is imported only once)
            hook()
