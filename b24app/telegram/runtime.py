"""The Telegram jobs, by the dotted paths that queued jobs name: presses reach their runtime here, the outbox
is drained, buttons are removed. The runtime itself is built by ``Deps.telegram`` (``b24app/telegram/context.py``)."""

from __future__ import annotations

from rq import get_current_job

from b24app.notify.telegram import Outbox, remove_buttons
from b24app.telegram.config import TelegramConfig
from b24app.telegram.context import TelegramRuntime


def job_runtime() -> TelegramRuntime:
    """The runtime inside an RQ job: the process's ``Deps.telegram`` (settings from the environment)."""
    from b24app.deps import current

    if get_current_job() is None:
        raise RuntimeError("job_runtime() is only available inside an RQ job")
    return current().telegram


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
