"""The control room: the app's own page in the portal (``POST /b24/app``).

Bitrix24 opens a local app's main page (left menu → the app) by POSTing the frame-open form to the
app's handler path with the person's ``AUTH_ID`` — the same form as a widget's (``PLACEMENT=DEFAULT``).
The person is identified exactly as in the approval tab (:func:`b24app.web.placement_auth.identify`:
the installation's own checks first, then ``user.current`` on the identity budget, cached), and the page
is shown only to the operations manager and the director of ``config/roles.yaml`` (or whoever stands in
for them today) and to portal administrators (``user.admin`` with the person's own token, asked only
for others and cached 5 minutes); everyone else gets a polite refusal (403).

The page carries a signed pass (30 minutes; member, person, language — never the ``AUTH_ID``) for
its filter form and CSV link: ``GET /b24/control?pass=...&process=...&department=...&expense=...``
and ``GET /b24/control.csv?...``. The data is one view of the portal (:mod:`b24app.control.read`),
kept a minute in Redis and shared by everyone who opens the page in that minute.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from flask import Blueprint, Flask, Response, render_template, request
from flask.typing import ResponseReturnValue

from b24app.control import read as control
from b24app.control.chart import Week, weekly_svg
from b24app.control.export import rows_csv
from b24app.deps import Deps
from b24app.errors import B24AppError
from b24app.pipeline.definitions import definitions
from b24app.rest.client import RestClient
from b24app.texts.control import texts
from b24app.web import accounting
from b24app.web.access import holds_role, is_admin
from b24app.web.app import get_deps
from b24app.web.pages import Admitted, Passes, admit, lang_of, no_referrer
from b24app.workflow.actors import OPERATIONS_MANAGER

log = logging.getLogger(__name__)

bp = Blueprint("control", __name__, template_folder="templates")
bp.after_request(no_referrer)

DIRECTOR = "director"
PASSES = Passes("b24app-control-room")
FILTERS = ("process", "department", "expense")


def init_app(app: Flask, deps: Deps) -> None:
    app.register_blueprint(bp)


@bp.post("/b24/app")
def main_page() -> ResponseReturnValue:
    lang = lang_of(request.args.get("LANG"))
    deps = get_deps()
    admitted = admit(deps, "control room", lambda key, status: _message(lang, key, status),
                     lambda person, as_user: (may_see(deps, person.member_id, person.user_id, as_user),
                                              accounting.may_account(deps, person.member_id, person.user_id,
                                                                     as_user)))
    if not isinstance(admitted, Admitted):
        return admitted
    person, (allowed, accountant) = admitted.person, admitted.verdict
    books = accounting.issue_pass(deps, person, lang) if accountant else ""
    if not allowed and accountant:                   # the app's page of an accountant is the accounting view
        return accounting.page(deps, person.member_id, books, lang)
    if not allowed:
        log.info("control room refused to user %s of %s: not a manager", person.user_id, person.member_id)
        return _message(lang, "refused", 403, title="refused_title")
    token = PASSES.issue({"m": person.member_id, "u": person.user_id, "l": lang, "b": books})
    return _page(deps, person.member_id, lang, token, {}, books)


@bp.get("/b24/control")
def filtered() -> ResponseReturnValue:
    found = _pass()
    if found is None:
        return _message(lang_of(request.args.get("lang")), "stale", 403)
    member_id, lang, token, books = found
    return _page(get_deps(), member_id, lang, token, _filters(request.args), books)


@bp.get("/b24/control.csv")
def csv_export() -> ResponseReturnValue:
    found = _pass()
    if found is None:
        return _message(lang_of(request.args.get("lang")), "stale", 403)
    member_id, lang, _, _ = found
    try:
        data = control.view(get_deps(), member_id)
    except B24AppError as exc:
        log.warning("control room CSV: the portal failed: %s", exc)
        return _message(lang, "unavailable", 502)
    rows = apply_filters(data["rows"], _filters(request.args))
    stamp = datetime.fromisoformat(data["now"]).strftime("%Y-%m-%d_%H%M")
    return Response(rows_csv(rows, texts(lang), lang).encode("utf-8"), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="control-room-{stamp}.csv"'})


# -- who may see it -----------------------------------------------------------------------------------

def may_see(deps: Deps, member_id: str, user_id: int, as_user: RestClient) -> bool:
    """The operations manager, the director (or their substitute today), or a portal administrator."""
    return (holds_role(deps, member_id, user_id, (OPERATIONS_MANAGER, DIRECTOR))
            or is_admin(deps, member_id, user_id, as_user))


# -- the page -----------------------------------------------------------------------------------------

def apply_filters(rows: list[dict[str, Any]], chosen: Mapping[str, str]) -> list[dict[str, Any]]:
    def keep(row: Mapping[str, Any]) -> bool:
        return ((not chosen.get("process") or row["workflow"] == chosen["process"])
                and (not chosen.get("department") or str(row["department"]) == chosen["department"])
                and (not chosen.get("expense") or row["expense"] == chosen["expense"]))
    return [r for r in rows if keep(r)]


def groups(rows: list[dict[str, Any]], lang: str) -> list[dict[str, Any]]:
    """Open requests by (process, step, approver): count, overdue, longest wait; most overdue first."""
    table: dict[tuple[str, str, int], dict[str, Any]] = {}
    for r in rows:
        g = table.setdefault((r["workflow"], r["step"], r["approver"]), {
            "process": r[f"workflow_{lang}"], "step": r[f"step_{lang}"], "approver": r["approver_name"],
            "count": 0, "overdue": 0, "longest": 0.0})
        g["count"] += 1
        g["overdue"] += 1 if r["overdue"] else 0
        g["longest"] = max(g["longest"], r["waiting_hours"])
    return sorted(table.values(), key=lambda g: (-g["overdue"], -g["longest"]))


def _page(deps: Deps, member_id: str, lang: str, token: str, chosen: Mapping[str, str],
          books: str = "") -> ResponseReturnValue:
    try:
        data = control.view(deps, member_id)
    except B24AppError as exc:
        log.warning("control room: the portal failed: %s", exc)
        return _message(lang, "unavailable", 502)
    t = texts(lang)
    defs = definitions(deps, member_id)
    rows = apply_filters(data["rows"], chosen)
    steps = {(w.code, s.code): (w.title.get(lang), w.step_name(s.code).get(lang))
             for w in defs.workflows.values() for s in w.steps}
    charts = [(w.title.get(lang), weekly_svg([Week(datetime.fromisoformat(d).date(), c, p)
                                              for d, c, p in data["weeks"].get(w.code, [])],
                                             (t["created"], t["completed"]), f"{t['chart_title']} — {w.title.get(lang)}"))
              for w in defs.workflows.values()]
    options = _options(data["rows"], defs, lang)
    query = {"pass": token, **{k: v for k, v in chosen.items() if v}}
    return render_template("control.html", t=t, lang=lang, rows=rows, groups=groups(rows, lang), data=data,
                           steps=[(steps.get((s["key"][0], s["key"][1]), (s["key"][0], s["key"][1])), s)
                                  for s in data["steps"]],
                           approvers=data["approvers"][:10], charts=charts, options=options, chosen=chosen,
                           token=token, query=query, books=books,
                           as_of=datetime.fromisoformat(data["now"]).strftime("%d.%m.%Y %H:%M"))


def _options(rows: list[dict[str, Any]], defs: Any, lang: str) -> dict[str, list[tuple[str, str]]]:
    departments = sorted({(str(r["department"]), r["department_name"]) for r in rows if r["department"]},
                         key=lambda p: p[1])
    expenses = sorted({(r["expense"], r["expense_name"] or r["expense"]) for r in rows if r["expense"]},
                      key=lambda p: p[1])
    return {"process": [(w.code, w.title.get(lang)) for w in defs.workflows.values()],
            "department": departments, "expense": expenses}


def _filters(args: Mapping[str, str]) -> dict[str, str]:
    return {k: str(args.get(k) or "") for k in FILTERS}


def _pass() -> tuple[str, str, str, str] | None:
    found = PASSES.read(request.args)
    if found is None:
        return None
    data, token = found
    return data["m"], lang_of(data.get("l")), token, str(data.get("b") or "")


def _message(lang: str, key: str, status: int, title: str = "title") -> ResponseReturnValue:
    t = texts(lang)
    return render_template("control_message.html", t=t, lang=lang, heading=t[title], text=t[key]), status
