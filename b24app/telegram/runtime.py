"""What the webhook, the poller and the jobs share: settings, Redis, clock and the action registry."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

from redis import Redis
from rq import Queue, get_current_job

from b24app.notify.telegram import Outbox, remove_buttons
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


def job_runtime() -> TelegramRuntime:
    """The runtime inside an RQ job: the job's Redis, settings from the environment, actions imported."""
    job = get_current_job()
    if job is None:
        raise RuntimeError("job_runtime() is only available inside an RQ job")
    config = process_config()
    load_action_modules(config)
    return TelegramRuntime(config=config, redis=job.connection)


def load_action_modules(config: TelegramConfig) -> None:
    """Import the modules that register action handlers (``B24APP_TELEGRAM_ACTION_MODULES``) and call their
    ``register_actions()`` when they have one."""
    for name in config.action_modules:
        module = importlib.import_module(name)
        hook = getattr(module, "register_actions", None)
        if callable(hook):  # registers again what a cleared registry lost (a module is imported only once)
            hook()


def process_config() -> TelegramConfig:
    """In workers and CLI commands: the app's Settings (environment and ``.env``), else the environment."""
    from b24app.deps import current
    from b24app.errors import SettingsError

    try:
        return TelegramConfig.from_settings(current().settings)
    except SettingsError:
        return TelegramConfig.from_env()


def dispatch_outbox() -> None:
    """RQ job: drain the outboxes at the allowed pace (one runs at a time; ``Outbox.put`` starts it)."""
    job = get_current_job()
    if job is None:
        raise RuntimeError("dispatch_outbox runs as an RQ job")
    Outbox(job.connection, process_config()).dispatch()


def remove_buttons_job(messages: list[list[int]]) -> None:
    """RQ job form of ``remove_buttons`` (``[[chat_id, message_id], ...]``), queued by the engine's handlers."""
    remove_buttons(process_config(), [(int(c), int(m)) for c, m in messages])
