"""The composition root: builds Redis, stores, queues and Bitrix24 clients from settings.

Web views, jobs and CLI commands receive a :class:`Deps` and never construct adapters themselves.
Jobs run in worker processes and use :func:`current` (built once per process from the environment);
tests and ``create_app`` install their own with :func:`set_current`.
"""

from __future__ import annotations

import hmac
import secrets
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING

import redis
from rq import Queue

from b24app import keys
from b24app import queue as queues
from b24app.auth.credentials import PortalCredentials
from b24app.auth.refresh import TokenRefresher
from b24app.auth.store import InstallationStore
from b24app.errors import PortalNotConfigured
from b24app.log import register_secret
from b24app.rest.client import OAuthAuth, RestClient, RetryPolicy, WebhookAuth
from b24app.rest.pacing import Pacer
from b24app.settings import Settings, load_settings, webhook_parts

if TYPE_CHECKING:
    from b24app.telegram.callbacks import ActionRegistry
    from b24app.telegram.context import TelegramRuntime


class Deps:
    """Lazily built adapters for one process; safe to share between threads."""

    def __init__(self, settings: Settings, *, clock: Callable[[], datetime] | None = None,
                 telegram_actions: ActionRegistry | None = None) -> None:
        """``clock`` and ``telegram_actions`` are for tests (a clock they move, a registry of their own);
        by default the real clock and the process-wide action registry."""
        self.settings = settings
        self._clock = clock
        self._telegram_actions = telegram_actions
        self._clients: dict[str, RestClient] = {}
        self._lock = threading.Lock()
        register_secret(*settings.secrets())

    def now(self) -> datetime:
        """This process's clock (the tests' clock when they gave one), timezone-aware."""
        return self._clock() if self._clock is not None else datetime.now(UTC)

    @cached_property
    def redis(self) -> redis.Redis:
        url = self.settings.require_redis()
        return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=10, health_check_interval=30)

    @cached_property
    def app_secret(self) -> bytes:
        """The app's own signing key (widget tickets, the signed approval log, Flask sessions).

        ``B24APP_SECRET_KEY`` when set; else derived from the local app's client secret, so it survives a
        loss of Redis (rotating the client secret then invalidates the signatures: set the key to keep
        them); else — no credentials at all, e.g. a webhook-only setup — generated once and kept in Redis.
        """
        configured = self.settings.secret_key
        if configured is not None and configured.get_secret_value():
            return configured.get_secret_value().encode()
        client_secret = self.settings.client_secret
        if client_secret is not None and client_secret.get_secret_value():
            return hmac.new(client_secret.get_secret_value().encode(), b"b24app app secret", "sha256").hexdigest().encode()
        self.redis.set(keys.APP_SECRET, secrets.token_hex(32), nx=True)
        stored = self.redis.get(keys.APP_SECRET)
        if not stored:
            raise PortalNotConfigured("could not keep the app's secret key in Redis; set B24APP_SECRET_KEY")
        return stored if isinstance(stored, bytes) else stored.encode()

    @cached_property
    def installations(self) -> InstallationStore:
        return InstallationStore(self.redis)

    @cached_property
    def credentials(self) -> PortalCredentials:
        """The client id and secret per portal (the registry) and the deployment's default pair."""
        return PortalCredentials(self.redis, lambda: self.settings)

    @cached_property
    def refresher(self) -> TokenRefresher:
        return TokenRefresher(self.redis, self.installations, self.credentials, on_refused=self._portal_refused)

    def _portal_refused(self, member_id: str, code: str) -> None:
        from b24app.auth.lifecycle import portal_refused

        portal_refused(self, member_id, f"token refresh answered {code}")

    @cached_property
    def telegram(self) -> TelegramRuntime:
        """The Telegram bot's runtime: its config (settings, then ``B24APP_TELEGRAM_*``), this Redis and
        clock, and the action registry, with the action modules imported once (when the bot is on)."""
        from b24app.telegram.config import TelegramConfig
        from b24app.telegram.context import TelegramRuntime, load_action_modules
        from b24app.telegram.links import utcnow

        config = TelegramConfig.from_settings(self.settings)
        if config.enabled:
            load_action_modules(config)  # presses are checked (e.g. "needs a reason") before a worker runs them
        runtime = TelegramRuntime(config=config, redis=self.redis, clock=self._clock or utcnow)
        return runtime if self._telegram_actions is None else replace(runtime, registry=self._telegram_actions)

    def queue(self, name: str = queues.DEFAULT) -> Queue:
        return queues.get_queue(self.redis, name)

    def pacer(self, host: str) -> Pacer | None:
        """The portal's shared bucket; None without Redis (a webhook-only doctor run)."""
        if not self.settings.redis_url:
            return None
        drain, burst = self.settings.rate
        return Pacer(self.redis, host, drain=drain, burst=burst)

    def bitrix(self, member_id: str | None = None) -> RestClient:
        """The client for a portal: by ``member_id`` (OAuth); with no member id (None or "") the webhook's
        portal when ``B24APP_WEBHOOK_URL`` is set, else the only installation."""
        key = member_id or "-"
        with self._lock:
            if key not in self._clients:
                self._clients[key] = self._build_client(member_id)
            return self._clients[key]

    def _build_client(self, member_id: str | None) -> RestClient:
        retry = RetryPolicy(base_delay=self.settings.retry_base_delay)
        if not member_id and self.settings.webhook_url is not None:
            host, user_id, code = webhook_parts(self.settings.webhook_url.get_secret_value())
            return RestClient(WebhookAuth(host, user_id, code), self.pacer(host), retry=retry)
        member_id = member_id or self._only_installation()
        self._prove_held_install(member_id)
        auth = OAuthAuth(self.installations, self.refresher, member_id, self.credentials)
        return RestClient(auth, self.pacer(auth.host), retry=retry)

    def _prove_held_install(self, member_id: str) -> None:
        """An install that arrived before the client credentials were set is proved now (``auth.accept``)."""
        existing = self.installations.find(member_id)
        if existing is None or existing.removed:
            from b24app.auth.accept import promote_pending

            promote_pending(self, member_id)

    def _only_installation(self) -> str:
        from b24app.portal_choice import choose

        return choose(self, None)


_current: Deps | None = None
_current_lock = threading.Lock()


def current() -> Deps:
    """This process's Deps, built from the environment on first use."""
    global _current
    with _current_lock:
        if _current is None:
            _current = Deps(load_settings())
        return _current


def set_current(deps: Deps | None) -> None:
    """Install (or clear, with None) the process-wide Deps."""
    global _current
    with _current_lock:
        _current = deps
