"""The portal's "Developer resources → Other → Local application" form in the sandbox UI (``/sandbox/app``).

An administrator fills the handler path, the initial installation path, the scopes and "uses only API",
saves the form and reads the client id and secret (REFERENCE §2.1); "open the app" then installs it as the
person chosen in "act as" (:func:`b24sandbox.install.open_app`). The same two steps are the standalone
sandbox's ``--app-handler-url``/``--app-install-url`` flags and ``POST /sandbox/app/open``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Flask, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from b24sandbox import install, oauth

if TYPE_CHECKING:
    from b24sandbox.portal import SandboxPortal
    from b24sandbox.ui import SandboxUI


def env_lines(portal: SandboxPortal, app: oauth.InstalledApp) -> list[str]:
    """What the integrator exports for ``b24app serve``/``worker``/``provision``/``doctor``."""
    lines = [f"B24APP_CLIENT_ID={app.client_id}", f"B24APP_CLIENT_SECRET={app.client_secret}",
             f"B24APP_OAUTH_SERVER={portal.oauth_url.removesuffix('/oauth/token/')}"]
    if portal.ca_bundle:
        lines.append(f"REQUESTS_CA_BUNDLE={portal.ca_bundle}")
    return lines


def add_routes(app: Flask, ui: SandboxUI) -> None:
    portal = ui.portal

    @app.get("/app")
    def local_app() -> str:
        registered = oauth.installed_app(ui.state)
        return render_template("localapp.html", app=registered, scopes=sorted(oauth.ALL_SCOPES),
                               defaults=oauth.DEFAULT_SCOPES, error=request.args.get("error"),
                               status=request.args.get("status"),
                               env=env_lines(portal, registered) if registered else [])

    @app.post("/app")
    def save_local_app() -> Response | tuple[str, int]:
        handler = request.form.get("handler_url", "").strip()
        error = _url_problem(handler, "handler path")
        install_url = request.form.get("install_url", "").strip() or None
        error = error or (install_url and _url_problem(install_url, "initial installation path"))
        mode = "api" if request.form.get("api_only") else "ui"
        try:
            if not error:
                install.register(portal, handler, install_url, request.form.getlist("scope"), mode)
        except ValueError as exc:
            error = str(exc)
        if error:
            return render_template("localapp.html", app=None, scopes=sorted(oauth.ALL_SCOPES),
                                   defaults=oauth.DEFAULT_SCOPES, error=error, status=None, env=[]), 400
        return redirect(url_for("local_app"))

    @app.get("/app/page")
    def app_page() -> tuple[str, int] | str:
        """The installed app's own page, as a person opens it from the portal's left menu (REFERENCE
        §2.4): the portal page holds an iframe and posts the frame-open form (``PLACEMENT=DEFAULT``,
        the person's ``AUTH_ID``) to the app's handler path."""
        with ui.state.lock:
            registered = oauth.installed_app(ui.state)
            if registered is None or not registered.installed:
                return render_template("app_page.html", url="", pairs=[], error="no installed app"), 404
            tokens = oauth.issue_user_tokens(ui.state, ui.acting().id)
        pairs = install.frame_pairs(portal, tokens)
        return render_template("app_page.html", url=portal.frame_url(registered.handler_url), pairs=pairs, error="")

    @app.post("/app/open")
    def open_local_app() -> Response | tuple[dict[str, Any], int]:
        try:
            status = install.open_app(portal, ui.acting().login)
        except RuntimeError as exc:
            return {"error": str(exc)}, 409
        installed = bool((registered := oauth.installed_app(ui.state)) and registered.installed)
        if request.accept_mimetypes.best == "application/json" or request.args.get("format") == "json":
            return {"app_status": status, "installed": installed}, 200 if 200 <= status < 300 else 502
        return redirect(url_for("local_app", status=status))


def _url_problem(url: str, what: str) -> str | None:
    if not url.startswith(("http://", "https://")):
        return f"the {what} must be an http(s) URL"
    return None
