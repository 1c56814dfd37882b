"""The sandbox portal's HTTP face: a WSGI application served by werkzeug's threaded server.

Routes (REFERENCE §1.1):

* ``/rest/{user_id}/{code}/{method}[.json]`` — incoming webhook of that user;
* ``/rest/{method}[.json]`` with ``auth=<access_token>`` in the query or body — OAuth;
* ``/oauth/token/`` — the OAuth server's token endpoint (``grant_type=refresh_token``);
* ``/sandbox/`` — the web UI (``b24sandbox.ui.create_ui``), when present.

Parameters come from the query string and the body (JSON, form-urlencoded with PHP bracket keys, or
multipart); body values win over query values as in PHP's ``$_REQUEST``. Method names are matched
case-insensitively.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Request, Response

from b24sandbox import oauth, phpquery
from b24sandbox.dispatch import CallRecord, Outcome, execute, time_block
from b24sandbox.faults import RawFault
from b24sandbox.localise import localise
from b24sandbox.registry import RestError

if TYPE_CHECKING:
    from b24sandbox.portal import SandboxPortal

#: File links of crm.item file fields (REFERENCE §6.5): ``urlMachine`` (token + ``auth``) and ``url``
#: (the browser link, ``fileId``; a browser session there — here an ``auth`` token — is required).
FILE_ROUTES = ("/rest/crm.controller.item.getfile.json", "/bitrix/services/main/ajax.php")
#: Drive ``DOWNLOAD_URL`` (REFERENCE §10): ``/rest/download.json?auth=...&token=disk|<id>``.
DISK_ROUTE = "/rest/download.json"
#: What a ``urlMachine`` download is recorded as in ``calls``.
FILE_METHOD = "crm.controller.item.getFile"
#: The browser's portal session: the UI's "act as" cookie (``b24sandbox.ui.COOKIE``).
SESSION_COOKIE = "sandbox_as"
ROUTE = re.compile(r"^/rest/(?:(?P<uid>\d+)/(?P<code>[^/]+)/)?(?P<method>[^/]+?)(?:\.json)?/?$")


class PortalApp:
    """WSGI entry point of one :class:`SandboxPortal`."""

    def __init__(self, portal: SandboxPortal) -> None:
        self.portal = portal

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        path = request.path
        if path.lower().rstrip("/") in FILE_ROUTES:
            response = self.file(request)
        elif path.lower().rstrip("/") == DISK_ROUTE:
            response = self.disk_file(request)
        elif path.startswith("/rest/"):
            response = self.rest(request)
        elif path.rstrip("/") == "/oauth/token":
            response = self.token(request)
        elif path in ("", "/"):
            response = Response(f"b24app sandbox portal {self.portal.state.portal.domain}: REST at /rest/, UI at /sandbox/\n",
                                mimetype="text/plain")
        else:
            response = _json({"error": "NOT_FOUND", "error_description": "Not found"}, 404)
        return response(environ, start_response)

    # --- REST -----------------------------------------------------------------------------------

    def rest(self, request: Request) -> Response:
        portal = self.portal
        portal.recorder.count_request()
        if request.host in portal.moved_from:
            return moved(portal.base_url, request)
        match = ROUTE.match(request.path)
        method = match.group("method") if match else request.path.removeprefix("/rest/")
        try:
            params = read_params(request)
        except ValueError as exc:
            return self._refuse(method, {}, RestError("INVALID_REQUEST", str(exc), 400))
        if portal.https_required and request.scheme != "https":
            return self._refuse(method, params, RestError("INVALID_REQUEST", "Https required", 400))
        if not portal.limits.hit(request.remote_addr or "-"):
            return self._refuse(method, params, RestError("QUERY_LIMIT_EXCEEDED", "Too many requests", 503))
        fault = portal.faults.take_request_fault(method)
        if isinstance(fault, RawFault):
            self._record(method, params, fault.status, "RAW_FAULT")
            return Response(fault.body, status=fault.status, mimetype="text/html")
        if fault is not None:
            return self._refuse(method, params, fault)
        if match is None:
            return self._refuse(method, params, RestError("ERROR_METHOD_NOT_FOUND", "Method not found!", 404))
        try:
            who = self._authenticate(request, match, params)
        except RestError as exc:
            return self._refuse(method, params, exc)
        params.pop("auth", None)
        return envelope(portal, execute(portal, who, method, params))

    def _authenticate(self, request: Request, match: re.Match[str], params: dict[str, Any]) -> oauth.Principal:
        state = self.portal.state
        with state.lock:
            if match.group("uid"):
                return oauth.authenticate_webhook(state, int(match.group("uid")), match.group("code"))
            token = params.get("auth")
            if not token and self.portal.accept_access_token_param:
                token = params.pop("access_token", None)
            header = request.headers.get("Authorization", "")
            if not token and self.portal.accept_bearer and header.lower().startswith("bearer "):
                token = header[7:].strip()
            who = oauth.authenticate_token(state, token if isinstance(token, str) else None,
                                           self.portal.unknown_token_error)
            user = state.users.get(who.user_id)
            if user is None or not user.active:  # a deactivated person cannot sign in (b24sandbox.people)
                raise RestError("NO_AUTH_FOUND", "Wrong authorization data", 401)
            return who

    def _refuse(self, method: str, params: dict[str, Any], error: RestError) -> Response:
        self._record(method, params, error.status, error.error)
        return _json(localise(self.portal.state, error.body()), error.status)

    def _record(self, method: str, params: dict[str, Any], status: int, error: str | int) -> None:
        public = {k: v for k, v in params.items() if k not in ("auth", "access_token")}
        self.portal.recorder.record(
            CallRecord(method, public, None, None, self.portal.clock.timestamp(), status, error))

    # --- files ------------------------------------------------------------------------------------

    def file(self, request: Request) -> Response:
        """Download a crm.item file field value (REFERENCE §6.5).

        ``urlMachine`` (``/rest/crm.controller.item.getFile.json``) is a REST request: counted in
        ``request_count``, subject to the leaky bucket and recorded in ``calls`` as
        ``crm.controller.item.getFile`` (whether a real portal counts it is UNVERIFIED); it needs a valid
        access token, then the file's token. ``url`` (``ajax.php``) is the browser link: it opens for the
        browser's portal session — the UI's "act as" person (cookie ``sandbox_as``), who must be active —
        or for an access token, and is not a REST request."""
        from b24sandbox.crmstore import file_by_id, file_by_token

        def find() -> Any:
            if request.args.get("token"):
                return file_by_token(self.portal.state, request.args["token"])
            file_id = request.args.get("fileId", "")
            return file_by_id(self.portal.state, int(file_id)) if file_id.isdigit() else None

        if request.path.lower().startswith("/rest/"):
            self.portal.recorder.count_request()
            if not self.portal.limits.hit(request.remote_addr or "-"):
                return self._refuse(FILE_METHOD, {}, RestError("QUERY_LIMIT_EXCEEDED", "Too many requests", 503))
            return self._download(request, find, "NOT_FOUND", record=FILE_METHOD)
        if request.cookies.get(SESSION_COOKIE) and not request.args.get("auth"):
            return self._browser_download(request, find)
        return self._download(request, find, "NOT_FOUND")

    def _browser_download(self, request: Request, find: Callable[[], Any]) -> Response:
        """``url`` opened in a browser signed in to the portal (the sandbox UI's acting person)."""
        state = self.portal.state
        with state.lock:
            user = next((u for u in state.users.values() if u.login == request.cookies.get(SESSION_COOKIE)), None)
            stored = find() if user is not None and user.active else None
        if user is None or not user.active:
            return Response("Access denied", status=403, mimetype="text/plain")
        if stored is None:
            return Response("File not found", status=404, mimetype="text/plain")
        return download(stored.name, stored.content)

    def disk_file(self, request: Request) -> Response:
        """Download a Drive file by its ``DOWNLOAD_URL``: a valid access token, then ``token=disk|<id>``."""
        from b24sandbox.diskstore import file_by_token

        return self._download(request, lambda: file_by_token(self.portal.state, request.args.get("token", "")),
                              "ERROR_NOT_FOUND")

    def _download(self, request: Request, find: Callable[[], Any], not_found: str, record: str = "") -> Response:
        """The file ``find`` names (under the state lock), once the request's access token is valid;
        with ``record``, the request is recorded under that method name."""
        state = self.portal.state
        file_id = request.args.get("fileId", "")
        with state.lock:
            try:
                who = oauth.authenticate_token(state, request.args.get("auth"), self.portal.unknown_token_error)
            except RestError as exc:
                if record:
                    self._record(record, {}, exc.status, exc.error)
                return _json(exc.body(), exc.status)
            stored = find()
        if record:
            self.portal.recorder.record(CallRecord(
                record, {"fileId": stored.id if stored else file_id}, who.user_id, who.kind,
                self.portal.clock.timestamp(), 200 if stored else 404, None if stored else not_found))
        if stored is None:
            return _json({"error": not_found, "error_description": "File not found"}, 404)
        return download(stored.name, stored.content)

    # --- OAuth server ------------------------------------------------------------------------------

    def token(self, request: Request) -> Response:
        params = {k: v for k, v in request.values.items()}
        fault = self.portal.faults.take_request_fault("oauth.token", explicit_only=True)
        if isinstance(fault, RawFault):
            return Response(fault.body, status=fault.status, mimetype="text/html")
        if fault is not None:
            return _json(fault.body(), fault.status)
        with self.portal.state.lock:
            status, body = oauth.refresh_tokens(self.portal.state, params)
        return _json(body, status)


def moved(base_url: str, request: Request) -> Response:
    """The old address of a moved portal: 302 to the same path and query on the new one (an HTML body,
    as a web server sends; the request is not run)."""
    query = request.query_string.decode("latin-1")
    location = f"{base_url}{request.path}{'?' + query if query else ''}"
    body = f'<html><body>Moved to <a href="{location}">{location}</a></body></html>'
    return Response(body, status=302, mimetype="text/html", headers={"Location": location})


def download(name: str, content: bytes) -> Response:
    """A file answer; a non-ASCII name goes into ``filename*`` (RFC 6266) beside an ASCII fallback."""
    fallback = name.encode("ascii", "replace").decode("ascii").replace('"', "")
    disposition = f'attachment; filename="{fallback}"'
    if fallback != name:
        disposition += f"; filename*=UTF-8''{quote(name)}"
    return Response(content, mimetype="application/octet-stream", headers={"Content-Disposition": disposition})


def envelope(portal: SandboxPortal, outcome: Outcome) -> Response:
    if outcome.error is not None:
        return _json(outcome.error, outcome.status)
    body: dict[str, Any] = {"result": outcome.result}
    if outcome.total is not None:
        body["total"] = outcome.total
    if outcome.next is not None:
        body["next"] = outcome.next
    body["time"] = time_block(portal, outcome)
    return _json(body, outcome.status)


def read_params(request: Request) -> dict[str, Any]:
    """Query string plus body, decoded (PHP bracket keys for query and form encodings)."""
    params = phpquery.decode(_pairs(request.args))
    mimetype = request.mimetype
    if mimetype == "application/json" or (not mimetype and request.get_data(cache=True)[:1] in (b"{", b"[")):
        raw = request.get_data(cache=True)
        if raw.strip():
            try:
                body = json.loads(raw)
            except ValueError as exc:
                raise ValueError(f"Invalid JSON body: {exc}") from exc
            if not isinstance(body, dict):
                raise ValueError("JSON body must be an object")
            params.update(body)
    elif mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        pairs = _pairs(request.form)
        for name, upload in request.files.items(multi=True):
            content = base64.b64encode(upload.read()).decode("ascii")
            pairs.extend([(f"{name}[0]", upload.filename or "file"), (f"{name}[1]", content)])
        params.update(phpquery.decode(pairs))
    return params


def _pairs(values: MultiDict[str, str]) -> list[tuple[str, str]]:
    return list(values.items(multi=True))


def _json(body: Any, status: int) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status=status, mimetype="application/json")
