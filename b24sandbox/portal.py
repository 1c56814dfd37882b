"""``SandboxPortal``: a local Bitrix24 portal for tests, benchmarks and the demo.

    with SandboxPortal() as portal:                      # HTTPS on 127.0.0.1, strict mode
        hook = portal.webhook_url("admin")               # https://127.0.0.1:PORT/rest/1/<code>/
        app = portal.install_app(handler_url="http://127.0.0.1:8000/app",
                                 install_url="http://127.0.0.1:8000/install")
        portal.clock.advance(timedelta(minutes=61))      # every access token is now expired
        portal.drain_events()                            # wait for queued event deliveries

See docs/sandbox.md for the whole public API, the fault knobs and the UNVERIFIED switches.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import requests
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from b24sandbox import events as sandbox_events
from b24sandbox import oauth, registry
from b24sandbox.clock import SandboxClock
from b24sandbox.crmaccess import CrmAccess
from b24sandbox.dispatch import CallRecord, Recorder
from b24sandbox.events import EventDispatcher
from b24sandbox.faults import Faults
from b24sandbox.limits import LeakyBucket, OperatingMeter
from b24sandbox.people import People
from b24sandbox.state import PortalState
from b24sandbox.strict import StrictValidator, Violation
from b24sandbox.switches import Switches, switches
from b24sandbox.tls import SandboxCA

if TYPE_CHECKING:
    from b24sandbox.telegram_api import FakeBotApi

log = logging.getLogger(__name__)

#: Seconds each online event waits before delivery: a real portal delivers through a queue (REFERENCE §3.2).
DEFAULT_EVENT_DELAY = 0.1


class _QuietHandler(WSGIRequestHandler):
    """No access log lines: webhook URLs carry secret codes."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


def _quiet_error(request: object, client_address: object) -> None:
    """A client that drops the connection or rejects the certificate is not the portal's problem."""
    log.debug("sandbox portal: connection from %s failed", client_address, exc_info=True)


@dataclass(frozen=True)
class AppCredentials:
    """What a real install hands the app: client credentials, tokens and portal identity."""

    client_id: str
    client_secret: str
    application_token: str
    member_id: str
    domain: str
    tokens: dict[str, Any]
    client_endpoint: str
    server_endpoint: str
    oauth_url: str


