"""The whole system on one machine: sandbox portal, Redis, the web app and an RQ worker.

:class:`Stack` is what the scenario runner and ``b24app demo`` run on. ``start()``:

1. flushes the (private or empty) Redis database and starts a :class:`SandboxPortal` over HTTPS;
2. serves the real Flask app (``create_app``) on loopback with werkzeug, in a thread;
3. installs the app into the sandbox the way an administrator does — the portal POSTs the install
   page to ``/b24/install`` — and gives the app the client id and secret the portal issued;
4. provisions the workflows (smart processes, stages, fields, event and widget bindings);
5. runs the queued jobs (the install job re-binds events and widgets, as after an app update).

With ``telegram=True`` the fake Bot API (:class:`b24sandbox.telegram_api.FakeBotApi`) runs on
loopback too: the app gets its token, secret and bot username, sends through it, and the fake's
webhook is the app's own ``/telegram/webhook`` (with the secret header), so people can link their
chats and press buttons (``stack.bot``). Telegram jobs run on the same worker in :meth:`settle`.

Jobs run on a real RQ worker (:class:`b24app.worker.BurstWorker`, an :class:`rq.SimpleWorker`) against
the real Redis, in the calling thread, in :meth:`settle` — called after every action until the portal
has delivered every event and the queues are empty, so what a scenario checks next is the settled
outcome.
"""

from __future__ import annotations

import importlib
import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis
from flask import Flask
from rq.registry import FailedJobRegistry, ScheduledJobRegistry
from werkzeug.serving import BaseWSGIServer, make_server

from b24app import queue as queues
from b24app.deps import Deps, set_current
from b24app.log import register_secret
from b24app.settings import Settings, load_settings
from b24app.worker import BurstWorker
from b24app.workflow.config import load_org_config
from b24app.workflow.loader import load_workflows
from b24app.workflow.models import Workflow
from b24app.yamlio import ConfigError
from b24sandbox import SandboxPortal
from b24sandbox.clock import SandboxClock
from b24sandbox.telegram_api import FakeBotApi
from b24sandbox.tls import SandboxCA

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
MAX_SETTLE_ROUNDS = 50
#: The webhook secret the fake Bot API sends in ``X-Telegram-Bot-Api-Secret-Token``.
TELEGRAM_SECRET = "scenario-webhook-secret"
#: Pacing for the fake Bot API: fast, but still paced (messages to one chat keep their order).
TELEGRAM_ENV = {"CHAT_INTERVAL": "0.01", "GLOBAL_PER_SECOND": "200", "QUEUE": queues.TELEGRAM}


class StackError(RuntimeError):
    """The stack could not start, or the app failed while running (the message says where)."""


class _LateApp:
    """A WSGI app whose target is set once the Flask app exists (the server must listen first)."""

    def __init__(self) -> None:
        self.app: Any = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self.app(environ, start_response)


