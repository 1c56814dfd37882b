"""The sandbox portal's small web UI, mounted at ``/sandbox/``: watch the demo in a browser.

Pages: an index (smart processes, people, the "act as" switch), each smart process as a kanban
(columns = stages in ``SORT`` order, cards with title, amount and assignee; a card can be moved),
each person's tasks and notifications (tasks can be started, paused or completed, files attached), a "new item" card
per smart process (:mod:`b24sandbox.cardform`: the process's fields as provisioned, files included,
created with ``crm.item.add`` as the acting person, so the portal's events fire as for a REST create),
the "Local application" form (:mod:`b24sandbox.localapp`), the «Банк» page (:mod:`b24sandbox.bankui`:
payment orders in, a bank statement out), the fake Telegram Bot API's chats with their
buttons (:mod:`b24sandbox.telegramui`, when one runs next to the portal), and widgets in an iframe (a form posting the frame-open data with the acting user's ``AUTH_ID`` to the
app's handler).
Plain server-rendered HTML. CRM data is read through the same REST method functions as the admin;
changes go through :class:`UserActions` as the person chosen in "act as", so they fire events.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from flask import Flask, abort, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from b24sandbox import bankui, cardform, display, localapp, registry, telegramui
from b24sandbox import taskstore as ts
from b24sandbox.actions import UserActions, WidgetNotBound, widget_form
from b24sandbox.methods import im, placement
from b24sandbox.state import PortalState, User

if TYPE_CHECKING:
    from b24sandbox.portal import SandboxPortal

COOKIE = "sandbox_as"
MAX_UPLOAD = 20 * 1024 * 1024  # bytes per posted card (files included)


def read_all(state: PortalState, method: str, params: dict[str, Any], user_id: int) -> list[Any]:
    """Every row of every page of a list method, read without the transport."""
    spec = registry.find(method)
    if spec is None:
        return []
    rows: list[Any] = []
    start: int | None = 0
    while start is not None:
        with state.lock:
            answer = spec.func(registry.Call(state, spec.name, {**params, "start": start}, user_id, "ui"))
        page = answer if isinstance(answer, registry.Page) else registry.Page(answer)
        rows += _rows(page.result)
        start = page.next
    return rows


def _rows(result: Any) -> list[Any]:
    if isinstance(result, dict):
        for key in ("items", "types", "categories", "tasks"):
            if key in result:
                return list(result[key])
        return []
    return list(result) if isinstance(result, list) else []


def _with_error(url: str, text: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}{urlencode({'error': text})}"


class SandboxUI:
    """The routes' logic, bound to one portal."""

    def __init__(self, portal: SandboxPortal) -> None:
        self.portal = portal
        self.state: PortalState = portal.state

    @property
    def admin_id(self) -> int:
        return self.state.user_by_login(self.state.portal.admin_login).id

    def acting(self) -> User:
        login = request.cookies.get(COOKIE) or self.state.portal.admin_login
        try:
            return self.state.user_by_login(login)
        except KeyError:
            return self.state.user_by_login(self.state.portal.admin_login)

    def types(self) -> list[dict[str, Any]]:
        return read_all(self.state, "crm.type.list", {}, self.admin_id)

    def board(self, entity_type_id: int, category_id: int | None) -> dict[str, Any]:
        categories = read_all(self.state, "crm.category.list", {"entityTypeId": entity_type_id}, self.admin_id)
        if category_id is None:
            default = [c for c in categories if c.get("isDefault") in ("Y", True)] or categories
            category_id = int(default[0]["id"]) if default else 0
        stages = read_all(self.state, "crm.status.list",
                          {"filter": {"ENTITY_ID": f"DYNAMIC_{entity_type_id}_STAGE_{category_id}"}}, self.admin_id)
        stages.sort(key=lambda s: int(s.get("SORT") or 0))
        money_fields = [f.name for f in cardform.card_fields(self.state, entity_type_id) or [] if f.kind == "money"]
        items = read_all(self.state, "crm.item.list", {
            "entityTypeId": entity_type_id, "filter": {"categoryId": category_id},
            "select": ["id", "title", "opportunity", "currencyId", "assignedById", "stageId", "movedTime",
                       *money_fields]}, self.admin_id)
        for item in items:                                  # shown as a person reads them (b24sandbox.display)
            item["amount_text"] = display.card_amount(item, money_fields)
            item["moved_text"] = display.when(item["movedTime"], self.state) if item.get("movedTime") else ""
        columns = [{"stage": s, "cards": [i for i in items if i.get("stageId") == s.get("STATUS_ID")]} for s in stages]
        tabs = placement.handlers_for(self.state, f"CRM_DYNAMIC_{entity_type_id}_DETAIL_TAB")
        return {"categories": categories, "category_id": category_id, "columns": columns, "tabs": tabs}

    def user_page(self, user: User) -> dict[str, Any]:
        acting = self.acting().id
        with self.state.lock:
            tasks = [t for t in ts.store(self.state).tasks.values() if user.id in t.members]
            allowed = {t.id: ts.allowed(self.state, t, acting) for t in tasks}
            notes = list(reversed(im.notifications_for(self.state, user.id)))
            messages = list(reversed(im.messages_for(self.state, user.id)))
        tasks.sort(key=lambda t: t.id, reverse=True)
        return {"tasks": tasks, "allowed": allowed, "notifications": notes, "messages": messages,
                "tabs": placement.handlers_for(self.state, "TASK_VIEW_TAB")}