class SandboxPortal:
    def __init__(
        self,
        org: str | Path | None = None,
        strict: bool = True,
        tls: bool = True,
        clock: SandboxClock | None = None,
        profile: str = "standard",
        seed: int = 0,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        rate_limit: bool = True,
        ca: SandboxCA | None = None,
        https_required: bool = False,
        unknown_token_error: str = "NO_AUTH_FOUND",
        accept_access_token_param: bool = False,
        accept_bearer: bool = False,
        event_refresh_token: bool = False,
        task_event_handler_id: bool = True,
        delivery_timeout: float = 10.0,
        event_delay: float = DEFAULT_EVENT_DELAY,
        member_id: str | None = None,
    ) -> None:
        self.clock = clock or SandboxClock()
        self.state = PortalState.from_org_file(org, self.clock)
        if member_id:  # several portals from one organisation file (a hosting deployment's test)
            self.state.portal.member_id = member_id
        self.tls = tls
        self.host, self.port = host, port
        self.profile = profile
        self.https_required = https_required
        self.unknown_token_error = unknown_token_error
        self.accept_access_token_param = accept_access_token_param
        self.accept_bearer = accept_bearer
        self.delivery_timeout = delivery_timeout
        self.recorder = Recorder()
        self.strict = StrictValidator(enabled=strict)
        self.limits = LeakyBucket(self.clock, profile, enabled=rate_limit)
        self.operating = OperatingMeter()
        self.faults = Faults(seed)
        self.events = EventDispatcher(self.state, self.faults, self.post_form, refresh_in_auth=event_refresh_token,
                                      task_handler_id=task_event_handler_id, delay=event_delay)
        self._ca = ca
        self._own_ca: SandboxCA | None = None
        oauth.store(self.state).profile = profile
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""
        self._oauth_base = ""
        #: ``host:port`` addresses the portal moved away from: REST calls there get a 302 (``move_domain``).
        self.moved_from: set[str] = set()
        #: The fake Telegram Bot API whose chats the UI shows at ``/sandbox/telegram`` (set by whoever runs one).
        self.telegram: FakeBotApi | None = None

    # --- lifecycle -------------------------------------------------------------------------------

    def start(self) -> SandboxPortal:
        if self._server is not None:
            return self
        registry.load_all()
        context = None
        if self.tls:
            if self._ca is None:
                self._ca = self._own_ca = SandboxCA()
            context = self._ca.server_context()
        self._server = make_server(self.host, self.port, self._wsgi(), threaded=True, ssl_context=context,
                                   request_handler=_QuietHandler)
        self.port = self._server.server_port
        self._server.handle_error = _quiet_error  # type: ignore[method-assign]
        scheme = "https" if self.tls else "http"
        netloc = f"{self.host}:{self.port}"
        self.base_url = self._oauth_base = f"{scheme}://{netloc}"
        self.state.portal.domain = netloc
        oauth.store(self.state).endpoints = oauth.Endpoints(
            client_endpoint=f"{self.base_url}/rest/",
            server_endpoint=f"{self.base_url}/oauth/rest/",
            oauth_domain=netloc,
        )
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="sandbox-portal",
                                        daemon=True)
        self._thread.start()
        self.events.start()
        return self

    def stop(self) -> None:
        self.events.stop()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._own_ca is not None:
            self._own_ca.close()  # the CA this portal made for itself: its temporary folder goes too
            self._ca = self._own_ca = None

    def __enter__(self) -> SandboxPortal:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _wsgi(self) -> Any:
        from b24sandbox.server import PortalApp

        app = PortalApp(self)
        try:
            from b24sandbox.ui import create_ui
        except ImportError:
            return app
        try:
            return DispatcherMiddleware(app, {"/sandbox": create_ui(self)})
        except Exception:  # the UI is optional; a broken UI must not take the REST portal down
            log.exception("sandbox web UI failed to start; serving REST only")
            return app

    # --- addresses -------------------------------------------------------------------------------

    @property
    def ca_bundle(self) -> str | None:
        return self._ca.ca_bundle if self.tls and self._ca else None

    @property
    def oauth_url(self) -> str:
        """The OAuth server's token URL; it stays where it is when the portal moves (``move_domain``)."""
        return f"{self._oauth_base}/oauth/token/"

    @property
    def ui_url(self) -> str:
        return f"{self.base_url}/sandbox/"

    @property
    def domain(self) -> str:
        return self.state.portal.domain

    @property
    def member_id(self) -> str:
        return self.state.portal.member_id

    def webhook_url(self, login: str, scopes: Iterable[str] | None = None) -> str:
        """A new incoming webhook of that user (all scopes unless given), ending with "/"."""
        with self.state.lock:
            user = self.state.user_by_login(login)
            hook = oauth.create_webhook(self.state, user.id, list(scopes) if scopes is not None else None)
        return f"{self.base_url}/rest/{user.id}/{hook.code}/"

    def move_domain(self, host: str = "localhost") -> str:
        """The portal moves to a new address (REFERENCE §1.1, change-domen.md): from now on REST calls to the
        old ``host:port`` are answered with a 302 to the same path on ``host:port`` (the server certificate
        covers ``127.0.0.1``, ``localhost`` and ``::1``), and tokens, refresh answers and events name the new
        ``client_endpoint`` and ``domain``. The OAuth server (``oauth_url``) does not move. Returns the new
        base URL. What the old address answers beyond REST is UNVERIFIED (see docs/sandbox.md)."""
        if self._server is None:
            raise RuntimeError("start the portal before moving it")
        scheme = "https" if self.tls else "http"
        old, new = self.domain, f"{host}:{self.port}"
        if new == old:
            return self.base_url
        with self.state.lock:
            self.moved_from.add(old)
            self.moved_from.discard(new)
            self.base_url = f"{scheme}://{new}"
            self.state.portal.domain = new
            oauth.store(self.state).endpoints.client_endpoint = f"{self.base_url}/rest/"
        return self.base_url

    # --- what happened ---------------------------------------------------------------------------

    @property
    def people(self) -> People:
        """Dismissals and the absence chart (``b24sandbox.people``)."""
        return People(self)

    @property
    def crm_access(self) -> CrmAccess:
        """Per-person read rights on smart-process items (``b24sandbox.crmaccess``)."""
        return CrmAccess(self.state)

    def add_task_field(self, name: str, title: str, type: str = "string", required: bool = False) -> None:
        """A custom task field; a required one makes ``tasks.task.add`` without it fail (``b24sandbox.taskfields``)."""
        from b24sandbox import taskfields

        with self.state.lock:
            taskfields.add_field(self.state, name, title, type, required)

    @property
    def switches(self) -> Switches:
        """Per-portal switches for behaviour the docs leave open (``b24sandbox.switches``)."""
        return switches(self.state)

    @property
    def calls(self) -> list[CallRecord]:
        return self.recorder.calls

    @property
    def violations(self) -> list[Violation]:
        return self.recorder.violations

    @property
    def request_count(self) -> int:
        return self.recorder.request_count

    @property
    def refresh_count(self) -> int:
        return oauth.store(self.state).refresh_count

    @property
    def deliveries(self) -> list[sandbox_events.Delivery]:
        return self.events.deliveries

    def drain_events(self, timeout: float = 5.0) -> bool:
        return self.events.drain(timeout)

    # --- the app ---------------------------------------------------------------------------------

    def install_app(
        self,
        handler_url: str,
        install_url: str | None = None,
        scopes: Iterable[str] | None = None,
        mode: str = "ui",
        finish: bool = True,
        admin_login: str | None = None,
    ) -> AppCredentials:
        """Register a local app and install it as the admin would (see docs/sandbox.md)."""
        from b24sandbox import install

        return install.install(self, handler_url, install_url, list(scopes) if scopes is not None else None,
                               mode, finish, admin_login)

    def finish_install(self) -> None:
        """What ``BX24.installFinish()`` does: the app becomes installed and events start flowing."""
        from b24sandbox import install

        install.finish(self)

    def uninstall_app(self, clean: bool = True) -> None:
        from b24sandbox import install

        install.uninstall(self, clean)

    def expire_tokens(self) -> None:
        with self.state.lock:
            oauth.expire_tokens(self.state)

    def as_user(self, login: str) -> Any:
        from b24sandbox.actions import UserActions

        return UserActions(self, self.state.user_by_login(login))

    def as_automation(self, login: str = "admin") -> Any:
        """An automation rule (robot) or agent acting with ``login``'s rights: the same actions as
        ``as_user``, but the events they cause carry no tokens (REFERENCE §3.2)."""
        from b24sandbox.actions import AutomationActions

        return AutomationActions(self, self.state.user_by_login(login))

    # --- outgoing HTTP ---------------------------------------------------------------------------

    def post_form(self, url: str, pairs: list[tuple[str, str]] | dict[str, Any]) -> int:
        """POST form-encoded data as the portal does (events, install callbacks, placements)."""
        data = pairs if isinstance(pairs, list) else list(pairs.items())
        response = requests.post(url, data=data, timeout=self.delivery_timeout, verify=self.ca_bundle or True,
                                 headers={"User-Agent": "Bitrix24 Webhook Engine (sandbox)"})
        return response.status_code

    def frame_url(self, url: str) -> str:
        """``url`` with the query string an app page gets (DOMAIN, PROTOCOL, LANG, APP_SID)."""
        query = urlencode({"DOMAIN": self.domain, "PROTOCOL": "1" if self.tls else "0",
                           "LANG": self.state.portal.language, "APP_SID": secrets.token_hex(16)})
        return f"{url}{'&' if '?' in url else '?'}{query}"