@dataclass
class Stack:
    redis_url: str
    clock: SandboxClock
    org: Path | None = None
    ca: SandboxCA | None = None
    strict: bool = True
    rate_limit: bool = False
    telegram: bool = False
    workflows_dir: Path = field(default_factory=lambda: definition_dir("workflows"))
    config_dir: Path = field(default_factory=lambda: definition_dir("config"))
    portal: SandboxPortal = field(init=False)
    deps: Deps = field(init=False)
    app: Flask = field(init=False)
    web_url: str = field(init=False, default="")
    workflows: list[Workflow] = field(init=False, default_factory=list)
    bot: FakeBotApi | None = field(init=False, default=None)
    _server: BaseWSGIServer | None = field(init=False, default=None)
    _thread: threading.Thread | None = field(init=False, default=None)
    _saved_env: dict[str, str | None] = field(init=False, default_factory=dict)
    _errors: list[str] = field(init=False, default_factory=list)

    # --- lifecycle -------------------------------------------------------------------------------

    def start(self) -> Stack:
        self.workflows = self._load_workflows()
        _flush(self.redis_url)
        self.portal = SandboxPortal(self.org, strict=self.strict, tls=True, clock=self.clock, ca=self.ca,
                                    rate_limit=self.rate_limit).start()
        self._set_env("REQUESTS_CA_BUNDLE", self.portal.ca_bundle)
        if self.telegram:
            self._start_bot()
        late = _LateApp()
        self._serve(late)
        self.deps = Deps(self._settings())
        from b24app.web import create_app

        app = self.app = create_app(deps=self.deps)
        late.app = app
        creds = self.portal.install_app(handler_url=f"{self.web_url}/b24/app", install_url=f"{self.web_url}/b24/install")
        register_secret(creds.client_secret)
        self.deps.settings = self._settings(client_id=creds.client_id, client_secret=creds.client_secret)
        app.config["SECRET_KEY"] = creds.client_secret
        set_current(self.deps)
        if self.bot is not None:
            self.bot.call("setWebhook", {"url": f"{self.web_url}/telegram/webhook", "secret_token": TELEGRAM_SECRET})
        # Provision before the install job runs: it re-binds the widgets of the smart processes.
        self.provision()
        self.settle()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=10)
        if hasattr(self, "portal"):
            self.portal.stop()
        if self.bot is not None:
            self.bot.stop()
            self.bot = None
        set_current(None)
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_env.clear()

    def __enter__(self) -> Stack:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- running -----------------------------------------------------------------------------------

    @property
    def member_id(self) -> str:
        return self.portal.member_id

    def provision(self) -> None:
        from b24app.provisioning.apply import provision

        report = provision(self.deps.bitrix(self.member_id), self.workflows, self.web_url, apply=True)
        if not report.ok:
            raise StackError("provisioning the sandbox failed:\n" + str(report))

    def settle(self, timeout: float = 10.0) -> int:
        """Deliver every event and run every job until nothing is left; returns the jobs run."""
        conn = self.deps.redis
        names = queues.ALL_QUEUES
        ran = 0
        for _ in range(MAX_SETTLE_ROUNDS):
            if not self.portal.drain_events(timeout):
                raise StackError(f"the sandbox could not deliver its events within {timeout:g} s "
                                 "(is the web app answering /b24/events?)")
            waiting = sum(self.deps.queue(n).count for n in names)
            if not waiting:
                self._raise_failures(conn)
                return ran
            worker = BurstWorker([self.deps.queue(n) for n in names], connection=conn,
                                  exception_handlers=[self._record_error])
            worker.work(burst=True, logging_level="WARNING", with_scheduler=False)
            ran += waiting
        raise StackError(f"the app did not settle after {MAX_SETTLE_ROUNDS} rounds of events and jobs "
                         "(an event loop between the app's own writes and its handlers?)")

    def tick(self) -> bool:
        """What the 5-minute cron does after the clock moved: run the app's escalation sweep once
        (``b24app.escalation.jobs.sweep_job``, when the app has it) and settle; True when it ran."""
        sweep = _sweep_job()
        if sweep is not None:
            self.deps.queue(queues.DEFAULT).enqueue(sweep)
        self.settle()
        return sweep is not None

    def _record_error(self, job: Any, exc_type: type[BaseException], exc_value: BaseException, tb: Any) -> bool:
        """RQ exception handler: remember what failed (then RQ retries or fails the job as usual)."""
        self._errors.append(f"  {job.func_name}{tuple(job.args)!r}: {exc_type.__name__}: {exc_value}")
        return True

    def _raise_failures(self, conn: redis.Redis) -> None:
        """Report jobs that failed since the last check; drop them so a retry cannot fire later."""
        problems, self._errors = self._errors, []
        for name in queues.ALL_QUEUES:
            for registry in (FailedJobRegistry(name, connection=conn), ScheduledJobRegistry(name, connection=conn)):
                for job_id in registry.get_job_ids():
                    if isinstance(registry, FailedJobRegistry) or _ran_before(self.deps.queue(name).fetch_job(job_id)):
                        registry.remove(job_id, delete_job=True)
        if problems:
            raise StackError("the app failed while handling events:\n" + "\n".join(problems))

    # --- parts -------------------------------------------------------------------------------------

    def _load_workflows(self) -> list[Workflow]:
        org, problems = load_org_config(self.config_dir)
        if problems:
            raise ConfigError(problems)
        return load_workflows(self.workflows_dir, org)

    def _start_bot(self) -> None:
        self.bot = FakeBotApi().start()
        self.portal.telegram = self.bot                          # its chats in the sandbox UI (/sandbox/telegram)
        self._set_env("B24APP_TELEGRAM_BOT_USERNAME", self.bot.username)
        self._set_env("B24APP_TELEGRAM_API_BASE_URL", self.bot.base_url)
        self._set_env("B24APP_TELEGRAM_ACTION_MODULES", None)     # the engine's buttons (the default)
        for name, value in TELEGRAM_ENV.items():
            self._set_env(f"B24APP_TELEGRAM_{name}", value)

    def _serve(self, app: Any) -> None:
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.web_url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="b24app-web",
                                        daemon=True)
        self._thread.start()

    def _settings(self, **extra: Any) -> Settings:
        values: dict[str, Any] = {
            "redis_url": self.redis_url,
            "public_url": self.web_url,
            "oauth_server": self.portal.base_url,
            "workflows_dir": self.workflows_dir,
            "config_dir": self.config_dir,
            "rate_drain": 1000.0,
            "rate_burst": 1000,
            "retry_base_delay": 0.0,
            "webhook_url": "",
            "telegram_token": self.bot.token if self.bot is not None else None,
            "telegram_secret": TELEGRAM_SECRET if self.bot is not None else None,
            **extra,
        }
        return load_settings(env_file=None, **values)

    def _set_env(self, name: str, value: str | None) -> None:
        self._saved_env.setdefault(name, os.environ.get(name))
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def definition_dir(name: str) -> Path:
    """``config`` or ``workflows``: ``B24APP_CONFIG_DIR``/``B24APP_WORKFLOWS_DIR``, else ``./<name>`` when
    it exists (an integrator's checkout), else the one next to this package."""
    configured = os.environ.get(f"B24APP_{name.upper()}_DIR")
    if configured:
        return Path(configured)
    local = Path(name)
    return local if local.is_dir() else ROOT / name


def _flush(url: str) -> None:
    conn = redis.Redis.from_url(url)
    try:
        conn.flushdb()
    finally:
        conn.close()


def _sweep_job() -> Any:
    try:
        module = importlib.import_module("b24app.escalation.jobs")
    except ModuleNotFoundError as exc:
        if exc.name != "b24app.escalation.jobs":
            raise
        return None
    return getattr(module, "sweep_job", None)


def _ran_before(job: Any) -> bool:
    """A scheduled job that already ran (and so failed): it waits for a retry."""
    return job is not None and job.started_at is not None