def create_ui(portal: SandboxPortal) -> Flask:
    """The UI as a Flask (WSGI) app; SANDBOX-CORE mounts it at ``/sandbox/``."""
    app = Flask(__name__, template_folder=str(Path(__file__).with_name("templates")))
    app.config["MAX_CONTENT_LENGTH"] = MAX_UPLOAD
    ui = SandboxUI(portal)

    app.add_template_filter(lambda v: display.when(v, ui.state), "when")
    app.add_template_filter(lambda v: display.binding(v, ui.state), "binding")

    @app.context_processor
    def common() -> dict[str, Any]:
        return {"acting": ui.acting(), "users": sorted(ui.state.users.values(), key=lambda u: u.id),
                "state": ui.state, "status_names": ts.STATUS_NAMES}

    @app.get("/")
    def index() -> str:
        return render_template("index.html", types=ui.types())

    @app.route("/act-as", methods=["GET", "POST"])
    def act_as() -> Response:
        """Choose the person to act as (the header's form; as a GET, the links ``b24app demo --keep`` prints)."""
        nxt = request.values.get("next", "")
        response = redirect(nxt if nxt.startswith("/") and not nxt.startswith("//") else url_for("index"))
        response.set_cookie(COOKIE, request.values.get("login", ""), httponly=True, samesite="Lax")
        return response

    @app.get("/kanban/<int:entity_type_id>")
    def kanban(entity_type_id: int) -> str:
        category = request.args.get("category", type=int)
        title = next((t.get("title") for t in ui.types() if int(t.get("entityTypeId", 0)) == entity_type_id), None)
        if title is None:
            abort(404)
        board = ui.board(entity_type_id, category)
        return render_template("kanban.html", entity_type_id=entity_type_id, title=title,
                               error=request.args.get("error"), created=request.args.get("created", type=int),
                               **board)

    @app.post("/kanban/<int:entity_type_id>/move")
    def move(entity_type_id: int) -> Response:
        target = url_for("kanban", entity_type_id=entity_type_id, category=request.form.get("category"))
        try:
            UserActions(portal, ui.acting()).move_item(
                entity_type_id, int(request.form["item_id"]), request.form["stage_id"])
        except registry.RestError as error:
            return redirect(_with_error(target, error.description))
        return redirect(target)

    @app.route("/kanban/<int:entity_type_id>/new", methods=["GET", "POST"])
    def new_item(entity_type_id: int) -> Response | tuple[str, int]:
        fields = cardform.card_fields(ui.state, entity_type_id)
        title = next((t.get("title") for t in ui.types() if int(t.get("entityTypeId", 0)) == entity_type_id), None)
        if fields is None or title is None:
            abort(404)
        category = request.values.get("category", type=int)
        error = None
        if request.method == "POST":
            values = cardform.item_fields(fields, request.form, request.form.getlist, lambda name: [
                (f.filename or "", f.read()) for f in request.files.getlist(name)])
            if category is not None:
                values["categoryId"] = category
            try:
                item = UserActions(portal, ui.acting()).create_item(entity_type_id, values)
            except registry.RestError as exc:
                error = exc.description
            else:
                return redirect(url_for("kanban", entity_type_id=entity_type_id, category=item.get("categoryId"),
                                        created=item["id"]))
        page = render_template("card.html", entity_type_id=entity_type_id, title=title, fields=fields,
                               category=category, error=error, form=request.form,
                               currencies=cardform.CURRENCIES)
        return page, 400 if error else 200

    @app.get("/user/<login>")
    def user(login: str) -> str:
        try:
            person = ui.state.user_by_login(login)
        except KeyError:
            abort(404)
        return render_template("user.html", person=person, error=request.args.get("error"), **ui.user_page(person))

    @app.post("/task/<int:task_id>/<action>")
    def task_action(task_id: int, action: str) -> Response:
        acting = UserActions(portal, ui.acting())
        handlers = {"start": acting.start_task, "pause": acting.pause_task, "complete": acting.complete_task}
        if action not in handlers:
            abort(404)
        target = request.form.get("next") or url_for("user", login=acting.user.login)
        try:
            handlers[action](task_id)
        except registry.RestError as error:
            return redirect(_with_error(target, error.description))
        return redirect(target)

    @app.post("/task/<int:task_id>/attach")
    def task_attach(task_id: int) -> Response:
        acting = UserActions(portal, ui.acting())
        target = request.form.get("next") or url_for("user", login=acting.user.login)
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            return redirect(_with_error(target, "choose a file to attach"))
        try:
            acting.attach_file_to_task(task_id, upload.filename, upload.read())
        except registry.RestError as error:
            return redirect(_with_error(target, error.description))
        return redirect(target)

    localapp.add_routes(app, ui)
    telegramui.add_routes(app, ui)
    bankui.add_routes(app, ui)

    @app.get("/widget")
    def widget() -> str:
        code = request.args.get("placement", "")
        options = {k: v for k, v in request.args.items() if k != "placement"}
        secure = bool(getattr(portal, "tls", True))
        try:
            with ui.state.lock:
                url, pairs = widget_form(ui.state, code, ui.acting().id, options, secure)
        except WidgetNotBound:
            abort(404)
        return render_template("widget.html", code=code, options=options, url=url, pairs=pairs)

    return app
