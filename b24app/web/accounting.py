"""The accounting view: payment orders to the bank and statements back (issue 18).

A page of the app inside the portal, beside the control room. It opens like the control room: the
frame-open form (the person's ``AUTH_ID``) is POSTed to ``/b24/accounting`` — or to the app's handler
path ``/b24/app``, which shows this view to an accountant who may not see the control room — and the
person is identified exactly as there (:func:`b24app.web.placement_auth.identify`). Only the accountants
(the roles of ``config/bank.yaml``, or whoever stands in for them today) and portal administrators
(``user.admin`` with the person's own token) may open it; everyone else gets a polite 403.

The page carries a signed pass of its own (:class:`b24app.web.pages.Passes`, 30 minutes; portal, person,
language — never the ``AUTH_ID``; a control-room pass does not open it), and every use of it asks the
rule again: a person let in by a role, or standing in for a holder, who no longer is, is refused at once
(an administrator's pass stands for its 30 minutes). Every other route needs that pass:

* ``GET /b24/accounting?pass=...`` — the page again;
* ``GET /b24/accounting/orders?pass=...`` — the payment-order file (cp1251, as the bank client reads it);
* ``POST /b24/accounting/statement`` (multipart: ``pass``, ``statement``) — a statement applied; a
  malformed file is refused with its ``line N:`` errors and changes nothing, a body over
  :data:`STATEMENT_MAX_BYTES` gets a polite 413 page;
* ``POST /b24/accounting/resolve`` (``pass``, ``document``, ``item``) — an ambiguous payment assigned.

The POSTs take the pass from the form body only, so a page elsewhere cannot make an accountant's browser
change anything (the pass is in no cookie). The work itself is :mod:`b24app.bank.service`.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask import Blueprint, Flask, Response, render_template, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import RequestEntityTooLarge

from b24app import keys
from b24app.bank import service
from b24app.bank.model import BankFileError
from b24app.control import read as control
from b24app.deps import Deps
from b24app.errors import B24AppError
from b24app.pipeline.definitions import definitions
from b24app.rest.client import RestClient
from b24app.texts.accounting import texts
from b24app.texts.bank import issue_text, missing_text
from b24app.web.access import may_exchange
from b24app.web.app import ROUTE_LIMITS, get_deps
from b24app.web.pages import Admitted, Passes, admit, lang_of, no_referrer
from b24app.web.placement_auth import Person

log = logging.getLogger(__name__)

bp = Blueprint("accounting", __name__, template_folder="templates")
bp.after_request(no_referrer)

PASSES = Passes("b24app-accounting")
#: The largest statement upload: what ``deploy/nginx.conf`` lets through (about 2 000 bank documents).
STATEMENT_MAX_BYTES = 2 * 1024 * 1024
PAYMENT_STEP = ("payment_requests", "payment")


def init_app(app: Flask, deps: Deps) -> None:
    app.register_blueprint(bp)
    app.config.setdefault(ROUTE_LIMITS, {})["accounting.statement"] = STATEMENT_MAX_BYTES


# -- who may open it ----------------------------------------------------------------------------------

def may_account(deps: Deps, member_id: str, user_id: int, as_user: RestClient) -> bool:
    """An accountant of ``config/bank.yaml`` (or their substitute today), or a portal administrator
    (:func:`b24app.web.access.may_exchange`, the rule ``b24app bank`` applies too)."""
    return may_exchange(deps, member_id, user_id, as_user)


def issue_pass(deps: Deps, person: Person, lang: str) -> str:
    """The accounting view's pass for a person already found to be allowed (:func:`may_account`); it
    says whether they were let in as a portal administrator (``a``) rather than by a role, which every
    use of the pass asks again (:func:`_pass`)."""
    admin = not may_exchange(deps, person.member_id, person.user_id, None)
    return PASSES.issue({"m": person.member_id, "u": person.user_id, "l": lang, "a": admin})


# -- routes -------------------------------------------------------------------------------------------

@bp.post("/b24/accounting")
def open_page() -> ResponseReturnValue:
    lang = lang_of(request.args.get("LANG"))
    deps = get_deps()
    admitted = admit(deps, "accounting view", lambda key, status: message(lang, key, status),
                     lambda person, as_user: may_account(deps, person.member_id, person.user_id, as_user))
    if not isinstance(admitted, Admitted):
        return admitted
    if not admitted.verdict:
        return refuse(admitted.person, lang)
    return page(deps, admitted.person.member_id, issue_pass(deps, admitted.person, lang), lang)


@dataclass(frozen=True)
class Holder:
    """The person a valid pass names, on the route that was asked."""

    deps: Deps
    member_id: str
    user_id: int
    lang: str
    token: str


def with_pass(source: str) -> Callable[[Callable[[Holder], ResponseReturnValue]], Callable[[], ResponseReturnValue]]:
    """A route that needs the view's pass (from the query, or — for a change — from the form body only):
    a missing, stale or no longer valid pass is a 403 before anything is read, a failing portal a 502."""
    def wrap(view: Callable[[Holder], ResponseReturnValue]) -> Callable[[], ResponseReturnValue]:
        @functools.wraps(view)
        def run() -> ResponseReturnValue:
            values = request.form if source == "form" else request.args
            found = _pass(values)
            if found is None:                          # in the page's language: its links and forms name it
                return message(lang_of(values.get("lang") or request.args.get("lang")), "stale", 403)
            member_id, user_id, lang, token = found
            try:
                return view(Holder(get_deps(), member_id, user_id, lang, token))
            except service.BankNotConfigured as exc:
                log.warning("accounting %s: %s", view.__name__, exc)
                return message(lang, "not_configured", 503)
            except B24AppError as exc:
                log.warning("accounting %s: the portal failed: %s", view.__name__, exc)
                return message(lang, "unavailable", 502)
        return run
    return wrap


@bp.get("/b24/accounting")
@with_pass("args")
def again(who: Holder) -> ResponseReturnValue:
    return page(who.deps, who.member_id, who.token, who.lang)


@bp.get("/b24/accounting/orders")
@with_pass("args")
def orders(who: Holder) -> ResponseReturnValue:
    deps, member_id, lang = who.deps, who.member_id, who.lang
    result = service.orders_file(deps, member_id, today=_today(deps, member_id))
    if result.data is None:
        return message(lang, "orders_no_file", 409, title="title")
    log.info("payment-order file for %s downloaded by user %s: requests %s", member_id, who.user_id,
             result.included)
    return Response(result.data, content_type="text/plain; charset=windows-1251",
                    headers={"Content-Disposition": f'attachment; filename="{result.filename}"'})


@bp.post("/b24/accounting/statement")
@with_pass("form")
def statement(who: Holder) -> ResponseReturnValue:
    deps, member_id, lang, token = who.deps, who.member_id, who.lang, who.token
    upload = request.files.get("statement")
    data = upload.read() if upload is not None else b""
    if not data:
        return page(deps, member_id, token, lang, errors=[texts(lang)["statement_empty"]], status=400)
    filename = (upload.filename if upload is not None else "") or "statement.txt"
    known = _payment_rows(deps, member_id)
    try:
        report = service.import_statement(deps, member_id, data, user_id=who.user_id, filename=filename)
    except BankFileError as exc:
        log.info("statement refused for %s (user %s): %s", member_id, who.user_id, exc)
        return page(deps, member_id, token, lang, errors=_lines(exc), status=400)
    deps.redis.delete(keys.control_view(member_id))           # paid requests leave the open lists now
    return page(deps, member_id, token, lang, report=report, known=known)


@bp.post("/b24/accounting/resolve")
@with_pass("form")
def resolve(who: Holder) -> ResponseReturnValue:
    deps, member_id, lang, token = who.deps, who.member_id, who.lang, who.token
    document, item = str(request.form.get("document") or ""), str(request.form.get("item") or "")
    if not document or not item.isdigit():
        return page(deps, member_id, token, lang, errors=[texts(lang)["resolve_incomplete"]], status=400,
                    errors_title="resolve_refused")
    known = _payment_rows(deps, member_id)
    try:
        service.resolve(deps, member_id, document, int(item), user_id=who.user_id)
    except service.ResolveError as exc:
        return page(deps, member_id, token, lang, errors=[issue_text(exc.issue, lang)], status=409,
                    errors_title="resolve_refused")
    deps.redis.delete(keys.control_view(member_id))
    return page(deps, member_id, token, lang, notice=texts(lang)["resolved"].format(item=item), known=known)


@bp.errorhandler(RequestEntityTooLarge)
def too_large(error: RequestEntityTooLarge) -> ResponseReturnValue:
    """A statement past :data:`STATEMENT_MAX_BYTES`: the page's own polite refusal, not the app's JSON."""
    log.warning("statement refused: body over %d bytes", STATEMENT_MAX_BYTES)
    lang = lang_of(request.args.get("lang"))
    t = texts(lang)
    text = t["statement_too_large"].format(mb=STATEMENT_MAX_BYTES // (1024 * 1024))
    return render_template("control_message.html", t=t, lang=lang, heading=t["title"], text=text), 413


# -- the page -----------------------------------------------------------------------------------------

def page(deps: Deps, member_id: str, token: str, lang: str, *, report: service.ImportReport | None = None,
         errors: list[str] | None = None, errors_title: str = "statement_refused", notice: str = "",
         known: dict[int, dict[str, Any]] | None = None, status: int = 200) -> ResponseReturnValue:
    """The view; ``known`` are the payment step's requests as they were before a change (their titles and
    links for the report, once they have left the step)."""
    try:
        view = control.view(deps, member_id)
        result = service.preview(deps, member_id, today=datetime.fromisoformat(view["now"]).date())
    except service.BankNotConfigured as exc:
        log.warning("accounting view: %s", exc)
        return message(lang, "not_configured", 503)
    except B24AppError as exc:
        log.warning("accounting view: the portal failed: %s", exc)
        return message(lang, "unavailable", 502)
    rows = _at_payment(view)
    missing = dict(result.missing)
    requests = [{**_request(rows, i), "missing": missing.get(i, [])} for i in
                [*result.included, *(i for i, _ in result.missing)]]
    requests += [{**r, "missing": []} for i, r in rows.items() if i not in {q["item_id"] for q in requests}]
    names = _names(deps, member_id)
    records = service.uploads(deps, member_id)
    return render_template(
        "accounting.html", t=texts(lang), lang=lang, token=token, requests=requests, result=result,
        report=report, errors=errors or [], errors_title=errors_title, notice=notice, last=records[0] if records else None,
        uploads=[(u, _local(deps, member_id, u.at)) for u in records], pending=service.pending(deps, member_id),
        rows={**(known or {}), **rows}, names=names, issue=lambda i: issue_text(i, lang),
        missing_text=lambda m: missing_text(m, lang),
        as_of=datetime.fromisoformat(view["now"]).strftime("%d.%m.%Y %H:%M")), status


def refuse(person: Person, lang: str) -> ResponseReturnValue:
    log.info("accounting view refused to user %s of %s: not an accountant", person.user_id, person.member_id)
    return message(lang, "refused", 403, title="refused_title")


def message(lang: str, key: str, status: int, title: str = "title") -> ResponseReturnValue:
    t = texts(lang)
    return render_template("control_message.html", t=t, lang=lang, heading=t[title], text=t[key]), status


def _local(deps: Deps, member_id: str, moment: datetime) -> str:
    """An upload's time (an aware UTC instant) on the portal's calendar, as staff read it."""
    return moment.astimezone(definitions(deps, member_id).calendar.tz).strftime("%d.%m.%Y %H:%M")


def _at_payment(view: dict[str, Any]) -> dict[int, dict[str, Any]]:
    return {r["item_id"]: r for r in view["rows"] if (r["workflow"], r["step"]) == PAYMENT_STEP}


def _payment_rows(deps: Deps, member_id: str) -> dict[int, dict[str, Any]]:
    try:
        return _at_payment(control.view(deps, member_id))
    except B24AppError:
        return {}


def _request(rows: dict[int, dict[str, Any]], item_id: int) -> dict[str, Any]:
    return rows.get(item_id) or {"item_id": item_id, "title": f"#{item_id}", "counterparty": "", "amount": "",
                                 "currency": "", "url": ""}


def _names(deps: Deps, member_id: str) -> dict[str, str]:
    """People's names as the control room last read them (``#id`` for anyone else)."""
    raw = deps.redis.get(keys.control_people(member_id))
    try:
        names = json.loads(raw)["names"] if raw else {}
    except (ValueError, KeyError, TypeError):
        names = {}
    return {str(k): str(v) for k, v in names.items()}


def _lines(exc: BankFileError) -> list[str]:
    return [str(p) for p in exc.problems] or [str(exc)]


def _today(deps: Deps, member_id: str) -> date:
    """The portal's date, as the last control-room view of it saw the portal's clock."""
    return datetime.fromisoformat(control.view(deps, member_id)["now"]).date()


def _pass(source: Any) -> tuple[str, int, str, str] | None:
    """The pass's portal, person, language and token — while the person still may exchange files: one
    let in by a role (or standing in for a holder) who no longer does is refused at once, not 30 minutes
    later; an administrator's ``user.admin`` needs their own token, so their pass stands for its life."""
    found = PASSES.read(source)
    if found is None:
        return None
    data, token = found
    member_id, user_id = data["m"], data["u"]
    if data.get("a") is not True and not may_exchange(get_deps(), member_id, user_id, None):
        log.info("accounting pass of user %s of %s refused: no longer an accountant", user_id, member_id)
        return None
    return member_id, user_id, lang_of(data.get("l")), token
