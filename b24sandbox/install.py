"""Installing and uninstalling the local app, as an administrator does on a portal (REFERENCE §2.3-2.5).

* ``mode="ui"`` (an app with an interface): with an install path, the portal opens it in the admin's
  browser — a form POST with ``AUTH_ID``, ``REFRESH_ID``, ``APPLICATION_TOKEN``, ``member_id``... to
  ``install_url?DOMAIN=..&PROTOCOL=1&LANG=..&APP_SID=..``; the page registers its handlers
  (``event.bind``...) and calls ``BX24.installFinish()``, which the sandbox simulates afterwards
  unless ``finish=False``. Without an install path the app is installed at once.
* ``mode="api"`` ("uses API only"): the portal POSTs the ONAPPINSTALL-style form server-to-server to
  the install path (or the handler path) and the app is installed immediately.

Once installed, ``ONAPPINSTALL`` goes to handlers bound to it, and other events start flowing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from b24sandbox import events, oauth, phpquery

if TYPE_CHECKING:
    from b24sandbox.portal import AppCredentials, SandboxPortal


def install(portal: SandboxPortal, handler_url: str, install_url: str | None, scopes: list[str] | None,
            mode: str, finish: bool, admin_login: str | None) -> AppCredentials:
    from b24sandbox.portal import AppCredentials

    app = register(portal, handler_url, install_url, scopes, mode)
    state = portal.state
    with state.lock:
        admin = state.user_by_login(admin_login or state.portal.admin_login)
        tokens = oauth.issue_user_tokens(state, admin.id)
    if mode == "api":
        with state.lock:
            app.installed = True
        portal.post_form(install_url or handler_url, install_event_pairs(portal, tokens))
    elif install_url:
        portal.post_form(portal.frame_url(install_url), frame_pairs(portal, tokens))
        if finish:
            _finish(portal, admin.id)
    else:
        _finish(portal, admin.id)
    ends = oauth.store(state).endpoints
    return AppCredentials(app.client_id, app.client_secret, app.application_token, state.portal.member_id,
                          state.portal.domain, tokens, ends.client_endpoint, ends.server_endpoint, portal.oauth_url)


def register(portal: SandboxPortal, handler_url: str, install_url: str | None, scopes: list[str] | None,
             mode: str) -> oauth.InstalledApp:
    """Save the "Local application" form: the app gets its client id and secret, not installed yet."""
    if mode not in ("ui", "api"):
        raise ValueError(f"install mode must be 'ui' or 'api', not {mode!r}")
    unknown = sorted(set(scopes or ()) - oauth.ALL_SCOPES)
    if unknown:
        raise ValueError(f"unknown scopes: {', '.join(unknown)}")
    with portal.state.lock:
        app = oauth.register_app(portal.state, handler_url, install_url, scopes or list(oauth.DEFAULT_SCOPES), mode)
        events.store(portal.state).bindings.clear()  # registrations are wiped on delete or update (§2.3)
    return app


def open_app(portal: SandboxPortal, login: str | None = None) -> int:
    """A person opens the registered app, as a portal administrator does to install it (REFERENCE §2.3).

    An app with an interface: its install path (else the handler path) gets the frame POST in that person's
    browser; a page that answers 2xx calls ``BX24.installFinish()`` (the sandbox does it then) and
    ``ONAPPINSTALL`` goes to the handlers bound by then. An API-only app was installed when saved: it gets
    the ``ONAPPINSTALL``-style form server to server. Returns the HTTP status the app answered.
    """
    state = portal.state
    with state.lock:
        app = oauth.installed_app(state)
        if app is None:
            raise RuntimeError("no local app is registered: save the Local application form first")
        person = state.user_by_login(login or state.portal.admin_login)
        tokens = oauth.issue_user_tokens(state, person.id)
        if app.mode == "api":
            app.installed = True
    if app.mode == "api":
        return portal.post_form(app.install_url or app.handler_url, install_event_pairs(portal, tokens))
    status = portal.post_form(portal.frame_url(app.install_url or app.handler_url), frame_pairs(portal, tokens))
    if 200 <= status < 300 and not app.installed:
        _finish(portal, person.id)
    return status


def finish(portal: SandboxPortal) -> None:
    state = portal.state
    with state.lock:
        app = oauth.installed_app(state)
        if app is None:
            raise RuntimeError("no app to finish installing; call install_app() first")
        admin = state.user_by_login(state.portal.admin_login)
    _finish(portal, admin.id)


def _finish(portal: SandboxPortal, admin_id: int) -> None:
    state = portal.state
    with state.lock:
        app = oauth.installed_app(state)
        assert app is not None
        app.installed = True
        data = {"VERSION": str(app.version), "ACTIVE": "Y", "INSTALLED": "Y", "LANGUAGE_ID": state.portal.language}
        for binding in _bound(state, "ONAPPINSTALL"):
            # ONAPPINSTALL always carries the refresh token (§3.2)
            auth = portal.events.auth_block(admin_id, refresh=True)
            portal.events.send(binding, data, admin_id, auth=auth)


def uninstall(portal: SandboxPortal, clean: bool) -> None:
    """Post ONAPPUNINSTALL to bound handlers (no tokens, §2.5), revoke tokens, wipe bindings."""
    state = portal.state
    with state.lock:
        app = oauth.installed_app(state)
        if app is None:
            return
        ends = oauth.store(state).endpoints
        auth = {"domain": state.portal.domain, "server_endpoint": ends.server_endpoint,
                "client_endpoint": ends.client_endpoint, "member_id": state.portal.member_id,
                "application_token": app.application_token}
        data = {"LANGUAGE_ID": state.portal.language, "CLEAN": 1 if clean else 0}
        for binding in _bound(state, "ONAPPUNINSTALL"):
            portal.events.send(binding, data, None, auth=auth)
        oauth.revoke_all(state)
        events.store(state).bindings.clear()
        app.installed = False
        oauth.store(state).app = None


def _bound(state: Any, event: str) -> list[events.Binding]:
    return [b for b in events.store(state).bindings if b.event == event and not b.offline]


def frame_pairs(portal: SandboxPortal, tokens: dict[str, Any], placement: str = "DEFAULT",
                options: str | None = None) -> list[tuple[str, str]]:
    """The form an app page receives when it opens in a frame (examples/app.frame_open_post.json)."""
    app = oauth.installed_app(portal.state)
    assert app is not None
    pairs = [
        ("AUTH_ID", tokens["access_token"]), ("AUTH_EXPIRES", str(tokens["expires_in"])),
        ("REFRESH_ID", tokens["refresh_token"]), ("SERVER_ENDPOINT", tokens["server_endpoint"]),
        ("APPLICATION_TOKEN", app.application_token), ("APPLICATION_SCOPE", ",".join(app.scopes)),
        ("member_id", portal.member_id), ("status", tokens["status"]), ("PLACEMENT", placement),
    ]
    if options is not None:
        pairs.append(("PLACEMENT_OPTIONS", options))
    return pairs


def install_event_pairs(portal: SandboxPortal, tokens: dict[str, Any]) -> list[tuple[str, str]]:
    """The ONAPPINSTALL-style form of an API-only install (examples/event.ONAPPINSTALL.json)."""
    app = oauth.installed_app(portal.state)
    assert app is not None
    payload = {
        "event": "ONAPPINSTALL",
        "data": {"VERSION": str(app.version), "ACTIVE": "Y", "INSTALLED": "Y",
                 "LANGUAGE_ID": portal.state.portal.language},
        "ts": str(int(portal.clock.timestamp())),
        "auth": {
            "domain": portal.domain, "scope": tokens["scope"], "access_token": tokens["access_token"],
            "refresh_token": tokens["refresh_token"], "expires_in": str(tokens["expires_in"]),
            "server_endpoint": tokens["server_endpoint"], "status": tokens["status"],
            "client_endpoint": tokens["client_endpoint"], "member_id": portal.member_id,
            "application_token": app.application_token,
        },
    }
    return phpquery.flatten(payload)
